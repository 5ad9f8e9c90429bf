"""An administrator imports a residents file through the admin: busy indicator, preview, confirm."""

import datetime
import io

import openpyxl
import pytest

from governance.models import Resident
from governance.rosters import get_spec
from tests.helpers.browser import log_in
from tests.helpers.people import make_id_number

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect


def residents_workbook(county, count: int) -> bytes:
    spec = get_spec("residents")
    names = ["name", "id_number", "household", "phone", "relation"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([str(spec.column(name).header) for name in names])
    for i in range(count):
        birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=i // 400)
        sheet.append([f"导入{i}", make_id_number("513424", birth.strftime("%Y%m%d"), i % 400 + 1),
                      county.households[i % 2].number, f"137{i:08d}", "child"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_admin_imports_residents_with_a_preview_and_sees_it_working(page, shoot, county, admin_user):
    before = Resident.objects.count()
    content = residents_workbook(county, 1200)
    log_in(page, admin_user.username)
    page.goto("/admin/governance/resident/roster/import/")
    upload = {"name": "居民.xlsx", "mimeType": "application/octet-stream", "buffer": content}

    # The indicator appears on submit and a second click sends nothing (the submission is
    # held back here so that the page stays to be looked at).
    page.evaluate("window.addEventListener('submit', (event) => event.preventDefault(), {once: true})")
    page.set_input_files("#roster-upload-form input[type=file]", upload)
    page.click("#roster-upload-form [type=submit]")
    busy = page.locator("#roster-upload-form .roster-busy")
    expect(busy).to_be_visible()
    expect(busy).to_contain_text("正在读取并检查每一行")
    expect(page.locator("#roster-upload-form [type=submit]")).to_be_disabled()
    shoot("30-admin-import-busy")

    page.goto("/admin/governance/resident/roster/import/")
    page.set_input_files("#roster-upload-form input[type=file]", upload)
    page.click("#roster-upload-form [type=submit]")
    expect(page.locator("#roster-counts")).to_contain_text("1200")
    assert Resident.objects.count() == before  # a preview writes nothing
    shoot("31-admin-import-preview")

    page.click("#roster-confirm-form [type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("1200")
    assert Resident.objects.count() == before + 1200
    # The list opens on the rows just written: 1,200 of them, none of the residents before.
    assert "imported=" in page.url
    expect(page.locator("#changelist .paginator")).to_contain_text("1200")
    expect(page.locator("#result_list")).to_contain_text("导入")
    shoot("32-admin-import-written-rows")


def test_an_import_with_errors_names_the_rows_and_shows_the_values(page, shoot, county, admin_user):
    content = residents_workbook(county, 5)
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.active["D4"] = "12345"  # 导入2's phone
    buffer = io.BytesIO()
    book.save(buffer)
    log_in(page, admin_user.username)
    page.goto("/admin/governance/resident/roster/import/")
    page.set_input_files("#roster-upload-form input[type=file]",
                         {"name": "居民.xlsx", "mimeType": "application/octet-stream", "buffer": buffer.getvalue()})
    page.click("#roster-upload-form [type=submit]")
    row = page.locator("#roster-errors tbody tr").first
    expect(row.locator(".error-row")).to_have_text("4")
    expect(row.locator(".error-name")).to_have_text("导入2")
    expect(row.locator(".error-value")).to_have_text("12345")
    shoot("33-admin-import-errors")
