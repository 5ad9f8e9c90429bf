"""The audit trail records every change, step, login, permission change, import and export: who, when,
from where, which object, which fields (old → new), personal data masked — on SQLite by the services'
saves, on PostgreSQL by the database's triggers (bulk writes included)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from governance.audit import Action, record
from governance.audit.context import acting_as
from governance.crypto import digest
from governance.masking import mask_id_number, mask_phone
from governance.models import AuditEvent, Household, Resident, Role
from governance.roles import user_sync_permissions
from governance.services import household_create
from tests.helpers.audit import events, on_postgres
from tests.helpers.markers import requires_postgres
from tests.helpers.people import PASSWORD, make_id_number


def household_form(household, **changes):
    data = {"number": household.number, "address": household.address, "grid": household.grid_id, "is_active": "on",
            "residents-TOTAL_FORMS": "0", "residents-INITIAL_FORMS": "0", "residents-MIN_NUM_FORMS": "0",
            "residents-MAX_NUM_FORMS": "1000"}
    data.update(changes)
    return data


def test_a_change_through_a_form_records_old_and_new_with_the_actor_and_address(county, clerk_a, staff):
    household = county.households[0]
    old = household.number
    response = staff(clerk_a).post(reverse("admin:governance_household_change", args=[household.pk]),
                                   household_form(household, number="H-NEW-1"), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    (event,) = events(household, action=Action.UPDATE)
    assert event.changes["number"] == [old, "H-NEW-1"]
    assert (event.actor_id, event.address) == (clerk_a.pk, "10.1.2.3")
    assert event.actor.startswith("township_a")
    assert event.org_unit_id == household.grid_id  # found again by township
    assert event.source == ("db" if on_postgres() else "app")


def test_a_service_save_is_recorded_as_a_create(county, clerk_a):
    with acting_as(clerk_a, address="10.9.9.9"):
        household = household_create(number="H-SVC", address="幸福路1号", grid=county.grids[0])
    (event,) = events(household, action=Action.CREATE)
    assert (event.actor_id, event.address) == (clerk_a.pk, "10.9.9.9")
    if not on_postgres():  # the application's record of a new row carries its values (the database's names it)
        assert event.changes["number"] == [None, "H-SVC"]
        assert event.changes["address"] == [None, "***"]  # an address is personal data


@requires_postgres
def test_bulk_writes_are_recorded_row_by_row_by_the_database(county, clerk_a):
    grid = county.grids[0]
    with acting_as(clerk_a, address="10.0.0.7"):
        created = Household.objects.bulk_create(
            [Household(number=f"H-BULK-{n}", address="x", grid=grid) for n in range(3)])
        Household.objects.filter(number__startswith="H-BULK-").update(is_active=False)
        Household.objects.filter(number="H-BULK-2").delete()
    for household in created:
        actions = [event.action for event in events(household)]
        assert actions[:2] == ["create", "update"]
    changed = events(created[0], action="update")[0]
    assert changed.changes == {"is_active": [True, False]}  # only the changed column
    assert (changed.actor_id, changed.address, changed.source) == (clerk_a.pk, "10.0.0.7", "db")
    assert events(created[2], action="delete")[0].changes["number"] == ["H-BULK-2", None]
    # A write outside any request or task names the database role.
    Household.objects.filter(pk=created[0].pk).update(is_active=True)
    assert events(created[0], action="update")[-1].actor.startswith("db:")


@requires_postgres
def test_the_migrate_time_function_records_what_the_tables_own_functions_record(county, clerk_a):
    """While a migrate runs, every table's triggers call the generic function (a migration may rename a column
    the generated functions name); after it, the table's own. Both give the same events."""
    from django.db import connection

    from governance.audit import triggers

    def trigger_functions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                           "JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = 'governance_resident' "
                           "AND t.tgname LIKE 'yiwang_audit_%%'")
            return {name for (name,) in cursor.fetchall()}

    def write_and_read(tag):
        resident = county.residents[0]
        phone = f"1390000{tag}"
        with acting_as(clerk_a, address="10.0.0.8"):  # as the import's writer does: the value and its hash
            Resident.objects.filter(pk=resident.pk).update(name=f"改名{tag}", phone=phone,
                                                           phone_hash=digest(phone, "phone"))
            Resident.objects.filter(pk=resident.pk).update(name=f"改名{tag}")  # nothing changed: no event
        (event,) = [e for e in events(resident, action=Action.UPDATE) if f"改名{tag}" in str(e.changes)]
        return event

    assert trigger_functions() == {triggers.function_name("governance_resident")}
    own = write_and_read("0001")
    triggers.install(generic=True)
    try:
        assert trigger_functions() == {triggers.GENERIC}
        generic = write_and_read("0002")
    finally:
        triggers.install()
    assert trigger_functions() == {triggers.function_name("governance_resident")}
    assert set(own.changes) == set(generic.changes) == {"name", "phone_hash"}  # the ciphertext is left out
    assert own.changes["name"][1] == "改名0001" and generic.changes["name"] == ["改名0001", "改名0002"]
    assert own.changes["phone_hash"] == generic.changes["phone_hash"] == ["***", "***"]
    assert (own.actor_id, own.address, own.org_unit_id) == (generic.actor_id, generic.address, generic.org_unit_id)
    assert len(events(county.residents[0], action=Action.UPDATE)) == 2  # the unchanged update gave none


def test_a_workflow_step_is_recorded(county, clerk_a):
    from grid.models import CaseCategory
    from grid.services import cases as svc

    hazard = CaseCategory.objects.get(code="hazard-building")
    with acting_as(clerk_a):
        case = svc.case_create(user=clerk_a, title="危房", description="墙体开裂", category=hazard,
                               grid=county.micro_grids[0])
        svc.case_accept(case=case, user=clerk_a, triage="minor")
    (step,) = events(case, action=Action.STEP)
    assert step.changes == {"state": ["reported", "accepted"]} and step.actor_id == clerk_a.pk


def test_logins_failed_logins_and_logouts_are_recorded(county, clerk_a, client):
    response = client.post(reverse("login"), {"username": "township_a", "password": "wrong"}, REMOTE_ADDR="10.5.5.5")
    assert response.status_code == 200
    failed = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert (failed.actor, failed.address, failed.actor_id) == ("township_a", "10.5.5.5", None)
    assert client.post(reverse("login"), {"username": "township_a", "password": PASSWORD},
                       REMOTE_ADDR="10.5.5.5").status_code == 302
    login = AuditEvent.objects.get(action=Action.LOGIN)
    assert (login.actor_id, login.address) == (clerk_a.pk, "10.5.5.5")
    client.post(reverse("logout"), REMOTE_ADDR="10.5.5.5")
    assert AuditEvent.objects.get(action=Action.LOGOUT).actor_id == clerk_a.pk
    # The login stamp it writes is no change of the user worth an event.
    assert not AuditEvent.objects.filter(action=Action.UPDATE, object_type="governance.User").exists()


def test_permission_changes_are_recorded(county, admin_user, clerk_a):
    with acting_as(admin_user):
        user = get_user_model().objects.get(pk=clerk_a.pk)
        user.role = Role.COUNTY
        user.is_superuser = True
        user.save()
        user_sync_permissions(user)
    granted = events(user, action=Action.PERMISSION)
    assert granted[0].changes == {"role": ["township", "county"], "is_superuser": [False, True]}
    assert granted[0].actor_id == admin_user.pk
    links = [event.changes["user_permissions"] for event in granted[1:]]
    assert any(new and "governance.change_orgunit" in new for _old, new in links)


def test_an_export_is_recorded(county, clerk_a, staff):
    response = staff(clerk_a).get(reverse("grid:worker-list"), {"export": "xlsx", "q": "德"}, REMOTE_ADDR="10.7.7.7")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    (event,) = events(action=Action.EXPORT)
    assert (event.actor_id, event.address) == (clerk_a.pk, "10.7.7.7")
    assert event.detail.startswith("grid_workers") and event.changes["filters"][1]["q"] == "德"


def test_personal_data_never_appears_unmasked(county, village_a, staff):
    resident = Resident.objects.get(pk=county.residents[0].pk)
    old_id, old_phone = resident.id_number, resident.phone
    new_id = make_id_number("513424", "19800101", 7)
    with acting_as(village_a):
        resident.id_number, resident.phone = new_id, "13700001111"
        resident.save()
        Resident.objects.filter(pk=resident.pk).update(phone="13700002222")
        record(Action.PII_VIEW, obj=resident, changes={"id_number": [None, new_id]})
    text = " ".join(str(event.changes) + event.object_repr + event.detail for event in AuditEvent.objects.all())
    for secret in (old_id, old_phone, new_id, "13700001111", "13700002222"):
        assert secret not in text
    (changed,) = events(resident, action=Action.UPDATE)[:1]
    # The application names the field (SQLite); the database's triggers its lookup hash (PostgreSQL).
    phone = changed.changes.get("phone") or changed.changes["phone_hash"]
    id_number = changed.changes.get("id_number") or changed.changes["id_number_hash"]
    assert phone[1] in (mask_phone("13700001111"), "***")
    assert id_number[1] in (mask_id_number(new_id), "***")
    assert resident.name not in changed.object_repr  # a resident is named by kind and id


@pytest.mark.parametrize("action", [Action.LOCKOUT, Action.PII_VIEW])
def test_other_rooms_record_through_the_same_call(county, clerk_a, action):
    event = record(action, user=clerk_a, obj=county.residents[0], detail="why", address="10.0.0.1")
    assert AuditEvent.objects.get(pk=event.pk).action == action
    assert event.object_type == "governance.Resident" and event.actor_id == clerk_a.pk


def test_a_change_through_the_api_with_a_token_names_the_token_user(county, clerk_a, client):
    from rest_framework.authtoken.models import Token

    user_sync_permissions(clerk_a)
    token = Token.objects.create(user=clerk_a)
    household = county.households[0]
    response = client.patch(f"/api/v1/households/{household.pk}/", {"number": "H-API-1"},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}",
                            REMOTE_ADDR="10.4.4.4")
    assert response.status_code == 200, response.content
    (event,) = events(household, action=Action.UPDATE)
    assert event.changes["number"][1] == "H-API-1"
    assert (event.actor_id, event.address) == (clerk_a.pk, "10.4.4.4")
