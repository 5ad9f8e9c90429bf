"""A hostile workbook never holds a worker: zip bombs, damaged and false files are refused with a message.

Every file goes through the real upload path, the admin's roster import, as a township clerk
(who may import residents), and every refusal is timed from the upload to the answer.
"""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.models import Resident
from governance.rosters.archive import ArchiveRefused, check_archive
from governance.rosters.xlsx import XLSX_CONTENT_TYPE
from tests.helpers import zipbombs
from tests.helpers.excel import RESIDENT_COLUMNS, headers, resident_rows, xlsx

IMPORT_URL = "admin:governance_resident_roster_import"
SHEET_ROW = '<row><c t="s"><v>0</v></c><c t="inlineStr"><is><t>张三</t></is></c></row>'
BOMBS = {
    # A part that declares its gigabyte: refused before a byte is inflated.
    "shared strings, 1 GB": lambda: zipbombs.bomb("xl/sharedStrings.xml", "<si><t>张三</t></si>"),
    "styles, 1 GB": lambda: zipbombs.bomb("xl/styles.xml", '<xf numFmtId="14" fontId="0" applyNumberFormat="1"/>'),
    "sheet, 1 GB": lambda: zipbombs.bomb("xl/worksheets/sheet1.xml", SHEET_ROW),
    # Under the expanded limit, but inflating 1000 times: refused by the ratio after the first megabyte.
    "shared strings, 200 MB": lambda: zipbombs.bomb("xl/sharedStrings.xml", "<si><t>张三</t></si>", size=200 * 2**20),
    "styles, 200 MB": lambda: zipbombs.bomb("xl/styles.xml", '<xf numFmtId="0"/>', size=200 * 2**20),
    "sheet, 200 MB": lambda: zipbombs.bomb("xl/worksheets/sheet1.xml", SHEET_ROW, size=200 * 2**20),
    # A header that says 5 kB for a gigabyte: refused once the part inflates past what it declared.
    "sheet whose header lies": lambda: zipbombs.bomb("xl/worksheets/sheet1.xml", SHEET_ROW, declared=5000),
    "shared strings whose header lies": lambda: zipbombs.bomb(
        "xl/sharedStrings.xml", "<si><t>张三</t></si>", declared=5000
    ),
    "20,000 parts": lambda: zipbombs.many_parts(20_000),
}
REASONS = {
    "shared strings, 1 GB": "256 MB",
    "styles, 1 GB": "256 MB",
    "sheet, 1 GB": "256 MB",
    "shared strings, 200 MB": "100",
    "styles, 200 MB": "100",
    "sheet, 200 MB": "100",
    "sheet whose header lies": "xl/worksheets/sheet1.xml",
    "shared strings whose header lies": "xl/sharedStrings.xml",
    "20,000 parts": "1000",
}


def upload(content: bytes, name="residents.xlsx"):
    return SimpleUploadedFile(name, content, content_type=XLSX_CONTENT_TYPE)


def post_import(client, content: bytes, name="residents.xlsx"):
    """(response, seconds from the upload to the answer)."""
    started = time.perf_counter()
    response = client.post(reverse(IMPORT_URL), {"file": upload(content, name)})
    return response, time.perf_counter() - started


def file_errors(response) -> list[str]:
    assert response.status_code == 200
    report = response.context["report"]
    assert not report.written and "token" not in response.context
    return [error.message for error in report.errors]


@pytest.fixture
def clerk(county, clerk_a, staff, settings, tmp_path):
    """Township A's clerk, on the import page (as he is before he uploads: the page's first rendering,
    which compiles its templates, is not counted in the refusal's time)."""
    settings.MEDIA_ROOT = tmp_path
    client = staff(clerk_a)
    assert client.get(reverse(IMPORT_URL)).status_code == 200
    return client


def own_rows(county, count: int) -> list[list]:
    """New residents of township A's first household (the clerk's scope)."""
    rows = resident_rows(county, count)
    for row in rows:
        row[2] = county.households[0].number
    return rows


@pytest.mark.parametrize("kind", list(BOMBS))
def test_a_zip_bomb_is_refused_in_under_a_second_and_nothing_is_kept(kind, clerk, tmp_path):
    content = BOMBS[kind]()
    assert len(content) < 4 * 2**20  # a small upload: the danger is what it inflates to
    before = Resident.objects.count()
    response, seconds = post_import(clerk, content)
    assert seconds < 1.0, f"{kind}: refused after {seconds:.2f} s"
    [message] = file_errors(response)
    assert message.startswith("工作簿在读取前被拒绝") and REASONS[kind] in message, message
    assert message in response.content.decode()
    assert Resident.objects.count() == before
    assert not list((tmp_path / "imports").iterdir())  # the upload is not kept for a confirm


def test_the_bombs_are_what_they_claim(settings):
    """Guard against a test that passes for the wrong reason: the 200 MB parts really inflate past the
    ratio (with the ratio lifted they are refused for their size instead), and the lying header is
    only refused when the part really outgrows it."""
    settings.XLSX_MAX_RATIO = 10_000
    settings.XLSX_MAX_EXPANDED_BYTES = 100 * 2**20
    with pytest.raises(ArchiveRefused, match="100 MB"):
        check_archive(BOMBS["sheet, 200 MB"]())
    settings.XLSX_MAX_EXPANDED_BYTES = 300 * 2**20
    check_archive(BOMBS["sheet, 200 MB"]())  # within both limits: it passes, all 200 MB inflated and counted
    honest = zipbombs.bomb("xl/worksheets/sheet1.xml", SHEET_ROW, size=20 * 2**20)
    check_archive(honest)
    settings.XLSX_MAX_MEMBERS = 20_010
    check_archive(BOMBS["20,000 parts"]())


def test_the_expanded_limit_holds_for_data_that_compresses_little(clerk, settings, county):
    """A file under the ratio is still refused once all its parts together inflate past the limit."""
    content = xlsx(headers("residents", RESIDENT_COLUMNS), resident_rows(county, 400))
    settings.XLSX_MAX_EXPANDED_BYTES = 40_000
    [message] = file_errors(post_import(clerk, content)[0])
    assert "0 MB" in message and message.startswith("工作簿在读取前被拒绝")


def test_a_normal_roster_still_imports(clerk, county):
    rows = own_rows(county, 20)
    content = xlsx(headers("residents", RESIDENT_COLUMNS), rows)
    response, _ = post_import(clerk, content)
    report = response.context["report"]
    assert report.errors == [] and report.new == 20
    response = clerk.post(reverse(IMPORT_URL), {"token": response.context["token"]})
    assert response.status_code == 302
    assert Resident.objects.filter(id_number__in=[row[1] for row in rows]).count() == 20


def test_the_small_workbook_the_bombs_are_made_of_imports_its_header(clerk):
    """The bombs differ from a readable workbook only by their one inflated part."""
    response, _ = post_import(clerk, zipbombs.workbook())
    messages = file_errors(response)
    assert response.context["report"].headers == ["姓名"]  # read: its one column, the others missing
    assert messages and not any("工作簿" in message for message in messages), messages


def test_a_password_protected_workbook_is_told_so(clerk):
    [message] = file_errors(post_import(clerk, zipbombs.workbook(encrypted=True))[0])
    assert "密码" in message


@pytest.mark.parametrize(
    "content, expected",
    [
        # A photo named .xlsx.
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "既不是 Excel 工作簿"),
        # Random bytes behind a ZIP signature.
        (b"PK\x03\x04" + bytes(range(7, 256)) * 40, "不是可读取的 Excel 工作簿"),
    ],
    ids=["a photo", "noise behind a zip signature"],
)
def test_a_file_that_is_no_workbook_gets_a_clear_error(clerk, content, expected):
    [message] = file_errors(post_import(clerk, content)[0])
    assert expected in message


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.99])
def test_a_truncated_workbook_gets_a_clear_error(clerk, county, keep):
    content = xlsx(headers("residents", RESIDENT_COLUMNS), resident_rows(county, 200))
    [message] = file_errors(post_import(clerk, content[: int(len(content) * keep)])[0])
    assert "不是可读取的 Excel 工作簿" in message


def test_a_part_with_flipped_bytes_gets_a_clear_error(clerk, county):
    content = bytearray(xlsx(headers("residents", RESIDENT_COLUMNS), resident_rows(county, 200)))
    middle = len(content) // 3
    content[middle : middle + 64] = bytes(64)
    [message] = file_errors(post_import(clerk, bytes(content))[0])
    assert "不是可读取的 Excel 工作簿" in message or "工作簿在读取前被拒绝" in message
