"""Figures over any period (a quarter, a half-year, a year, the year so far, any months), and the
closure rate as counties publish it: of the cases raised in the period, those closed as of today.

The story: in the second quarter of 2025 township A raised five cases. April's three were
resolved in 1, 2 and 3 hours; the third, raised on the 28th, was closed on 2 May. May's two took
10 and 20 hours; the second is still open. June raised none.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from governance.indicators import dashboard
from governance.indicators.engine import approval_changes, rollup_month
from governance.indicators.months import Period, parse_period_text
from governance.indicators.runs import to_date_refresh
from governance.models import Household, IndicatorValue, MonthApproval, PeriodValue
from grid.models import CaseEvent, CaseState
from tests.helpers.cases import add_case
from tests.helpers.excel import cell_values

APRIL, MAY, JUNE = datetime.date(2025, 4, 1), datetime.date(2025, 5, 1), datetime.date(2025, 6, 1)
Q2 = Period(APRIL, JUNE)


def on(month, day, hour=10):
    return timezone.make_aware(datetime.datetime(month.year, month.month, day, hour))


def hours(n):
    return datetime.timedelta(hours=n)


@pytest.fixture
def quarter(county):
    grid = county.grids[0]
    Household.objects.update(created_at=on(datetime.date(2025, 1, 1), 1))  # two households all year
    cases = {}
    for name, reported, taken, closed in [
        ("a1", on(APRIL, 3), 1, on(APRIL, 3, 12)),
        ("a2", on(APRIL, 10), 2, on(APRIL, 10, 13)),
        ("a3", on(APRIL, 28), 3, on(MAY, 2)),
        ("m1", on(MAY, 5), 10, on(MAY, 6)),
        ("m2", on(MAY, 20), 20, None),
    ]:
        cases[name] = add_case(grid, reported_at=reported, resolved_at=reported + hours(taken), closed_at=closed,
                               state=CaseState.CLOSED if closed else CaseState.RESOLVED)
    for month in (APRIL, MAY, JUNE):
        run = rollup_month(month)
        assert run.status == "complete", run.errors
    return cases


def value(unit, period, key):
    row = dashboard.values_over([unit], period, dashboard.indicator_map())[unit.pk].get(key)
    return None if row is None else (row.numerator, row.denominator, row.value)


def test_periods_are_written_as_counties_report_them():
    assert str(parse_period_text("2025-05")) == "2025-05"
    assert parse_period_text("2025-Q2") == Q2 == parse_period_text("2025-04..2025-06")
    assert parse_period_text("2025-H1") == Period(datetime.date(2025, 1, 1), JUNE)
    assert parse_period_text("2025").length == 12
    assert str(parse_period_text("2025-02..2025-05")) == "2025-02..2025-05"
    assert str(Period.year_to_date(MAY)) == "2025-01..2025-05"
    for wrong in ("2025-13", "2025-Q5", "2025-H3", "2025-06..2025-01", "2015-01..2025-01", "May", "", None):
        assert parse_period_text(wrong) is None, wrong
    assert Q2.label == "2025年第二季度"
    assert Period.year_to_date(MAY).label == "2025年1-5月（年度累计）"
    assert str(Q2.previous) == "2025-Q1" and str(Q2.year_ago) == "2024-Q2"


def test_flows_sum_stocks_take_the_last_month_ratios_add_their_parts(county, quarter):
    unit = county.township_a
    assert value(unit, Q2, "grid.cases_raised")[0] == 5  # 3 + 2 + 0
    assert value(unit, Q2, "households")[0] == 1  # the township's household at June's end, not 1 + 1 + 1
    # Closed within their own month: April 2 of 3, May 1 of 2. Over the quarter 3 of 5 = 60%, not the
    # average of the months' rates (66.7% and 50%).
    assert value(unit, Q2, "grid.closure_rate") == (3, 5, Decimal("0.6"))
    # Closed as of today: 4 of 5 (the case raised on 28 April and closed on 2 May counts).
    assert value(unit, Q2, "grid.closure_rate_to_date") == (4, 5, Decimal("0.8"))


def test_a_median_over_a_period_is_taken_from_its_own_cases(county, quarter):
    unit = county.township_a
    by_month = [value(unit, Period.month(month), "grid.median_hours_to_resolve") for month in (APRIL, MAY)]
    assert [row[2] for row in by_month] == [Decimal(2), Decimal(15)]
    # Not the median (or mean) of the months' medians: the median of 1, 2, 3, 10 and 20 hours.
    assert value(unit, Q2, "grid.median_hours_to_resolve")[:1] == (5,)
    assert value(unit, Q2, "grid.median_hours_to_resolve")[2] == 3
    stored = PeriodValue.objects.get(org_unit=county.county, key="grid.median_hours_to_resolve",
                                     first=APRIL, last=JUNE)
    assert stored.value == 3 and stored.numerator == 5
    # Any other range is taken from its samples when read: April and May without June are the same cases.
    assert value(unit, Period(APRIL, MAY), "grid.median_hours_to_resolve")[2] == 3
    assert value(unit, Period(MAY, JUNE), "grid.median_hours_to_resolve")[2] == 15


def test_the_dashboard_shows_a_quarter(login, county_official, county, quarter):
    response = login(county_official).get(f"/dashboard/{county.county.code}/?period=2025-Q2")
    assert response.status_code == 200
    assert response.context["period"] == Q2 and response.context["period_name"] == "2025年第二季度"
    kpis = {row.key: row for row in response.context["kpis"]}
    assert kpis["grid.cases_raised"].current.text == "5"
    assert kpis["grid.closure_rate_to_date"].current.text == "80.0%"
    assert kpis["grid.median_hours_to_resolve"].current.text == "3.0"
    assert kpis["households"].current.text == "2"
    league = {row.unit: row for row in response.context["league"].rows}
    assert league[county.township_a].figures["grid.cases_raised"].text == "5"
    assert league[county.township_a].figures["grid.median_hours_to_resolve"].text == "3.0"
    # Township B raised none: the quarter was computed for it (its household), so 0, not "—".
    assert league[county.township_b].figures["grid.cases_raised"].text == "0"
    # The number links to the case list of the quarter's three months, whose count is the same.
    href = kpis["grid.cases_raised"].current.href
    assert "reported_from=2025-04-01" in href and "reported_to=2025-06-30" in href
    html = response.content.decode()
    assert "结案率（截至今日）" in html and "当月结案率" in html  # both rates, named apart, defined on the page
    defined = {key for definition in response.context["definitions"] for key in definition["keys"]}
    assert {"grid.closure_rate", "grid.closure_rate_to_date"} <= defined
    # The workers of each type share one definition, said once for all of them.
    workers = [d for d in response.context["definitions"] if "grid.workers.micro" in d["keys"]]
    assert len(workers) == 1 and len(workers[0]["keys"]) == len([k for k in defined if k.startswith("grid.workers.")])
    # The picker offers the month, the quarter (shown), the half-year, the year and the year so far.
    choices = {choice["kind"]: choice for choice in response.context["period_choices"]}
    assert choices["quarter"]["active"] and choices["year"]["period"] == "2025"
    assert choices["ytd"]["period"] == "2025-06" or choices["ytd"]["period"] == "2025-H1"
    # A period of several months is read, not computed or approved: those buttons are the month's.
    assert 'id="dashboard-compute"' not in html and 'id="dashboard-approve"' not in html


def test_a_years_dashboard_keeps_its_query_budget(login, county_official, county, quarter,
                                                  django_assert_max_num_queries):
    client = login(county_official)
    with django_assert_max_num_queries(12):
        response = client.get(f"/dashboard/{county.county.code}/?period=2025")
    kpis = {row.key: row for row in response.context["kpis"]}
    assert kpis["grid.cases_raised"].current.text == "5" and kpis["grid.median_hours_to_resolve"].current.text == "3.0"


def test_any_months_from_the_range_form(login, county_official, county, quarter):
    response = login(county_official).get(f"/dashboard/{county.county.code}/?from=2025-04&to=2025-05")
    assert response.context["period"] == Period(APRIL, MAY)
    assert {row.key: row for row in response.context["kpis"]}["grid.cases_raised"].current.text == "5"


def test_the_export_holds_the_period(login, county_official, county, quarter):
    response = login(county_official).get(f"/dashboard/{county.county.code}/?period=2025-H1&export=xlsx")
    assert response.status_code == 200
    assert f'dashboard-{county.county.code}-2025-H1.xlsx' in response["Content-Disposition"]
    rows = cell_values(response.content)
    assert rows[0][2].endswith("2025年上半年")  # the value column is headed by the unit and the period
    raised = next(row for row in rows if row[0] == "新增事件")
    assert raised[2] == 5


def test_the_api_reads_any_period(login, county_official, county, quarter):
    client = login(county_official)
    rows = client.get(f"/api/v1/indicators/?org={county.township_a.code}&period=2025-Q2").json()
    by_key = {row["key"]: row for row in rows}
    assert by_key["grid.cases_raised"]["value"] == 5 and by_key["grid.cases_raised"]["period"] == "2025-Q2"
    assert by_key["grid.cases_raised"]["first"] == "2025-04" and by_key["grid.cases_raised"]["last"] == "2025-06"
    assert by_key["grid.closure_rate_to_date"]["value"] == 0.8
    assert by_key["households"]["over"] == "stock" and by_key["households"]["value"] == 1
    refused = client.get("/api/v1/indicators/?period=2025-Q5")
    assert refused.status_code == 400 and "2025-Q2" in refused.json()["period"][0]
    series = client.get(f"/api/v1/indicators/series/?org={county.township_a.code}&key=grid.cases_raised"
                        f"&from=2025-Q1&to=2025-Q4&every=quarter").json()
    assert [(point["period"], point["value"]) for point in series["points"]] == [
        ("2025-Q1", None), ("2025-Q2", 5), ("2025-Q3", None), ("2025-Q4", None)]
    medians = client.get(f"/api/v1/indicators/series/?org={county.township_a.code}"
                         f"&key=grid.median_hours_to_resolve&from=2025&to=2025&every=year").json()
    assert medians["points"] == [{"period": "2025", "numerator": 5.0, "denominator": None, "value": 3.0}]
    schema = client.get("/api/schema/").content.decode()
    assert "2025-Q2" in schema and "2025-01..2025-06" in schema


def test_closure_to_date_follows_late_closures(county, quarter):
    """The refresh (beat, every ten minutes) recomputes the months whose cases moved, and only those."""
    cache.clear()
    to_date_refresh()  # the first refresh: its marker is the last step so far
    assert value(county.township_a, Period.month(MAY), "grid.closure_rate_to_date")[:2] == (1, 2)
    late = quarter["m2"]
    late.state, late.closed_at = CaseState.CLOSED, timezone.now()
    late.save(update_fields=["state", "closed_at"])
    CaseEvent.objects.create(case=late, action="close", from_state="resolved", to_state="closed")
    outcomes = to_date_refresh()
    assert list(outcomes) == [MAY]
    assert value(county.township_a, Period.month(MAY), "grid.closure_rate_to_date")[:2] == (2, 2)
    assert value(county.township_a, Q2, "grid.closure_rate_to_date")[2] == 1
    # The month-bound rate does not move: the case was not closed in May.
    assert value(county.township_a, Period.month(MAY), "grid.closure_rate")[:2] == (1, 2)


def test_an_approved_month_keeps_its_figures_as_of_its_approval(county, quarter, admin_user):
    cache.clear()
    to_date_refresh()
    MonthApproval.objects.create(period=MAY, approved_by=admin_user, approved_at=timezone.now(), locked=True)
    late = quarter["m2"]
    late.closed_at = timezone.now()
    late.save(update_fields=["closed_at"])
    CaseEvent.objects.create(case=late, action="close", from_state="resolved", to_state="closed")
    assert to_date_refresh() == {}
    assert value(county.township_a, Period.month(MAY), "grid.closure_rate_to_date")[:2] == (1, 2)
    # Nor is the drift of the figures "as of today" a late correction of the approved month.
    assert approval_changes(MAY) is False
    IndicatorValue.objects.filter(period=MAY, key="grid.cases_raised").update(numerator=9)
    assert approval_changes(MAY) is True


def test_the_refresh_runs_on_beat(settings):
    from governance.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["refresh-to-date"]
    assert entry["task"] in app.tasks and entry["schedule"] <= 900


def test_the_dashboard_speaks_the_countys_words(login, county_official, county, quarter):
    """Dechang calls its micro-grids 优网格 and their workers 优网格员; its dashboard says so too."""
    from governance.models import LocalName

    LocalName.objects.create(unit=county.county, vocabulary="level", code="county", name="本县")
    LocalName.objects.create(unit=county.county, vocabulary="worker_type", code="micro", name="优网格员")
    LocalName.objects.create(unit=county.county, vocabulary="case_category", code="dispute", name="邻里矛盾")
    response = login(county_official).get(f"/dashboard/{county.county.code}/?period=2025-Q2")
    assert response.context["level_name"] == "本县"
    every_row = dashboard.dashboard_figures(unit=county.county, period=Q2).rows
    assert {row.key: row.label for row in every_row}["grid.workers.micro"] == "优网格员"
    categories = next(chart for chart in response.context["breakdowns"] if chart["key"] == "grid.cases_by_category")
    assert "邻里矛盾" in categories["labels"]
    html = response.content.decode()
    assert "本县" in html and "邻里矛盾" in html
