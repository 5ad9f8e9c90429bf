"""The staff web pages: scope on every page, masking, counts, and constant query counts."""

import pytest
from django.urls import reverse

from governance.models import Tag
from governance.services import household_create, orgunit_create, resident_create
from tests.helpers.people import make_id_number

HOME = "/"
ORG = "/org/"
HOUSEHOLDS = "/org/households/"
RESIDENTS = "/org/residents/"


def unit_url(unit):
    return reverse("org:orgunit-detail", args=[unit.code])


def household_url(household):
    return reverse("org:household-detail", args=[household.pk])


def text(response) -> str:
    return response.content.decode()


# --- Anonymous ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [HOME, HOUSEHOLDS, RESIDENTS, "/org/units/513424000000/", "/org/households/1/"])
def test_anonymous_is_sent_to_login(client, county, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders_in_chinese(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = text(response)
    assert '<html lang="zh-hans">' in body
    assert "用户名" in body and "密码" in body  # Django's own catalogue labels the fields


def test_wrong_password_shows_the_chinese_error(client, clerk_a):
    response = client.post(reverse("login"), {"username": "township_a", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in text(response)


def test_login_through_the_form_lands_on_home(client, clerk_a):
    response = client.post(reverse("login"), {"username": "township_a", "password": "pw-for-tests-only"})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_logout_is_a_post_and_returns_to_login(login, clerk_a):
    client = login(clerk_a)
    response = client.post(reverse("logout"), {"next": "/login/?logged_out=1"})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 302


# --- Home and unit pages -----------------------------------------------------------------


def test_the_org_page_of_a_township_clerk_shows_his_township_and_its_villages(login, county, clerk_a):
    client = login(clerk_a)
    response = client.get(ORG)
    assert response.status_code == 302 and response.url == unit_url(county.township_a)
    body = text(client.get(response.url))
    assert county.township_a.name in body
    assert county.villages[0].display_name in body
    assert county.township_b.name not in body
    assert county.villages[1].display_name not in body
    # His chain in the top bar: the county above him is his own context, not a leak.
    assert county.county.name in body


def test_clerk_b_sees_nothing_of_township_a_on_any_page(login, county, clerk_b):
    client = login(clerk_b)
    a_names = [county.township_a.name, county.villages[0].display_name, county.grids[0].name]
    a_rows = [county.households[0].number, county.households[0].address, county.residents[0].name]
    for url in (HOME, HOUSEHOLDS, RESIDENTS, unit_url(county.township_b)):
        body = text(client.get(url))
        for value in a_names + a_rows:
            assert value not in body, (url, value)
    # And his own data is there.
    assert county.households[1].number in text(client.get(HOUSEHOLDS))
    assert county.residents[1].name in text(client.get(RESIDENTS))


@pytest.mark.parametrize("which", ["township", "village", "grid", "micro_grid", "county"])
def test_unit_pages_outside_the_scope_are_404(login, county, clerk_b, which):
    unit = {
        "township": county.township_a,
        "village": county.villages[0],
        "grid": county.grids[0],
        "micro_grid": county.micro_grids[0],
        # Above his home unit: he may not walk up past his own township.
        "county": county.county,
    }[which]
    assert login(clerk_b).get(unit_url(unit)).status_code == 404


def test_household_detail_outside_the_scope_is_404(login, county, clerk_b):
    client = login(clerk_b)
    assert client.get(household_url(county.households[0])).status_code == 404
    assert client.get(household_url(county.households[1])).status_code == 200


def test_unknown_objects_are_404_not_500(login, county, clerk_a):
    client = login(clerk_a)
    assert client.get("/org/units/nope/").status_code == 404
    assert client.get("/org/households/999999/").status_code == 404


def test_county_official_sees_both_townships_and_no_other_county(login, county, other_county, county_official):
    client = login(county_official)
    body = text(client.get(unit_url(county.county)))
    assert county.township_a.name in body and county.township_b.name in body
    assert other_county.township_a.name not in body
    households = text(client.get(HOUSEHOLDS))
    assert county.households[0].number in households and county.households[1].number in households
    assert all(h.number not in households for h in other_county.households)
    residents = text(client.get(RESIDENTS))
    assert all(r.name not in residents for r in other_county.residents)
    assert client.get(unit_url(other_county.county)).status_code == 404
    assert client.get(household_url(other_county.households[0])).status_code == 404


def test_nobody_in_the_county_sees_the_other_county(login, county, other_county, clerk_a, village_a, grid_worker_a):
    for user in (clerk_a, village_a, grid_worker_a):
        client = login(user)
        for url in (HOME, HOUSEHOLDS, RESIDENTS):
            body = text(client.get(url))
            assert other_county.county.name not in body
            assert other_county.households[0].number not in body


def test_the_org_page_counts_are_right(login, county, county_official):
    # Township A gets a second village with two grids, households under grid and micro-grid.
    village = orgunit_create(
        code="513424100202",
        name="德A二村村民委员会",
        short_name="德A二村",
        level="village",
        kind="village",
        parent=county.township_a,
    )
    grid = {"level": "grid", "kind": "grid_standard", "parent": village}
    grid1 = orgunit_create(code=f"{village.code}001", name="二村一格", **grid)
    orgunit_create(code=f"{village.code}002", name="二村二格", **grid)
    for n in range(3):
        household = household_create(number=f"H-A2-{n}", address=f"二村{n}号", grid=grid1)
        resident_create(household=household, name=f"二村{n}", id_number=make_id_number("513424", "19900101", 300 + n))

    response = login(county_official).get(unit_url(county.county))
    assert response.status_code == 200
    summary = {key: value for key, _label, value, _unit in response.context["summary"]}
    assert summary == {"township": 2, "village": 3, "grid": 4, "micro_grid": 2, "households": 5, "residents": 5}
    rows = {child.code: child for child in response.context["children"]}
    a, b = rows[county.township_a.code], rows[county.township_b.code]
    assert (a.n_village, a.n_grid, a.n_micro_grid, a.n_households, a.n_residents) == (2, 3, 1, 4, 4)
    assert (b.n_village, b.n_grid, b.n_micro_grid, b.n_households, b.n_residents) == (1, 1, 1, 1, 1)
    assert "2 个乡镇" in text(response) or "2 townships" in text(response)


def test_unit_page_drills_down_and_breadcrumb_stops_at_the_home_unit(login, county, clerk_a):
    response = login(clerk_a).get(unit_url(county.grids[0]))
    assert response.status_code == 200
    chain = [u.code for u in response.context["chain"]]
    assert chain == [county.township_a.code, county.villages[0].code, county.grids[0].code]
    assert county.county.code not in chain
    assert [c.code for c in response.context["children"]] == [county.micro_grids[0].code]


def test_micro_grid_page_lists_its_households(login, county, village_a):
    body = text(login(village_a).get(unit_url(county.micro_grids[0])))
    assert county.households[0].number in body


def test_superuser_without_home_unit_sees_the_top_level_units(client, county, other_county, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")
    body = text(client.get(ORG))
    assert county.county.name in body and other_county.county.name in body


def test_user_without_home_unit_gets_an_explanation(client, county, django_user_model):
    user = django_user_model.objects.create_user("orphan", password="x", role="township")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(HOME)
    assert response.status_code == 200
    assert response.context["no_home_unit"]
    assert county.township_a.name not in text(client.get(HOUSEHOLDS))


# --- Masking -----------------------------------------------------------------------------


def test_township_clerk_sees_masked_id_numbers_and_phones(login, county, clerk_a):
    resident = county.residents[0]
    client = login(clerk_a)
    for url in (RESIDENTS, household_url(county.households[0])):
        body = text(client.get(url))
        assert resident.id_number not in body
        assert resident.phone not in body
        assert resident.id_number[:6] + "********" + resident.id_number[-4:] in body
        assert resident.phone[:3] + "****" + resident.phone[-4:] in body


def test_village_staff_sees_full_id_numbers_and_phones(login, county, village_a):
    resident = county.residents[0]
    client = login(village_a)
    for url in (RESIDENTS, household_url(county.households[0])):
        body = text(client.get(url))
        assert resident.id_number in body
        assert resident.phone in body


# --- Filters, search, sorting, pagination -------------------------------------------------


def test_resident_search_by_exact_id_number_name_and_household_number(login, county, county_official):
    client = login(county_official)
    a, b = county.residents
    response = client.get(RESIDENTS, {"q": a.id_number.lower()})
    assert list(response.context["object_list"]) == [a]
    # A partial ID number finds nothing (no unmasking by guessing).
    assert list(client.get(RESIDENTS, {"q": a.id_number[:10]}).context["object_list"]) == []
    assert list(client.get(RESIDENTS, {"q": b.name}).context["object_list"]) == [b]
    assert list(client.get(RESIDENTS, {"q": county.households[1].number}).context["object_list"]) == [b]


def test_household_filters_by_township_tag_and_search(login, county, county_official):
    tag = Tag.objects.create(code="dibao", name="低保户", applies_to="household")
    county.households[1].tags.add(tag)
    client = login(county_official)
    by_township = client.get(HOUSEHOLDS, {"township": county.township_a.code}).context["object_list"]
    assert list(by_township) == [county.households[0]]
    assert list(client.get(HOUSEHOLDS, {"tag": "dibao"}).context["object_list"]) == [county.households[1]]
    by_address = client.get(HOUSEHOLDS, {"q": county.households[0].address}).context["object_list"]
    assert list(by_address) == [county.households[0]]


def test_filters_ignore_units_outside_the_scope(login, county, clerk_b):
    client = login(clerk_b)
    # A village of township A is no option for clerk B: the filter is dropped, not an error.
    response = client.get(HOUSEHOLDS, {"village": county.villages[0].code})
    assert response.status_code == 200
    assert list(response.context["object_list"]) == [county.households[1]]
    choices = [value for value, _ in response.context["filter_form"].fields["village"].choices]
    assert county.villages[0].code not in choices and county.villages[1].code in choices
    assert "township" not in response.context["filter_form"].fields  # fixed by his scope


def test_bad_query_parameters_never_fail(login, county, county_official):
    client = login(county_official)
    for params in (
        {"page": "abc"},
        {"page": "999"},
        {"sort": "password"},
        {"sort": "-"},
        {"township": "x' OR 1=1"},
        {"tag": "nope"},
        {"sex": "Z"},
        {"q": "x" * 500},
    ):
        assert client.get(HOUSEHOLDS, params).status_code == 200, params
        assert client.get(RESIDENTS, params).status_code == 200, params


def test_sorting_by_header(login, county, county_official):
    client = login(county_official)
    numbers = [h.number for h in client.get(HOUSEHOLDS, {"sort": "-number"}).context["object_list"]]
    assert numbers == sorted(numbers, reverse=True)
    names = [r.name for r in client.get(RESIDENTS, {"sort": "name"}).context["object_list"]]
    assert names == sorted(names)


# --- Query counts ------------------------------------------------------------------------


def _add_rows(county, count, start):
    grid = county.micro_grids[0]
    tag = Tag.objects.get_or_create(code="laoren", defaults={"name": "独居老人", "applies_to": "household"})[0]
    rtag = Tag.objects.get_or_create(code="canji", defaults={"name": "残疾人", "applies_to": "resident"})[0]
    for n in range(start, start + count):
        household = household_create(number=f"HX{n:05d}", address=f"德A村{n}号", grid=grid, tags=[tag])
        resident_create(
            household=household,
            name=f"居民{n}",
            id_number=make_id_number("513424", "19700101", n),
            phone=f"139{n:08d}",
            tags=[rtag],
        )


@pytest.mark.parametrize(
    "url,params",
    [
        (HOUSEHOLDS, {}),
        (HOUSEHOLDS, {"township": "513424100000", "sort": "-residents"}),
        (RESIDENTS, {}),
        (RESIDENTS, {"q": "居民", "sort": "grid"}),
        (ORG + "units/513424000000/", {}),
    ],
)
def test_list_pages_query_count_is_constant(login, county, county_official, django_assert_max_num_queries, url, params):
    client = login(county_official)
    _add_rows(county, 3, start=100)
    with django_assert_max_num_queries(12):
        assert client.get(url, params).status_code == 200
    _add_rows(county, 30, start=200)
    with django_assert_max_num_queries(12):
        response = client.get(url, params)
    assert response.status_code == 200


def test_unit_page_query_count_is_constant(login, county, clerk_a, django_assert_max_num_queries):
    client = login(clerk_a)
    with django_assert_max_num_queries(10):
        client.get(unit_url(county.township_a))
    for n in range(5):
        village = orgunit_create(
            code=f"513424100{210 + n}", name=f"新村{n}", level="village", kind="village", parent=county.township_a
        )
        orgunit_create(
            code=f"{village.code}001", name=f"新村{n}一格", level="grid", kind="grid_standard", parent=village
        )
    with django_assert_max_num_queries(10):
        response = client.get(unit_url(county.township_a))
    assert len(response.context["children"]) == 6
