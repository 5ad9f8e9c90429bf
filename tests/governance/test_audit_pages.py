"""The trail's pages: administrators search, filter and export it; nobody edits or deletes an event (page,
admin); anyone else is refused; an object's page shows its history."""

import datetime

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from governance.audit import Action, record
from governance.audit.context import acting_as
from governance.models import AuditEvent, Role
from tests.helpers.audit import events
from tests.helpers.people import new_user

TRAIL = "/audit/"


@pytest.fixture
def administrator(county):
    """An administrator of the county (role admin, not a superuser)."""
    return new_user("admin_a", Role.ADMIN, county.county)


def seed_events(county, user, n: int):
    for i in range(n):
        unit = county.villages[i % 2]
        record(Action.UPDATE, user=user, object_type="governance.Household", object_id=1000 + i, org_unit_id=unit.pk,
               changes={"number": [f"H{i}", f"H{i}x"]}, detail=f"seed {i}", address="10.0.0.1")


@pytest.mark.parametrize("who", ["county_official", "clerk_a", "village_a", "grid_worker_a"])
def test_only_administrators_read_the_trail(request, county, who, login):
    user = request.getfixturevalue(who)
    assert login(user).get(TRAIL).status_code == 403
    assert login(user).get(TRAIL, {"export": "xlsx"}).status_code == 403
    assert login(user).get(reverse("admin:governance_auditevent_changelist")).status_code in (302, 403)


def test_anonymous_is_sent_to_the_login(client):
    response = client.get(TRAIL)
    assert response.status_code == 302 and "/login/" in response.url


def test_the_administrator_searches_and_filters(county, administrator, clerk_a, login):
    seed_events(county, clerk_a, 6)
    record(Action.LOGIN_FAILED, actor="intruder", address="10.6.6.6")
    client = login(administrator)
    page = client.get(TRAIL).content.decode()
    assert page.count('data-event="') >= 7 and "10.6.6.6" in page
    only_failed = client.get(TRAIL, {"action": "login_failed"}).content.decode()
    assert only_failed.count('data-event="') == 1 and "intruder" in only_failed
    by_text = client.get(TRAIL, {"q": "seed 3"}).content.decode()
    assert by_text.count('data-event="') == 1
    by_object = client.get(TRAIL, {"obj": "governance.Household:1002"}).content.decode()
    assert by_object.count('data-event="') == 1
    by_township = client.get(TRAIL, {"township": county.township_b.pk, "q": "seed"}).content.decode()
    assert by_township.count('data-event="') == 3  # the events in village B
    by_user = client.get(TRAIL, {"user": "township_a"}).content.decode()
    assert by_user.count('data-event="') == 6
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert 'data-event="' not in client.get(TRAIL, {"date_from": tomorrow.isoformat()}).content.decode()
    bad = client.get(TRAIL, {"date_from": tomorrow.isoformat(), "date_to": timezone.localdate().isoformat()})
    assert bad.status_code == 200 and "结束日期早于开始日期" in bad.content.decode()


def test_the_page_offers_no_edit_or_delete(county, administrator, admin_user, login):
    event = record(Action.LOGIN, user=administrator)
    page = login(administrator).get(TRAIL).content.decode()
    assert "/delete/" not in page and "/change/" not in page and 'name="_save"' not in page
    client = login(admin_user)  # a superuser: the admin is read only for him too
    assert client.get(reverse("admin:governance_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:governance_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:governance_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code in (
        403, 302)
    change = client.get(reverse("admin:governance_auditevent_change", args=[event.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    client.post(reverse("admin:governance_auditevent_change", args=[event.pk]), {"actor": "edited"})
    assert AuditEvent.objects.filter(pk=event.pk, actor=event.actor).exists()


def test_the_export_is_an_excel_file_and_is_audited(county, administrator, clerk_a, login):
    seed_events(county, clerk_a, 3)
    response = login(administrator).get(TRAIL, {"export": "xlsx", "user": "township_a"}, REMOTE_ADDR="10.8.8.8")
    sheet = openpyxl.load_workbook(__import__("io").BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4 and rows[1][1].startswith("township_a")
    (export,) = events(action=Action.EXPORT)
    assert (export.actor_id, export.address) == (administrator.pk, "10.8.8.8")
    assert export.detail.startswith("audit-trail")


def test_the_page_costs_the_same_queries_however_many_events(county, administrator, clerk_a, login,
                                                               django_assert_max_num_queries):
    client = login(administrator)
    seed_events(county, clerk_a, 3)
    client.get(TRAIL)
    with django_assert_max_num_queries(12) as few:
        client.get(TRAIL)
    seed_events(county, clerk_a, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(TRAIL).content.decode()
    assert page.count('data-event="') == 50  # one page


def test_a_case_page_shows_its_history(county, clerk_a, clerk_b, administrator, staff):
    from grid.models import CaseCategory
    from grid.services import cases as svc

    hazard = CaseCategory.objects.get(code="hazard-building")
    with acting_as(clerk_a, address="10.3.3.3"):
        case = svc.case_create(user=clerk_a, title="危房", description="墙体开裂", category=hazard,
                               grid=county.micro_grids[0])
        svc.case_accept(case=case, user=clerk_a, triage="minor")
    url = reverse("grid:case-detail", args=[case.pk])
    page = staff(clerk_a).get(url).content.decode()
    history = page[page.index('id="object-history"'):]
    assert history.count('data-event="') == len(events(case)) >= 2
    assert "township_a" in history and "10.3.3.3" not in history  # addresses are for administrators
    admin_page = staff(administrator).get(url).content.decode()
    assert "10.3.3.3" in admin_page and f"obj=grid.Case%3A{case.pk}" in admin_page
    assert staff(clerk_b).get(url).status_code == 404  # out of scope: no page, no history
