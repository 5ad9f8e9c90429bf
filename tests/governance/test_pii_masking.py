"""Masked by default in the API, exports and pages; a role granted the full view sees it, and each full view
is audited (Action.PII_VIEW) in the audit trail.
"""

import pytest

from governance.masking import mask_id_number, mask_phone
from governance.models import AuditEvent, ExportLog, Resident
from grid.models import GridWorker
from tests.helpers.api import get
from tests.helpers.excel import cell_values, exported


@pytest.fixture
def audit_log():
    def pii_views():
        return list(AuditEvent.objects.filter(action="pii_view").order_by("id"))

    return pii_views


def names(event, obj) -> bool:
    return (event.object_type, event.object_id) == (obj._meta.label, str(obj.pk))


def test_a_township_clerk_sees_masked_values_in_the_api_and_the_export_and_nothing_is_audited(
        county, clerk_a, login, audit_log):
    resident = county.residents[0]
    row = get(login(clerk_a), f"/api/v1/residents/{resident.pk}/")
    assert (row["id_number"], row["phone"]) == (mask_id_number(resident.id_number), mask_phone(resident.phone))
    assert row["birth_date"] is None
    [line] = exported("residents", Resident.objects.filter(pk=resident.pk), clerk_a)
    assert resident.id_number not in str(line.values()) and mask_id_number(resident.id_number) in line.values()
    assert audit_log() == []


def test_a_role_granted_the_full_view_sees_it_in_the_api_and_each_view_is_audited(
        county, village_a, login, audit_log):
    resident = county.residents[0]
    client = login(village_a)
    row = get(client, f"/api/v1/residents/{resident.pk}/")
    assert (row["id_number"], row["phone"]) == (resident.id_number, resident.phone)
    [view] = audit_log()
    assert names(view, resident) and f"/api/v1/residents/{resident.pk}/" in view.detail
    assert view.actor_id == village_a.pk and resident.id_number not in str(view.changes)
    # A list is one view (one record), whatever its length.
    get(client, "/api/v1/residents/")
    assert len(audit_log()) == 2 and "API ResidentSerializer" in audit_log()[1].detail


def test_the_full_view_of_a_page_and_of_an_export_is_audited(county, village_a, login, audit_log):
    client = login(village_a)
    worker = GridWorker.objects.filter(unit=county.grids[0]).first()
    page = client.get(f"/grid/workers/{worker.pk}/")
    assert page.status_code == 200 and worker.id_number in page.content.decode()
    assert any(names(event, worker) and "id_number phone" in event.detail for event in audit_log())
    response = client.get("/grid/workers/", {"export": "xlsx"})
    assert response.status_code == 200
    assert worker.id_number in {value for row in cell_values(response.content) for value in row}
    assert any("export grid_workers" in event.detail for event in audit_log())
    assert ExportLog.objects.filter(user=village_a, unmasked=True, kind="grid_workers").exists()


def test_a_masked_page_records_no_full_view(county, clerk_a, login, audit_log):
    page = login(clerk_a).get("/org/residents/")
    assert page.status_code == 200
    assert county.residents[0].id_number not in page.content.decode()
    assert audit_log() == []
