"""The three assets' and the project library's API: scope (404 outside), writes through the services (400 with
the field's message), a project's income read from the books and never written, categories (the
four read-only, a county's own, another county's refused), constant queries, the schema."""

import datetime
import json
from decimal import Decimal

import pytest

from collective_economy.models import Asset, Project, ProjectCategory, ProjectStatus, Resource
from collective_economy.services.books import sub_account_create
from collective_economy.services.registers import asset_save, contract_save, project_save, resource_save
from tests.helpers.api import get, post, send
from tests.helpers.ledger import accounts, new_book, post_on

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger/"


@pytest.fixture
def book_a(county, village_a):
    book = new_book(county.villages[0], bookkeepers=[village_a])
    book.rent = sub_account_create(book=book, account=accounts(book)["501"], code="501001", name="民宿经营收入")
    book.building = sub_account_create(book=book, account=accounts(book)["151"], code="151001", name="房屋")
    return book


@pytest.fixture
def rows_a(county, book_a):
    village = county.villages[0]
    asset = asset_save(user=None, village=village, code="ZC-1", name="村办公楼", kind="building",
                       value=Decimal("60000"), sub_account=book_a.building)
    land = resource_save(user=None, village=village, code="R001", name="东沟耕地", kind="arable",
                         area=Decimal("120.50"))
    contract_save(user=None, village=village, number="HT-1", title="东沟耕地承包", kind="contracting",
                  subject_kind="land", counterparty_kind="firm", counterparty_name="德昌县绿源农业有限公司",
                  amount=Decimal("36000"), signed_on=datetime.date(2024, 12, 1), starts_on=datetime.date(2025, 1, 1),
                  ends_on=datetime.date(2029, 12, 31), resource=land)
    project = project_save(user=None, village=village, category=ProjectCategory.objects.get(name="文旅康养"),
                           name="德A村民宿", investment=Decimal("200000"), income_accounts=[book_a.rent])
    return {"assets": asset, "resources": land, "projects": project}


def ids(payload):
    return {row["id"] for row in payload["results"]}


def test_township_b_sees_nothing_of_township_a(staff, clerk_b, rows_a):
    client = staff(clerk_b)
    for endpoint, row in rows_a.items():
        assert row.pk not in ids(get(client, f"{API}{endpoint}/")), endpoint
        assert client.get(f"{API}{endpoint}/{row.pk}/").status_code == 404, endpoint
        assert send(client, "patch", f"{API}{endpoint}/{row.pk}/", {"name": "改"}).status_code == 404, endpoint


def test_the_township_reads_its_rows(staff, clerk_a, rows_a):
    client = staff(clerk_a)
    asset = get(client, f"{API}assets/{rows_a['assets'].pk}/")
    assert asset["value"] == "60000.00" and asset["sub_account_code"] == "151001"
    land = get(client, f"{API}resources/{rows_a['resources'].pk}/")
    assert land["area"] == "120.50"
    assert [c["number"] for c in land["contracts_in_force"]] == ["HT-1"]
    assert land["contracts_in_force"][0]["counterparty"] == "德昌县绿源农业有限公司"
    assert ids(get(client, f"{API}resources/", contracted="false")) == set()
    assert ids(get(client, f"{API}resources/", contracted="true")) == {rows_a["resources"].pk}


def test_an_asset_is_registered_on_a_fixed_asset_account_of_its_village(staff, village_a, county, book_a):
    client = staff(village_a)
    body = {"village": county.villages[0].code, "code": "ZC-9", "name": "水泵", "kind": "equipment",
            "value": "800.00", "sub_account": book_a.rent.pk}
    response = post(client, f"{API}assets/", body)
    assert response.status_code == 400
    assert response.json() == {"sub_account": ["Choose a detail account of the fixed assets (固定资产)."]}
    response = post(client, f"{API}assets/", {**body, "sub_account": book_a.building.pk})
    assert response.status_code == 201, response.content
    assert Asset.objects.get(code="ZC-9").sub_account == book_a.building
    # The same number twice, a negative value, a float: each a 400 on its field.
    response = post(client, f"{API}assets/", {**body, "sub_account": None})
    assert response.json() == {"code": ["Number ZC-9 is already used in this village."]}
    response = post(client, f"{API}assets/", {**body, "code": "ZC-10", "value": "-1"})
    assert response.json() == {"value": ["Enter an amount of 0 yuan or more."]}
    response = post(client, f"{API}assets/", {**body, "code": "ZC-11", "value": 12.5})
    assert list(response.json()) == ["value"]


def test_another_villages_account_is_not_found(staff, village_a, county):
    other = new_book(county.villages[1])
    theirs = sub_account_create(book=other, account=accounts(other)["151"], code="151001", name="房屋")
    response = post(staff(village_a), f"{API}assets/", {
        "village": county.villages[0].code, "code": "ZC-9", "name": "水泵", "kind": "equipment", "value": "800",
        "sub_account": theirs.pk})
    assert response.status_code == 400 and list(response.json()) == ["sub_account"]


def test_a_resource_needs_an_area(staff, village_a, county):
    client = staff(village_a)
    body = {"village": county.villages[0].code, "code": "R9", "name": "河滩地", "kind": "arable", "area": "0"}
    assert post(client, f"{API}resources/", body).json() == {"area": ["Enter an area above 0 mu."]}
    response = post(client, f"{API}resources/", {**body, "area": "10.5"})
    assert response.status_code == 201 and response.json()["contracts_in_force"] == []
    assert Resource.objects.get(code="R9").area == Decimal("10.50")


def test_a_projects_income_comes_from_the_books_and_is_not_written(staff, village_a, clerk_a, book_a, rows_a):
    project = rows_a["projects"]
    client = staff(village_a)
    assert get(client, f"{API}projects/{project.pk}/")["income"] == "0.00"
    post_on(book_a, datetime.date(2025, 5, 1), book_a.rent, "5000.50", preparer=village_a, reviewer=clerk_a)
    assert get(client, f"{API}projects/{project.pk}/")["income"] == "5000.50"
    assert get(client, f"{API}projects/")["results"][0]["income"] == "5000.50"
    response = send(client, "patch", f"{API}projects/{project.pk}/", {"income": "999999.00", "status": "operating"})
    assert response.status_code == 200
    assert response.json()["income"] == "5000.50" and response.json()["status"] == "operating"
    project.refresh_from_db()
    assert project.status == ProjectStatus.OPERATING
    # Changing one field keeps the villages and the income accounts.
    assert list(project.income_accounts.all()) == [book_a.rent]


def test_a_project_is_added_with_its_villages_and_accounts(staff, village_a, clerk_a, county, book_a):
    client = staff(clerk_a)
    category = ProjectCategory.objects.get(name="特优农业")
    response = post(client, f"{API}projects/", {
        "village": county.villages[0].code, "category": category.code, "name": "花椒基地", "investment": "80000",
        "income_accounts": [book_a.rent.pk]})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["villages"] == [county.villages[0].code] and data["income"] == "0.00"
    bank = accounts(book_a)["102"]
    not_income = sub_account_create(book=book_a, account=bank, code="102001", name="农商行")
    response = post(client, f"{API}projects/", {
        "village": county.villages[0].code, "category": category.code, "name": "花椒基地二期", "investment": "1",
        "income_accounts": [not_income.pk]})
    assert response.status_code == 400 and list(response.json()) == ["income_accounts"]


def test_another_countys_category_is_refused(staff, village_a, county, other_county):
    foreign = ProjectCategory.objects.create(county=other_county.county, code="513425-1", name="会理石榴")
    client = staff(village_a)
    assert foreign.pk not in ids(get(client, f"{API}project-categories/"))
    response = post(client, f"{API}projects/", {
        "village": county.villages[0].code, "category": foreign.code, "name": "石榴园", "investment": "1"})
    assert response.status_code == 400 and list(response.json()) == ["category"]
    assert not Project.objects.exists()


def test_a_county_officer_adds_a_local_category_but_not_the_shipped_ones(staff, county_official, clerk_a, county):
    client = staff(county_official)
    response = post(client, f"{API}project-categories/", {"name": "光伏发电"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["county"] == county.county.code and data["code"].startswith(county.county.code)
    shipped = ProjectCategory.objects.get(name="生态经济")
    response = send(client, "patch", f"{API}project-categories/{shipped.pk}/", {"name": "改名"})
    assert response.status_code == 403
    shipped.refresh_from_db()
    assert shipped.name == "生态经济"
    assert send(client, "patch", f"{API}project-categories/{data['id']}/", {"is_active": False}).status_code == 200
    # A township officer only reads them; his county's own is among them.
    township = staff(clerk_a)
    assert data["id"] in ids(get(township, f"{API}project-categories/"))
    assert post(township, f"{API}project-categories/", {"name": "乡里的"}).status_code == 403


def test_a_county_official_reads_but_does_not_write(staff, county_official, county, rows_a):
    client = staff(county_official)
    assert rows_a["assets"].pk in ids(get(client, f"{API}assets/"))
    response = post(client, f"{API}assets/", {"village": county.villages[0].code, "code": "ZC-2", "name": "x",
                                               "kind": "other", "value": "1"})
    assert response.status_code == 403


@pytest.mark.parametrize("endpoint", ["assets", "resources", "projects"])
def test_lists_cost_the_same_queries_for_more_rows(staff, county_official, county, book_a, endpoint,
                                                   django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    category = ProjectCategory.objects.get(name="城郊服务")

    def grow(n, start):
        for i in range(start, start + n):
            village = county.villages[i % 2]
            asset_save(user=None, village=village, code=f"ZC-{i}", name="设备", kind="equipment", value=Decimal("1"))
            land = resource_save(user=None, village=village, code=f"R{i}", name="地", kind="arable",
                                 area=Decimal("1"))
            contract_save(user=None, village=village, number=f"HT-{i}", title="承包", kind="contracting",
                          subject_kind="land", counterparty_kind="firm", counterparty_name="某公司",
                          amount=Decimal("1"), signed_on=datetime.date(2025, 1, 1),
                          starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 1, 1), resource=land)
            project_save(user=None, village=village, villages=[county.villages[(i + 1) % 2]], category=category,
                         name=f"项目{i}", investment=Decimal("1"), income_accounts=[book_a.rent])

    client = staff(county_official)
    grow(1, 0)
    with CaptureQueriesContext(connection) as one:
        get(client, f"{API}{endpoint}/")
    grow(6, 1)
    with django_assert_max_num_queries(len(one)):
        assert get(client, f"{API}{endpoint}/")["count"] == 7


def test_the_schema_describes_the_endpoints(staff, county_official):
    response = staff(county_official).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    paths = schema["paths"]
    for endpoint in ("assets", "resources", "projects", "project-categories"):
        assert f"{API}{endpoint}/" in paths and f"{API}{endpoint}/{{id}}/" in paths
    project = schema["components"]["schemas"]["Project"]["properties"]
    assert project["income"]["readOnly"] is True
