"""The REST API under /api/v1/: scope, authentication, masking, filters, writes, query counts."""


import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token

from governance.masking import mask_id_number, mask_phone
from governance.models import Household, Level, Resident, Tag
from tests.helpers.api import get, send
from tests.helpers.growth import grow_residents
from tests.helpers.people import PASSWORD, make_id_number

ORG_UNITS = "/api/v1/org-units/"
HOUSEHOLDS = "/api/v1/households/"
RESIDENTS = "/api/v1/residents/"


def codes(payload):
    return {row["code"] for row in payload["results"]}


def numbers(payload):
    return {row["number"] for row in payload["results"]}


def subtree_codes(chain, index):
    """Codes of one township of a cast county and of everything below it."""
    return {
        chain.townships[index].code,
        chain.villages[index].code,
        chain.grids[index].code,
        chain.micro_grids[index].code,
    }


def message(text):
    with translation.override("en"):
        return str(text)


# --- Scope ---------------------------------------------------------------------------------


def test_clerk_b_lists_nothing_of_township_a(county, other_county, clerk_b, login):
    client = login(clerk_b)
    assert codes(get(client, ORG_UNITS)) == subtree_codes(county, 1)
    assert numbers(get(client, HOUSEHOLDS)) == {county.households[1].number}
    residents = get(client, RESIDENTS)["results"]
    assert [row["name"] for row in residents] == [county.residents[1].name]


@pytest.mark.parametrize(
    ("url", "attr"),
    [(ORG_UNITS, "villages"), (HOUSEHOLDS, "households"), (RESIDENTS, "residents")],
)
def test_detail_outside_scope_is_404(county, clerk_b, login, url, attr):
    client = login(clerk_b)
    row_a, row_b = getattr(county, attr)
    assert client.get(f"{url}{row_a.pk}/").status_code == 404
    assert client.get(f"{url}{row_b.pk}/").status_code == 200


def test_county_official_sees_both_townships_and_no_other_county(county, other_county, county_official, login):
    client = login(county_official)
    units = codes(get(client, ORG_UNITS))
    assert units == {county.county.code} | subtree_codes(county, 0) | subtree_codes(county, 1)
    assert numbers(get(client, HOUSEHOLDS)) == {h.number for h in county.households}
    assert get(client, RESIDENTS)["count"] == 2
    assert client.get(f"{HOUSEHOLDS}{other_county.households[0].pk}/").status_code == 404


@pytest.mark.parametrize("who", ["admin_user", "county_official", "clerk_a", "clerk_b", "village_a", "grid_worker_a"])
def test_nobody_sees_another_county(request, county, other_county, login, who):
    client = login(request.getfixturevalue(who))
    foreign = {unit.code for unit in [other_county.county, *other_county.townships, *other_county.grids]}
    assert not codes(get(client, ORG_UNITS, page_size=500)) & foreign
    assert not numbers(get(client, HOUSEHOLDS)) & {h.number for h in other_county.households}


def test_anonymous_is_refused(county, client):
    assert client.get(ORG_UNITS).status_code in (401, 403)


def test_token_auth(county, clerk_b, client):
    token = Token.objects.create(user=clerk_b)
    response = client.get(HOUSEHOLDS, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert numbers(response.json()) == {county.households[1].number}
    # Session authentication comes first and sends no WWW-Authenticate header, hence 403.
    assert client.get(HOUSEHOLDS, HTTP_AUTHORIZATION="Token not-a-token").status_code in (401, 403)


def test_token_endpoint_issues_a_token(county, clerk_b, client):
    response = client.post(reverse("api-token"), {"username": "township_b", "password": "pw-for-tests-only"})
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=clerk_b).key


@pytest.mark.parametrize("url", [ORG_UNITS, HOUSEHOLDS, RESIDENTS])
def test_browsable_api_renders(county, clerk_b, staff, url):
    response = staff(clerk_b).get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert county.households[0].number not in response.content.decode()


def test_schema_and_docs_are_served(county, clerk_b, login):
    client = login(clerk_b)
    assert client.get(reverse("api-schema")).status_code == 200
    assert client.get(reverse("api-docs")).status_code == 200


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("name", ["api-docs", "api-schema"])
def test_a_browser_not_signed_in_is_sent_to_the_login_page_and_back(client, county, clerk_b, name):
    url = reverse(name)
    response = client.get(url, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"
    # Signing in there brings him back to what he asked for.
    login = client.post(response.url, {"username": clerk_b.username, "password": PASSWORD})
    assert login.status_code == 302 and login.url == url, login.content[:300]
    assert client.get(url, HTTP_ACCEPT=BROWSER_ACCEPT).status_code == 200


def test_a_program_without_credentials_gets_a_refusal_and_with_a_token_the_schema(client, county, clerk_b):
    url = reverse("api-schema")
    response = client.get(url, {"format": "json"}, HTTP_ACCEPT="application/json")
    assert response.status_code in (401, 403) and not response.has_header("Location")
    token = Token.objects.create(user=clerk_b)
    response = client.get(url, {"format": "json"}, HTTP_ACCEPT="application/json",
                          HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and response.json()["info"]["title"] == "Yiwang API"


# --- Masking -------------------------------------------------------------------------------


def test_township_clerk_sees_masked_id_and_phone(county, clerk_a, login):
    resident = county.residents[0]
    client = login(clerk_a)
    row = get(client, RESIDENTS)["results"][0]
    assert row["id_number"] == mask_id_number(resident.id_number) != resident.id_number
    assert row["phone"] == mask_phone(resident.phone) != resident.phone
    assert row["birth_date"] is None
    detail = get(client, f"{RESIDENTS}{resident.pk}/")
    assert detail["id_number"] == mask_id_number(resident.id_number)


def test_village_staff_sees_full_id_and_phone(county, village_a, login):
    resident = county.residents[0]
    row = get(login(village_a), RESIDENTS)["results"][0]
    assert row["id_number"] == resident.id_number
    assert row["phone"] == resident.phone
    assert row["birth_date"] == "1980-01-01"


# --- Filters -------------------------------------------------------------------------------


def test_parent_filter_by_code_or_id(county, county_official, login):
    client = login(county_official)
    township = county.township_a
    assert codes(get(client, ORG_UNITS, parent=township.code)) == {county.villages[0].code}
    assert codes(get(client, ORG_UNITS, parent=str(township.pk))) == {county.villages[0].code}


def test_level_filter(county, county_official, login):
    client = login(county_official)
    assert codes(get(client, ORG_UNITS, level=Level.GRID)) == {g.code for g in county.grids}
    both = get(client, ORG_UNITS, level=[Level.GRID, Level.MICRO_GRID])
    assert codes(both) == {g.code for g in county.grids + county.micro_grids}


def test_ancestor_filter_gives_every_descendant(county, county_official, login):
    client = login(county_official)
    payload = get(client, ORG_UNITS, ancestor=county.township_a.code)
    assert codes(payload) == subtree_codes(county, 0) - {county.township_a.code}


def test_ancestor_out_of_scope_is_refused_like_an_unknown_code(county, clerk_b, login):
    client = login(clerk_b)
    out_of_scope = client.get(ORG_UNITS, {"ancestor": county.township_a.code}, HTTP_ACCEPT_LANGUAGE="en")
    unknown = client.get(ORG_UNITS, {"ancestor": "999999999999"}, HTTP_ACCEPT_LANGUAGE="en")
    assert out_of_scope.status_code == unknown.status_code == 400
    assert "outside your scope" in out_of_scope.json()["ancestor"][0]
    assert "outside your scope" in unknown.json()["ancestor"][0]


def test_org_unit_counts(county, county_official, login):
    payload = get(login(county_official), f"{ORG_UNITS}{county.township_a.pk}/")
    assert payload["children_count"] == 1
    assert payload["households_count"] == 1
    assert payload["descendants_count"] == 3
    assert payload["parent"] == county.county.code
    assert payload["depth"] == 1


def test_household_filters_and_search(county, county_official, login):
    client = login(county_official)
    a, b = county.households
    tag = Tag.objects.create(code="dibao", name="低保户", applies_to=Tag.AppliesTo.HOUSEHOLD)
    b.tags.add(tag)
    assert numbers(get(client, HOUSEHOLDS, township=county.township_a.code)) == {a.number}
    assert numbers(get(client, HOUSEHOLDS, village=county.villages[1].code)) == {b.number}
    # A household under a micro-grid is found by its grid.
    assert numbers(get(client, HOUSEHOLDS, grid=county.grids[0].code)) == {a.number}
    assert numbers(get(client, HOUSEHOLDS, tag="dibao")) == {b.number}
    assert numbers(get(client, HOUSEHOLDS, search=b.address)) == {b.number}


def test_resident_filters_and_search(county, county_official, login):
    client = login(county_official)
    a, b = county.residents
    assert get(client, RESIDENTS, household=county.households[0].number)["results"][0]["id"] == a.pk
    assert get(client, RESIDENTS, township=county.township_b.code)["results"][0]["id"] == b.pk
    assert get(client, RESIDENTS, sex=a.sex)["count"] == sum(r.sex == a.sex for r in county.residents)
    assert get(client, RESIDENTS, search=a.id_number)["results"][0]["id"] == a.pk
    # Only a whole ID number matches: a fragment would reveal masked digits.
    assert get(client, RESIDENTS, search=a.id_number[6:14])["count"] == 0


# --- Writes --------------------------------------------------------------------------------


@pytest.fixture
def writer_b(clerk_b, staff):
    return staff(clerk_b)


def test_create_household_in_scope(county, writer_b):
    grid = county.micro_grids[1]
    response = send(writer_b, "post", HOUSEHOLDS, {"number": "H-B-2", "address": "B村2组", "grid": grid.code})
    assert response.status_code == 201, response.content
    assert Household.objects.get(number="H-B-2").grid == grid
    assert response.json()["grid"] == grid.code


def test_create_household_in_a_grid_out_of_scope_is_400(county, writer_b):
    response = send(writer_b, "post", HOUSEHOLDS, {"number": "H-X", "address": "x", "grid": county.grids[0].code})
    assert response.status_code == 400
    assert response.json()["grid"][0] == f"{county.grids[0].code} was not found or is outside your scope."
    assert not Household.objects.filter(number="H-X").exists()


def test_create_household_on_a_village_is_400_with_the_rule(county, writer_b):
    response = send(writer_b, "post", HOUSEHOLDS, {"number": "H-V", "address": "x", "grid": county.villages[1].code})
    assert response.status_code == 400
    assert response.json()["grid"] == [message("A household must belong to a grid or a micro-grid.")]
    assert not Household.objects.filter(number="H-V").exists()


def test_create_resident_with_a_bad_id_number_is_400(county, writer_b):
    good = make_id_number("513424", "19900101", 7)
    data = {"household": county.households[1].number, "name": "张三", "id_number": good[:-1] + "Y"}
    response = send(writer_b, "post", RESIDENTS, data)
    assert response.status_code == 400
    assert response.json()["id_number"] == [message("ID number must be 17 digits followed by a digit or X.")]
    wrong_check = good[:-1] + ("1" if good[-1] != "1" else "2")
    response = send(writer_b, "post", RESIDENTS, {**data, "id_number": wrong_check})
    assert response.status_code == 400
    assert response.json()["id_number"] == [message("ID number check digit is wrong.")]
    assert Resident.objects.count() == 2


def test_create_resident_in_a_household_out_of_scope_is_400(county, writer_b):
    data = {
        "household": county.households[0].number,
        "name": "张三",
        "id_number": make_id_number("513424", "19900101", 7),
    }
    response = send(writer_b, "post", RESIDENTS, data)
    assert response.status_code == 400
    assert "outside your scope" in response.json()["household"][0]
    assert Resident.objects.count() == 2


def test_create_resident_derives_birth_date_and_sex(county, writer_b):
    data = {
        "household": county.households[1].number,
        "name": "李四",
        "id_number": make_id_number("513424", "19900101", 8).lower(),
        "relation": "child",
    }
    response = send(writer_b, "post", RESIDENTS, data)
    assert response.status_code == 201, response.content
    resident = Resident.objects.get(name="李四")
    assert resident.birth_date.isoformat() == "1990-01-01"
    assert resident.sex == "F"
    assert response.json()["id_number"] == mask_id_number(resident.id_number)


def test_update_household(county, writer_b):
    b = county.households[1]
    response = send(writer_b, "patch", f"{HOUSEHOLDS}{b.pk}/", {"address": "新地址"})
    assert response.status_code == 200
    b.refresh_from_db()
    assert b.address == "新地址"
    a = county.households[0]
    assert send(writer_b, "patch", f"{HOUSEHOLDS}{a.pk}/", {"address": "x"}).status_code == 404


def test_update_resident_keeps_the_number_a_masked_user_sends_back(county, writer_b):
    resident = county.residents[1]
    shown = writer_b.get(f"{RESIDENTS}{resident.pk}/").json()
    response = send(writer_b, "put", f"{RESIDENTS}{resident.pk}/", {**shown, "name": "新名字", "tags": []})
    assert response.status_code == 200, response.content
    resident.refresh_from_db()
    assert resident.name == "新名字"
    assert resident.id_number == county.residents[1].id_number
    assert resident.phone == county.residents[1].phone


def test_update_resident_with_a_bad_phone_is_400(county, writer_b):
    resident = county.residents[1]
    response = send(writer_b, "patch", f"{RESIDENTS}{resident.pk}/", {"phone": "12345"})
    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    resident.refresh_from_db()
    assert resident.phone == county.residents[1].phone


def test_writing_needs_the_model_permission(county, clerk_b, login):
    client = login(clerk_b)  # no role permissions synced
    data = {"number": "H-B-3", "address": "x", "grid": county.grids[1].code}
    assert send(client, "post", HOUSEHOLDS, data).status_code == 403


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ORG_UNITS, HOUSEHOLDS, RESIDENTS])
def test_list_query_count_is_constant(county, county_official, login, django_assert_max_num_queries, url):
    client = login(county_official)
    bound = 7  # session, user, count, page, prefetch (+ margin); the same however many rows
    with django_assert_max_num_queries(bound):
        first = get(client, url)
    grow_residents(county, 12)
    with django_assert_max_num_queries(bound):
        second = get(client, url)
    assert second["count"] > first["count"]


def test_api_docs_load_everything_from_this_server(client, county_official, login):
    """Government intranets have no internet: the Swagger UI must not come from a CDN."""
    import re

    login(county_official)
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in s for s in sources), sources
    assert all(s.startswith("/") for s in sources), sources
