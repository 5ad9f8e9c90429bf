"""Dispute mediation (矛盾纠纷): the list with its mediation records, recording a session, and the
daily/weekly/monthly summaries (日分析、周综述、月报告) counted by hand on a small set."""

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from governance.models import ExportLog, OrgUnit
from governance.services import orgunit_create
from grid.models import Case, CaseCategory, Mediation
from grid.selectors.work import dispute_summary, period_of
from grid.services import cases as svc
from grid.services.work import mediation_record

LIST = "/grid/mediation/"
SUMMARY = "/grid/mediation/summary/"
DAY = datetime.date(2025, 3, 12)  # a Wednesday


def at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def create_url(case) -> str:
    return reverse("grid:mediation-create", args=[case.pk])


@pytest.fixture
def category(db):
    return lambda code: CaseCategory.objects.get(code=code)


@pytest.fixture
def village_a2(county):
    """A second village of township A, with a grid."""
    village = orgunit_create(code=f"{county.township_a.code[:9]}202", name="德A二村村民委员会", short_name="德A二村",
                             level="village", kind="village", parent=county.township_a)
    grid = orgunit_create(code=f"{village.code}001", name="德A二村第一网格", level="grid", kind="grid_standard",
                          parent=village)
    return village, grid


@pytest.fixture
def dispute(county, clerk_a, category):
    def make(title, code, grid, reported_at, user=clerk_a):
        # Fresh from the database: adding village A2 renumbered the tree under the cast's cached units.
        grid = OrgUnit.objects.get(pk=grid.pk)
        return svc.case_create(user=user, title=title, description="双方争执", category=category(code), grid=grid,
                               reported_at=reported_at)

    return make


@pytest.fixture
def small_set(county, clerk_a, clerk_b, village_a2, dispute, village_a):
    """Township A: three disputes on DAY (two mediated, one agreement; one overdue), one the day before.
    Township B: one dispute on DAY."""
    _village2, grid2 = village_a2
    d1 = dispute("宅基地界线", "dispute-neighbour", county.micro_grids[0], at(DAY, 9))
    d2 = dispute("排水沟堵塞争执", "dispute-neighbour", grid2, at(DAY, 10))
    d3 = dispute("赡养老人", "dispute-family", county.grids[0], at(DAY, 11))
    p1 = dispute("林地权属", "dispute-land", county.micro_grids[0], at(DAY - datetime.timedelta(days=1), 15))
    b1 = dispute("乙镇纠纷", "dispute-wages", county.micro_grids[1], at(DAY, 9), user=clerk_b)
    mediation_record(case=d1, user=clerk_a, held_on=DAY, mediator="李法官", room="德A镇调解室", outcome="partial")
    mediation_record(case=d1, user=clerk_a, held_on=DAY, mediator="李法官、王律师", room="德A镇调解室",
                     outcome="agreed")
    mediation_record(case=d2, user=clerk_a, held_on=DAY, mediator="张民警", room="德A二村调解室", outcome="failed")
    svc.case_accept(case=d3, user=clerk_a, triage="minor")
    svc.case_dispatch(case=d3, user=clerk_a, unit=county.villages[0])
    Case.objects.filter(pk=d3.pk).update(due_at=at(DAY, 12))
    return {"d1": d1, "d2": d2, "d3": d3, "p1": p1, "b1": b1}


def text(response) -> str:
    return response.content.decode()


# --- The list ------------------------------------------------------------------------------------


def test_the_url_names(db):
    assert reverse("grid:mediation-list") == LIST
    assert reverse("grid:mediation-summary") == SUMMARY
    assert reverse("grid:mediation-create", args=[7]) == "/grid/cases/7/mediations/new/"


@pytest.mark.parametrize("url", [LIST, SUMMARY, "/grid/cases/1/mediations/new/"])
def test_anonymous_is_sent_to_login(client, county, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_list_shows_the_disputes_of_the_area_with_their_sessions(staff, county, clerk_a, dispute):
    hazard = svc.case_create(user=clerk_a, title="危房", description="墙体开裂",
                             category=CaseCategory.objects.get(code="hazard-building"), grid=county.micro_grids[0])
    response = staff(clerk_a).get(LIST)
    assert response.status_code == 200
    assert [case.pk for case in response.context["object_list"]] == [county.cases[0].pk]
    html = text(response)
    assert "德A镇矛盾纠纷调解室" in html and "李法官、王律师" in html
    assert county.cases[1].number not in html and "德B镇矛盾纠纷调解室" not in html
    assert hazard.number not in html
    assert create_url(county.cases[0]) in html


def test_township_b_sees_only_its_own(staff, county, clerk_b):
    response = staff(clerk_b).get(LIST)
    assert [case.pk for case in response.context["object_list"]] == [county.cases[1].pk]
    assert county.cases[0].number not in text(response)


def test_the_filters(staff, county, clerk_a, small_set):
    client = staff(clerk_a)

    def listed(**params):
        return {case.pk for case in client.get(LIST, params).context["object_list"]}

    everything = {county.cases[0].pk, *(small_set[k].pk for k in ("d1", "d2", "d3", "p1"))}
    assert listed() == everything
    assert listed(mediated="yes") == {county.cases[0].pk, small_set["d1"].pk, small_set["d2"].pk}
    assert listed(mediated="no") == {small_set["d3"].pk, small_set["p1"].pk}
    assert listed(outcome="failed") == {small_set["d2"].pk}
    assert listed(category=category_pk("dispute-family")) == {small_set["d3"].pk}
    assert listed(q="赡养") == {small_set["d3"].pk}
    assert listed(status="closed") == set()
    # Values that are not ours do not filter (and are no error).
    assert listed(category="x", status="nonsense", outcome="<b>") == everything


def category_pk(code: str) -> int:
    return CaseCategory.objects.get(code=code).pk


def test_the_list_is_exported_and_logged(staff, county, clerk_a, small_set):
    response = staff(clerk_a).get(LIST, {"export": "xlsx", "mediated": "yes"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {small_set["d1"].number, small_set["d2"].number, county.cases[0].number}
    log = ExportLog.objects.get(user=clerk_a)
    assert (log.kind, log.rows, log.with_personal_data, log.filters["mediated"]) == ("mediations", 3, False, "yes")


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(LIST).status_code == 200
    return len(context)


def test_the_list_costs_the_same_queries_however_many_disputes(staff, county, clerk_a, dispute,
                                                              django_assert_max_num_queries):
    client = staff(clerk_a)
    before = _list_queries(client)
    for n in range(6):
        case = dispute(f"纠纷{n}", "dispute-neighbour", county.grids[0], timezone.now())
        mediation_record(case=case, user=clerk_a, held_on=timezone.localdate(), mediator="李法官", room=f"调解室{n}",
                         outcome="agreed")
    assert _list_queries(client) == before
    with django_assert_max_num_queries(13):
        client.get(LIST)


# --- Recording a session ---------------------------------------------------------------------------


def post_data(**changes):
    data = {"held_on": timezone.localdate().isoformat(), "mediator": " 李法官、王律师 ", "room": "德A镇矛盾纠纷调解室",
            "outcome": "agreed", "notes": "双方签订调解协议"}
    data.update(changes)
    return data


def test_a_session_is_recorded(staff, county, clerk_a):
    case = county.cases[0]
    client = staff(clerk_a)
    response = client.get(create_url(case))
    assert response.status_code == 200
    assert '<option value="德A镇矛盾纠纷调解室">' in text(response)  # the rooms used before are suggested
    response = client.post(create_url(case), post_data())
    assert response.status_code == 302
    assert response.url == reverse("grid:case-detail", args=[case.pk])
    mediation = Mediation.objects.filter(case=case).order_by("-id").first()
    assert (mediation.mediator, mediation.outcome, mediation.recorded_by) == ("李法官、王律师", "agreed", clerk_a)
    # The case's page lists the session and offers to record another.
    page = text(client.get(response.url))
    assert 'id="case-mediations"' in page and "李法官、王律师" in page and "德A镇矛盾纠纷调解室" in page
    assert f'href="{create_url(case)}"' in page


def test_a_case_that_is_not_a_dispute_has_no_mediation_section(staff, county, clerk_a, category):
    case = svc.case_create(user=clerk_a, title="路灯不亮", description="三组路灯坏了",
                           category=category("sanitation-garbage"), grid=county.grids[0])
    page = text(staff(clerk_a).get(reverse("grid:case-detail", args=[case.pk])))
    assert 'id="case-mediations"' not in page and create_url(case) not in page


def test_it_goes_back_where_it_came_from_but_only_to_our_site(staff, county, clerk_a):
    client = staff(clerk_a)
    response = client.post(create_url(county.cases[0]), post_data(next="/grid/mediation/?mediated=yes"))
    assert response.url == "/grid/mediation/?mediated=yes"
    response = client.post(create_url(county.cases[0]), post_data(next="https://evil.example/"))
    assert response.url == reverse("grid:case-detail", args=[county.cases[0].pk])


def test_a_village_worker_records_too(staff, county, village_a):
    response = staff(village_a).post(create_url(county.cases[0]), post_data())
    assert response.status_code == 302 and Mediation.objects.filter(recorded_by=village_a).exists()


def test_a_grid_worker_may_not(staff, county, grid_worker_a):
    assert staff(grid_worker_a).get(create_url(county.cases[0])).status_code == 403


def test_another_townships_dispute_is_not_found(staff, county, clerk_a):
    client = staff(clerk_a)
    assert client.get(create_url(county.cases[1])).status_code == 404
    assert client.post(create_url(county.cases[1]), post_data()).status_code == 404
    assert not Mediation.objects.filter(case=county.cases[1], recorded_by=clerk_a).exists()


def test_a_case_that_is_no_dispute_is_not_found(staff, county, clerk_a):
    hazard = svc.case_create(user=clerk_a, title="危房", description="墙体开裂",
                             category=CaseCategory.objects.get(code="hazard-building"), grid=county.micro_grids[0])
    assert staff(clerk_a).get(create_url(hazard)).status_code == 404


@pytest.mark.parametrize(("changes", "field"), [
    ({"held_on": (datetime.date.today() + datetime.timedelta(days=3)).isoformat()}, "held_on"),
    ({"held_on": "2001-01-01"}, "held_on"),  # before the case was reported
    ({"held_on": "yesterday"}, "held_on"),
    ({"mediator": "  "}, "mediator"),
    ({"outcome": "won"}, "outcome"),
    ({"room": ""}, "room"),
])
def test_bad_input_is_shown_on_the_form_and_saves_nothing(staff, county, clerk_a, changes, field):
    before = Mediation.objects.count()
    response = staff(clerk_a).post(create_url(county.cases[0]), post_data(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Mediation.objects.count() == before


def test_the_dates_rules_speak_plainly(county, clerk_a):
    from django.core.exceptions import ValidationError

    with translation.override("en"), pytest.raises(ValidationError) as error:
        mediation_record(case=county.cases[0], user=clerk_a, held_on=datetime.date(2001, 1, 1), mediator="李法官",
                         room="调解室", outcome="agreed")
    with translation.override("en"):
        assert "cannot be earlier" in " ".join(error.value.messages)


# --- Summaries ---------------------------------------------------------------------------------------


def test_periods():
    assert period_of("day", DAY).label() == "2025-03-12"
    week = period_of("week", DAY)
    assert (week.start, week.end) == (datetime.date(2025, 3, 10), datetime.date(2025, 3, 17))
    assert week.previous().start == datetime.date(2025, 3, 3)
    month = period_of("month", datetime.date(2024, 2, 29))
    assert (month.start, month.end, month.previous().start) == (
        datetime.date(2024, 2, 1), datetime.date(2024, 3, 1), datetime.date(2024, 1, 1))
    assert period_of("month", datetime.date(2024, 12, 5)).next().start == datetime.date(2025, 1, 1)


def test_the_daily_analysis_counted_by_hand(county, clerk_a, small_set, village_a2):
    summary = dispute_summary(fetched_by=clerk_a, period=period_of("day", DAY))
    assert summary.total.current == {"raised": 3, "mediated": 2, "sessions": 3, "agreed": 1, "open": 4, "overdue": 1}
    assert summary.total.previous == {"raised": 1, "mediated": 0, "sessions": 0, "agreed": 0, "open": 1,
                                      "overdue": 0}
    by_category = {row.label: (row.current["raised"], row.previous["raised"]) for row in summary.categories}
    assert by_category["邻里纠纷"] == (2, 0)
    assert by_category["婚姻家庭纠纷"] == (1, 0)
    assert by_category["土地山林纠纷"] == (0, 1)
    assert by_category["劳资纠纷"] == (0, 0)  # township B's is not counted
    assert summary.unit_level == "village"
    by_unit = {row.unit: row.current for row in summary.units}
    assert by_unit[county.villages[0]] == {"raised": 2, "mediated": 1, "sessions": 2, "agreed": 1, "open": 3,
                                           "overdue": 1}
    assert by_unit[village_a2[0]] == {"raised": 1, "mediated": 1, "sessions": 1, "agreed": 0, "open": 1,
                                      "overdue": 0}
    assert summary.outside_units is None


def test_closing_a_dispute_takes_it_out_of_the_open_ones_from_that_day(county, clerk_a, small_set):
    Case.objects.filter(pk=small_set["p1"].pk).update(state="closed", closed_at=at(DAY, 8))
    summary = dispute_summary(fetched_by=clerk_a, period=period_of("day", DAY))
    assert summary.total.current["open"] == 3 and summary.total.previous["open"] == 1


def test_the_weekly_and_monthly_summaries(clerk_a, small_set):
    week = dispute_summary(fetched_by=clerk_a, period=period_of("week", DAY))
    assert week.total.current["raised"] == 4 and week.total.previous["raised"] == 0
    month = dispute_summary(fetched_by=clerk_a, period=period_of("month", DAY))
    assert month.total.current["raised"] == 4 and month.total.current["sessions"] == 3


def test_the_county_sees_both_townships_and_township_b_only_its_own(county, county_official, clerk_b, small_set):
    summary = dispute_summary(fetched_by=county_official, period=period_of("day", DAY))
    assert summary.unit_level == "township"
    assert {row.unit: row.current["raised"] for row in summary.units} == {county.township_a: 3, county.township_b: 1}
    b = dispute_summary(fetched_by=clerk_b, period=period_of("day", DAY))
    assert b.total.current == {"raised": 1, "mediated": 0, "sessions": 0, "agreed": 0, "open": 1, "overdue": 0}


def test_the_summary_page(staff, clerk_a, small_set):
    with translation.override("en"):
        response = staff(clerk_a).get(SUMMARY, {"period": "day", "date": DAY.isoformat()})
    assert response.status_code == 200
    html = text(response)
    assert 'data-count="raised">3<' in html and 'data-count="overdue">1<' in html
    assert "日分析" in html and "2025-03-12" in html
    assert small_set["d1"].number in html and small_set["b1"].number not in html
    assert small_set["p1"].number not in html  # raised the day before
    assert "?period=day&amp;date=2025-03-11" in html and "?period=day&amp;date=2025-03-13" in html


def test_the_summary_of_township_b_leaves_a_out(staff, clerk_b, small_set):
    response = staff(clerk_b).get(SUMMARY, {"period": "week", "date": DAY.isoformat()})
    html = text(response)
    assert response.context["summary"].total.current["raised"] == 1
    assert small_set["b1"].number in html
    assert not any(small_set[k].number in html for k in ("d1", "d2", "d3", "p1"))


@pytest.mark.parametrize("params", [
    {}, {"period": "year"}, {"date": "2025-02-30"}, {"date": "0001-01-01"}, {"period": "week", "date": "9999-12-31"},
    {"period": ["day", "month"], "date": "<script>"},
])
def test_bad_parameters_fall_back_to_today(staff, clerk_a, params):
    response = staff(clerk_a).get(SUMMARY, params)
    assert response.status_code == 200
    period = response.context["period"]
    assert period.start <= timezone.localdate() < period.end


def test_the_summary_is_exported_and_logged(staff, clerk_a, small_set):
    response = staff(clerk_a).get(SUMMARY, {"period": "day", "date": DAY.isoformat(), "export": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(book.worksheets) == 4  # totals, by category, by village, the disputes
    totals = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert totals[0][1:] == (3, 1, 2)  # raised: this day, the day before, the change
    cases = list(book.worksheets[3].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in cases] == [small_set[k].number for k in ("d1", "d2", "d3")]
    log = ExportLog.objects.get(user=clerk_a)
    assert (log.kind, log.rows, log.with_personal_data) == ("dispute_summary_day", 3, False)
    assert log.filters["date"] == DAY.isoformat()


def _summary_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(SUMMARY, params).status_code == 200
    return len(context)


def test_the_summary_costs_the_same_queries_however_many_disputes(staff, county, clerk_a, small_set, dispute,
                                                                  village_a2, django_assert_max_num_queries):
    client = staff(clerk_a)
    params = {"period": "month", "date": DAY.isoformat()}
    before = _summary_queries(client, params)
    for n in range(8):
        grid = village_a2[1] if n % 2 else county.micro_grids[0]
        case = dispute(f"纠纷{n}", "dispute-other", grid, at(DAY, 14))
        mediation_record(case=case, user=clerk_a, held_on=DAY, mediator="李法官", room="调解室", outcome="agreed")
    assert _summary_queries(client, params) == before
    with django_assert_max_num_queries(12):
        client.get(SUMMARY, params)
