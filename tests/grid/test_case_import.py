"""Historical cases imported from a county's old system (roster "cases"): numbers kept or given,
one migrated event per step, counters moved on, all or nothing, scoped, idempotent."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from governance.models import LocalName
from governance.rosters import roster_export, roster_import, roster_template
from grid.models import Case, CaseAction, CaseCounter, CaseEvent, CaseSource, CaseState, Colour, Triage
from grid.rosters.cases import case_is_overdue
from grid.services.cases import case_create, case_dispatch, case_resolve, case_take
from tests.helpers.cases import cases_xlsx, good_rows
from tests.helpers.excel import cell_values, headers


def header(name: str) -> str:
    """The header of the cases roster's column ``name``."""
    return headers("cases", [name])[0]


def run(content, user=None, dry_run=False):
    with translation.override("en"):
        return roster_import(kind="cases", file=content, user=user, dry_run=dry_run)


def counts():
    return Case.objects.count(), CaseEvent.objects.count(), sorted(CaseCounter.objects.values_list(
        "township_id", "month", "last"))


# --- A good file ------------------------------------------------------------------------------


def test_good_file_keeps_and_gives_numbers_writes_events_and_moves_the_counters(county, clerk_a):
    rows = good_rows(county)
    report = run(cases_xlsx(rows))
    assert report.ok, report.errors
    assert report.written and report.new == 20
    imported = Case.objects.filter(migrated=True)
    assert imported.count() == 20
    a, b = county.township_a, county.township_b
    kept = Case.objects.get(number=f"{a.code[:9]}20240500007")
    assert kept.title == "历史事件0" and kept.handling_unit == a
    assert Case.objects.filter(number="OLD-2024-000123", grid=county.micro_grids[1]).exists()
    # New numbers: township code, month reported, sequence in the order reported; A's go past the kept 7.
    a_numbers = sorted(imported.filter(handling_unit=a).exclude(pk=kept.pk).values_list("number", flat=True))
    assert a_numbers == [f"{a.code[:9]}202405{n:05d}" for n in range(8, 8 + 9)]
    b_numbers = sorted(imported.filter(handling_unit=b).exclude(number="OLD-2024-000123")
                       .values_list("number", flat=True))
    assert b_numbers == [f"{b.code[:9]}202405{n:05d}" for n in range(1, 10)]
    assert CaseCounter.objects.get(township=a, month="202405").last == 16
    assert CaseCounter.objects.get(township=b, month="202405").last == 9
    # Derived fields: township, deadline from the dispatch by colour, closed cases are not overdue.
    case = imported.get(title="历史事件2")  # red
    assert case.colour == Colour.RED and case.state == CaseState.CLOSED and case.handling_unit == a
    assert case.dispatcher_unit == a and case.description == "历史事件2"  # no description: the title
    assert case.due_at - case.dispatched_at == datetime.timedelta(hours=24)
    assert timezone.localtime(case.dispatched_at).hour == 11 and not case.is_overdue
    assert case.category.code == "dispute-neighbour" and case.source == "hotline"
    # One migrated event per recorded step, in order.
    events = list(case.events.values_list("action", "from_state", "to_state", "migrated"))
    assert events == [
        (CaseAction.CREATE, "", CaseState.REPORTED, True),
        (CaseAction.ACCEPT, CaseState.REPORTED, CaseState.ACCEPTED, True),
        (CaseAction.DISPATCH, CaseState.ACCEPTED, CaseState.DISPATCHED, True),
        (CaseAction.RESOLVE, CaseState.DISPATCHED, CaseState.RESOLVED, True),
        (CaseAction.VERIFY, CaseState.RESOLVED, CaseState.VERIFIED, True),
        (CaseAction.RATE, CaseState.VERIFIED, CaseState.RATED, True),
        (CaseAction.CLOSE, CaseState.RATED, CaseState.CLOSED, True),
    ]
    assert [e.at for e in case.events.all()] == sorted(e.at for e in case.events.all())
    assert case.events.get(action=CaseAction.CREATE).at == case.reported_at
    assert CaseEvent.objects.filter(case__migrated=True).count() == 20 * 7
    assert not CaseEvent.objects.filter(case__migrated=True, migrated=False).exists()


def test_a_case_entered_later_gets_the_next_number(county, clerk_a):
    a = county.township_a
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month = month_start.strftime("%Y%m")  # the cast's case took sequence 1 of this month
    kept = {"number": f"{a.code[:9]}{month}00005", "title": "旧系统事件", "category": "other",
            "grid": county.grids[0].code, "reported_at": month_start, "state": "reported"}
    fresh = {"title": "无编号事件", "category": "其他", "grid": county.micro_grids[0].code,
             "reported_at": month_start, "state": "reported"}
    report = run(cases_xlsx([kept, fresh]), user=clerk_a)
    assert report.ok, report.errors
    assert Case.objects.get(title="无编号事件").number == f"{a.code[:9]}{month}00006"
    assert CaseCounter.objects.get(township=a, month=month).last == 6
    case = case_create(user=clerk_a, title="新事件", description="路灯不亮", category=Case.objects.first().category,
                       grid=county.micro_grids[0])
    assert case.number == f"{a.code[:9]}{month}00007"


def test_steps_of_open_rejected_and_private_cases(county):
    g = county.micro_grids[0]
    now = timezone.localtime()
    hour = datetime.timedelta(hours=1)
    rows = [
        # Dispatched 3 days ago, green (7 days): not overdue yet; yellow (3 days) overdue.
        {"title": "在办绿", "category": "hazard-traffic", "grid": g.code, "colour": "green",
         "reported_at": now - 80 * hour, "dispatched_at": now - 73 * hour, "state": "in_progress"},
        {"title": "在办黄", "category": "hazard-traffic", "grid": g.code, "colour": "yellow",
         "reported_at": now - 80 * hour, "dispatched_at": now - 73 * hour, "state": "taken"},
        {"title": "不予受理", "category": "policy-other", "grid": g.code, "reported_at": "2024-03-01 08:00",
         "closed_at": "2024-03-01 09:00", "state": "rejected", "result": "不属于受理范围"},
        {"title": "私事指导", "category": "dispute-family", "grid": g.code, "triage": "private",
         "reported_at": "2024-03-02 08:00", "accepted_at": "2024-03-02 08:30", "resolved_at": "2024-03-02 10:00",
         "state": "resolved", "result": "已引导当事人自行协商"},
        # Resolved after its deadline, not yet verified: flagged overdue as the loop leaves it.
        {"title": "超期办结", "category": "hazard-traffic", "grid": g.code, "colour": "red",
         "reported_at": "2024-03-03 08:00", "dispatched_at": "2024-03-03 09:00", "resolved_at": "2024-03-05 09:00",
         "state": "resolved"},
    ]
    report = run(cases_xlsx(rows))
    assert report.ok, report.errors
    green, yellow, rejected, private, late = (Case.objects.get(title=row["title"]) for row in rows)
    assert not green.is_overdue and yellow.is_overdue and late.is_overdue
    assert not rejected.is_overdue and rejected.due_at is None
    assert list(rejected.events.values_list("action", "to_state", "comment")) == [
        (CaseAction.CREATE, CaseState.REPORTED, ""), (CaseAction.REJECT, CaseState.REJECTED, "不属于受理范围")]
    assert list(private.events.values_list("action", flat=True)) == [
        CaseAction.CREATE, CaseAction.ACCEPT, CaseAction.RESOLVE]
    assert private.due_at is None and private.result == "已引导当事人自行协商"
    assert list(yellow.events.values_list("action", flat=True)) == [CaseAction.CREATE, CaseAction.DISPATCH]
    assert case_is_overdue(state="closed", due_at=now - hour, resolved_at=now, now=now) is False


# --- All or nothing -----------------------------------------------------------------------------


def _out_of_order(row):
    row["resolved_at"] = "2024-05-01 08:00"  # before it was dispatched


def _unknown_grid(row):
    row["grid"] = "51342499999999999"


def _closed_without_close_time(row):
    row["closed_at"] = None


def _resolved_but_closed(row):
    row["state"] = "resolved"


def _bad_time(row):
    row["accepted_at"] = "2024-13-45 10:00"


def _rated_without_rating(row):
    row.update(state="rated", closed_at=None, rating=None)


@pytest.mark.parametrize(("spoil", "column", "words"), [
    (_out_of_order, "resolved_at", "earlier than"),
    (_unknown_grid, "grid", "was not found"),
    (_closed_without_close_time, "closed_at", "needs this time"),
    (_resolved_but_closed, "verified_at", "has not reached this step"),
    (_bad_time, "accepted_at", "not a date and time"),
    (_rated_without_rating, "rating", "needs the rating"),
])
def test_one_bad_row_among_200_writes_nothing(county, spoil, column, words):
    rows = good_rows(county, 200)
    spoil(rows[150])
    before = counts()
    report = run(cases_xlsx(rows))
    assert not report.ok and not report.written
    assert report.error_rows == 1
    assert any(e.row == 152 and e.column == header(column) and words in e.message for e in report.errors), \
        report.errors
    assert counts() == before


def test_a_grid_outside_the_users_area_is_not_found(county, clerk_b):
    report = run(cases_xlsx(good_rows(county, 4)), user=clerk_b)  # rows 0 and 2 are in township A
    assert not report.written
    assert {e.row for e in report.errors} == {2, 4}
    assert all(e.column == header("grid") for e in report.errors)


def test_a_category_must_exist(county):
    rows = good_rows(county, 3)
    rows[1]["category"] = "无此类别"
    report = run(cases_xlsx(rows))
    assert [(e.row, e.column) for e in report.errors] == [(3, header("category"))]
    assert Case.objects.filter(migrated=True).count() == 0


# --- Idempotent, dry run, constant queries ------------------------------------------------------


def test_second_import_changes_nothing_and_an_edited_row_is_refused(county):
    content = cases_xlsx(good_rows(county))
    assert run(content).new == 20
    before = counts()
    again = run(content)
    assert again.ok and not again.written
    assert (again.new, again.changed, again.unchanged) == (0, 0, 20)
    assert counts() == before
    # Rows without a number were matched by grid, time reported and title; a case is never edited by import.
    rows = good_rows(county)[:2]
    rows[0]["title"] = "改过的标题"
    report = run(cases_xlsx(rows))
    assert not report.written and [(e.row, e.column) for e in report.errors] == [(2, header("number"))]
    assert "it does not change them" in report.errors[0].message
    assert counts() == before


def test_dry_run_writes_nothing(county):
    before = counts()
    report = run(cases_xlsx(good_rows(county)), dry_run=True)
    assert report.ok and report.dry_run and report.new == 20 and not report.written
    assert counts() == before


def test_query_count_does_not_grow_with_rows(county):
    def queries(count):
        with CaptureQueriesContext(connection) as captured:
            report = run(cases_xlsx(good_rows(county, count)), dry_run=True)
        assert report.ok, report.errors
        return len(captured)

    assert queries(200) == queries(10)


def test_command_line_and_export_round_trip(county, tmp_path):
    path = tmp_path / "cases.xlsx"
    path.write_bytes(cases_xlsx(good_rows(county, 10)))
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_roster", "cases", str(path), stdout=out)
    assert "10 new" in out.getvalue()
    # The export of the imported cases imports again as "unchanged".
    exported = roster_export(kind="cases", queryset=Case.objects.filter(migrated=True), user=None)
    report = run(exported)
    assert report.ok, report.errors
    assert (report.new, report.changed, report.unchanged) == (0, 0, 10)
    assert roster_template("cases")[:2] == b"PK"


# --- History as it happened ---------------------------------------------------------------------


def test_a_top_category_and_a_dispatched_private_matter_are_kept_as_they_happened(county):
    g = county.micro_grids[0]
    rows = [
        # The old system recorded only the top category, by its code or by its name.
        {"title": "只有大类", "category": "dispute", "grid": g.code, "triage": "minor",
         "reported_at": "2024-03-01 08:00", "accepted_at": "2024-03-01 09:00", "dispatched_at": "2024-03-01 10:00",
         "resolved_at": "2024-03-02 10:00", "state": "resolved", "result": "已调解"},
        {"title": "大类名称", "category": "矛盾纠纷", "grid": g.code, "reported_at": "2024-03-01 08:00",
         "state": "reported"},
        # A private matter that was dispatched: today's rules answer such a matter with guidance.
        {"title": "私事派单", "category": "dispute-family", "grid": g.code, "triage": "私事",
         "reported_at": "2024-03-02 08:00", "accepted_at": "2024-03-02 08:30", "dispatched_at": "2024-03-02 09:00",
         "resolved_at": "2024-03-03 10:00", "verified_at": "2024-03-03 15:00", "closed_at": "2024-03-04 09:00",
         "rating": "满意", "state": "closed", "result": "已派村调委会调解"},
    ]
    report = run(cases_xlsx(rows))
    assert report.ok, report.errors
    assert report.new == 3
    top, named = Case.objects.get(title="只有大类"), Case.objects.get(title="大类名称")
    assert top.category.code == named.category.code == "dispute" and top.category.parent is None
    private = Case.objects.get(title="私事派单")
    assert private.migrated and private.triage == Triage.PRIVATE and private.state == CaseState.CLOSED
    assert private.dispatched_at is not None and private.dispatcher_unit == county.township_a
    assert list(private.events.values_list("action", "migrated")) == [
        (CaseAction.CREATE, True), (CaseAction.ACCEPT, True), (CaseAction.DISPATCH, True),
        (CaseAction.RESOLVE, True), (CaseAction.VERIFY, True), (CaseAction.RATE, True), (CaseAction.CLOSE, True),
    ]
    assert all(case.migrated for case in (top, named, private))


def test_the_next_step_of_an_imported_case_follows_todays_rules(county, clerk_a):
    g = county.micro_grids[0]
    now = timezone.localtime()
    day = datetime.timedelta(days=1)
    rows = [
        {"title": "私事已派", "category": "dispute-family", "grid": g.code, "triage": "private", "colour": "green",
         "reported_at": now - 3 * day, "accepted_at": now - 3 * day, "dispatched_at": now - 2 * day,
         "state": "dispatched"},
        {"title": "私事已受理", "category": "dispute", "grid": g.code, "triage": "private",
         "reported_at": now - 3 * day, "accepted_at": now - 2 * day, "state": "accepted"},
    ]
    report = run(cases_xlsx(rows))
    assert report.ok, report.errors
    # The dispatched private matter goes on through the services, like any dispatched case.
    taken = case_take(case=Case.objects.get(title="私事已派"), user=clerk_a)
    assert taken.state == CaseState.TAKEN
    step = taken.events.order_by("-pk").first()
    assert (step.action, step.migrated, step.actor) == (CaseAction.TAKE, False, clerk_a)
    # A private matter accepted in the old system is not dispatched now: today's rule answers it with guidance.
    accepted = Case.objects.get(title="私事已受理")
    with pytest.raises(ValidationError) as refused:
        case_dispatch(case=accepted, user=clerk_a, unit=county.villages[0])
    assert refused.value.code == "not_allowed"
    resolved = case_resolve(case=accepted, user=clerk_a, result="已引导当事人自行协商")
    assert resolved.state == CaseState.RESOLVED and resolved.category.code == "dispute"


# --- Every error of every row in one dry run ------------------------------------------------------


def test_one_dry_run_lists_every_independent_error_of_every_row(county):
    g = county.micro_grids[0]
    future = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    rows = good_rows(county, 5)
    # Row 2: seven problems that do not depend on each other.
    rows[0].update(title=None, grid="51342499999999999", colour="紫色", accepted_at="2024-13-45 10:00",
                   resolved_at="2024-05-01 08:00", closed_at=None, rating="很好")
    # Row 3: the state cannot be read, so nothing is said of the times it would need; a time in the future is.
    rows[1].update(state="办完了", verified_at=future, closed_at=None)
    # Row 5: an unknown category, and a rating for a case that was never rated.
    rows[3].update(category="无此类别", state="reported", accepted_at=None, dispatched_at=None, resolved_at=None,
                   verified_at=None, closed_at=None, grid=g.code)
    before = counts()
    report = run(cases_xlsx(rows), dry_run=True)
    found = [(e.row, e.column) for e in report.errors]
    assert sorted(found) == sorted([
        (2, header("title")), (2, header("grid")), (2, header("colour")), (2, header("accepted_at")),
        (2, header("resolved_at")), (2, header("closed_at")), (2, header("rating")),
        (3, header("state")), (3, header("verified_at")),
        (5, header("category")), (5, header("rating")),
    ]), report.errors
    assert len(found) == len(set(found))  # one message per cell: never a second that contradicts the first
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "was not found" in messages[(2, header("grid"))]
    assert "earlier than" in messages[(2, header("resolved_at"))]
    assert "needs this time" in messages[(2, header("closed_at"))]
    assert "in the future" in messages[(3, header("verified_at"))]
    assert "Only a rated or closed case" in messages[(5, header("rating"))]
    assert report.error_rows == 3 and not report.written
    assert counts() == before


# --- The county's own words ----------------------------------------------------------------------


def test_short_forms_and_the_countys_local_names_are_accepted(county, admin_user):
    LocalName.objects.create(unit=county.county, vocabulary="case_category", code="dispute-neighbour",
                             name="邻里矛盾")
    rows = good_rows(county, 2)
    rows[0].update(category="邻里矛盾", colour="绿", triage="小事")
    rows[1].update(colour="红", triage="大事", source="热线")
    report = run(cases_xlsx(rows), user=admin_user)
    assert report.ok, report.errors
    first, second = Case.objects.get(title="历史事件0"), Case.objects.get(title="历史事件1")
    assert first.category.code == "dispute-neighbour"
    assert (first.colour, first.triage) == (Colour.GREEN, Triage.MINOR)
    assert (second.colour, second.triage) == (Colour.RED, Triage.MAJOR)
    assert second.source == CaseSource.HOTLINE
    # The export shows the county's word, and imports again unchanged.
    content = roster_export(kind="cases", queryset=Case.objects.filter(migrated=True), user=admin_user)
    table = cell_values(content)
    category = table[0].index(header("category"))
    assert {row[category] for row in table[1:]} == {"邻里矛盾"}
    again = run(content, user=admin_user)
    assert again.ok and (again.new, again.unchanged) == (0, 2), again.errors


def test_another_countys_local_name_is_not_accepted(county, other_county, county_official):
    LocalName.objects.create(unit=other_county.county, vocabulary="case_category", code="dispute-neighbour",
                             name="邻里矛盾")
    rows = good_rows(county, 2)[:1]
    rows[0]["category"] = "邻里矛盾"
    report = run(cases_xlsx(rows), user=county_official)
    assert [(e.row, e.column) for e in report.errors] == [(2, header("category"))]
