"""A dashboard that explains itself: every figure that can name its records opens them (and the
list counts what the figure says), every indicator shown has a one-line definition reachable from
the page, the targets a county sets in the admin stand beside its figures and colour its league
by distance (or by rank where there is none), and a unit is written once."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.indicators import dashboard
from governance.indicators.dashboard.league import _rank
from governance.indicators.dashboard.numbers import Figure
from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month
from governance.indicators.registry import (
    DENOMINATOR,
    HIGHER,
    LOWER,
    RecordLink,
    all_indicators,
    definition_line,
    get_indicator,
    without_definition,
)
from governance.models import IndicatorTarget
from grid.forms.cases import CaseFilterForm
from grid.models import CaseState
from tests.helpers.cases import add_case

pytestmark = pytest.mark.django_db


def kpi(response, key):
    return next(row for row in response.context["kpis"] if row.key == key)


def cell(response, code, key):
    return next(row for row in response.context["league"].rows if row.unit.code == code).figures[key]


def listed(client, href) -> int:
    response = client.get(href)
    assert response.status_code == 200, href
    return response.context["paginator"].count


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


# --- Definitions -------------------------------------------------------------------------------


def test_every_indicator_the_apps_show_declares_a_definition():
    """The registry check: every indicator a dashboard shows says what it means (a breakdown's bars
    through their chart). Only the test app's indicator goes without, and gets one from its declaration."""
    assert [key for key in without_definition() if not key.startswith("indicator_app.")] == []
    for indicator in all_indicators():
        line = definition_line(indicator)
        assert line and "\n" not in line, indicator.key
    generated = definition_line(get_indicator("indicator_app.grids"))
    assert "测试应用：网格数" in generated and generated.startswith("月末")  # a stock: at the month's end


def test_each_figure_carries_its_definition_and_leads_to_the_definitions_card(login, county_official, county,
                                                                            rolled):
    response = login(county_official).get("/dashboard/")
    html = response.content.decode()
    card = html[html.index('id="dashboard-definitions"'):]
    for row in response.context["kpis"]:
        assert row.definition, row.key
        assert f'href="#def-{row.key}" title="{row.definition}"' in html, row.key
        assert f'<span id="def-{row.key}"></span>' in card, row.key
    for key in response.context["league"].keys:
        assert f'<span id="def-{key}"></span>' in card, key
        head = html[html.index(f'data-sort="{key}"') - 200:html.index(f'data-sort="{key}"') + 300]
        assert f'title="{definition_line(get_indicator(key))}"' in head, key
    for row in response.context["rows"]:
        assert f'<span id="def-{row.key}"></span>' in card, row.key
    # The breakdown charts say what their bars count, once, in the card too.
    assert '<span id="def-grid.cases_by_category"></span>' in card and "二级分类计入所属一级分类" in card
    # Two figures that share a definition share an entry (the six worker types).
    entry = next(d for d in response.context["definitions"] if "grid.workers.full_time" in d["keys"])
    assert "grid.workers.part_time" in entry["keys"]


# --- Links to the records behind a figure -----------------------------------------------------


def test_a_link_names_only_filters_its_list_has():
    """A figure links to the case list only where the list filters the way the figure counts."""
    fields = CaseFilterForm.base_fields
    for indicator in all_indicators():
        link = indicator.records
        if link is not None and link.url_name == "grid:case-list":
            assert all(name in fields for name in link.parameters), indicator.key
    # What exists today: reported dates, colour, triage; every rate of cohort links to its cases.
    for key in ("grid.cases_raised", "grid.cases_red", "grid.cases_major", "grid.closure_rate",
                "grid.closure_rate_to_date"):
        assert get_indicator(key).records is not None, key
    assert get_indicator("grid.closure_rate_to_date").records.counts == DENOMINATOR


@pytest.fixture
def month_of_cases(county, rolled):
    """This month in township A: cases raised (one red and major), accepted, resolved, one closed,
    one not accepted, one open past its deadline, one resolved late and not yet closed; one of last
    month closed this month. Rolled up again."""
    grid = county.grids[0]
    now = timezone.now()
    first = at(rolled.replace(day=1), 0) + datetime.timedelta(hours=1)
    add_case(grid, reported_at=first, colour="red", triage="major", state=CaseState.ACCEPTED, accepted_at=first)
    add_case(grid, reported_at=first, state=CaseState.CLOSED, accepted_at=first, resolved_at=first,
             closed_at=first + datetime.timedelta(minutes=30))
    add_case(grid, reported_at=first, state=CaseState.REJECTED, closed_at=first + datetime.timedelta(minutes=5))
    add_case(grid, reported_at=first, state=CaseState.IN_PROGRESS, accepted_at=first,
             due_at=now - datetime.timedelta(hours=2), is_overdue=True)
    add_case(grid, reported_at=first, state=CaseState.RESOLVED, accepted_at=first,
             due_at=first + datetime.timedelta(minutes=10), resolved_at=first + datetime.timedelta(minutes=40),
             is_overdue=True)
    before = at(shift_month(rolled, -1).replace(day=3))
    add_case(grid, reported_at=before, state=CaseState.CLOSED, accepted_at=before, resolved_at=before,
             closed_at=first + datetime.timedelta(minutes=50))
    # Last month too: it was computed before its case was added, and a computed month's missing
    # count reads 0 (linked to a list that would hold the case).
    for month in (shift_month(rolled, -1), rolled):
        assert rollup_month(month).status == "complete"
    return rolled


def every_linked_figure(response):
    for row in response.context["rows"]:
        if row.current.href:
            yield f"row {row.key}", row.current
    for league_row in response.context["league"].rows:
        for figure in league_row.ordered:
            if figure.href:
                yield f"league {league_row.unit.code} {figure.key}", figure
    for trend_row in response.context["trend_rows"]:
        for figure in trend_row["cells"]:
            if figure.href:
                yield f"trend {trend_row['period']} {figure.key}", figure


@pytest.mark.parametrize("who, where", [("county_official", None), ("county_official", "township_a"),
                                        ("clerk_a", None), ("clerk_a", "villages")])
def test_every_linked_figure_opens_a_list_of_as_many_records(login, county, month_of_cases, who, where, request):
    """Cards, the full table, league cells and the trend's table: each link's list counts the
    figure's number (a count's value, a rate's denominator)."""
    client = login(request.getfixturevalue(who))
    unit = {None: None, "township_a": county.township_a, "villages": county.villages[0]}[where]
    response = client.get(f"/dashboard/{unit.code}/" if unit else "/dashboard/")
    checked = set()
    for name, figure in every_linked_figure(response):
        assert listed(client, figure.href) == figure.records_count, name
        assert figure.link_title and f"{figure.records_count:,}" in figure.link_title, name
        checked.add(figure.key)
    assert {"grid.cases_raised", "grid.cases_red", "grid.cases_major", "grid.closure_rate_to_date"} <= checked
    # A rate opens the cases it is a share of: the list's count is its denominator.
    rate = next(row for row in response.context["rows"] if row.key == "grid.closure_rate_to_date").current
    assert rate.records_count == int(rate.denominator)


def _needs(*names):
    missing = [name for name in names if name not in CaseFilterForm.base_fields]
    if missing:
        pytest.skip(f"the case list has no filter {', '.join(missing)} yet (grid/forms/cases.py, "
                    f"grid/selectors/cases.py): the figure is shown without a link until it has")


def test_cases_closed_opens_the_cases_that_ended_in_the_month(login, county_official, clerk_a, county,
                                                              month_of_cases):
    """Closed in the month: closed or not accepted, whenever reported (last month's case too)."""
    _needs("closed_from", "closed_to")
    for client, url in ((login(county_official), "/dashboard/"), (login(clerk_a), "/dashboard/")):
        response = client.get(url)
        closed = kpi(response, "grid.cases_closed").current
        assert closed.href and listed(client, closed.href) == closed.number
        for league_row in response.context["league"].rows:
            figure = league_row.figures["grid.cases_closed"]
            if figure.value:
                assert listed(client, figure.href) == figure.number, league_row.unit.code
    assert kpi(login(county_official).get("/dashboard/"), "grid.cases_closed").current.number == 3


def test_overdue_opens_the_cases_overdue_at_the_months_end(login, county_official, clerk_a, county, month_of_cases):
    """Open past the deadline and not resolved: the case resolved late is not overdue any more, nor is the
    one not accepted."""
    _needs("overdue_on")
    for client in (login(county_official), login(clerk_a)):
        response = client.get("/dashboard/")
        overdue = kpi(response, "grid.cases_overdue").current
        assert overdue.number == 1
        assert overdue.href and listed(client, overdue.href) == 1
        league_figure = cell(response, response.context["league"].rows[0].unit.code, "grid.cases_overdue")
        if league_figure.value:
            assert listed(client, league_figure.href) == league_figure.number


def test_a_figure_without_a_matching_list_has_no_link(login, county_official, county, month_of_cases):
    """A figure whose list would count otherwise is not a link: the to-date on-time rate has no list."""
    response = login(county_official).get("/dashboard/")
    on_time = next(row for row in response.context["rows"] if row.key == "grid.on_time_rate_to_date")
    assert on_time.current.href == ""
    # And over several months, a stock (its last month's) and a median are never links.
    response = login(county_official).get(f"/dashboard/?period={month_of_cases.year}")
    for row in response.context["rows"]:
        if row.indicator is not None and row.indicator.over != "flow":
            assert row.current.href == "", row.key


def test_a_records_link_declares_which_number_it_counts():
    with pytest.raises(ValueError, match="counts is value, numerator or denominator"):
        RecordLink("x:y", counts="all")
    assert RecordLink("x:y", last_day="on", query={"a": "1"}).parameters == ["on", "a"]


# --- Targets -------------------------------------------------------------------------------


def test_the_declared_target_stands_beside_the_figure(login, county_official, county, rolled):
    response = login(county_official).get("/dashboard/")
    rate = kpi(response, "grid.closure_rate_to_date").current
    assert rate.target.text == "≥ 95%" and not rate.target.own
    html = response.content.decode()
    card = html[html.index('data-key="grid.closure_rate_to_date"'):]
    card = card[:card.index('class="kpi-change"')]
    assert "目标 ≥ 95%" in card
    assert kpi(response, "grid.cases_overdue").current.target.text == "≤ 0"
    assert kpi(response, "households").current.target is None


def test_a_league_all_far_from_its_target_is_not_painted_red(login, county_official, county, rolled):
    """Both townships closed none of their cases: far from 95%, and equal, so nothing is coloured and
    the column says why."""
    response = login(county_official).get("/dashboard/")
    figures = [row.figures["grid.closure_rate_to_date"] for row in response.context["league"].rows]
    assert [f.rating for f in figures] == ["red", "red"]
    assert [f.mark for f in figures] == ["", ""]
    assert response.context["league"].notes["grid.closure_rate_to_date"] == "均未接近目标"
    html = response.content.decode()
    assert 'class="num rating-red" data-key="grid.closure_rate_to_date"' not in html


def test_a_countys_own_target_colours_its_league_by_distance(login, county_official, clerk_a, county, rolled):
    """Township A closes its case (100%), B closes none (0%). The county asks for 50%: A meets it, B is far
    from it; with "near within 60 points" B is near it. Its townships' pages show the county's target."""
    add_case(county.grids[0], reported_at=at(rolled), state=CaseState.CLOSED, closed_at=timezone.now())
    for case in county.cases[:1]:
        case.closed_at, case.state = timezone.now(), CaseState.CLOSED
        case.save()
    assert rollup_month(rolled).status == "complete"
    target = IndicatorTarget.objects.create(unit=county.county, key="grid.closure_rate_to_date", value=50, near=20)
    client = login(county_official)
    response = client.get("/dashboard/")
    a, b = county.township_a.code, county.township_b.code
    assert cell(response, a, "grid.closure_rate_to_date").number == 1
    assert cell(response, b, "grid.closure_rate_to_date").number == 0
    assert [cell(response, code, "grid.closure_rate_to_date").mark for code in (a, b)] == ["rating-green",
                                                                                         "rating-red"]
    assert cell(response, b, "grid.closure_rate_to_date").shortfall == "距目标差 50.0 个百分点"
    assert "grid.closure_rate_to_date" not in response.context["league"].notes
    rate = kpi(response, "grid.closure_rate_to_date").current
    assert rate.target.own and rate.target.text == "≥ 50%" and rate.rating == "green"  # 2 of 3 closed
    html = response.content.decode()
    assert "目标 ≥ 50%" in html and "（本地设定）" in html
    head = html[html.index('data-sort="grid.closure_rate_to_date"'):]
    assert "目标 ≥ 50%" in head[:head.index("</th>")]

    target.near = 60
    target.save()
    assert cell(client.get("/dashboard/"), b, "grid.closure_rate_to_date").mark == "rating-yellow"
    # The township's page shows the county's target, and a township may set its own for its page.
    page = login(clerk_a).get("/dashboard/")
    assert kpi(page, "grid.closure_rate_to_date").current.target.text == "≥ 50%"
    IndicatorTarget.objects.create(unit=county.township_a, key="grid.closure_rate_to_date", value=Decimal("99.5"))
    page = login(clerk_a).get("/dashboard/")
    assert kpi(page, "grid.closure_rate_to_date").current.target.text == "≥ 99.5%"
    # The county's league still judges its townships by the county's target.
    assert cell(login(county_official).get("/dashboard/"), a, "grid.closure_rate_to_date").target.text == "≥ 50%"


def test_a_target_holds_from_its_first_month(login, county_official, county, rolled):
    IndicatorTarget.objects.create(unit=county.county, key="grid.cases_overdue", value=3,
                                   valid_from=shift_month(rolled, 1))
    response = login(county_official).get("/dashboard/")
    assert kpi(response, "grid.cases_overdue").current.target.text == "≤ 0"  # the declared one, still
    IndicatorTarget.objects.filter(unit=county.county).update(valid_from=rolled)
    response = login(county_official).get("/dashboard/")
    assert kpi(response, "grid.cases_overdue").current.target.text == "≤ 3"


def test_a_column_without_a_target_is_coloured_by_rank(login, county_official, county, rolled):
    """Red cases raised (lower is better, no target): the township with fewer is in the top quarter;
    a column of equal values, or one that does not say which way is better, is not coloured."""
    for _i in range(2):
        add_case(county.grids[0], reported_at=at(rolled), colour="red")
    assert rollup_month(rolled).status == "complete"
    response = login(county_official).get("/dashboard/?sort=-grid.cases_red")
    a, b = county.township_a.code, county.township_b.code
    assert cell(response, b, "grid.cases_red").mark == "rank-top"
    assert cell(response, a, "grid.cases_red").mark == ""
    html = response.content.decode()
    assert '<span class="dashboard-rating rank-top">排名前25%</span>' in html
    assert all(not cell(response, code, "households").mark for code in (a, b))


def test_rank_quarters():
    indicator = get_indicator("grid.cases_red")  # lower is better
    figures = [Figure("k", indicator, Decimal(n)) for n in (1, 2, 3, 4, 5, 6, 7, 8)]
    assert _rank(figures, indicator)
    assert [f.rank for f in figures] == ["top", "top", "", "", "", "", "bottom", "bottom"]
    higher = get_indicator("grid.closure_rate_to_date")
    figures = [Figure("k", higher, Decimal(n)) for n in ("0.1", "0.9", "0.9", "0.5")]
    _rank(figures, higher)
    assert [f.rank for f in figures] == ["bottom", "top", "top", ""]
    same = [Figure("k", higher, Decimal("0.5")) for _n in range(4)]
    assert not _rank(same, higher) and [f.rank for f in same] == ["", "", "", ""]
    assert higher.better == HIGHER and indicator.better == LOWER


def test_a_goal_in_the_figures_terms():
    rate = get_indicator("grid.closure_rate_to_date")
    goal = dashboard.numbers.own_goal(rate, IndicatorTarget(key=rate.key, value=Decimal("90")))
    assert goal.value == Decimal("0.9") and goal.near == Decimal("0.1")  # the declared distance
    assert [goal.rating(v) for v in ("0.95", "0.85", "0.7")] == ["green", "yellow", "red"]
    hours = get_indicator("grid.median_hours_to_resolve")
    goal = dashboard.numbers.own_goal(hours, IndicatorTarget(key=hours.key, value=Decimal("48")))
    assert goal.text == "≤ 48" and goal.near == Decimal("4.8") and goal.rating(50) == "yellow"
    households = get_indicator("households")
    assert dashboard.numbers.own_goal(households, IndicatorTarget(key="households", value=1)) is None


def test_the_export_holds_the_targets(login, county_official, county, rolled):
    from governance.rosters.tabular import read_table

    table = read_table(login(county_official).get("/dashboard/?export=xlsx").content)
    rows = {cells[0]: cells for _number, cells in table.rows}
    assert rows["结案率（截至今日）"][-1] == "≥ 95%"


# --- The admin ---------------------------------------------------------------------------------


def test_an_administrator_sets_a_countys_target_in_the_admin(login, admin_user, county, rolled):
    client = login(admin_user)
    page = client.get("/admin/governance/indicatortarget/add/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="grid.closure_rate_to_date"' in html and 'value="households"' not in html  # no better: no target
    assert f'<option value="{county.county.pk}" selected>' in html  # his own county first
    response = client.post("/admin/governance/indicatortarget/add/", {
        "unit": county.county.pk, "key": "grid.closure_rate_to_date", "value": "90", "near": "", "valid_from": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    target = IndicatorTarget.objects.get()
    assert (target.unit, target.key, target.value) == (county.county, "grid.closure_rate_to_date", 90)
    listing = client.get("/admin/governance/indicatortarget/").content.decode()
    assert "≥ 90%" in listing and "结案率（截至今日）" in listing
    # Refused: an indicator without a direction, a rate above 100%, a second target of the same indicator.
    for data, field in (({"key": "households", "value": "1"}, "key"),
                        ({"key": "grid.on_time_rate_to_date", "value": "120"}, "value"),
                        ({"key": "grid.closure_rate_to_date", "value": "80"}, None)):
        response = client.post("/admin/governance/indicatortarget/add/", {"unit": county.county.pk, "near": "",
                                                                          "valid_from": "", **data})
        assert response.status_code == 200, data
        errors = response.context["adminform"].form.errors
        assert (field in errors) if field else errors, data
    assert IndicatorTarget.objects.count() == 1
    # A village sets none: the unit choices are cities, counties and townships.
    assert f'<option value="{county.villages[0].pk}"' not in html


def test_a_clerk_sees_only_his_own_townships_targets(county, clerk_a, clerk_b):
    IndicatorTarget.objects.create(unit=county.county, key="grid.cases_overdue", value=1)
    own = IndicatorTarget.objects.create(unit=county.township_a, key="grid.cases_overdue", value=2)
    assert list(IndicatorTarget.objects.visible_to(clerk_a)) == [own]
    assert list(IndicatorTarget.objects.visible_to(clerk_b)) == []


# --- Units written once ------------------------------------------------------------------------


def test_a_unit_is_written_once(login, county_official, county, rolled):
    response = login(county_official).get("/dashboard/")
    html = response.content.decode()
    assert "时长（小时）" not in html
    hours = kpi(response, "grid.median_hours_to_resolve")
    assert hours.label == "办结用时中位数（小时）" and hours.unit_shown == ""
    assert kpi(response, "partybuild.volunteer_hours").unit_shown == "小时"
    assert kpi(response, "residents").unit_shown == "人"
    assert kpi(response, "households").unit_shown == ""  # 住户: the label says 户
    assert kpi(response, "grid.closure_rate_to_date").unit_shown == ""  # the value says %
    assert kpi(response, "grid.cases_raised").unit == "件"
    card = html[html.index('data-key="grid.median_hours_to_resolve"'):]
    assert 'class="kpi-unit"' not in card[:card.index('class="kpi-change"')]
    # The full table: the label and its unit in brackets only where the label lacks it.
    assert re.search(r"居民</span> <span class=\"text-secondary small\">（人）</span>", html)
    assert "住户</span> <span" not in html


def test_change_is_the_indicators_own_word(login, county_official, county, rolled):
    """The table's "Change" columns read 增减 from their own context, not from the admin's "Change" (修改)."""
    html = login(county_official).get("/dashboard/").content.decode()
    table = html[html.index('id="indicator-table"'):]
    assert table.count('<th scope="col" class="num">增减</th>') == 2 and "修改" not in table
