"""The roster engine: Excel/CSV import (all or nothing, scoped, idempotent) and export (masked, logged, inert).

Households, residents and grids here; the grid and party-building rosters in their apps' tests.
Files are built from the spec's own headers in the active language, as the template has them.
"""

import datetime
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from governance.models import ExportLog, Household, Level, OrgUnit, Resident, Tag
from governance.rosters import get_spec, roster_export, roster_import
from governance.rosters.tabular import read_table
from tests.helpers.audit import events, imports, on_postgres
from tests.helpers.excel import (
    RESIDENT_COLUMNS,
    cell_values,
    exported,
    fill_template,
    headers,
    nth_id_number,
    read_export,
    resident_rows,
    xlsx,
)


def residents_file(county, count=1000, bad_row=None):
    rows = resident_rows(county, count)
    if bad_row is not None:
        rows[bad_row][1] = rows[bad_row][1][:-1] + ("0" if rows[bad_row][1][-1] != "0" else "1")
    return xlsx(headers("residents", RESIDENT_COLUMNS), rows)


# --- All or nothing, idempotent -------------------------------------------------------------


def test_one_bad_row_among_1000_writes_nothing_and_is_reported(county):
    before = Resident.objects.count()
    with translation.override("en"):
        report = roster_import(kind="residents", file=residents_file(county, bad_row=500))
    assert not report.written
    assert Resident.objects.count() == before
    assert report.rows == 1000 and report.error_rows == 1
    assert [(e.row, e.column) for e in report.errors] == [(502, "ID number")]  # header = row 1
    assert "check digit" in report.errors[0].message
    assert report.new == report.changed == report.unchanged == 0


def test_the_fixed_file_imports_every_row_then_a_second_import_changes_nothing(county, admin_user):
    before = Resident.objects.count()
    content = residents_file(county)
    report = roster_import(kind="residents", file=content, user=admin_user)
    assert report.ok and report.written, str(report)
    assert (report.new, report.changed, report.unchanged) == (1000, 0, 0)
    assert Resident.objects.count() == before + 1000
    resident = Resident.objects.get(id_number=nth_id_number(7))
    assert (resident.name, resident.birth_date, resident.sex) == ("居民7", datetime.date(1990, 1, 1), "F")
    assert resident.household == county.households[1]
    (imported,) = imports("residents")
    assert imported.actor_id == admin_user.pk and imported.changes["rows"] == [None, 1000]
    if on_postgres():  # the rows written in bulk, by the database's triggers
        assert [event.action for event in events(resident)] == ["create"]

    again = roster_import(kind="residents", file=content, user=admin_user)
    assert again.ok and not again.written
    assert (again.new, again.changed, again.unchanged) == (0, 0, 1000)
    assert Resident.objects.count() == before + 1000
    assert len(imports("residents")) == 1  # nothing written, nothing recorded


def test_rows_written_while_the_file_is_checked_are_rolled_back_by_a_later_bad_row(county, admin_user,
                                                                                 monkeypatch):
    # On PostgreSQL checked rows are written in batches while later rows are still checked
    # (StreamWriter); small batches here so that many are written before the bad row.
    from governance.rosters.writing import StreamWriter

    monkeypatch.setattr(StreamWriter, "BATCH", 100)
    content = residents_file(county)
    assert roster_import(kind="residents", file=content, user=admin_user).written
    rows = resident_rows(county, 1000)
    for row in rows:
        row[3] = row[3][:-1] + ("7" if row[3][-1] != "7" else "8")  # every phone number changed
    rows[900][1] = rows[900][1][:-1] + ("0" if rows[900][1][-1] != "0" else "1")
    header = headers("residents", RESIDENT_COLUMNS)
    failed = roster_import(kind="residents", file=xlsx(header, rows), user=admin_user)
    assert not failed.written and [e.row for e in failed.errors] == [902]
    first = Resident.objects.get(id_number=nth_id_number(0))
    assert first.phone == "13900000000"
    assert len(imports("residents")) == 1 and not events(first, action="update")  # rolled back with the rows

    rows[900][1] = nth_id_number(900)
    fixed = roster_import(kind="residents", file=xlsx(header, rows), user=admin_user)
    assert fixed.written and (fixed.new, fixed.changed, fixed.unchanged) == (0, 1000, 0), str(fixed)
    first.refresh_from_db()
    assert first.phone == "13900000007"
    assert len(imports("residents")) == 2
    if on_postgres():
        (changed,) = events(first, action="update")
        # Which field, never the number: the database compares the phone's lookup hash (the ciphertext of
        # the same ID number is new at every write, its hash is not).
        assert changed.changes == {"phone_hash": ["***", "***"]}
    # Phones are stored encrypted: compared here in Python (the database only matches them whole).
    stored = Resident.objects.filter(id_number__in=[nth_id_number(i) for i in range(1000)])
    assert {r.phone for r in stored} == {row[3] for row in rows}


def test_duplicates_by_id_number_update_instead_of_duplicating(county):
    resident = county.residents[0]
    content = xlsx(headers("residents", RESIDENT_COLUMNS),
                   [["新名字", resident.id_number.lower(), county.households[0].number, "13911112222", "head"]])
    report = roster_import(kind="residents", file=content)
    assert (report.new, report.changed) == (0, 1), str(report)
    resident.refresh_from_db()
    assert (resident.name, resident.phone) == ("新名字", "13911112222")
    assert report.samples[0].changed == {str(get_spec("residents").column("name").header),
                                         str(get_spec("residents").column("phone").header)}


def test_dry_run_reports_everything_and_writes_nothing(county):
    before = Resident.objects.count()
    report = roster_import(kind="residents", file=residents_file(county, count=50), dry_run=True)
    assert report.ok and not report.written and report.new == 50
    assert Resident.objects.count() == before


def test_a_missing_column_is_one_clear_error(county):
    names = ["name", "household", "phone"]
    content = xlsx(headers("residents", names), [["张三", county.households[0].number, ""]] * 5)
    with translation.override("en"):
        report = roster_import(kind="residents", file=content)
    assert len(report.errors) == 1
    assert report.errors[0].row == 1 and report.errors[0].column == "ID number"
    assert report.errors[0].message == 'The required column "ID number" is missing.'


def test_headers_are_accepted_in_chinese_or_english(county):
    with translation.override("en"):
        english = headers("residents", RESIDENT_COLUMNS)
    content = xlsx(english, resident_rows(county, 3))
    report = roster_import(kind="residents", file=content)  # the portal language is active
    assert report.ok and report.new == 3, str(report)


def test_a_key_twice_in_the_file_is_refused_on_the_second_row(county):
    rows = resident_rows(county, 3)
    rows[2][1] = rows[0][1]
    with translation.override("en"):
        report = roster_import(kind="residents", file=xlsx(headers("residents", RESIDENT_COLUMNS), rows))
    assert [(e.row, e.column) for e in report.errors] == [(4, "ID number")]
    assert "row 2" in report.errors[0].message


def test_every_row_is_checked_and_every_error_reported(county):
    rows = resident_rows(county, 4)
    rows[0][2] = "NO-SUCH-HOUSEHOLD"
    rows[1][4] = "neighbour"
    rows[2][0] = ""
    rows[3][3] = "12345"
    with translation.override("en"):
        report = roster_import(kind="residents", file=xlsx(headers("residents", RESIDENT_COLUMNS), rows))
    found = {(e.row, e.column) for e in report.errors}
    assert found == {(2, "Household number"), (3, "Relation to head"), (4, "Name"), (5, "Phone")}
    assert report.error_rows == 4


def test_one_dry_run_lists_every_error_of_a_row_and_none_that_follows_from_another(county):
    # Every cell of row 2 is wrong; row 3 has an unknown household only; row 4 is good.
    rows = resident_rows(county, 3)
    rows[0] = ["", nth_id_number(0)[:-1] + "X", "NO-SUCH-HOUSEHOLD", "12345", "neighbour"]
    rows[1][2] = "NO-SUCH-HOUSEHOLD"
    before = Resident.objects.count()
    with translation.override("en"):
        report = roster_import(kind="residents", file=xlsx(headers("residents", RESIDENT_COLUMNS), rows),
                               dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "Name"), (2, "ID number"), (2, "Household number"), (2, "Phone"), (2, "Relation to head"),
        (3, "Household number"),
    ], report.errors
    assert report.error_rows == 2 and Resident.objects.count() == before


def test_households_and_grids_report_all_their_errors_at_once(county, english):
    grid = county.micro_grids[0].code
    spec_headers = headers("households", ["number", "address", "grid", "is_active"])
    report = roster_import(kind="households", file=xlsx(spec_headers, [["H1", "", "NO-SUCH-GRID", "也许"],
                                                                          ["H2", "2号", grid, "是"]]), dry_run=True)
    # The unknown grid is "not found", and nothing more is said of it (no "a household belongs to a grid").
    assert [(e.row, e.column) for e in report.errors] == [(2, "Address"), (2, "Grid code"), (2, "Active")]
    village = county.villages[0]
    spec_headers = headers("grids", ["code", "name", "kind", "parent"])
    rows = [
        # A bad kind: the level is unknown, so the code and parent rules that read it stay silent.
        [f"{village.code}008", "", "优网格", village.code],
        # An unknown parent, a bad name length and a short-form kind: two errors, no "top-level unit".
        [f"{village.code}009", "名" * 120, "单位型", "NO-SUCH-PARENT"],
    ]
    report = roster_import(kind="grids", file=xlsx(spec_headers, rows), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "Name"), (2, "Grid type"), (3, "Name"), (3, "Parent code")], report.errors


def test_an_error_names_its_row_and_shows_the_value_read(county, english):
    grid = county.micro_grids[0].code
    spec_headers = headers("households", ["number", "address", "grid", "is_active"])
    report = roster_import(kind="households", file=xlsx(spec_headers, [["H1", "1号", "NO-SUCH-GRID", "是"],
                                                                          ["H2", "2号", grid, "也许"]]), dry_run=True)
    assert report.name_header == "Household number"
    assert [(e.row, e.name, e.column, e.value) for e in report.errors] == [
        (2, "H1", "Grid code", "NO-SUCH-GRID"), (3, "H2", "Active", "也许")]
    # A grid is named by its name, even when the bad cell is another.
    village = county.villages[0]
    spec_headers = headers("grids", ["code", "name", "kind", "parent"])
    report = roster_import(kind="grids", file=xlsx(spec_headers, [[f"{village.code}009", "九组网格", "单位型",
                                                                   "NO-SUCH-PARENT"]]), dry_run=True)
    assert [(e.name, e.column, e.value) for e in report.errors] == [("九组网格", "Parent code", "NO-SUCH-PARENT")]


def test_a_written_import_knows_the_rows_it_added_and_changed(county, admin_user):
    content = residents_file(county, count=20)
    report = roster_import(kind="residents", file=content, user=admin_user)
    assert sorted(report.written_pks) == sorted(
        Resident.objects.filter(name__startswith="居民").values_list("pk", flat=True))
    again = roster_import(kind="residents", file=content, user=admin_user)
    assert not again.written and again.written_pks == []


def test_a_reimport_compares_personal_data_by_its_hash_and_rewrites_only_what_changed(county, admin_user):
    """ID numbers and phones are stored encrypted: a re-imported roster is compared with them through their
    lookup hashes (nothing decrypted): the unchanged rows are seen as unchanged, and a changed phone
    rewrites the phone, not the row's ID number."""
    rows = resident_rows(county, 30)
    roster_import(kind="residents", file=xlsx(headers("residents", RESIDENT_COLUMNS), rows), user=admin_user)
    stored = dict(Resident.objects.filter(name__startswith="居民").values_list("pk", "id_number_hash"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number FROM governance_resident")
        sealed_before = dict(cursor.fetchall())
    rows[1][3] = "13911112222"  # a new phone
    report = roster_import(kind="residents", file=xlsx(headers("residents", RESIDENT_COLUMNS), rows), user=admin_user)
    assert (report.new, report.changed, report.unchanged) == (0, 1, 29), str(report)
    changed = Resident.objects.get(name="居民1")
    assert changed.phone == "13911112222"
    assert Resident.objects.filter(phone="13911112222").get() == changed  # its lookup hash follows
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number FROM governance_resident")
        sealed_after = dict(cursor.fetchall())
    assert sealed_after[changed.pk] == sealed_before[changed.pk]  # the ID number was not encrypted again
    assert dict(Resident.objects.filter(pk__in=stored).values_list("pk", "id_number_hash")) == stored


def test_the_import_needs_no_query_per_row(county, django_assert_max_num_queries):
    content = residents_file(county, count=300)
    with django_assert_max_num_queries(30):
        report = roster_import(kind="residents", file=content)
    assert report.new == 300


# --- Scope ---------------------------------------------------------------------------------


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_codes_outside_the_users_scope_are_not_found(county, clerk_b, english):
    household_a = county.households[0]
    content = xlsx(headers("residents", RESIDENT_COLUMNS), [["张三", nth_id_number(1), household_a.number, "", "head"]])
    report = roster_import(kind="residents", file=content, user=clerk_b)
    assert [(e.row, e.column) for e in report.errors] == [(2, "Household number")]
    assert report.errors[0].message == f'Household "{household_a.number}" was not found.'
    # The same message as for a number that does not exist at all.
    grid_a = county.micro_grids[0]
    content = xlsx(headers("households", ["number", "address", "grid"]), [["9001", "1号", grid_a.code]])
    report = roster_import(kind="households", file=content, user=clerk_b)
    assert report.errors[0].message == f'Org unit "{grid_a.code}" was not found.'
    assert not Household.objects.filter(number="9001").exists()


def test_a_row_outside_the_users_scope_cannot_be_changed(county, clerk_b):
    resident_a = county.residents[0]
    household_b = county.households[1]
    content = xlsx(headers("residents", RESIDENT_COLUMNS),
                   [["改名", resident_a.id_number, household_b.number, "", "head"]])
    report = roster_import(kind="residents", file=content, user=clerk_b)
    assert len(report.errors) == 1 and report.errors[0].row == 2
    resident_a.refresh_from_db()
    assert resident_a.household == county.households[0]


# --- Cell formats ----------------------------------------------------------------------------


def test_dates_booleans_and_choices_in_the_usual_spellings(county):
    spec_headers = headers("households", ["number", "address", "grid", "is_active"])
    grid = county.micro_grids[0].code
    rows = [["H1", "1号", grid, "是"], ["H2", "2号", grid, "N"], ["H3", "3号", grid, 0], ["H4", "4号", grid, "y"]]
    report = roster_import(kind="households", file=xlsx(spec_headers, rows))
    assert report.ok, str(report)
    assert dict(Household.objects.filter(number__startswith="H").values_list("number", "is_active")) == {
        "H1": True, "H2": False, "H3": False, "H4": True}
    from governance.rosters import Date

    parse = Date()
    expected = datetime.date(2026, 1, 5)
    for value in ("2026-01-05", "2026/1/5", "2026.1.5", "2026年1月5日", "20260105",
                  datetime.datetime(2026, 1, 5), 46027):
        assert parse(value) == expected, value


def test_a_choice_takes_its_label_a_short_form_or_its_code(county, clerk_a):
    village = county.villages[0]
    spec_headers = headers("grids", ["code", "name", "kind", "parent"])
    rows = [[f"{village.code}01{i}", f"网格{i}", kind, village.code]
            for i, kind in enumerate(["单位型网格", "单位型", "grid_work_unit", "城郊型", "综治"])]
    report = roster_import(kind="grids", file=xlsx(spec_headers, rows), user=clerk_a)
    assert report.ok, str(report)
    kinds = dict(OrgUnit.objects.filter(code__startswith=f"{village.code}01").values_list("name", "kind"))
    assert kinds == {"网格0": "grid_work_unit", "网格1": "grid_work_unit", "网格2": "grid_work_unit",
                     "网格3": "grid_peri_urban", "网格4": "grid_standard"}


def test_the_templates_instructions_list_every_accepted_form(county):
    from governance.rosters import roster_template

    workbook = openpyxl.load_workbook(io.BytesIO(roster_template("grids")))
    instructions = {row[0]: row[2] for row in workbook.worksheets[1].iter_rows(values_only=True) if row and row[0]}
    kinds = instructions[str(get_spec("grids").column("kind").header)]
    assert "单位型网格（单位型、grid_work_unit）" in kinds and "微网格（微、micro_grid）" in kinds
    workbook = openpyxl.load_workbook(io.BytesIO(roster_template("residents")))
    instructions = {row[0]: row[2] for row in workbook.worksheets[1].iter_rows(values_only=True) if row and row[0]}
    assert "户主（head）" in instructions[str(get_spec("residents").column("relation").header)]


def test_csv_in_utf8_with_bom_and_in_gb18030(county):
    header = ",".join(headers("households", ["number", "address", "grid"]))
    grid = county.micro_grids[0].code
    for number, encoding in (("C1", "utf-8-sig"), ("C2", "gb18030")):
        content = f"{header}\n{number},城关镇{number}号,{grid}\n".encode(encoding)
        report = roster_import(kind="households", file=content)
        assert report.ok and report.new == 1, str(report)
        assert Household.objects.get(number=number).address == f"城关镇{number}号"


def test_tags_by_name_separated_by_a_chinese_comma(county):
    Tag.objects.create(code="alone", name="独居老人", applies_to=Tag.AppliesTo.RESIDENT)
    Tag.objects.create(code="disabled", name="残疾人", applies_to=Tag.AppliesTo.RESIDENT)
    resident = county.residents[0]
    names = [*RESIDENT_COLUMNS, "tags"]
    row = [resident.name, resident.id_number, resident.household.number, resident.phone, "head", "独居老人、残疾人"]
    report = roster_import(kind="residents", file=xlsx(headers("residents", names), [row]))
    assert report.changed == 1, str(report)
    assert set(resident.tags.values_list("code", flat=True)) == {"alone", "disabled"}
    assert roster_import(kind="residents", file=xlsx(headers("residents", names), [row])).unchanged == 1
    row[-1] = "残疾人,无此标签"
    with translation.override("en"):
        report = roster_import(kind="residents", file=xlsx(headers("residents", names), [row]))
    assert report.errors[0].message == 'There is no tag "无此标签".'


# --- Grids -----------------------------------------------------------------------------------


def test_grids_and_micro_grids_new_in_one_file_get_a_valid_tree(county, clerk_a):
    village = county.villages[0]
    spec_headers = headers("grids", ["code", "name", "kind", "parent", "latitude", "longitude"])
    rows = [
        [f"{village.code}002", "第二网格", "grid_new_estate", village.code, 27.4, 102.17],
        [f"{village.code}00201", "第二网格第一微网格", "micro_grid", f"{village.code}002", "27.401234567", ""],
        [f"{village.code}00202", "第二网格第二微网格", "micro_grid", f"{village.code}002", "", ""],
    ]
    report = roster_import(kind="grids", file=xlsx(spec_headers, rows), user=clerk_a)
    assert report.ok and report.new == 3, str(report)
    grid = OrgUnit.objects.get(code=f"{village.code}002")
    micro = OrgUnit.objects.get(code=f"{village.code}00201")
    assert (grid.level, grid.kind, micro.level) == (Level.GRID, "grid_new_estate", Level.MICRO_GRID)
    assert str(micro.latitude) == "27.401235"
    village.refresh_from_db()
    assert micro.parent == grid and micro.is_descendant_of(village)
    assert set(village.get_descendants().values_list("code", flat=True)) >= {micro.code, grid.code}
    assert imports("grids")[0].actor_id == clerk_a.pk
    if on_postgres():
        assert [event.action for event in events(micro)] == ["create"]
    call_command("check_tree", stdout=io.StringIO())
    assert roster_import(kind="grids", file=xlsx(spec_headers, rows), user=clerk_a).unchanged == 3


def test_grid_rules_come_from_the_org_unit_rules(county):
    village = county.villages[0]
    spec_headers = headers("grids", ["code", "name", "kind", "parent"])
    rows = [
        ["999", "代码不对", "grid_standard", village.code],
        [f"{village.code}009", "微网格挂在村下", "micro_grid", village.code],
        [county.township_a.code, "乡镇代码", "grid_standard", village.code],
    ]
    with translation.override("en"):
        report = roster_import(kind="grids", file=xlsx(spec_headers, rows))
    messages = {e.row: e.message for e in report.errors}
    assert "followed by 1-6 letters or digits" in messages[2]
    assert "cannot be placed under" in messages[3]
    assert "already used by a unit of level Township" in messages[4]
    assert not OrgUnit.objects.filter(code=f"{village.code}009").exists()


# --- Export ----------------------------------------------------------------------------------


def test_a_formula_comes_out_of_the_export_inert(county, admin_user):
    resident = county.residents[0]
    # (update() writes no lookup hash: the emptied phone's goes with it)
    Resident.objects.filter(pk=resident.pk).update(name='=HYPERLINK("http://x","y")', phone="", phone_hash=None)
    content = roster_export(kind="residents", queryset=Resident.objects.filter(pk=resident.pk), user=admin_user)
    cell = read_export(content)[1][0]
    assert cell.data_type != "f"
    assert cell.value == '\'=HYPERLINK("http://x","y")'
    # The quote is taken off again on import: the round trip keeps the name as it was.
    report = roster_import(kind="residents", file=content, user=admin_user)
    assert report.unchanged == 1, str(report)
    assert read_table(content).headers[0] == str(get_spec("residents").column("name").header)


def test_export_masks_personal_data_for_a_township_clerk_and_logs_it(county, clerk_a, village_a):
    resident = county.residents[0]
    queryset = Resident.objects.all()
    masked = cell_values(roster_export(kind="residents", queryset=queryset, user=clerk_a))
    spec = get_spec("residents")
    header = masked[0]
    id_at, phone_at = header.index(str(spec.column("id_number").header)), header.index(str(spec.column("phone").header))
    assert len(masked) == 2  # township A only
    assert masked[1][id_at] == resident.id_number[:6] + "********" + resident.id_number[-4:]
    assert masked[1][phone_at] == resident.phone[:3] + "****" + resident.phone[-4:]
    assert masked[1][header.index(str(spec.column("birth_date").header))] is None
    log = ExportLog.objects.get(user=clerk_a)
    assert (log.kind, log.rows, log.with_personal_data, log.unmasked) == ("residents", 1, True, False)

    full = cell_values(roster_export(kind="residents", queryset=queryset, user=village_a))
    assert full[1][id_at] == resident.id_number and full[1][phone_at] == resident.phone
    log = ExportLog.objects.get(user=village_a)
    assert (log.rows, log.unmasked) == (1, True)


def test_export_of_a_large_roster_streams_in_chunks(county, admin_user, django_assert_max_num_queries):
    roster_import(kind="residents", file=residents_file(county, count=1000))
    with django_assert_max_num_queries(8):
        content = roster_export(kind="residents", queryset=Resident.objects.all(), user=admin_user)
    assert len(cell_values(content)) == 1 + Resident.objects.count()


# --- Templates round-trip ----------------------------------------------------------------------


def test_households_template_round_trip(county, admin_user):
    grid = county.micro_grids[0].code
    content = fill_template("households", [
        {"number": "T1", "address": "一组1号", "grid": grid}, {"number": "T2", "address": "一组2号", "grid": grid}])
    assert roster_import(kind="households", file=content, user=admin_user).new == 2
    rows = exported("households", Household.objects.filter(number__startswith="T"), admin_user)
    assert [row[str(get_spec("households").column("number").header)] for row in rows] == ["T1", "T2"]


def test_residents_template_round_trip(county, admin_user):
    household = county.households[0].number
    content = fill_template("residents", [
        {"name": "甲", "id_number": nth_id_number(11), "household": household, "relation": "户主"},
        {"name": "乙", "id_number": nth_id_number(12), "household": household, "relation": "spouse"},
    ])
    report = roster_import(kind="residents", file=content, user=admin_user)
    assert report.new == 2, str(report)
    imported = Resident.objects.filter(id_number__in=[nth_id_number(11), nth_id_number(12)])
    names = [row[str(get_spec("residents").column("name").header)]
             for row in exported("residents", imported, admin_user)]
    assert sorted(names) == ["乙", "甲"]


def test_grids_template_round_trip(county, admin_user):
    village = county.villages[1]
    content = fill_template("grids", [
        {"code": f"{village.code}005", "name": "第五网格", "kind": "grid_old_estate", "parent": village.code},
        {"code": f"{village.code}00501", "name": "一号微网格", "kind": "micro_grid", "parent": f"{village.code}005"},
    ])
    assert roster_import(kind="grids", file=content, user=admin_user).new == 2
    codes = [row[str(get_spec("grids").column("code").header)]
             for row in exported("grids", OrgUnit.objects.filter(code__startswith=f"{village.code}005"), admin_user)]
    assert codes == [f"{village.code}005", f"{village.code}00501"]


# --- Commands --------------------------------------------------------------------------------


def test_import_roster_command_prints_every_error_and_fails(county, tmp_path, english):
    path = tmp_path / "residents.xlsx"
    path.write_bytes(residents_file(county, count=20, bad_row=3))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_roster", "residents", str(path), stdout=out)
    text = out.getvalue()
    assert "Row 5 [ID number]" in text and "rows/s" in text
    assert not Resident.objects.filter(id_number=nth_id_number(0)).exists()


def test_import_roster_command_dry_run_and_user(county, clerk_b, tmp_path):
    path = tmp_path / "residents.xlsx"
    path.write_bytes(residents_file(county, count=10))
    out = io.StringIO()
    call_command("import_roster", "residents", str(path), "--dry-run", stdout=out)
    assert not Resident.objects.filter(id_number=nth_id_number(0)).exists()
    with pytest.raises(CommandError):  # half the rows name a household of township A
        call_command("import_roster", "residents", str(path), "--user", clerk_b.username, stdout=io.StringIO())
    call_command("import_roster", "residents", str(path), stdout=out)
    assert Resident.objects.filter(id_number=nth_id_number(0)).exists()


def test_export_roster_command(county, clerk_a, tmp_path):
    path = tmp_path / "out.xlsx"
    call_command("export_roster", "households", str(path), "--user", clerk_a.username, stdout=io.StringIO())
    rows = cell_values(path.read_bytes())
    assert len(rows) == 2 and rows[1][0] == county.households[0].number
    assert ExportLog.objects.filter(user=clerk_a, kind="households").exists()
