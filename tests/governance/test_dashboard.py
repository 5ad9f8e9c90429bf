"""The dashboards: numbers of the cast's county read from IndicatorValue, scope (a township
user starts at his township and cannot drill up or sideways), league sorting and colours,
the Excel export, links to the case list whose count equals the number, the query budget, and
that what the page shows is what each app declares on its indicators (governance names none)."""

import datetime
import io
import json
import pathlib
import re
import zipfile

import pytest
from django.utils import timezone, translation

from governance.indicators import dashboard
from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month, this_month
from governance.indicators.registry import (
    FLOW,
    HIGHER,
    LOWER,
    RATIO,
    STOCK,
    Indicator,
    Target,
    all_breakdowns,
    all_indicators,
)
from governance.rosters.tabular import read_table
from tests.helpers.cases import add_case

pytestmark = pytest.mark.django_db


def kpi(response, key):
    return next(row for row in response.context["kpis"] if row.key == key)


def league_numbers(response, key):
    return [(row.unit.code, row.figures[key].number) for row in response.context["league"].rows]


def test_county_dashboard_shows_the_county_and_its_townships(login, county_official, county, rolled):
    response = login(county_official).get("/dashboard/")
    assert response.status_code == 200
    assert response.context["unit"] == county.county
    assert response.context["period"].first == rolled == response.context["period"].last
    assert kpi(response, "households").current.number == 2
    assert kpi(response, "grid.cases_raised").current.number == 2
    # Last month had the households too (created before its end? no: they are created now).
    assert kpi(response, "grid.closure_rate_to_date").current.text == "0.0%"
    assert kpi(response, "grid.closure_rate_to_date").current.fraction == "0 / 2"
    assert kpi(response, "grid.closure_rate_to_date").current.rating == "red"
    assert league_numbers(response, "grid.cases_raised") == [
        (county.township_a.code, 1), (county.township_b.code, 1)]
    charts = response.context["charts"]
    assert set(charts) == {"trend", "breakdowns", "league"}
    assert len(charts["trend"]["periods"]) == 12 and charts["trend"]["periods"][-1] == f"{rolled:%Y-%m}"
    raised = next(s for s in charts["trend"]["series"] if s["key"] == "grid.cases_raised")
    assert raised["values"][-1] == 2
    # Both cases of the cast are disputes: the grid's category chart leads with 矛盾纠纷.
    categories = charts["breakdowns"]["grid.cases_by_category"]
    assert categories["labels"][0] == "矛盾纠纷" and categories["values"][0] == 2
    assert sum(categories["values"]) == 2
    assert charts["league"]["labels"] == [county.township_a.display_name, county.township_b.display_name]
    html = response.content.decode()
    assert 'id="dashboard-data"' in html
    for chart in ("trend", "breakdown", "league"):
        assert f'data-chart="{chart}"' in html
    # The breakdown's chart, title and headings are the grid's declaration, shown by governance's page.
    assert 'data-breakdown="grid.cases_by_category"' in html
    section = html[html.index('id="breakdown-gridcases_by_category"'):]
    assert "事件分类统计" in section[:300] and "<th scope=\"col\">类别</th>" in section
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
    cell = response.context["league"].rows[0].figures["grid.closure_rate_to_date"]
    assert cell.rating == "red" and cell.rating_word
    settings.DASHBOARD_TARGETS = {"grid.closure_rate_to_date": {"green": 0, "yellow": 0}}
    response = login(county_official).get("/dashboard/")
    assert response.context["league"].rows[0].figures["grid.closure_rate_to_date"].rating == "green"
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
    # Closed cases link too (the list filters by the day they were closed), to the same count.
    client = login(county_official)
    response = client.get("/dashboard/")
    closed = next(row for row in response.context["rows"] if row.key == "grid.cases_closed")
    assert "closed_from=" in closed.current.href
    assert client.get(closed.current.href).context["paginator"].count == closed.current.number


def test_export_is_a_workbook_with_the_pages_numbers(login, county_official, county, rolled):
    response = login(county_official).get("/dashboard/?export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith(f'dashboard-{county.county.code}-{rolled:%Y-%m}.xlsx"')
    table = read_table(response.content)
    rows = {cells[0]: cells for _number, cells in table.rows}
    page = login(county_official).get("/dashboard/")
    for row in page.context["rows"]:
        assert rows[row.label][2] == row.current.number, row.key
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        league_sheet = archive.read("xl/worksheets/sheet3.xml").decode()
        workbook = archive.read("xl/workbook.xml").decode()
        breakdown_sheet = archive.read("xl/worksheets/sheet4.xml").decode()
    assert county.township_a.display_name in league_sheet and county.township_b.display_name in league_sheet
    # One sheet per breakdown, named and headed as its app declares it.
    assert '<sheet name="事件分类统计"' in workbook and "类别" in breakdown_sheet and "矛盾纠纷" in breakdown_sheet


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
    assert response.context["period"].first == shift_month(this_month(), -1)
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
                                  "/dashboard/{code}/?period={period}", "/dashboard/?export=xlsx",
                                  "/dashboard/{code}/?period={year}", "/dashboard/{code}/?period={months}"])
@pytest.mark.parametrize("who", ["county_official", "admin_user"])
def test_a_dashboard_page_costs_at_most_12_queries(login, county, rolled, path, who, request,
                                                    django_assert_max_num_queries):
    """An administrator's page also shows the month's last run: still within the budget (the
    session, the user, the top bar's unit chain and unread count are four of them; the county's
    own names one more). A year's page reads its months, its children's and its stored medians;
    any other run of months takes its medians from the cases (one query each)."""
    client = login(request.getfixturevalue(who))
    url = path.format(code=county.township_a.code, period=f"{rolled:%Y-%m}", year=rolled.year,
                      months=f"{rolled.year}-01..{rolled:%Y-%m}")
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_an_app_adds_an_indicator_and_a_panel_without_changing_governance(login, county_official, county, rolled):
    """tests/indicator_app registers both in its own indicators.py; governance never names it."""
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


def chart_data(html: str) -> dict:
    return json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html,
                                re.S).group(1))


def test_an_app_adds_a_headline_card_a_league_column_and_a_trend_line(login, county_official, county, rolled):
    """tests/indicator_app declares them on its indicator (headline=15: between households and
    residents), with a target (green at 2 grids, yellow at 1): they show on the page and in its charts."""
    response = login(county_official).get("/dashboard/")
    assert [row.key for row in response.context["kpis"]][:3] == ["households", "indicator_app.grids", "residents"]
    html = response.content.decode()
    cards = html[html.index('id="dashboard-kpis"'):html.index("</section>", html.index('id="dashboard-kpis"'))]
    card = cards[cards.index('data-key="indicator_app.grids"'):]
    card = card[:card.index('class="kpi-change"')]
    assert "测试应用：网格数" in card and "<span data-value>2</span>" in card and "rating-green" in card
    assert cards.index('data-key="households"') < cards.index('data-key="indicator_app.grids"') < cards.index(
        'data-key="residents"')
    league = html[html.index('id="league-table"'):]
    assert 'data-sort="indicator_app.grids"' in league
    assert league.count('class="num rating-yellow" data-key="indicator_app.grids"') == 2  # one grid per township
    charts = chart_data(html)
    trend = next(s for s in charts["trend"]["series"] if s["key"] == "indicator_app.grids")
    assert trend["label"] == "测试应用：网格数" and trend["percent"] is False and trend["values"][-1] == 2
    bars = next(s for s in charts["league"]["counts"] if s["key"] == "indicator_app.grids")
    assert bars["values"] == [1, 1] and bars["percent"] is False
    assert "测试应用：网格数" in html[html.index('id="trend-table"'):]


def test_the_page_shows_what_the_indicators_declare(login, county_official, county, rolled):
    """The cards, lines and columns the apps declare, in their declared order (the page of part 4)."""
    response = login(county_official).get("/dashboard/")
    assert [row.key for row in response.context["kpis"]] == [
        "households", "indicator_app.grids", "residents", "grid.cases_raised", "grid.cases_closed",
        "grid.closure_rate_to_date", "grid.on_time_rate_to_date", "grid.cases_overdue",
        "grid.median_hours_to_resolve", "grid.satisfaction_rate_to_date", "grid.worker_party_share",
        "partybuild.members", "partybuild.wishes_completed", "partybuild.volunteer_hours",
        "partybuild.central_households", "collective_economy.operating_income_ytd"]
    assert response.context["league"].keys == [
        "households", "indicator_app.grids", "residents", "grid.cases_raised", "grid.cases_closed",
        "grid.closure_rate_to_date", "grid.on_time_rate_to_date", "grid.cases_overdue", "grid.median_hours_to_resolve",
        "grid.worker_party_share", "partybuild.members", "partybuild.wishes_completed", "partybuild.volunteer_hours",
        "partybuild.organizations", "partybuild.central_households", "collective_economy.operating_income_ytd",
        "collective_economy.operating_income_last_year", "collective_economy.weak_villages",
        "collective_economy.contracts_cleaned_up_share", "collective_economy.decisions_published_to_date"]
    charts = chart_data(response.content.decode())
    assert [s["key"] for s in charts["trend"]["series"]] == [
        "grid.cases_raised", "grid.cases_closed", "grid.cases_overdue", "grid.closure_rate_to_date",
        "indicator_app.grids"]
    # The league charts compare the league's columns that are also trend lines, in column order: the
    # counts in one chart, the rates in another (a count and a rate never share a bar axis).
    assert [s["key"] for s in charts["league"]["counts"]] == [
        "indicator_app.grids", "grid.cases_raised", "grid.cases_closed", "grid.cases_overdue"]
    assert [s["key"] for s in charts["league"]["rates"]] == ["grid.closure_rate_to_date"]
    # Every series says whether it is a percentage: the script takes it from there, never from the key.
    league_series = charts["league"]["counts"] + charts["league"]["rates"]
    percent = {s["key"]: s["percent"] for s in charts["trend"]["series"] + league_series}
    assert percent["grid.closure_rate_to_date"] is True and percent["grid.cases_raised"] is False
    assert kpi(response, "grid.worker_party_share").current.text.endswith("%")
    # The categories are the chart's bars, not rows of the full table.
    assert not any(row.indicator and row.indicator.breakdown for row in response.context["rows"])
    for chart, bars in charts["breakdowns"].items():
        if chart == "collective_economy.villages_by_band":
            assert bars["labels"] == [], "the cast keeps no books: nothing counted, no bars"
            continue
        assert len(bars["labels"]) == len([i for i in all_indicators() if i.breakdown == chart]), chart
    assert set(charts["breakdowns"]) == {"grid.cases_by_category", "partybuild.organizations_by_kind",
                                         "collective_economy.villages_by_band"}


def test_governance_names_no_apps_indicator():
    """The apps' keys, their breakdown's prefix and the lists they link to are declared in the apps
    only: not in governance's code, its dashboard templates or the charts' script."""
    root = pathlib.Path(__file__).resolve().parents[2]
    app_keys = {i.key for i in all_indicators() if "." in i.key}
    assert {key.split(".")[0] for key in app_keys} >= {"grid", "partybuild", "indicator_app"}
    names = app_keys | {key.rsplit(".", 1)[0] + "." for key in app_keys if key.count(".") > 1}
    names |= {i.records.url_name for i in all_indicators() if i.records}
    # The breakdown charts too: their keys, and their titles and headings as written (English msgids).
    with translation.override("en"):
        names |= {text for b in all_breakdowns() for text in (b.key, str(b.title), str(b.empty))}
    assert "grid.cases_category." in names and "grid:case-list" in names and "Cases by category" in names
    sources = [*(root / "governance").rglob("*.py"), *(root / "templates" / "governance").rglob("*.html"),
               root / "static" / "js" / "dashboard-charts.js"]
    found = [(path.relative_to(root), name) for path in sources for name in names
             if name in path.read_text(encoding="utf-8")]
    assert found == []
    script = (root / "static" / "js" / "dashboard-charts.js").read_text(encoding="utf-8")
    assert "series.percent" in script and "rate|share" not in script


def test_a_declared_target_and_its_override(settings):
    """Colours follow the declared target; DASHBOARD_TARGETS overrides it (and keeps the declared
    direction unless it says "lower"), or gives an indicator without one a target."""
    indicators = dashboard.indicator_map()
    overdue, households = indicators["grid.cases_overdue"], indicators["households"]
    assert overdue.better == LOWER and overdue.target == Target(green=0, yellow=2)
    assert [dashboard.rating(overdue.key, overdue, n) for n in (0, 2, 3)] == ["green", "yellow", "red"]
    assert dashboard.rating(households.key, households, 5) is None
    settings.DASHBOARD_TARGETS = {"grid.cases_overdue": {"green": 5, "yellow": 10},
                                  "households": {"green": 100, "yellow": 50}}
    assert [dashboard.rating(overdue.key, overdue, n) for n in (5, 10, 11)] == ["green", "yellow", "red"]
    assert [dashboard.rating(households.key, households, n) for n in (100, 50, 49)] == ["green", "yellow", "red"]
    settings.DASHBOARD_TARGETS = {"grid.cases_overdue": {"green": 5, "yellow": 10, "lower": False}}
    assert dashboard.rating(overdue.key, overdue, 11) == "green"


def test_an_indicator_refuses_a_display_that_cannot_be():
    def leaf(start, end, units):
        return units

    with pytest.raises(ValueError, match="target needs better"):
        Indicator(key="x.y", label="x", unit="", leaf=leaf, target=Target(green=1, yellow=0), over=FLOW)
    with pytest.raises(ValueError, match="better is"):
        Indicator(key="x.y", label="x", unit="", leaf=leaf, better="up", over=FLOW)
    with pytest.raises(ValueError, match="only a ratio"):
        Indicator(key="x.y", label="x", unit="%", leaf=leaf, over=FLOW)
    with pytest.raises(ValueError, match="how it adds up over months"):
        Indicator(key="x.y", label="x", unit="", leaf=leaf)
    share = Indicator(key="x.y", label="x", unit="%", kind=RATIO, leaf=leaf, denominator="d", better=HIGHER,
                      over=FLOW)
    assert share.percent and dashboard.format_number(share, "0.171") == "17.1%"
    assert not Indicator(key="x.z", label="x", unit="", kind=RATIO, leaf=leaf, denominator="d", over=STOCK).percent
    money = Indicator(key="x.m", label="x", unit="元", leaf=leaf, over=FLOW, decimals=2)
    assert dashboard.format_number(money, "1355000.8") == "1,355,000.80"
    assert dashboard.format_number(money, "100000") == "100,000.00"


def test_the_coverage_panel_counts_grids_without_a_worker(login, county_official, county, rolled):
    """The cast's grids are staffed through their micro-grids, but none has a grid worker of its own."""
    from governance.models import IndicatorValue

    unstaffed = IndicatorValue.objects.get(org_unit=county.county, period=rolled, key="grid.units_without_worker")
    assert (unstaffed.numerator, unstaffed.denominator) == (0, 2)
    page = login(county_official).get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    panel = page[page.index('id="panel-grid-coverage"'):]
    panel = panel[:panel.index("</section>")]
    assert 'data-value="units">2<' in panel
    assert "<span>0</span>" in panel[panel.index('data-value="without"'):]
    assert ">2</a>" in panel[panel.index('data-value="without_own"'):]
    assert "网格员未覆盖的网格" in panel and "无专属网格员的网格" in panel
    assert "微网格员" in panel and "联户长" in panel  # the workers by type the county has
