"""Onboarding a county from the official statistical division code list (import_divisions).

The files under tests/data/ are shaped like the National Bureau of Statistics' list: a
province-wide file (四川省, 凉山彝族自治州, two counties: 会理市 and 德昌县), the same county in
short 6/9/12-digit codes, and a file with one mistake of each kind.
"""

import io
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import translation

from governance.admin import admin_import_view
from governance.divisions import divisions_import, infer_kind
from governance.models import Kind, Level, OrgUnit, Role, User
from governance.services import orgunit_create
from tests.helpers.audit import events, imports, on_postgres

DATA = Path(__file__).resolve().parent.parent / "data"
PROVINCE = DATA / "divisions_province.csv"
SHORT = DATA / "divisions_short.csv"
BAD = DATA / "divisions_bad.csv"
DECHANG = "513424000000"
ADMIN_PATH = "/admin/governance/orgunit/import-divisions/"

DECHANG_UNITS = {
    # code: (name, level, kind, short_name, parent code)
    "513424000000": ("德昌县", Level.COUNTY, Kind.COUNTY, "", None),
    "513424001000": ("德州街道", Level.TOWNSHIP, Kind.SUBDISTRICT, "", "513424000000"),
    "513424001001": ("南街社区居民委员会", Level.VILLAGE, Kind.COMMUNITY, "南街社区", "513424001000"),
    "513424001002": ("角半居委会", Level.VILLAGE, Kind.COMMUNITY, "角半社区", "513424001000"),
    "513424001201": ("城关村村民委员会", Level.VILLAGE, Kind.VILLAGE, "城关村", "513424001000"),
    "513424102000": ("麻栗镇", Level.TOWNSHIP, Kind.TOWN, "", "513424000000"),
    "513424102201": ("麻栗村民委员会", Level.VILLAGE, Kind.VILLAGE, "麻栗村", "513424102000"),
    "513424102202": ("老熊沟村委会", Level.VILLAGE, Kind.VILLAGE, "老熊沟村", "513424102000"),
    "513424205000": ("金沙傈僳族乡", Level.TOWNSHIP, Kind.TOWNSHIP, "", "513424000000"),
    "513424205201": ("金沙村", Level.VILLAGE, Kind.VILLAGE, "", "513424205000"),
    "513424205202": ("乐跃社区", Level.VILLAGE, Kind.COMMUNITY, "", "513424205000"),
}


@pytest.fixture(autouse=True)
def english():
    # Assertions below read English messages; the zh_Hans catalogue must not change them.
    with translation.override("en"):
        yield


def assert_tree_valid():
    """Every node nests inside its parent's lft/rght range, one tree id per root."""
    units = {unit.pk: unit for unit in OrgUnit.objects.all()}
    roots = [unit for unit in units.values() if unit.parent_id is None]
    assert len({root.tree_id for root in roots}) == len(roots)
    for unit in units.values():
        assert unit.lft < unit.rght, unit.code
        if unit.parent_id is None:
            assert (unit.lft, unit.mptt_level) == (1, 0), unit.code
            continue
        parent = units[unit.parent_id]
        assert unit.tree_id == parent.tree_id, unit.code
        assert parent.lft < unit.lft < unit.rght < parent.rght, unit.code
        assert unit.mptt_level == parent.mptt_level + 1, unit.code
    for unit in units.values():
        size = sum(1 for other in units.values() if other.tree_id == unit.tree_id and unit.lft < other.lft < unit.rght)
        assert unit.rght - unit.lft == 2 * size + 1, unit.code


def assert_dechang_imported():
    units = {unit.code: unit for unit in OrgUnit.objects.filter(code__startswith="513424", code__regex=r"^\d{12}$")}
    for code, (name, level, kind, short_name, parent_code) in DECHANG_UNITS.items():
        unit = units[code]
        assert (unit.name, unit.level, unit.kind, unit.short_name) == (name, level, kind, short_name), code
        assert (unit.parent.code if unit.parent else None) == parent_code, code


def import_command(path, *args):
    out = io.StringIO()
    call_command("import_divisions", str(path), *args, stdout=out)
    return out.getvalue()


# --- The command ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_one_county_of_a_province_file():
    output = import_command(PROVINCE, "--county", "513424")

    assert OrgUnit.objects.count() == len(DECHANG_UNITS)
    assert not OrgUnit.objects.filter(code__startswith="513402").exists()
    assert_dechang_imported()
    assert_tree_valid()
    assert "Import finished." in output
    assert "Rows of other counties skipped: 6" in output


@pytest.mark.django_db
def test_the_report_counts_rows_per_level():
    report = divisions_import(file=PROVINCE, county="513424000000")

    assert report.written and not report.rejected
    counts = {level: (c.created, c.updated, c.unchanged) for level, c in report.counts.items()}
    assert counts == {Level.COUNTY: (1, 0, 0), Level.TOWNSHIP: (3, 0, 0), Level.VILLAGE: (7, 0, 0)}
    assert report.ignored == 2  # 四川省 and 凉山彝族自治州
    assert report.outside == 6  # 会理市 and its units
    assert report.rows_read == 19


@pytest.mark.django_db
def test_a_second_import_duplicates_nothing_and_updates_changed_names(tmp_path):
    import_command(PROVINCE, "--county", "513424")
    before = dict(OrgUnit.objects.values_list("code", "pk"))

    again = divisions_import(file=PROVINCE, county="513424")
    assert {level: c.unchanged for level, c in again.counts.items()} == {
        Level.COUNTY: 1,
        Level.TOWNSHIP: 3,
        Level.VILLAGE: 7,
    }
    assert sum(c.created + c.updated for c in again.counts.values()) == 0

    changed = tmp_path / "changed.csv"
    text = PROVINCE.read_text(encoding="utf-8")
    changed.write_text(
        text.replace("麻栗村民委员会", "麻栗村村民委员会").replace("乐跃社区", "乐跃村村民委员会"), encoding="utf-8"
    )
    output = import_command(changed, "--county", "513424000000")

    assert dict(OrgUnit.objects.values_list("code", "pk")) == before
    mali = OrgUnit.objects.get(code="513424102201")
    assert (mali.name, mali.short_name) == ("麻栗村村民委员会", "麻栗村")
    leyue = OrgUnit.objects.get(code="513424205202")
    assert (leyue.name, leyue.kind, leyue.short_name) == ("乐跃村村民委员会", Kind.VILLAGE, "乐跃村")
    assert imports("divisions")[-1].changes["rows"][1] >= 2  # the two renamed units at least
    if on_postgres():  # bulk_update: recorded by the database's triggers
        (changed,) = events(mali, action="update")
        assert changed.changes["name"] == ["麻栗村民委员会", "麻栗村村民委员会"]
    assert "Import finished." in output
    assert_tree_valid()


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_rows(tmp_path, django_assert_max_num_queries):
    divisions_import(file=PROVINCE)
    renamed = tmp_path / "renamed.csv"
    text = PROVINCE.read_text(encoding="utf-8")
    renamed.write_text(text.replace("村民委员会", "村委会").replace("居民委员会", "居委会"), encoding="utf-8")

    with django_assert_max_num_queries(12):
        report = divisions_import(file=renamed)

    assert report.written and report.counts[Level.VILLAGE].updated == 6


@pytest.mark.django_db
def test_a_whole_province_file_imports_both_counties():
    report = divisions_import(file=PROVINCE)

    assert not report.rejected
    assert OrgUnit.objects.filter(level=Level.COUNTY).count() == 2
    huili = OrgUnit.objects.get(code="513402000000")
    assert huili.kind == Kind.COUNTY_CITY and huili.is_root_node()
    assert OrgUnit.objects.get(code="513402001001").short_name == "北关社区"
    assert OrgUnit.objects.count() == len(DECHANG_UNITS) + 6
    assert_tree_valid()


@pytest.mark.django_db
def test_a_malformed_file_is_reported_row_by_row_and_nothing_is_written():
    with pytest.raises(CommandError, match="6 rows rejected"):
        out = io.StringIO()
        try:
            call_command("import_divisions", str(BAD), stdout=out)
        finally:
            output = out.getvalue()

    assert OrgUnit.objects.count() == 0
    assert "Row 4 [code, 51342400100X]: Code must contain digits only." in output
    report = divisions_import(file=BAD)
    problems = {(item.row, item.column): item.message for item in report.rejected}
    assert problems == {
        (4, "code"): "Code must contain digits only.",
        (5, "code"): "Code must have 2, 4, 6, 9 or 12 digits.",
        (6, "code"): "Parent unit 513424102000 is neither in the file nor in the database.",
        (7, "code"): "Code 513424001000 already appears on row 3.",
        (8, "name"): "Name is empty.",
        (9, "name"): problems[(9, "name")],
    }
    assert problems[(9, "name")].startswith("Cannot tell village from community")
    assert report.rejected_row_count == 6 and not report.written
    assert OrgUnit.objects.count() == 0


@pytest.mark.django_db
def test_padded_and_short_codes_import_the_same_units():
    short = divisions_import(file=SHORT)
    assert not short.rejected and short.ignored == 2
    assert_dechang_imported()

    padded = divisions_import(file=PROVINCE, county="513424")
    assert sum(c.unchanged for c in padded.counts.values()) == len(DECHANG_UNITS)
    assert OrgUnit.objects.count() == len(DECHANG_UNITS)
    assert_tree_valid()


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_gb18030_and_bom_files_import(tmp_path, encoding):
    path = tmp_path / f"divisions-{encoding}.csv"
    path.write_bytes(PROVINCE.read_text(encoding="utf-8").encode(encoding))

    import_command(path, "--county", "513424")

    assert_dechang_imported()
    assert_tree_valid()


@pytest.mark.django_db
def test_a_file_that_is_not_text_is_rejected_whole():
    report = divisions_import(file=b"code,name\n513424,\xff\xfe\xff\n")

    assert [(item.row, item.message) for item in report.rejected] == [
        (0, "The file is neither UTF-8 nor GB18030 text.")
    ]


@pytest.mark.django_db
def test_a_header_without_a_code_column_is_rejected():
    report = divisions_import(file="区划,名称\n513424,德昌县\n".encode())

    assert report.rejected[0].row == 1
    assert "no code column" in report.rejected[0].message


@pytest.mark.django_db
def test_a_dry_run_writes_nothing_but_reports_the_same():
    output = import_command(PROVINCE, "--county", "513424", "--dry-run")

    assert OrgUnit.objects.count() == 0
    assert "Preview only: nothing was written." in output
    report = divisions_import(file=PROVINCE, county="513424", dry_run=True)
    assert {level: c.created for level, c in report.counts.items()} == {
        Level.COUNTY: 1,
        Level.TOWNSHIP: 3,
        Level.VILLAGE: 7,
    }
    assert OrgUnit.objects.count() == 0


@pytest.mark.django_db
def test_a_county_code_that_is_not_a_county_is_refused():
    with pytest.raises(CommandError, match="not a county code"):
        import_command(PROVINCE, "--county", "513400")
    with pytest.raises(ValidationError):
        divisions_import(file=PROVINCE, county="51342")


@pytest.mark.django_db
def test_a_county_hangs_under_its_city_when_the_city_exists():
    city = orgunit_create(code="513400000000", name="凉山彝族自治州", level=Level.CITY, kind=Kind.CITY)

    divisions_import(file=PROVINCE, county="513424")

    assert OrgUnit.objects.get(code=DECHANG).parent == city
    assert_tree_valid()


def test_the_tree_is_numbered_as_django_mptt_would(county, other_county):
    orgunit_create(code="513400000000", name="凉山彝族自治州", level=Level.CITY, kind=Kind.CITY)
    orgunit_create(code="511100000000", name="乐山市", level=Level.CITY, kind=Kind.CITY)

    divisions_import(file=PROVINCE)

    fields = ("pk", "lft", "rght", "tree_id", "mptt_level")
    ours = set(OrgUnit.objects.values_list(*fields))
    OrgUnit.objects.rebuild()
    assert set(OrgUnit.objects.values_list(*fields)) == ours
    assert_tree_valid()


def test_it_infers_kinds_and_short_names():
    assert infer_kind(Level.COUNTY, "西昌市") == (Kind.COUNTY_CITY, "")
    assert infer_kind(Level.COUNTY, "东城区") == (Kind.DISTRICT, "")
    assert infer_kind(Level.COUNTY, "木里藏族自治县") == (Kind.COUNTY, "")
    assert infer_kind(Level.TOWNSHIP, "东华门街道办事处") == (Kind.SUBDISTRICT, "东华门街道")
    assert infer_kind(Level.TOWNSHIP, "麻栗镇") == (Kind.TOWN, "")
    assert infer_kind(Level.TOWNSHIP, "金沙傈僳族乡") == (Kind.TOWNSHIP, "")
    assert infer_kind(Level.TOWNSHIP, "德州工业园区") == (None, "")
    assert infer_kind(Level.VILLAGE, "红星村民委员会") == (Kind.VILLAGE, "红星村")
    assert infer_kind(Level.VILLAGE, "城关村村民委员会") == (Kind.VILLAGE, "城关村")
    assert infer_kind(Level.VILLAGE, "老熊沟村委会") == (Kind.VILLAGE, "老熊沟村")
    assert infer_kind(Level.VILLAGE, "南街社区居民委员会") == (Kind.COMMUNITY, "南街社区")
    assert infer_kind(Level.VILLAGE, "多福巷社区居委会") == (Kind.COMMUNITY, "多福巷社区")
    assert infer_kind(Level.VILLAGE, "角半居委会") == (Kind.COMMUNITY, "角半社区")
    assert infer_kind(Level.VILLAGE, "乐跃社区") == (Kind.COMMUNITY, "")


@pytest.mark.django_db
def test_it_adds_to_an_existing_county_and_keeps_its_units(county):
    before = set(OrgUnit.objects.values_list("code", flat=True))

    report = divisions_import(file=PROVINCE, county="513424")

    assert report.counts[Level.COUNTY].unchanged == 1
    assert set(OrgUnit.objects.values_list("code", flat=True)) >= before
    assert OrgUnit.objects.get(code="513424205201").get_ancestors().first() == county.county
    assert county.micro_grids[0].households.count() == 1
    assert_tree_valid()


# --- The admin upload ----------------------------------------------------------------------


def _model_admin():
    return admin.site._registry.get(OrgUnit) or admin.ModelAdmin(OrgUnit, admin.site)


def _upload(path=PROVINCE, **data):
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    return {"file": upload, **data}


def _call_view(user, data=None):
    factory = RequestFactory()
    request = factory.post(ADMIN_PATH, data) if data is not None else factory.get(ADMIN_PATH)
    request.user = user
    response = admin_import_view(_model_admin(), request)
    response.render()
    return response


def test_the_admin_upload_imports_and_shows_the_report(admin_user):
    response = _call_view(admin_user, _upload(county="513424"))

    assert response.status_code == 200
    assert response.context_data["report"].written
    page = response.content.decode()
    assert 'id="import-counts"' in page and "Import finished." in page
    assert_dechang_imported()
    assert_tree_valid()


def test_the_admin_form_shows_on_get(admin_user):
    response = _call_view(admin_user)

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_the_admin_preview_writes_nothing(admin_user):
    before = OrgUnit.objects.count()

    response = _call_view(admin_user, _upload(county="513424", preview="on"))

    assert response.context_data["report"].dry_run
    assert "Preview only" in response.content.decode()
    assert OrgUnit.objects.count() == before


def test_the_admin_upload_lists_rejected_rows(admin_user):
    before = OrgUnit.objects.count()

    response = _call_view(admin_user, _upload(BAD))

    page = response.content.decode()
    assert 'id="import-rejected"' in page and "51342400100X" in page
    assert OrgUnit.objects.count() == before


def test_a_non_admin_role_is_refused(county_official):
    before = OrgUnit.objects.count()

    response = _call_view(county_official, _upload(county="513424"))

    assert response.status_code == 403
    assert "Only administrators may import division codes." in response.content.decode()
    assert OrgUnit.objects.count() == before


def test_an_administrator_may_import_only_within_his_scope(county):
    township_admin = User.objects.create_user(
        username="scoped_admin", password="pw-for-tests-only", role=Role.ADMIN, home_unit=county.township_a,
        is_staff=True,
    )
    county_admin = User.objects.create_user(
        username="county_admin", password="pw-for-tests-only", role=Role.ADMIN, home_unit=county.county,
        is_staff=True,
    )
    before = OrgUnit.objects.count()

    refused = _call_view(township_admin, _upload(county="513424"))
    assert "County 513424000000 is outside your scope." in refused.content.decode()
    assert "report" not in refused.context_data
    no_county = _call_view(county_admin, _upload())
    assert "Enter the code of the county to import" in no_county.content.decode()
    assert OrgUnit.objects.count() == before

    allowed = _call_view(county_admin, _upload(county="513424"))
    assert allowed.context_data["report"].written
    assert_tree_valid()


def test_the_admin_url_serves_the_upload_when_wired(admin_user, login):
    try:
        match = resolve(ADMIN_PATH)
    except Resolver404:
        match = None
    if match is None or not match.url_name or "import" not in match.url_name:
        pytest.skip("the OrgUnit admin does not route import-divisions/ yet")
    client = login(admin_user)

    response = client.post(ADMIN_PATH, _upload(county="513424"))

    assert response.status_code == 200
    assert_dechang_imported()
