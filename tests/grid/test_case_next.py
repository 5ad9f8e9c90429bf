"""Part 7: every step says who acts next; the handling unit always sees what it was sent; dispatch offers the
case's own village first; recall; take and start in one click; unambiguous reasons; the call-back phone."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from governance.models import ExportLog, OrgUnit, Role
from governance.services import orgunit_create
from grid.forms.cases import CaseForm, DispatchForm
from grid.models import Case, CaseAction, CaseSource, CaseState
from grid.services import cases as svc
from tests.helpers.people import new_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def village_a2(county):
    """A second village of township A, with a grid, and its clerk."""
    village = orgunit_create(code=f"{county.township_a.code[:9]}202", name="德A二村村民委员会", short_name="德A二村",
                             level="village", kind="village", parent=county.township_a)
    orgunit_create(code=f"{village.code}001", name="德A二村第一网格", level="grid", kind="grid_standard",
                   parent=village)
    clerk = new_user("village_a2", Role.VILLAGE, village, first_name="芳", last_name="王")
    return OrgUnit.objects.get(pk=village.pk), clerk


def accepted(new_case, clerk, **fields):
    case = new_case(reporter_name="赵六", reporter_phone="13912345678", **fields)
    return svc.case_accept(case=case, user=clerk, triage="minor")


def page(staff, user, case):
    client = staff(user)
    return client.get(reverse("grid:case-detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")


# --- The handling unit always sees what it was sent ----------------------------------------------


def test_a_village_outside_the_cases_grid_sees_and_takes_the_case_it_was_sent(staff, county, clerk_a, new_case,
                                                                             village_a2):
    village2, clerk2 = village_a2
    case = accepted(new_case, clerk_a)  # located in village A's micro-grid
    svc.case_dispatch(case=case, user=clerk_a, unit=village2)
    assert Case.objects.visible_to(clerk2).filter(pk=case.pk).exists()
    response = page(staff, clerk2, case)
    assert response.status_code == 200
    assert 'data-action="take"' in response.content.decode()
    client = staff(clerk2)
    response = client.post(reverse("grid:case-action", args=[case.pk, "take"]), {"take-start": "on"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.assignee == clerk2
    # Its steps and the list show it to that village too.
    assert case.events.model.objects.visible_to(clerk2).filter(case=case).count() == case.events.count()
    listing = client.get(reverse("grid:case-list")).content.decode()
    assert case.number in listing


def test_the_api_lets_the_receiving_village_take_it_too(staff, county, clerk_a, new_case, village_a2):
    village2, clerk2 = village_a2
    case = accepted(new_case, clerk_a)
    svc.case_dispatch(case=case, user=clerk_a, unit=village2)
    client = staff(clerk2)
    response = client.post(f"/api/v1/cases/{case.pk}/take/", {"start": True}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == CaseState.IN_PROGRESS


def test_dispatch_refuses_a_unit_where_nobody_could_take_it(county, clerk_a, new_case):
    case = accepted(new_case, clerk_a)
    with pytest.raises(ValidationError) as refused:
        svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])  # nobody has an account there
    assert "无人能接单" in str(refused.value.message_dict["unit"])
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED


# --- Dispatch: the case's own village first, people by name ----------------------------------------


def test_dispatch_offers_the_cases_village_first_and_names_people(county, clerk_a, village_a, grid_worker_a,
                                                                  new_case, village_a2):
    village2, _clerk2 = village_a2
    case = accepted(new_case, clerk_a, grid=county.grids[0])
    case = Case.objects.select_related("grid", "handling_unit").get(pk=case.pk)
    grid_worker_a.first_name, grid_worker_a.last_name = "强", "李"
    grid_worker_a.save()
    form = DispatchForm(case=case, user=clerk_a, prefix="dispatch")
    groups = [(group.label, [unit.display_name for unit in group.units]) for group in form.groups]
    assert groups[0] == ("德A村（事件所在地）", ["德A村", "德A村第一网格"])
    assert groups[1] == ("德A二村", ["德A二村"])  # its grid has no account: not offered
    bound = DispatchForm({"dispatch-unit": county.villages[0].pk}, case=case, user=clerk_a, prefix="dispatch")
    people = dict(bound.fields["assignee"].choices)
    assert people[grid_worker_a.pk] == "李强 · 德A村第一网格"


# --- Recall, take-and-start, reasons ------------------------------------------------------------


def test_the_dispatching_clerk_recalls_a_case_nobody_took_and_dispatches_it_anew(county, clerk_a, village_a,
                                                                                 new_case, village_a2):
    village2, clerk2 = village_a2
    case = accepted(new_case, clerk_a)
    svc.case_dispatch(case=case, user=clerk_a, unit=village2)
    with pytest.raises(ValidationError):
        svc.case_recall(case=case, user=clerk_a, reason="")
    svc.case_recall(case=case, user=clerk_a, reason="派错了村")
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.handling_unit == county.township_a and case.due_at is None
    assert not Case.objects.visible_to(clerk2).filter(pk=case.pk).exists()
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])
    svc.case_take(case=case, user=village_a)
    with pytest.raises(ValidationError):  # taken: too late to recall
        svc.case_recall(case=case, user=clerk_a, reason="再派")
    actions = list(case.events.values_list("action", flat=True))
    assert actions.count(CaseAction.RECALL) == 1 and actions.count(CaseAction.DISPATCH) == 2


def test_take_only_leaves_work_to_start(staff, county, clerk_a, village_a, new_case):
    case = accepted(new_case, clerk_a)
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])
    client = staff(village_a)
    client.post(reverse("grid:case-action", args=[case.pk, "take"]), {"take-comment": ""})
    assert Case.objects.get(pk=case.pk).state == CaseState.TAKEN


def test_the_reasons_are_labelled_by_their_action(staff, county, clerk_a, new_case):
    case = new_case()
    html = page(staff, clerk_a, case).content.decode()
    assert "不予受理的原因" in html and "上报上级的原因" in html
    assert html.count(">原因<") == 0


# --- Who acts next -------------------------------------------------------------------------------


def test_the_case_page_says_who_holds_it_and_what_they_must_do(staff, county, clerk_a, village_a, new_case):
    case = new_case()
    html = page(staff, clerk_a, case).content.decode()
    assert "德A镇" in html and "须受理或不予受理" in html
    case = svc.case_accept(case=case, user=clerk_a, triage="minor")
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0], assignee=village_a)
    case.refresh_from_db()
    step = case.next_step
    assert (step.unit, step.person, step.due) == (county.villages[0], village_a, case.due_at)
    html = page(staff, clerk_a, case).content.decode()
    holder = html[html.index('id="case-holder"'):]
    # The page shows the local date (Asia/Shanghai), which is not UTC's from 16:00 to 24:00 UTC.
    due = timezone.localtime(case.due_at)
    assert "德A村 · village_a" in holder and "须接单" in holder and f"{due:%Y-%m-%d}" in holder
    svc.case_take(case=case, user=village_a, start=True)
    svc.case_resolve(case=case, user=village_a, result="已加固")
    case.refresh_from_db()
    assert case.next_step.unit == county.township_a and case.next_step.person == clerk_a


# --- The reporter's phone for the call-back ---------------------------------------------------------


def test_the_clerk_who_rates_sees_the_phone_in_full_and_the_view_is_logged(staff, county, clerk_a, village_a,
                                                                          new_case):
    case = accepted(new_case, clerk_a)
    html = page(staff, clerk_a, case).content.decode()
    assert "13912345678" not in html and "139****5678" in html  # a township clerk sees it masked
    assert not ExportLog.objects.filter(kind="case-reporter-phone").exists()
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])
    svc.case_take(case=case, user=village_a, start=True)
    svc.case_resolve(case=case, user=village_a, result="已加固")
    svc.case_verify(case=case, user=clerk_a)
    html = page(staff, clerk_a, case).content.decode()
    assert 'href="tel:13912345678"' in html
    log = ExportLog.objects.get(kind="case-reporter-phone")
    assert (log.user, log.unmasked, log.filters) == (clerk_a, True, {"case": case.number})


# --- The report form's source -----------------------------------------------------------------------


@pytest.mark.parametrize(("role", "source"), [(Role.GRID, CaseSource.GRID_WORKER), (Role.TOWNSHIP, CaseSource.VISIT),
                                              (Role.COUNTY, CaseSource.HOTLINE)])
def test_the_source_defaults_to_what_the_role_makes_likely(county, role, source):
    user = new_user(f"u-{role}", role, county.grids[0] if role == Role.GRID else county.township_a)
    assert CaseForm(user=user)["source"].value() == source


# --- The list opened from a dashboard figure says why it is narrowed -----------------------------------


def test_a_list_opened_from_a_figure_names_its_filters_and_clears_them(staff, county, clerk_a, new_case):
    import datetime

    case = svc.case_accept(case=new_case(), user=clerk_a, triage="minor")
    day = timezone.localdate(case.accepted_at)  # the filter's days are local days
    client = staff(clerk_a)
    html = client.get(reverse("grid:case-list"), {"accepted_from": day, "accepted_to": day}).content.decode()
    notice = html[html.index('id="figure-filters"'):]
    assert f"{day.isoformat()} 起受理" in notice and f"截至 {day.isoformat()} 受理" in notice
    assert case.number in html
    other = day + datetime.timedelta(days=1)
    html = client.get(reverse("grid:case-list"), {"accepted_from": other}).content.decode()
    assert case.number not in html
    assert 'href="?"' in html[html.index('id="figure-filters"'):]  # the way back to every case
