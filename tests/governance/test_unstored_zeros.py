"""The rollup stores no row whose numerator is 0 and whose denominator is 0 or NULL: in a month
computed for a unit, a missing count reads 0 and a missing ratio "0 of 0" (no rate: "—"), on the
pages, the league, the trend, over several months, in the API and the Excel export; a month never
computed still says so.

The rollup stores none (the fixture checks it); the pages are also compared with the zero rows an
older rollup stored put back, which they must read the same as no row.
"""

import io

import openpyxl
import pytest
from django.db.models import Q
from django.utils import timezone
from rest_framework.test import APIClient

from governance.indicators import dashboard
from governance.indicators.months import Period, shift_month
from governance.indicators.registry import COUNT, RATIO, all_indicators
from governance.models import IndicatorValue

pytestmark = pytest.mark.django_db

RED = "grid.cases_red"  # the cast's two cases are green
SATISFACTION = "grid.satisfaction_rate_to_date"  # nothing rated: a ratio over nothing


def zero_rows():
    return IndicatorValue.objects.filter(numerator=0).filter(Q(denominator=0) | Q(denominator__isnull=True))


@pytest.fixture
def sparse(rolled):
    """The same months: the rollup stored no row that counts nothing."""
    assert not zero_rows().exists()
    return rolled


def add_zero_rows():
    """The rows an older rollup stored for nothing counted: for every unit and month that has rows, a 0 for
    each count and a 0 of 0 for each ratio that has none. The pages must read them as they read no row."""
    keys = [(i.key, i.kind == RATIO) for i in all_indicators() if i.kind in (COUNT, RATIO)]
    stored = set(IndicatorValue.objects.values_list("org_unit_id", "period", "key"))
    added = [IndicatorValue(org_unit_id=unit, period=period, key=key, numerator=0,
                            denominator=0 if ratio else None, value=None if ratio else 0, computed_at=timezone.now())
             for unit, period in {(unit, period) for unit, period, _key in stored}
             for key, ratio in keys if (unit, period, key) not in stored]
    IndicatorValue.objects.bulk_create(added)
    assert added


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def row_of(response, key):
    return next(row for row in response.context["rows"] if row.key == key)


def kpi(response, key):
    return next(row for row in response.context["kpis"] if row.key == key)


def test_a_count_without_a_row_reads_0(login, county_official, county, sparse):
    assert not IndicatorValue.objects.filter(org_unit=county.county, period=sparse, key=RED).exists()
    response = login(county_official).get("/dashboard/")
    assert response.context["has_values"] is True
    red = row_of(response, RED)
    assert red.current.number == 0 and red.current.text == "0"
    assert red.last_month.earlier.text == "0" and red.last_month.text == "0"
    assert red.last_year.text == "—"  # a year ago was never computed
    assert f'data-key="{RED}"' in response.content.decode()


def test_a_ratio_without_a_denominator_reads_no_rate(login, county_official, county, sparse):
    assert not IndicatorValue.objects.filter(org_unit=county.county, period=sparse, key=SATISFACTION).exists()
    card = kpi(login(county_official).get("/dashboard/"), SATISFACTION)
    assert card.current.value is None and card.current.text == "—"
    assert card.current.fraction == "0 / 0"
    assert card.current.rating is None


def test_a_league_child_without_a_row_of_a_count_reads_0(login, county_official, county, sparse):
    key = "grid.cases_overdue"
    children = [county.township_a, county.township_b]
    assert not IndicatorValue.objects.filter(org_unit__in=children, period=sparse, key=key).exists()
    league = login(county_official).get("/dashboard/").context["league"]
    cells = {row.unit.code: row.figures[key] for row in league.rows}
    assert [(cell.number, cell.text) for cell in cells.values()] == [(0, "0"), (0, "0")]
    assert all(row.figures[SATISFACTION].text == "—" for row in league.rows if SATISFACTION in row.figures)


def test_a_league_child_without_any_row_of_the_month_was_not_computed(login, county_official, county, sparse):
    """Computed means the unit has a row of the month: a child without any is "—", not 0."""
    IndicatorValue.objects.filter(org_unit=county.township_b, period=sparse).delete()
    league = login(county_official).get("/dashboard/").context["league"]
    b = next(row for row in league.rows if row.unit == county.township_b)
    assert all(figure.value is None for figure in b.figures.values())
    a = next(row for row in league.rows if row.unit == county.township_a)
    assert a.figures["grid.cases_overdue"].number == 0


def test_the_trend_has_no_point_before_the_first_computed_month(login, county_official, county, sparse):
    response = login(county_official).get("/dashboard/")
    red_free = next(s for s in response.context["trend"]["series"] if s["key"] == "grid.cases_overdue")
    assert red_free["values"] == [None] * 10 + [0, 0]
    rows = response.context["trend_rows"]
    overdue = [next(cell for cell in row["cells"] if cell.key == "grid.cases_overdue") for row in rows]
    assert [cell.text for cell in overdue] == ["—"] * 10 + ["0", "0"]


def test_a_month_never_computed_still_says_so(login, county_official, county, sparse):
    response = login(county_official).get("/dashboard/?period=2001-01")
    assert response.context["has_values"] is False
    assert 'id="dashboard-empty"' in response.content.decode()
    assert all(row.current.value is None for row in response.context["kpis"])
    body = api(county_official).get(f"/api/v1/indicators/?org={county.county.code}&period=2001-01").json()
    assert body == []


def test_several_months_add_up_missing_rows_as_0(county, sparse):
    months = Period(shift_month(sparse, -1), sparse)
    values = dashboard.values_over([county.county], months, dashboard.indicator_map())[county.county.pk]
    assert values[RED].numerator == 0 and values[RED].value == 0  # a flow: 0 + 0
    assert values["grid.cases_overdue"].value == 0  # a stock at the last month
    assert values[SATISFACTION].denominator == 0 and values[SATISFACTION].value is None
    assert values["grid.cases_raised"].value == 2


def test_the_api_reads_a_missing_count_of_a_computed_month_as_0(county_official, county, sparse):
    client = api(county_official)
    rows = client.get(f"/api/v1/indicators/?org={county.county.code}&period={sparse:%Y-%m}").json()
    by_key = {row["key"]: row for row in rows}
    assert (by_key[RED]["numerator"], by_key[RED]["value"]) == (0, 0)
    assert (by_key[SATISFACTION]["numerator"], by_key[SATISFACTION]["denominator"],
            by_key[SATISFACTION]["value"]) == (0, 0, None)
    children = client.get(f"/api/v1/indicators/?org={county.county.code}&children=1").json()
    assert {row["org"] for row in children if row["key"] == RED and row["value"] == 0} == {
        county.township_a.code, county.township_b.code}
    series = client.get(f"/api/v1/indicators/series/?org={county.county.code}&key={RED}").json()
    assert [point["value"] for point in series["points"]] == [None] * 10 + [0, 0]


def _workbook(content: bytes) -> dict:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in book.worksheets}


def _page(client, path):
    response = client.get(path)
    context = response.context
    return {
        "kpis": [(row.key, row.current.text, row.current.fraction, row.last_month.text) for row in context["kpis"]],
        "rows": [(row.key, row.current.text, row.current.fraction, row.last_month.text) for row in context["rows"]],
        "league": [(row.unit.code, [(figure.text, figure.fraction) for figure in row.ordered])
                   for row in context["league"].rows],
        "trend": context["trend"], "breakdowns": context["breakdowns"], "has_values": context["has_values"],
    }


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/{township}/", "/dashboard/{village}/",
                                  "/dashboard/?period={year}", "/dashboard/{township}/?period={months}"])
def test_the_pages_read_the_same_with_or_without_the_zero_rows(login, county_official, county, rolled, path):
    client = login(county_official)
    url = path.format(township=county.township_a.code, village=county.villages[0].code, year=rolled.year,
                      months=f"{shift_month(rolled, -1):%Y-%m}..{rolled:%Y-%m}")
    add_zero_rows()
    before = _page(client, url)
    export = f"{url}{'&' if '?' in url else '?'}export=xlsx"
    export_before = _workbook(client.get(export).content)
    api_before = api(county_official).get(f"/api/v1/indicators/?org={county.county.code}&children=1").json()
    zero_rows().delete()
    assert _page(client, url) == before
    assert _workbook(client.get(export).content) == export_before
    assert api(county_official).get(f"/api/v1/indicators/?org={county.county.code}&children=1").json() == api_before
