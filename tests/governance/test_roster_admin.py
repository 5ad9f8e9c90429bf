"""Roster import/export in the admin: buttons, template, preview then confirm, errors, permissions, export."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.models import ExportLog, Household, Resident
from governance.rosters.admin import SESSION_KEY
from tests.helpers.admin import listed
from tests.helpers.excel import RESIDENT_COLUMNS, headers, nth_id_number, resident_rows, xlsx

# The admin's rules for every role, as an operator who names them in ADMIN_ROLES meets them.
pytestmark = pytest.mark.usefixtures("admin_for_every_role")


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
    changelist = reverse("admin:governance_resident_changelist")
    assert response.status_code == 302 and response.url.startswith(changelist + "?imported=")
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
    # Said once (its message), and shown once as the value read.
    assert page.count("NO-SUCH-HOUSEHOLD") == 2 and "12345" in page


def test_each_error_shows_the_value_read_and_the_rows_name(county, admin_user, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rows = resident_rows(county, 6)
    rows[2][3] = "12345"  # a phone number too short, in the row of 居民2
    rows[4][4] = "邻居"  # no such relation, in the row of 居民4
    content = xlsx(headers("residents", RESIDENT_COLUMNS), rows)
    response = staff(admin_user).post(roster_url("resident", "import"), {"file": upload(content)})
    report = response.context["report"]
    name, phone, relation = headers("residents", ["name", "phone", "relation"])
    assert [(e.row, e.name, e.column, e.value) for e in report.errors] == [
        (4, "居民2", phone, "12345"), (6, "居民4", relation, "邻居")]
    assert report.name_header == name
    page = response.content.decode()
    table = page[page.index('id="roster-errors"'):page.index("</table>", page.index('id="roster-errors"'))]
    assert f"<th scope=\"col\">{name}</th>" in table
    for cells in (("4", "居民2", phone, "<code>12345</code>"), ("6", "居民4", relation, "<code>邻居</code>")):
        row = table[table.index(f'<td class="error-row">{cells[0]}</td>'):]
        row = row[:row.index("</tr>")]
        for cell in cells[1:]:
            assert cell in row, (cell, row)
    # The command line's report says the same.
    assert "居民2" in str(report) and "12345" in str(report)


def test_after_an_import_the_list_shows_the_rows_just_written(county, admin_user, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = staff(admin_user)
    changelist = reverse("admin:governance_resident_changelist")
    first = client.post(roster_url("resident", "import"),
                        {"file": upload(xlsx(headers("residents", RESIDENT_COLUMNS), resident_rows(county, 5)))})
    client.post(roster_url("resident", "import"), {"token": first.context["token"]})
    # A second file: two rows of the first unchanged, one changed, three new.
    rows = resident_rows(county, 8)[2:]
    rows[1][3] = "13700000000"  # 居民3's phone
    preview = client.post(roster_url("resident", "import"),
                          {"file": upload(xlsx(headers("residents", RESIDENT_COLUMNS), rows))})
    report = preview.context["report"]
    assert (report.new, report.changed, report.unchanged) == (3, 1, 2)
    response = client.post(roster_url("resident", "import"), {"token": preview.context["token"]})
    assert response.status_code == 302 and response.url.startswith(changelist + "?imported=")
    shown = listed(client.get(response.url))
    assert sorted(resident.name for resident in shown) == ["居民3", "居民5", "居民6", "居民7"]
    # The whole list is still a click away, and the filter offers both imports.
    assert len(listed(client.get(changelist))) > 4
    page = client.get(response.url).content.decode()
    assert page.count("?imported=") >= 2


def test_the_rows_just_written_are_this_sessions_own(county, admin_user, clerk_a, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = staff(admin_user)
    preview = client.post(roster_url("resident", "import"),
                          {"file": upload(xlsx(headers("residents", RESIDENT_COLUMNS), resident_rows(county, 3)))})
    url = client.post(roster_url("resident", "import"), {"token": preview.context["token"]}).url
    assert len(listed(client.get(url))) == 3
    # Another user's session does not know the token: the list is empty, not everything.
    assert listed(staff(clerk_a).get(url)) == []
