"""The three assets (三资): funds are what the books say, assets are linked to their village's fixed-asset
accounts (and the register is checked against the books), resources show their contract; the lists
filter, export and cost the same queries however many rows; township B sees nothing of A."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from collective_economy.models import Asset, AssetKind, ContractKind, Resource, ResourceKind, SubjectKind
from collective_economy.selectors.assets import assets_overview
from collective_economy.selectors.projects import project_income
from collective_economy.services.books import sub_account_create
from collective_economy.services.registers import asset_save, contract_save, resource_save
from governance.models import ExportLog
from tests.helpers.ledger import accounts, new_book, post

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("collective_economy:assets-overview")
ASSETS = reverse("collective_economy:asset-list")
RESOURCES = reverse("collective_economy:resource-list")


@pytest.fixture
def book_a(county, village_a, clerk_a):
    """Township A's village: 8,000 yuan in the bank, 300 in cash, 1,500 of fixed assets (and 151001)."""
    book = new_book(county.villages[0], bookkeepers=[village_a])
    post(book, datetime.date(2025, 1, 10), [("102", "10000.00", "0", "收到租金"), ("501", "0", "10000.00")],
         preparer=village_a, reviewer=clerk_a)
    post(book, datetime.date(2025, 2, 3), [("101", "500.00", "0", "提现"), ("102", "0", "500.00")],
         preparer=village_a, reviewer=clerk_a)
    post(book, datetime.date(2025, 3, 8), [("513", "200.00", "0", "办公用品"), ("101", "0", "200.00")],
         preparer=village_a, reviewer=clerk_a)
    post(book, datetime.date(2025, 3, 20), [("151", "1500.00", "0", "购置农机"), ("102", "0", "1500.00")],
         preparer=village_a, reviewer=clerk_a)
    book.building = sub_account_create(book=book, account=accounts(book)["151"], code="151001", name="机器设备")
    return book


@pytest.fixture
def book_b(county, clerk_b):
    from governance.models import Role
    from tests.helpers.people import new_user

    village_b = new_user("village_b", Role.VILLAGE, county.villages[1])
    book = new_book(county.villages[1], bookkeepers=[village_b])
    post(book, datetime.date(2025, 1, 5), [("102", "777.00", "0"), ("501", "0", "777.00")],
         preparer=village_b, reviewer=clerk_b)
    return book


def resource(village, code="R001", **fields):
    defaults = {"name": "东沟耕地", "kind": ResourceKind.ARABLE, "area": Decimal("120.50"), "location": "东沟"}
    return resource_save(user=None, village=village, code=code, **{**defaults, **fields})


def contract(village, res, number="HT-2025-01", **fields):
    defaults = {"title": "东沟耕地承包", "kind": ContractKind.CONTRACTING, "subject_kind": SubjectKind.LAND,
                "counterparty_kind": "firm", "counterparty_name": "德昌县绿源农业有限公司", "amount": Decimal("36000"),
                "signed_on": datetime.date(2024, 12, 20), "starts_on": datetime.date(2025, 1, 1),
                "ends_on": datetime.date(2029, 12, 31), "resource": res}
    return contract_save(user=None, village=village, number=number, **{**defaults, **fields})


# --- Funds --------------------------------------------------------------------------------------


def test_funds_are_the_books_cash_and_bank_balances(county, clerk_a, book_a):
    overview = assets_overview(clerk_a, county.township_a, 2025, income_of=project_income)
    row = next(r for r in overview.rows if r.village == county.villages[0])
    # Bank: 10,000 in, 500 drawn as cash, 1,500 paid for equipment; cash: 500 drawn, 200 spent.
    assert row.bank == Decimal("8000.00")
    assert row.cash == Decimal("300.00")
    assert row.funds == Decimal("8300.00")
    assert overview.totals.funds == Decimal("8300.00")


def test_the_overview_page_shows_the_funds_of_the_books(staff, village_a, book_a):
    page = staff(village_a).get(OVERVIEW).content.decode()
    assert 'id="funds-total">8,300.00' in page
    assert "8,000.00" in page and "300.00" in page


def test_a_posted_voucher_changes_the_funds_shown(staff, village_a, clerk_a, book_a):
    client = staff(village_a)
    assert "8,300.00" in client.get(OVERVIEW).content.decode()
    post(book_a, datetime.date(2025, 4, 1), [("102", "1700.00", "0", "收到补助"), ("503", "0", "1700.00")],
         preparer=village_a, reviewer=clerk_a)
    page = client.get(OVERVIEW).content.decode()
    assert 'id="funds-total">10,000.00' in page


def test_the_township_sees_a_row_per_village_and_the_sum(staff, county_official, county, book_a, book_b):
    response = staff(county_official).get(OVERVIEW, {"year": 2025})
    assert response.status_code == 200
    table = response.context["table"]
    names = [row.cells[0] for row in table.rows]
    assert any("德A村" in name for name in names) and any("德B村" in name for name in names)
    total = table.foot[0].cells
    assert total[3] == Decimal("8300.00") + Decimal("777.00")


def test_the_sum_says_how_many_villages_differ(staff, county_official, county, book_a, book_b):
    asset_save(user=None, village=county.villages[0], code="ZC-1", name="农机", kind=AssetKind.EQUIPMENT,
               value=Decimal("2000.00"))  # the books hold 1,500.00; village B has neither: they agree
    response = staff(county_official).get(OVERVIEW, {"year": 2025})
    table = response.context["table"]
    checks = {row.cells[0]: row.cells[7] for row in table.rows}
    assert checks["德A镇 德A村"] == "不符，差额 500.00" and checks["德B镇 德B村"] == "相符"
    assert table.foot[0].cells[7] == "1 个村不符"
    assert 'id="books-disagree"' in response.content.decode()


def test_the_overview_exports_to_excel(staff, clerk_a, book_a):
    response = staff(clerk_a).get(OVERVIEW, {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]
    assert "德A村" in values and 8300 in values
    assert ExportLog.objects.filter(user=clerk_a, kind="ledger-three-assets").exists()


def test_a_bad_year_is_said_on_the_page(staff, clerk_a, book_a):
    response = staff(clerk_a).get(OVERVIEW, {"year": "20x5"})
    assert response.status_code == 400
    assert "1990" in response.content.decode()


# --- Assets and the books -----------------------------------------------------------------------


def test_an_asset_links_only_a_fixed_asset_account_of_its_own_village(county, book_a, book_b):
    village = county.villages[0]
    other_building = sub_account_create(book=book_b, account=accounts(book_b)["151"], code="151001", name="房屋")
    rent = sub_account_create(book=book_a, account=accounts(book_a)["501"], code="501001", name="租金")
    base = {"village": village, "code": "ZC-1", "name": "村办公楼", "kind": AssetKind.BUILDING,
            "value": Decimal("1500.00")}
    with pytest.raises(ValidationError) as refused:
        asset_save(user=None, sub_account=other_building, **base)
    assert refused.value.message_dict["sub_account"] == [f"{other_building}属于其他村。"]
    with pytest.raises(ValidationError) as refused:
        asset_save(user=None, sub_account=rent, **base)
    assert refused.value.message_dict["sub_account"] == ["请选择固定资产的明细科目。"]
    asset = asset_save(user=None, sub_account=book_a.building, **base)
    assert asset.sub_account == book_a.building


def test_the_asset_form_offers_only_fixed_asset_accounts(staff, village_a, book_a, book_b):
    rent = sub_account_create(book=book_a, account=accounts(book_a)["501"], code="501001", name="租金")
    client = staff(village_a)
    form = client.get(reverse("collective_economy:asset-create")).context["form"]
    offered = set(form.fields["sub_account"].queryset)
    assert book_a.building in offered and rent not in offered
    # Posting another account's id anyway is refused on the field, in Chinese.
    response = client.post(reverse("collective_economy:asset-create"), {
        "village": book_a.village_id, "code": "ZC-1", "name": "村办公楼", "kind": "building", "status": "in_use",
        "value": "1500", "sub_account": rent.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["sub_account"]
    assert not Asset.objects.exists()


def test_a_registered_asset_agrees_with_the_books(staff, village_a, county, book_a):
    client = staff(village_a)
    response = client.post(reverse("collective_economy:asset-create"), {
        "village": book_a.village_id, "code": "ZC-1", "name": "农机", "kind": "equipment", "status": "in_use",
        "value": "1500.00", "sub_account": book_a.building.pk, "acquired_on": "2025-03-20"})
    assert response.status_code == 302
    page = client.get(OVERVIEW).content.decode()
    assert "asset-badge-agree" in page and 'id="books-disagree"' not in page
    # Another asset not in the books: the register now differs by its value.
    asset_save(user=None, village=county.villages[0], code="ZC-2", name="水泵", kind=AssetKind.EQUIPMENT,
               value=Decimal("800.00"))
    page = client.get(OVERVIEW).content.decode()
    assert "asset-badge-differ" in page and "800.00" in page
    assert 'id="books-disagree"' in page


def test_a_bad_value_is_said_on_the_field(staff, village_a, book_a):
    response = staff(village_a).post(reverse("collective_economy:asset-create"), {
        "village": book_a.village_id, "code": "ZC-1", "name": "农机", "kind": "equipment", "status": "in_use",
        "value": "12.345"})
    assert response.status_code == 200
    assert response.context["form"].errors["value"] == ["确认小数不超过 2 位."]


def test_the_asset_list_filters_searches_and_exports(staff, clerk_a, county, book_a):
    village = county.villages[0]
    asset_save(user=None, village=village, code="ZC-1", name="村办公楼", kind=AssetKind.BUILDING,
               value=Decimal("60000.00"), location="村委大院")
    asset_save(user=None, village=village, code="ZC-2", name="水泵", kind=AssetKind.EQUIPMENT, value=Decimal("800"))
    client = staff(clerk_a)
    page = client.get(ASSETS, {"kind": "building"}).content.decode()
    assert "村办公楼" in page and "水泵" not in page
    page = client.get(ASSETS, {"q": "水泵"}).content.decode()
    assert "水泵" in page and "村办公楼" not in page
    response = client.get(ASSETS, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["村办公楼", "水泵"]


# --- Resources and their contracts --------------------------------------------------------------


def test_a_resource_under_contract_shows_its_contract(staff, clerk_a, county):
    village = county.villages[0]
    land = resource(village)
    free = resource(village, code="R002", name="西山林地", kind=ResourceKind.FOREST, area=Decimal("300"))
    deal = contract(village, land)
    page = staff(clerk_a).get(RESOURCES).content.decode()
    assert "HT-2025-01 东沟耕地承包" in page
    assert "德昌县绿源农业有限公司" in page
    assert f'/ledger/contracts/{deal.pk}/' in page
    row_free = page[page.index(f'data-resource="{free.pk}"'):]
    assert "asset-badge-free" in row_free[:row_free.index("</tr>")]


def test_a_private_counterparty_is_never_named_in_the_resource_list(staff, county_official, county):
    village = county.villages[0]
    land = resource(village)
    resident = county.residents[0]
    contract(village, land, counterparty_kind="resident", counterparty_name="", counterparty_resident=resident)
    page = staff(county_official).get(RESOURCES).content.decode()
    assert resident.name not in page
    assert "HT-2025-01" in page


def test_contracted_area_is_counted_and_filtered(staff, clerk_a, county):
    village = county.villages[0]
    land = resource(village)
    resource(village, code="R002", name="西山林地", kind=ResourceKind.FOREST, area=Decimal("300"))
    contract(village, land)
    ended = resource(village, code="R003", name="河滩地", area=Decimal("10"))
    contract(village, ended, number="HT-2020-01", status="expired", starts_on=datetime.date(2020, 1, 1),
             ends_on=datetime.date(2024, 12, 31), signed_on=datetime.date(2019, 12, 1))
    overview = assets_overview(clerk_a, county.township_a, 2025, income_of=project_income)
    assert overview.totals.area == Decimal("430.50")
    assert overview.totals.contracted_area == Decimal("120.50")
    client = staff(clerk_a)
    page = client.get(RESOURCES, {"contracted": "no"}).content.decode()
    assert "西山林地" in page and "河滩地" in page and "东沟耕地" not in page
    page = client.get(RESOURCES, {"contracted": "yes"}).content.decode()
    assert "东沟耕地" in page and "西山林地" not in page


def test_a_resource_is_registered_and_changed_on_its_page(staff, village_a, county):
    client = staff(village_a)
    response = client.post(reverse("collective_economy:resource-create"), {
        "village": county.villages[0].pk, "code": "R001", "name": "东沟耕地", "kind": "arable", "area": "120.5"})
    assert response.status_code == 302
    land = Resource.objects.get()
    assert land.area == Decimal("120.50") and land.village == county.villages[0]
    response = client.post(reverse("collective_economy:resource-edit", args=[land.pk]), {
        "code": "R001", "name": "东沟耕地", "kind": "arable", "area": "0"})
    assert response.status_code == 200 and response.context["form"].errors["area"] == ["请输入大于 0 亩的面积。"]


def test_a_county_official_reads_but_does_not_register(staff, county_official, county):
    client = staff(county_official)
    page = client.get(RESOURCES).content.decode()
    assert 'id="resource-create"' not in page
    assert client.get(reverse("collective_economy:resource-create")).status_code == 403


# --- Scope and cost -----------------------------------------------------------------------------


def test_township_b_sees_nothing_of_township_a(staff, clerk_b, county, book_a):
    village = county.villages[0]
    building = asset_save(user=None, village=village, code="ZC-1", name="村办公楼", kind=AssetKind.BUILDING,
                          value=Decimal("60000"))
    land = resource(village)
    client = staff(clerk_b)
    assert client.get(reverse("collective_economy:asset-edit", args=[building.pk])).status_code == 404
    assert client.get(reverse("collective_economy:resource-edit", args=[land.pk])).status_code == 404
    assert client.get(OVERVIEW, {"unit": county.township_a.pk}).status_code == 404
    assert client.get(OVERVIEW, {"unit": village.pk}).status_code == 404
    assert "村办公楼" not in client.get(ASSETS).content.decode()
    assert "东沟耕地" not in client.get(RESOURCES).content.decode()
    overview_page = client.get(OVERVIEW).content.decode()
    assert "德A村" not in overview_page and "8,300.00" not in overview_page


def grow(county, n, start):
    for village in county.villages:
        for i in range(start, start + n):
            land = resource(village, code=f"R{i:03d}", area=Decimal("10"))
            contract(village, land, number=f"HT-{i:03d}")
            asset_save(user=None, village=village, code=f"ZC-{i}", name=f"资产{i}", kind=AssetKind.EQUIPMENT,
                       value=Decimal("100"))


@pytest.mark.parametrize("url", [ASSETS, RESOURCES, OVERVIEW])
def test_the_pages_cost_the_same_queries_for_more_rows(staff, county_official, county, book_a, book_b, url,
                                                       django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff(county_official)
    grow(county, 1, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    grow(county, 5, 2)
    with django_assert_max_num_queries(len(one)):
        assert client.get(url).status_code == 200


def test_the_admin_offers_only_fixed_asset_accounts_and_saves_through_the_service(staff, clerk_a, clerk_b, county,
                                                                                 book_a):
    from tests.helpers.admin import listed, refused

    rent = sub_account_create(book=book_a, account=accounts(book_a)["501"], code="501001", name="租金")
    client = staff(clerk_a)
    add = reverse("admin:collective_economy_asset_add")
    offered = set(client.get(add).context["adminform"].form.fields["sub_account"].queryset)
    assert book_a.building in offered and rent not in offered
    response = client.post(add, {"village": county.villages[0].pk, "code": "ZC-1", "name": "农机",
                                 "kind": "equipment", "status": "in_use", "value": "1500.00",
                                 "sub_account": book_a.building.pk})
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert listed(client.get(reverse("admin:collective_economy_asset_changelist"))) == [asset]
    assert refused(staff(clerk_b).get(reverse("admin:collective_economy_asset_change", args=[asset.pk])))
