"""The registers from and to Excel through the roster engine: contracts (a firm, or a resident by ID number), their
payments due, receivables and debts, assets and resources — all or nothing, every error by row and column, a dry
run that writes nothing, an export that imports again unchanged, and a bounded number of queries per file."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collective_economy.models import (
    Asset,
    Contract,
    ContractInstalment,
    DebtRecord,
    Resource,
)
from collective_economy.services.books import sub_account_create
from collective_economy.services.registers import contract_payment_record, contract_save
from governance.masking import mask_id_number
from governance.models import ExportLog
from governance.rosters import get_spec, roster_export, roster_import
from tests.helpers.audit import imports
from tests.helpers.excel import cell_values, headers, template_rows, xlsx
from tests.helpers.ledger import accounts, new_book

CONTRACT = ["village", "number", "title", "kind", "counterparty_kind", "counterparty_name",
            "counterparty_credit_code", "counterparty_id_number", "subject_kind", "area", "location", "amount",
            "signed_on", "starts_on", "ends_on", "is_regular", "problem", "cleaned_up_on", "arrears"]
FIRM_CODE = "91513424MA62N5XK4C"


def header(kind, name):
    return str(get_spec(kind).column(name).header)


def contracts_file(rows):
    return xlsx(headers("contracts", CONTRACT), rows)


def firm_row(village, number="HT-001", **changes):
    row = dict(village=village.code, number=number, title="河滩地发包", kind="发包", counterparty_kind="企业或组织",
               counterparty_name="德昌果业有限公司", counterparty_credit_code=FIRM_CODE, counterparty_id_number=None,
               subject_kind="土地", area="35.5", location="一组河滩", amount="120000.00", signed_on="2024-12-20",
               starts_on="2025-01-01", ends_on="2029-12-31", is_regular="是", problem=None, cleaned_up_on=None,
               arrears=None)
    row.update(changes)
    return [row[name] for name in CONTRACT]


def person_row(village, resident, number="HT-002", **changes):
    person = dict(title="鱼塘承包", kind="承包", counterparty_kind=None, counterparty_name=None,
                  counterparty_credit_code=None, counterparty_id_number=resident.id_number, subject_kind="水面",
                  amount="8000", is_regular="否", problem="价格明显偏低", cleaned_up_on="2025-03-01", arrears="1200.50")
    return firm_row(village, number, **{**person, **changes})


@pytest.fixture
def cast(county):
    return county.villages[0], county.residents[0]


def test_a_dry_run_writes_nothing_and_the_import_refers_to_the_resident(cast, village_a):
    village, resident = cast
    content = contracts_file([firm_row(village), person_row(village, resident)])
    preview = roster_import(kind="contracts", file=content, user=village_a, dry_run=True)
    assert preview.ok and preview.new == 2, str(preview)
    assert not Contract.objects.exists()

    report = roster_import(kind="contracts", file=content, user=village_a)
    assert report.ok and report.written and report.new == 2, str(report)
    firm = Contract.objects.get(number="HT-001")
    assert (firm.counterparty_kind, firm.counterparty_name, firm.counterparty_credit_code) == (
        "firm", "德昌果业有限公司", FIRM_CODE)
    assert (firm.kind, firm.subject_kind, firm.area, firm.amount, firm.ends_on) == (
        "letting", "land", Decimal("35.50"), Decimal("120000.00"), datetime.date(2029, 12, 31))
    person = Contract.objects.get(number="HT-002")
    # The type follows from the ID number; the person is a reference, his ID number and name stored nowhere.
    assert person.counterparty_kind == "resident" and person.counterparty_resident == resident
    assert (person.counterparty_name, person.counterparty_credit_code) == ("", "")
    assert (person.is_regular, person.problem, person.cleaned_up_on, person.arrears) == (
        False, "low_price", datetime.date(2025, 3, 1), Decimal("1200.50"))
    assert [event.actor_id for event in imports("contracts")] == [village_a.pk]
    # The same file again changes nothing.
    again = roster_import(kind="contracts", file=content, user=village_a)
    assert again.ok and (again.new, again.changed, again.unchanged) == (0, 0, 2)


def test_one_bad_row_writes_nothing_and_each_error_names_its_row_and_column(cast, village_a):
    village, resident = cast
    rows = [firm_row(village, "HT-001"),
            firm_row(village, "HT-002", ends_on="2029-13-40"),
            person_row(village, resident, "HT-003", counterparty_id_number="513424198001010000"),
            firm_row(village, "HT-004", counterparty_name=None),
            firm_row(village, "HT-005", is_regular="是", problem="价格明显偏低"),
            firm_row(village, "HT-006", starts_on="2025-01-01", ends_on="2024-12-31")]
    report = roster_import(kind="contracts", file=contracts_file(rows), user=village_a)
    assert not report.written and not Contract.objects.exists()
    found = {(error.row, error.column): error.message for error in report.errors}
    assert set(found) == {(3, header("contracts", "ends_on")), (4, header("contracts", "counterparty_id_number")),
                          (5, header("contracts", "counterparty_name")), (6, header("contracts", "problem")),
                          (7, header("contracts", "ends_on"))}
    assert "2029-13-40" in found[(3, "合同止期")] and "日期" in found[(3, "合同止期")]
    assert "513424198001010000" in found[(4, "对方身份证号")] and "未找到" in found[(4, "对方身份证号")]
    assert found[(5, "对方（企业）")] == "请填写企业名称。"
    assert "不规范" in found[(6, "问题类型")]
    assert found[(7, "合同止期")] == "合同止期早于起期。"
    assert report.error_rows == 5 and report.new == 0


def test_a_resident_of_another_village_is_not_found_or_refused(county, village_a, admin_user):
    village = county.villages[0]
    elsewhere = county.residents[1]  # township B's village: outside village_a's area
    report = roster_import(kind="contracts", file=contracts_file([person_row(village, elsewhere)]), user=village_a)
    (error,) = report.errors
    assert error.column == header("contracts", "counterparty_id_number") and "未找到" in error.message
    # The administrator sees every resident, and is told the person lives in another village.
    report = roster_import(kind="contracts", file=contracts_file([person_row(village, elsewhere)]), user=admin_user)
    (error,) = report.errors
    assert error.column == header("contracts", "counterparty_id_number")
    assert county.households[1].number in error.message and not Contract.objects.exists()


def test_a_village_outside_the_area_is_not_found(county, village_a):
    report = roster_import(kind="contracts", file=contracts_file([firm_row(county.villages[1])]), user=village_a)
    (error,) = report.errors
    assert error.column == header("contracts", "village") and "未找到" in error.message
    assert not Contract.objects.exists()


def test_an_export_imports_again_unchanged_and_is_logged_with_its_personal_data(cast, village_a, clerk_a):
    village, resident = cast
    assert roster_import(kind="contracts", file=contracts_file([firm_row(village), person_row(village, resident)]),
                         user=village_a).ok
    content = roster_export(kind="contracts", queryset=Contract.objects.all(), user=village_a)
    log = ExportLog.objects.get(kind="contracts")
    assert (log.user, log.rows, log.with_personal_data, log.unmasked) == (village_a, 2, True, True)
    report = roster_import(kind="contracts", file=content, user=village_a)
    assert report.ok and (report.new, report.changed, report.unchanged) == (0, 0, 2), str(report)
    assert set(report.ignored_columns) == {header("contracts", "village_name"),
                                           header("contracts", "counterparty_resident_name")}
    # A township officer's export masks the ID number and leaves the person's name out.
    rows = cell_values(roster_export(kind="contracts", queryset=Contract.objects.all(), user=clerk_a))
    cells = dict(zip(rows[0], rows[2], strict=True))
    assert cells[header("contracts", "counterparty_id_number")] == mask_id_number(resident.id_number)
    assert cells[header("contracts", "counterparty_resident_name")] is None
    assert ExportLog.objects.get(kind="contracts", user=clerk_a).unmasked is False


def _queries(user, rows) -> tuple[int, int]:
    """(reads, all statements) of importing ``rows`` with a resource number each."""
    content = xlsx(headers("contracts", [*CONTRACT, "resource"]), [[*row, "ZY-001"] for row in rows])
    with CaptureQueriesContext(connection) as context:
        report = roster_import(kind="contracts", file=content, user=user)
    assert report.ok, str(report)
    # Reads of tables; PostgreSQL's bulk writer also reserves the new rows' ids (SELECT nextval(...)), not a read.
    reads = [query for query in context.captured_queries
             if query["sql"].startswith("SELECT") and "nextval(" not in query["sql"]]
    return len(reads), len(context.captured_queries)


def test_the_queries_do_not_grow_with_the_file(cast, village_a):
    """One read per table the file names (villages, residents, resources, the contracts already there), whatever
    its length; only SQLite's bulk inserts come in batches (at most 999 values a statement)."""
    village, resident = cast
    Resource.objects.create(village=village, code="ZY-001", name="河滩地", kind="arable", area=Decimal("40"))

    def rows(count, prefix, amount="120000.00"):
        return [person_row(village, resident, f"{prefix}-{n:04d}", amount=amount) if n % 5 == 0
                else firm_row(village, f"{prefix}-{n:04d}", amount=amount) for n in range(count)]

    (small_reads, small), (big_reads, big) = _queries(village_a, rows(20, "A")), _queries(village_a, rows(500, "B"))
    assert Contract.objects.filter(resource__code="ZY-001").count() == 520
    assert small_reads == big_reads == 4 and small <= 12 and big <= 30
    # Every row again, each changed: the rows already there are read once more to check they are in the area.
    reads, total = _queries(village_a, rows(500, "B", amount="130000.00"))
    assert reads == 5 and total <= 30
    assert set(Contract.objects.filter(number__startswith="B").values_list("amount", flat=True)) == {
        Decimal("130000.00")}


def test_the_command_imports_and_its_dry_run_writes_nothing(cast, village_a, tmp_path, capsys):
    village, resident = cast
    path = tmp_path / "contracts.xlsx"
    path.write_bytes(contracts_file([firm_row(village), person_row(village, resident)]))
    call_command("import_roster", "contracts", str(path), "--dry-run", "--user", "village_a")
    assert not Contract.objects.exists()
    call_command("import_roster", "contracts", str(path), "--user", "village_a")
    assert Contract.objects.count() == 2
    path.write_bytes(contracts_file([firm_row(village, "HT-009", amount="-5")]))
    with pytest.raises(CommandError):
        call_command("import_roster", "contracts", str(path), "--user", "village_a")
    assert "HT-009" not in set(Contract.objects.values_list("number", flat=True))


# --- The schedule -------------------------------------------------------------------------------

SCHEDULE = ["village", "contract", "due_on", "amount"]


def test_the_schedule_is_matched_by_contract_and_date_and_never_drops_below_what_was_received(cast, village_a):
    village, _resident = cast
    contract = contract_save(user=village_a, village=village, number="HT-001", title="河滩地发包", kind="letting",
                             counterparty_kind="firm", counterparty_name="德昌果业有限公司", subject_kind="land",
                             amount=Decimal("60000"), signed_on=datetime.date(2024, 12, 1),
                             starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 12, 31))
    rows = [[village.code, "HT-001", "2025-06-30", "30000"], [village.code, "HT-001", "2026-06-30", "30000"]]
    report = roster_import(kind="contract_instalments", file=xlsx(headers("contract_instalments", SCHEDULE), rows),
                           user=village_a)
    assert report.ok and report.new == 2, str(report)
    first = contract.instalments.get(due_on=datetime.date(2025, 6, 30))
    contract_payment_record(instalment=first, received_on=datetime.date(2025, 6, 20), amount=Decimal("20000"),
                            user=village_a)
    lowered = [[village.code, "HT-001", "2025-06-30", "15000"], [village.code, "HT-404", "2026-06-30", "1"]]
    report = roster_import(kind="contract_instalments",
                           file=xlsx(headers("contract_instalments", SCHEDULE), lowered), user=village_a)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, header("contract_instalments", "amount")), (3, header("contract_instalments", "contract"))]
    assert "20,000.00" in report.errors[0].message and "HT-404" in report.errors[1].message
    assert first.__class__.objects.get(pk=first.pk).amount == Decimal("30000.00")
    raised = [[village.code, "HT-001", "2025-06-30", "25000"]]
    report = roster_import(kind="contract_instalments", file=xlsx(headers("contract_instalments", SCHEDULE), raised),
                           user=village_a)
    assert report.ok and report.changed == 1
    # The payment left out of the file stays.
    assert ContractInstalment.objects.filter(contract=contract).count() == 2


# --- Receivables and debts, assets, resources ---------------------------------------------------

DEBTS = ["village", "kind", "number", "counterparty_id_number", "counterparty_name", "origin", "opening_amount",
         "registered_on", "contract"]


def test_receivables_and_debts_round_trip(cast, village_a):
    village, resident = cast
    rows = [[village.code, "债权", "ZQ-001", resident.id_number, None, "历年欠缴承包费", "45000", "2024-03-31", None],
            [village.code, "债务", "ZW-001", None, "德昌建筑公司", "村道工程欠款", "80000.5", "2024-03-31", None],
            [village.code, "债务", "ZW-002", None, "德昌建筑公司", "村道工程欠款", "0", "2024-03-31", None],
            [village.code, "债务", "ZW-003", None, "德昌建筑公司", "村道工程欠款", "10", "2024-03-31", "HT-404"]]
    report = roster_import(kind="debt_records", file=xlsx(headers("debt_records", DEBTS), rows), user=village_a)
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (4, header("debt_records", "opening_amount"), "请填写大于0.00的金额。"),
        (5, header("debt_records", "contract"), "德A村没有合同“HT-404”。")]
    assert not DebtRecord.objects.exists()
    report = roster_import(kind="debt_records", file=xlsx(headers("debt_records", DEBTS), rows[:2]), user=village_a)
    assert report.ok and report.new == 2, str(report)
    receivable = DebtRecord.objects.get(number="ZQ-001")
    assert (receivable.kind, receivable.counterparty_resident, receivable.opening_amount) == (
        "receivable", resident, Decimal("45000.00"))
    content = roster_export(kind="debt_records", queryset=DebtRecord.objects.all(), user=village_a)
    again = roster_import(kind="debt_records", file=content, user=village_a)
    assert again.ok and again.unchanged == 2, str(again)


ASSETS = ["village", "code", "name", "kind", "value", "sub_account", "is_public_welfare"]


def test_an_asset_is_linked_to_a_fixed_asset_detail_account_of_its_village(county, village_a, admin_user):
    village = county.villages[0]
    book = new_book(village, bookkeepers=[village_a])
    chart = accounts(book)
    sub_account_create(book=book, account=chart["151"], code="151001", name="办公用房")
    sub_account_create(book=book, account=chart["112"], code="112001", name="应收款")
    other = new_book(county.villages[1])
    sub_account_create(book=other, account=accounts(other)["151"], code="151009", name="厂房")
    rows = [[village.code, "ZC-001", "村委会办公楼", "房屋建筑物", "860000", "151001", "是"],
            [village.code, "ZC-002", "冷库", "基础设施", "300000", "112001", "否"],
            [village.code, "ZC-003", "厂房", "房屋建筑物", "500000", "151009", "否"]]
    report = roster_import(kind="assets", file=xlsx(headers("assets", ASSETS), rows), user=admin_user)
    assert [(e.row, e.column) for e in report.errors] == [(3, header("assets", "sub_account")),
                                                          (4, header("assets", "sub_account"))]
    assert "固定资产" in report.errors[0].message and "151009" in report.errors[1].message
    assert not Asset.objects.exists()
    report = roster_import(kind="assets", file=xlsx(headers("assets", ASSETS), rows[:1]), user=village_a)
    assert report.ok, str(report)
    asset = Asset.objects.get()
    assert (asset.sub_account.code, asset.is_public_welfare, asset.kind) == ("151001", True, "building")


RESOURCES = ["village", "code", "name", "kind", "area"]


def test_a_resource_exports_the_contracts_it_is_let_under(cast, village_a):
    village, _resident = cast
    rows = [[village.code, "ZY-001", "河滩地", "耕地", "120.5"], [village.code, "ZY-002", "荒坡", "未利用地", "0"]]
    report = roster_import(kind="resources", file=xlsx(headers("resources", RESOURCES), rows), user=village_a)
    assert [(e.row, e.column) for e in report.errors] == [(3, header("resources", "area"))]
    assert roster_import(kind="resources", file=xlsx(headers("resources", RESOURCES), rows[:1]), user=village_a).ok
    report = roster_import(kind="contracts", file=contracts_file([firm_row(village)]), user=village_a)
    assert report.ok
    with_resource = xlsx(headers("contracts", [*CONTRACT, "resource"]), [[*firm_row(village), "ZY-001"]])
    assert roster_import(kind="contracts", file=with_resource, user=village_a).changed == 1
    resource = Resource.objects.get()
    assert list(resource.contracts.values_list("number", flat=True)) == ["HT-001"]
    rows = cell_values(roster_export(kind="resources", queryset=Resource.objects.all(), user=village_a))
    assert dict(zip(rows[0], rows[1], strict=True))[header("resources", "contracts")] == "HT-001"


@pytest.mark.parametrize("kind", ["contracts", "contract_instalments", "debt_records", "assets", "resources"])
def test_each_template_downloads_with_its_columns_explained(db, kind):
    rows = template_rows(kind)
    assert list(rows[0]) == headers(kind) and all(rows[1][i] is not None for i, column in
                                                  enumerate(get_spec(kind).import_columns) if column.required)


def test_every_register_exports_a_file_that_imports_unchanged(county, village_a):
    village, resident = county.villages[0], county.residents[0]
    book = new_book(village, bookkeepers=[village_a])
    office = sub_account_create(book=book, account=accounts(book)["151"], code="151001", name="办公楼")
    Asset.objects.create(village=village, code="ZC-001", name="办公楼", kind="building", value=Decimal("860000.00"),
                         sub_account=office, acquired_on=datetime.date(2012, 5, 1), is_public_welfare=True)
    Resource.objects.create(village=village, code="ZY-001", name="河滩地", kind="arable", area=Decimal("40.25"),
                            boundaries="东至河堤")
    content = xlsx(headers("contracts", [*CONTRACT, "resource", "asset"]),
                   [[*person_row(village, resident), "ZY-001", "ZC-001"]])
    assert roster_import(kind="contracts", file=content, user=village_a).ok
    schedule = [[village.code, "HT-002", "2025-06-30", "4000"], [village.code, "HT-002", "2026-06-30", "4000.50"]]
    assert roster_import(kind="contract_instalments", file=xlsx(headers("contract_instalments", SCHEDULE), schedule),
                         user=village_a).ok
    debts = [[village.code, "债权", "ZQ-001", resident.id_number, None, "欠缴承包费", "1200.50", "2024-03-31",
              "HT-002"]]
    assert roster_import(kind="debt_records", file=xlsx(headers("debt_records", DEBTS), debts), user=village_a).ok
    models = {"contracts": Contract, "contract_instalments": ContractInstalment, "debt_records": DebtRecord,
              "assets": Asset, "resources": Resource}
    for kind, model in models.items():
        content = roster_export(kind=kind, queryset=model.objects.all(), user=village_a)
        report = roster_import(kind=kind, file=content, user=village_a)
        assert report.ok and report.unchanged == model.objects.count() > 0 and not report.changed, str(report)


@pytest.mark.parametrize("model", ["contract", "contractinstalment", "debtrecord", "asset", "resource"])
def test_each_register_imports_from_its_admin_page(staff, county, clerk_a, model):
    """下载模板 / 导入 on each register's admin list: the template downloads, the import page opens."""
    from django.urls import reverse

    client = staff(clerk_a)
    changelist = client.get(reverse(f"admin:collective_economy_{model}_changelist"))
    importing = reverse(f"admin:collective_economy_{model}_roster_import")
    assert changelist.status_code == 200 and importing in changelist.content.decode()
    assert client.get(importing).status_code == 200
    template = client.get(reverse(f"admin:collective_economy_{model}_roster_template"))
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd.openxmlformats")
