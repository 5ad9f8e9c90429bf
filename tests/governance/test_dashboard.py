"""The dashboards: numbers of the cast's county read from IndicatorValue, scope (a township
user starts at his township and cannot drill up or sideways), league sorting and colours,
the Excel export, links to the case list whose count equals the number, and the query budget."""

import datetime
import io
import re
import zipfile

import pytest
from django.utils import timezone

from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month
from governance.rosters.tabular import read_table
from tests.governance.test_indicators import add_case

pytestmark = pytest.mark.django_db


def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def rolled(county):
    """This month (one case in each township, see tests/conftest.py) and last month, rolled up."""
    period = this_month()
    for month in (shift_month(period, -1), period):
        run = rollup_month(month)
        assert run.status == "complete", run.errors
    return period


def kpi(response, key):
    return next(row for row in response.context["kpis"] if row.key == key)


def league_numbers(response, key):
    return [(row.unit.code, row.figures[key].number) for row in response.context["league"].rows]


def test_county_dashboard_shows_the_county_and_its_townships(login, county_official, county, rolled):
    response = login(county_official).get("/dashboard/")
    assert response.status_code == 200
    assert response.context["unit"] == county.county
    assert response.context["period"] == rolled
    assert kpi(response, "households").current.number == 2
    assert kpi(response, "grid.cases_raised").current.number == 2
    # Last month had the households too (created before its end? no: they are created now).
    assert kpi(response, "grid.closure_rate").current.text == "0.0%"
    assert kpi(response, "grid.closure_rate").current.fraction == "0 / 2"
    assert kpi(response, "grid.closure_rate").current.rating == "red"
    assert league_numbers(response, "grid.cases_raised") == [
        (county.township_a.code, 1), (county.township_b.code, 1)]
    charts = response.context["charts"]
    assert set(charts) == {"trend", "categories", "league"}
    assert len(charts["trend"]["periods"]) == 12 and charts["trend"]["periods"][-1] == f"{rolled:%Y-%m}"
    raised = next(s for s in charts["trend"]["series"] if s["key"] == "grid.cases_raised")
    assert raised["values"][-1] == 2
    # Both cases of the cast are disputes: the category chart leads with 矛盾纠纷.
    assert charts["categories"]["labels"][0] == "矛盾纠纷" and charts["categories"]["values"][0] == 2
    assert sum(charts["categories"]["values"]) == 2
    assert charts["league"]["labels"] == [county.township_a.display_name, county.township_b.display_name]
    html = response.content.decode()
    assert 'id="dashboard-data"' in html
    for chart in ("trend", "categories", "league"):
        assert f'data-chart="{chart}"' in html
    assert "echarts-6.1.0/echarts.min.js" in html and "js/dashboard-charts.js" in html


def test_change_against_last_month(login, county_official, county, rolled):
    add_case(county.grids[0], reported_at=timezone.make_aware(
        datetime.datetime.combine(shift_month(rolled, -1), datetime.time(10))))
    rollup_month(shift_month(rolled, -1))
    response = login(county_official).get("/dashboard/")
    raised = kpi(response, "grid.cases_raised")
    assert raised.last_month.earlier.number == 1
    assert raised.last_month.text == "+1" and raised.last_month.direction == "up"
    assert raised.last_year.text == "—"


def test_township_user_starts_at_his_township_and_cannot_go_up_or_sideways(login, clerk_a, county, rolled):
    client = login(clerk_a)
    response = client.get("/dashboard/")
    assert response.context["unit"] == county.township_a
    assert response.context["chain"] == [county.township_a]
    assert kpi(response, "grid.cases_raised").current.number == 1
    assert [row.unit for row in response.context["league"].rows] == [county.villages[0]]
    for foreign in (county.county, county.township_b, county.villages[1]):
        assert client.get(f"/dashboard/{foreign.code}/").status_code == 404
    response = client.get(f"/dashboard/{county.villages[0].code}/")
    assert response.status_code == 200
    assert response.context["chain"] == [county.township_a, county.villages[0]]
    assert f'href="/dashboard/{county.county.code}/' not in response.content.decode()


def test_league_sorts_by_any_indicator(login, county_official, county, rolled):
    add_case(county.grids[1], reported_at=timezone.now())
    rollup_month(rolled)
    client = login(county_official)
    a, b = county.township_a.code, county.township_b.code
    response = client.get("/dashboard/?sort=-grid.cases_raised")
    assert league_numbers(response, "grid.cases_raised") == [(b, 2), (a, 1)]
    response = client.get("/dashboard/?sort=grid.cases_raised")
    assert league_numbers(response, "grid.cases_raised") == [(a, 1), (b, 2)]
    # An indicator that is not a default column becomes one when sorted by.
    response = client.get("/dashboard/?sort=-grid.cases_green")
    assert "grid.cases_green" in response.context["league"].keys
    assert [row.unit.code for row in response.context["league"].rows] == [b, a]
    # Anything else keeps the tree order.
    response = client.get("/dashboard/?sort=nonsense")
    assert [row.unit.code for row in response.context["league"].rows] == [a, b]
    assert response.context["league"].sort == ""


def test_targets_colour_the_league_and_can_be_configured(login, county_official, county, rolled, settings):
    response = login(county_official).get("/dashboard/")
    cell = response.context["league"].rows[0].figures["grid.closure_rate"]
    assert cell.rating == "red" and cell.rating_word
    settings.DASHBOARD_TARGETS = {"grid.closure_rate": {"green": 0, "yellow": 0}}
    response = login(county_official).get("/dashboard/")
    assert response.context["league"].rows[0].figures["grid.closure_rate"].rating == "green"
    assert "rating-green" in response.content.decode()


def test_drill_down_link_opens_the_childs_dashboard(login, county_official, county, rolled):
    response = login(county_official).get("/dashboard/")
    html = response.content.decode()
    assert f'href="/dashboard/{county.township_a.code}/?period={rolled:%Y-%m}"' in html


def test_case_count_links_to_a_case_list_with_the_same_count(login, county_official, clerk_a, county, rolled):
    add_case(county.grids[0], reported_at=timezone.now(), colour="red")
    # Last month's case: outside the month's date range, so not in the list.
    add_case(county.grids[0], reported_at=timezone.make_aware(
        datetime.datetime.combine(shift_month(rolled, -1), datetime.time(10))))
    rollup_month(rolled)
    for user, unit_code in ((county_official, None), (county_official, county.township_a.code),
                            (county_official, county.villages[0].code), (clerk_a, county.grids[0].code)):
        client = login(user)
        response = client.get(f"/dashboard/{unit_code}/" if unit_code else "/dashboard/")
        for row in response.context["rows"]:
            if row.key in ("grid.cases_raised", "grid.cases_red"):
                assert row.current.href, (unit_code, row.key)
                listed = client.get(row.current.href)
                assert listed.context["paginator"].count == row.current.number, (unit_code, row.key)
        for league_row in response.context["league"].rows:
            figure = league_row.figures["grid.cases_raised"]
            if figure.href:
                assert client.get(figure.href).context["paginator"].count == figure.number
    # Counts with no matching list filter carry no link.
    response = login(county_official).get("/dashboard/")
    closed = next(row for row in response.context["rows"] if row.key == "grid.cases_closed")
    assert closed.current.href == ""


def test_export_is_a_workbook_with_the_pages_numbers(login, county_official, county, rolled):
    response = login(county_official).get("/dashboard/?export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith(f'dashboard-{county.county.code}-{rolled:%Y%m}.xlsx"')
    table = read_table(response.content)
    rows = {cells[0]: cells for _number, cells in table.rows}
    page = login(county_official).get("/dashboard/")
    for row in page.context["rows"]:
        assert rows[row.label][2] == row.current.number, row.key
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        league_sheet = archive.read("xl/worksheets/sheet3.xml").decode()
    assert county.township_a.display_name in league_sheet and county.township_b.display_name in league_sheet


def test_empty_month_says_what_to_do(login, admin_user, county, rolled):
    response = login(admin_user).get("/dashboard/?period=2001-01")
    assert response.status_code == 200
    assert response.context["has_values"] is False
    html = response.content.decode()
    assert "rollup_indicators --month 2001-01" in html
    assert 'id="dashboard-empty"' in html


def test_default_month_without_any_values_is_last_calendar_month(login, county_official, county):
    response = login(county_official).get("/dashboard/")
    assert response.status_code == 200
    assert response.context["period"] == shift_month(this_month(), -1)
    assert response.context["has_values"] is False


def test_an_approved_month_is_marked_and_so_is_a_late_correction(login, county_official, county, rolled):
    from governance.models import MonthApproval

    last_month = shift_month(rolled, -1)
    client = login(county_official)
    url = f"/dashboard/?period={last_month:%Y-%m}"
    page = client.get(url).content.decode()
    assert 'id="dashboard-approved"' not in page
    approval = MonthApproval.objects.create(period=last_month, approved_by=county_official,
                                            approved_at=timezone.now())
    page = client.get(url).content.decode()
    assert 'id="dashboard-approved"' in page and 'id="dashboard-changed"' not in page
    approval.changed_at = timezone.now()
    approval.save()
    assert 'id="dashboard-changed"' in client.get(url).content.decode()
    # This month is not approved: no mark.
    assert 'id="dashboard-approved"' not in client.get(f"/dashboard/?period={rolled:%Y-%m}").content.decode()


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_sidebar_links_to_the_dashboard(login, clerk_a, county):
    html = login(clerk_a).get("/").content.decode()
    assert re.search(r'<a class="portal-nav-link[^"]*" href="/dashboard/"', html)


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/{code}/?sort=-grid.cases_raised",
                                  "/dashboard/{code}/?period={period}", "/dashboard/?export=xlsx"])
@pytest.mark.parametrize("who", ["county_official", "admin_user"])
def test_a_dashboard_page_costs_at_most_12_queries(login, county, rolled, path, who, request,
                                                    django_assert_max_num_queries):
    """An administrator's page also shows the month's last run: still within the budget."""
    client = login(request.getfixturevalue(who))
    url = path.format(code=county.township_a.code, period=f"{rolled:%Y-%m}")
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_an_app_adds_an_indicator_and_a_panel_without_changing_governance(login, county_official, county, rolled):
    """tests/indicator_app registers both in its own indicators.py; governance never names it."""
    import pathlib

    from governance.models import IndicatorValue

    grids = IndicatorValue.objects.get(org_unit=county.county, period=rolled, key="indicator_app.grids")
    assert grids.numerator == len(county.grids)
    page = login(county_official).get("/dashboard/").content.decode()
    assert 'id="panel-indicator-app"' in page and "测试应用面板" in page
    assert f"{county.county.display_name}：{len(county.grids)}" in page
    # The grid app's own panel is there too, and comes first (order 10).
    assert page.index('id="panel-grid-coverage"') < page.index('id="panel-indicator-app"')
    governance = pathlib.Path(__file__).resolve().parents[2] / "governance"
    assert not any("indicator_app" in path.read_text(encoding="utf-8") for path in governance.rglob("*.py"))


def test_the_coverage_panel_counts_grids_without_a_worker(login, county_official, county, rolled):
    from governance.models import IndicatorValue

    vacant = IndicatorValue.objects.get(org_unit=county.county, period=rolled, key="grid.units_without_worker")
    page = login(county_official).get("/dashboard/").content.decode()
    panel = page[page.index('id="panel-grid-coverage"'):]
    assert f'data-value="units">{int(vacant.denominator)}<' in panel
    assert f">{int(vacant.numerator)}<" in panel[panel.index('data-value="without"'):]
