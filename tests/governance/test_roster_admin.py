"""Roster import/export in the admin: buttons, template, preview then confirm, errors, permissions, export."""

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.models import ExportLog, Household, Resident
from governance.rosters.admin import SESSION_KEY
from tests.helpers.excel import RESIDENT_COLUMNS, headers, nth_id_number, resident_rows, xlsx


def roster_url(model, action, app="governance"):
    return reverse(f"admin:{app}_{model}_roster_{action}")


def upload(content: bytes, name="residents.xlsx"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_changelists_offer_the_roster_buttons_and_keep_their_own(county, admin_user, staff):
    client = staff(admin_user)
    page = client.get(reverse("admin:governance_resident_changelist")).content.decode()
    for action in ("template", "import", "export"):
        assert roster_url("resident", action) in page
    page = client.get(reverse("admin:governance_orgunit_changelist")).content.decode()
    assert roster_url("orgunit", "import") in page
    assert reverse("admin:governance_orgunit_import_divisions") in page  # the division import stays


def test_the_template_is_an_excel_file_with_instructions(county, admin_user, staff):
    response = staff(admin_user).get(roster_url("household", "template"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="households-template.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 2
    assert [cell.value for cell in workbook.worksheets[0][1]] == headers("households")


def test_preview_then_confirm(county, admin_user, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = staff(admin_user)
    content = xlsx(headers("residents", RESIDENT_COLUMNS), resident_rows(county, 30))
    before = Resident.objects.count()
    response = client.post(roster_url("resident", "import"), {"file": upload(content)})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.new, report.changed, report.unchanged, report.error_rows) == (30, 0, 0, 0)
    assert len(report.samples) == 30
    token = response.context["token"]
    assert Resident.objects.count() == before  # nothing written by the preview
    kept = list((tmp_path / "imports").iterdir())
    assert len(kept) == 1 and token in kept[0].name and token in client.session[SESSION_KEY]

    response = client.post(roster_url("resident", "import"), {"token": token})
    assert response.status_code == 302 and response.url == reverse("admin:governance_resident_changelist")
    assert Resident.objects.count() == before + 30
    assert not list((tmp_path / "imports").iterdir())
    assert token not in client.session[SESSION_KEY]
    # The token is used up: a second confirm imports nothing more.
    response = client.post(roster_url("resident", "import"), {"token": token})
    assert response.status_code == 302 and Resident.objects.count() == before + 30


def test_a_file_with_an_error_shows_the_error_table_and_writes_nothing(county, admin_user, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rows = resident_rows(county, 10)
    rows[4][4] = "邻居"
    content = xlsx(headers("residents", RESIDENT_COLUMNS), rows)
    response = staff(admin_user).post(roster_url("resident", "import"), {"file": upload(content)})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="roster-errors"' in page and "邻居" in page
    assert "token" not in response.context and 'id="roster-confirm-form"' not in page
    errors = response.context["report"].errors
    assert [(error.row, error.column) for error in errors] == [(6, headers("residents", ["relation"])[0])]
    assert not Resident.objects.filter(id_number=nth_id_number(0)).exists()
    assert not list((tmp_path / "imports").iterdir())


def test_a_user_without_add_permission_cannot_import(county, village_a, staff):
    client = staff(village_a)  # org units: view only
    assert client.get(roster_url("orgunit", "import")).status_code == 403
    page = client.get(reverse("admin:governance_orgunit_changelist")).content.decode()
    assert roster_url("orgunit", "import") not in page
    assert roster_url("orgunit", "export") in page  # viewing allows exporting


def test_export_follows_the_changelist_search_and_scope(county, other_county, clerk_a, staff):
    client = staff(clerk_a)
    response = client.get(roster_url("household", "export"))
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [county.households[0].number]

    Household.objects.create(number="XYZ-1", address="一组", grid=county.micro_grids[0])
    response = client.get(roster_url("household", "export") + "?q=XYZ")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["XYZ-1"]
    log = ExportLog.objects.filter(user=clerk_a).first()
    assert (log.kind, log.rows, log.filters) == ("households", 1, {"q": "XYZ"})


def test_export_selected_action(county, admin_user, staff):
    client = staff(admin_user)
    chosen = county.households[1]
    response = client.post(
        reverse("admin:governance_household_changelist"),
        {"action": "export_roster_selected", "_selected_action": [chosen.pk]},
    )
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [chosen.number]


def test_the_preview_lists_every_error_of_every_row_in_one_pass(county, admin_user, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rows = resident_rows(county, 6)
    rows[1] = ["", rows[1][1], "NO-SUCH-HOUSEHOLD", "12345", "邻居"]  # four mistakes in row 3
    rows[4][4] = "邻居"
    content = xlsx(headers("residents", RESIDENT_COLUMNS), rows)
    response = staff(admin_user).post(roster_url("resident", "import"), {"file": upload(content)})
    found = [(error.row, error.column) for error in response.context["report"].errors]
    name, household, phone, relation = headers("residents", ["name", "household", "phone", "relation"])
    assert found == [(3, name), (3, household), (3, phone), (3, relation), (6, relation)]
    page = response.content.decode()
    assert page.count("NO-SUCH-HOUSEHOLD") == 1 and "12345" in page
