"""The closed loop of a case: every step allowed to the right user in the right state, refused otherwise."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from governance.models import Notification, Role, User
from grid.models import Case, CaseCounter, CaseEvent, CaseState
from grid.services import cases as svc
from tests.helpers.cases import PNG_1PX


def messages(exc: ValidationError) -> str:
    with translation.override("en"):
        return " ".join(exc.messages)


@pytest.fixture
def village_b(county):
    return User.objects.create_user("village_b", password="pw-for-tests-only", role=Role.VILLAGE,
                                    home_unit=county.villages[1])


def walk_to(case, state, *, clerk, worker, county):
    """Take ``case`` along the loop up to ``state`` (minor matter, dispatched to village A)."""
    path = [
        (CaseState.ACCEPTED, lambda: svc.case_accept(case=case, user=clerk, triage="minor", colour="yellow")),
        (CaseState.DISPATCHED, lambda: svc.case_dispatch(case=case, user=clerk, unit=county.villages[0])),
        (CaseState.TAKEN, lambda: svc.case_take(case=case, user=worker)),
        (CaseState.IN_PROGRESS, lambda: svc.case_start(case=case, user=worker)),
        (CaseState.RESOLVED, lambda: svc.case_resolve(case=case, user=worker, result="已加固")),
        (CaseState.VERIFIED, lambda: svc.case_verify(case=case, user=clerk)),
        (CaseState.RATED, lambda: svc.case_rate(case=case, user=clerk, rating="satisfied")),
        (CaseState.CLOSED, lambda: svc.case_close(case=case, user=clerk)),
    ]
    for reached, step in path:
        step()
        if reached == state:
            break
    case.refresh_from_db()
    return case


# --- Report and numbering -----------------------------------------------------------------------------


def test_a_case_is_numbered_by_township_and_month_and_goes_to_the_township(county, new_case):
    first, second = new_case(), new_case(grid=county.grids[0])
    month = timezone.localtime().strftime("%Y%m")
    # The cast already used number 1 of township A this month.
    assert first.number == f"{county.township_a.code[:9]}{month}00002"
    assert second.number == f"{county.township_a.code[:9]}{month}00003"
    assert first.state == CaseState.REPORTED and first.handling_unit == county.township_a
    assert [(e.action, e.to_state) for e in first.events.all()] == [("create", "reported")]


def test_the_township_is_read_from_the_tree_as_it_is_now(county):
    """A grid loaded before the tree was edited carries stale tree values: they are not trusted."""
    grid = county.grids[0]
    grid.lft, grid.rght = 10**6, 10**6 + 1  # as if units were inserted since it was loaded
    assert svc.township_of(grid) == county.township_a


def test_numbers_restart_each_month_per_township(county, new_case):
    old = new_case(reported_at=timezone.make_aware(datetime.datetime(2025, 3, 9, 10)))
    assert old.number == f"{county.township_a.code[:9]}20250300001"
    assert CaseCounter.objects.get(township=county.township_a, month="202503").last == 1


def test_a_form_sent_twice_creates_one_case(new_case):
    import uuid

    token = uuid.uuid4()
    first, again = new_case(token=token), new_case(token=token)
    assert first.pk == again.pk
    assert Case.objects.filter(token=token).count() == 1


def test_a_grid_outside_the_users_area_is_refused(county, new_case):
    with pytest.raises(ValidationError) as refused:
        new_case(grid=county.micro_grids[1])
    assert "outside your area" in messages(refused.value)


def test_html_in_a_title_is_kept_as_text(new_case):
    case = new_case(title="<script>alert(1)</script>")
    assert Case.objects.get(pk=case.pk).title == "<script>alert(1)</script>"


# --- Each step: the right user, the right state -------------------------------------------------------


def test_the_whole_loop_from_report_to_close(county, clerk_a, village_a, new_case):
    case = walk_to(new_case(), CaseState.CLOSED, clerk=clerk_a, worker=village_a, county=county)
    assert case.state == CaseState.CLOSED and case.rating == "satisfied" and case.closed_at
    assert [e.action for e in case.events.all()] == [
        "create", "accept", "dispatch", "take", "start", "resolve", "verify", "rate", "close"
    ]
    assert case.dispatcher == clerk_a and case.assignee == village_a
    assert case.due_at - case.dispatched_at == datetime.timedelta(hours=72)  # yellow


@pytest.mark.parametrize(
    ("state", "clerk_may", "village_may"),
    [
        (CaseState.REPORTED, ["accept", "reject", "escalate"], []),
        (CaseState.ACCEPTED, ["dispatch", "escalate"], []),
        (CaseState.DISPATCHED, ["recall"], ["take", "escalate"]),
        (CaseState.TAKEN, [], ["start", "escalate"]),
        (CaseState.IN_PROGRESS, [], ["resolve", "escalate"]),
        (CaseState.RESOLVED, ["verify", "return"], []),
        (CaseState.VERIFIED, ["rate"], []),
        (CaseState.RATED, ["close"], []),
        (CaseState.CLOSED, [], []),
    ],
)
def test_who_may_take_which_step(state, clerk_may, village_may, county, clerk_a, clerk_b, village_a, village_b,
                                 new_case):
    case = new_case()
    if state != CaseState.REPORTED:
        case = walk_to(case, state, clerk=clerk_a, worker=village_a, county=county)
    assert svc.case_allowed_actions(case=case, user=clerk_a) == clerk_may
    assert svc.case_allowed_actions(case=case, user=village_a) == village_may
    # The other township and the other village may do nothing with it.
    assert svc.case_allowed_actions(case=case, user=clerk_b) == []
    assert svc.case_allowed_actions(case=case, user=village_b) == []


def test_a_step_out_of_order_is_refused_and_changes_nothing(county, clerk_a, new_case):
    case = new_case()
    with pytest.raises(ValidationError) as refused:
        svc.case_verify(case=case, user=clerk_a)
    assert "now “Reported”: it cannot be verified" in messages(refused.value)
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED and case.events.count() == 1


def test_the_wrong_role_or_unit_is_refused(county, clerk_a, clerk_b, village_a, grid_worker_a, new_case):
    case = new_case()
    for outsider in (village_a, clerk_b):  # a village may not accept; township B has no say in A
        with pytest.raises(ValidationError) as refused:
            svc.case_accept(case=case, user=outsider, triage="minor")
        assert "by you" in messages(refused.value)
    svc.case_accept(case=case, user=clerk_a, triage="minor")
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0], assignee=village_a)
    with pytest.raises(ValidationError):  # dispatched to a person: only he takes it
        svc.case_take(case=case, user=grid_worker_a)
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED


def test_triage_decides_where_a_case_may_go(county, clerk_a, new_case):
    minor, major, private = new_case(), new_case(), new_case()
    svc.case_accept(case=minor, user=clerk_a, triage="minor")
    svc.case_accept(case=major, user=clerk_a, triage="major", colour="red")
    svc.case_accept(case=private, user=clerk_a, triage="private")
    with pytest.raises(ValidationError) as refused:
        svc.case_dispatch(case=minor, user=clerk_a, unit=county.township_a)
    assert "goes to a unit of level" in messages(refused.value)
    svc.case_dispatch(case=major, user=clerk_a, unit=county.township_a)
    major.refresh_from_db()
    assert major.due_at - major.dispatched_at == datetime.timedelta(hours=24)  # red
    # A private matter is answered with guidance, not dispatched.
    assert "dispatch" not in svc.case_allowed_actions(case=private, user=clerk_a)
    svc.case_resolve(case=private, user=clerk_a, result="已告知当事人可申请人民调解")
    private.refresh_from_db()
    assert private.state == CaseState.RESOLVED


def test_dispatch_outside_the_users_area_or_to_a_stranger_is_refused(county, clerk_a, clerk_b, new_case):
    case = new_case()
    svc.case_accept(case=case, user=clerk_a, triage="minor")
    with pytest.raises(ValidationError) as refused:
        svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[1])
    assert "outside your area" in messages(refused.value)
    with pytest.raises(ValidationError) as refused:
        svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0], assignee=clerk_b)
    assert "does not work in" in messages(refused.value)


def test_a_returned_case_goes_back_to_work_with_the_reason(county, clerk_a, village_a, new_case):
    case = walk_to(new_case(), CaseState.RESOLVED, clerk=clerk_a, worker=village_a, county=county)
    with pytest.raises(ValidationError):
        svc.case_return(case=case, user=clerk_a, reason="  ")
    svc.case_return(case=case, user=clerk_a, reason="照片不清楚，请补充")
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.resolved_at is None
    assert case.events.last().comment == "照片不清楚，请补充"


def test_escalation_moves_the_case_to_the_parent_unit(county, clerk_a, village_a, county_official, new_case):
    case = walk_to(new_case(), CaseState.TAKEN, clerk=clerk_a, worker=village_a, county=county)
    svc.case_escalate(case=case, user=village_a, reason="涉及多个村，需镇里协调")
    case.refresh_from_db()
    assert (case.state, case.handling_unit, case.assignee) == (CaseState.ACCEPTED, county.township_a, None)
    svc.case_escalate(case=case, user=clerk_a, reason="需县住建局鉴定")
    case.refresh_from_db()
    assert case.handling_unit == county.county
    assert svc.case_allowed_actions(case=case, user=county_official) == ["dispatch", "escalate"]
    assert svc.case_allowed_actions(case=case, user=clerk_a) == []


# --- Attachments ------------------------------------------------------------------------------------


def test_a_renamed_executable_is_refused_and_nothing_is_created(new_case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = Case.objects.count()
    program = SimpleUploadedFile("现场照片.jpg", b"MZ\x90\x00" + b"\x00" * 200, content_type="image/jpeg")
    with pytest.raises(ValidationError) as refused:
        new_case(attachments=[program])
    assert "Only images" in messages(refused.value)
    assert Case.objects.count() == before


def test_an_image_is_stored_outside_the_web_root_with_its_detected_type(new_case, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = new_case(attachments=[SimpleUploadedFile("photo.jpg.exe", PNG_1PX, content_type="application/x-msdos")])
    (attachment,) = case.attachments.all()
    assert attachment.content_type == "image/png" and attachment.file.name.endswith(".png")
    assert str(settings.PRIVATE_MEDIA_ROOT) in attachment.file.path
    assert not attachment.file.path.startswith(str(settings.STATIC_ROOT))


def test_a_file_over_the_limit_is_refused(new_case, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.CASE_ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n" + b"0" * 2048, content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        new_case(attachments=[big])
    assert "larger than" in messages(refused.value)


# --- Overdue and notifications ----------------------------------------------------------------------


def test_overdue_cases_are_marked_once_and_the_assignee_and_dispatcher_told(county, clerk_a, village_a, new_case,
                                                                            django_capture_on_commit_callbacks):
    late = walk_to(new_case(), CaseState.TAKEN, clerk=clerk_a, worker=village_a, county=county)
    on_time = walk_to(new_case(), CaseState.TAKEN, clerk=clerk_a, worker=village_a, county=county)
    Case.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    Notification.objects.all().delete()
    assert svc.cases_mark_overdue() == 1
    assert svc.cases_mark_overdue() == 0  # once
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.is_overdue and not on_time.is_overdue
    assert late.events.filter(action="overdue").count() == 1
    told = set(Notification.objects.filter(text__contains=late.number).values_list("user__username", flat=True))
    assert told == {"village_a", "township_a"}


def test_each_step_notifies_who_must_act_next(county, clerk_a, village_a, new_case, eager_celery,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = new_case()
        svc.case_accept(case=case, user=clerk_a, triage="minor")
        svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0], assignee=village_a)
    assert Notification.objects.filter(user=village_a, text__contains=case.number).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        svc.case_take(case=case, user=village_a)
        svc.case_start(case=case, user=village_a)
        svc.case_resolve(case=case, user=village_a, result="已处理")
    assert Notification.objects.filter(user=clerk_a, text__contains=case.number).count() == 1
    # Sending a step's follow-up again notifies nobody twice.
    event = CaseEvent.objects.get(case=case, action="dispatch")
    assert svc.case_event_notify(event_id=event.pk) == 0


def test_deciding_every_step_for_a_page_takes_one_query(county, clerk_a, new_case, django_assert_num_queries):
    case = new_case()
    with django_assert_num_queries(1):
        assert svc.case_allowed_actions(case=case, user=clerk_a) == ["accept", "reject", "escalate"]
