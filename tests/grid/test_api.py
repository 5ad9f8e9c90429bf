"""The grid API (/api/v1/grid-workers/, /liaison-households/, /vacancies/): scope, masking, writes, filters."""


import pytest
from django.test import override_settings

from governance.masking import mask_id_number, mask_phone
from governance.services import household_create
from grid.models import GridWorker, LiaisonHousehold, Post
from tests.helpers.api import get, send
from tests.helpers.growth import grow_grid_workers
from tests.helpers.people import make_id_number, new_liaison

WORKERS = "/api/v1/grid-workers/"
LINKS = "/api/v1/liaison-households/"
VACANCIES = "/api/v1/vacancies/"


def names(payload):
    return {row["name"] for row in payload["results"]}


def new_worker_data(county, **extra):
    return {
        "name": "新网格员",
        "id_number": make_id_number("513424", "19920202", 31),
        "phone": "13912345678",
        "worker_type": "micro",
        "unit": county.micro_grids[1].code,
        "start_date": "2024-03-01",
        **extra,
    }


# --- Scope -------------------------------------------------------------------------------------


def test_clerk_b_sees_nothing_of_township_a(county, other_county, clerk_b, login):
    client = login(clerk_b)
    assert names(get(client, WORKERS)) == {county.workers[1].name, county.liaisons[1].name}
    links = get(client, LINKS)["results"]
    assert [row["household"] for row in links] == [county.households[1].number]
    assert [row["code"] for row in get(client, VACANCIES)["results"]] == [county.grids[1].code]


@pytest.mark.parametrize("attr", ["workers", "liaisons"])
def test_worker_detail_outside_scope_is_404(county, clerk_b, login, attr):
    client = login(clerk_b)
    row_a, row_b = getattr(county, attr)
    assert client.get(f"{WORKERS}{row_a.pk}/").status_code == 404
    assert client.get(f"{WORKERS}{row_b.pk}/").status_code == 200


def test_liaison_link_outside_scope_is_404(county, clerk_b, login):
    client = login(clerk_b)
    link_a = LiaisonHousehold.objects.get(household=county.households[0])
    link_b = LiaisonHousehold.objects.get(household=county.households[1])
    assert client.get(f"{LINKS}{link_a.pk}/").status_code == 404
    assert client.get(f"{LINKS}{link_b.pk}/").status_code == 200


@pytest.mark.parametrize("who", ["admin_user", "county_official", "clerk_a", "village_a", "grid_worker_a"])
def test_nobody_sees_another_county(request, county, other_county, login, who):
    client = login(request.getfixturevalue(who))
    foreign = {w.name for w in [*other_county.workers, *other_county.liaisons]}
    assert not names(get(client, WORKERS)) & foreign
    assert not {row["code"] for row in get(client, VACANCIES)["results"]} & {g.code for g in other_county.grids}


def test_clerk_b_cannot_write_to_township_a(county, clerk_b, staff):
    client = staff(clerk_b)
    worker_a = county.workers[0]
    assert send(client, "patch", f"{WORKERS}{worker_a.pk}/", {"name": "x"}).status_code == 404
    assert send(client, "post", f"{WORKERS}{worker_a.pk}/end/", {"end_date": "2024-06-30"}).status_code == 404
    response = send(client, "post", WORKERS, new_worker_data(county, unit=county.micro_grids[0].code))
    assert response.status_code == 400
    assert "outside your scope" in response.json()["unit"][0]
    link_a = LiaisonHousehold.objects.get(household=county.households[0])
    assert client.delete(f"{LINKS}{link_a.pk}/").status_code == 404
    assert LiaisonHousehold.objects.filter(pk=link_a.pk).exists()


def test_anonymous_is_refused(county, client):
    for url in (WORKERS, LINKS, VACANCIES):
        assert client.get(url).status_code in (401, 403)


# --- Masking -------------------------------------------------------------------------------------


def test_township_clerk_sees_masked_id_numbers_and_phones(county, clerk_b, login):
    row = get(login(clerk_b), f"{WORKERS}{county.workers[1].pk}/")
    assert row["id_number"] == mask_id_number(county.workers[1].id_number)
    assert row["phone"] == mask_phone(county.workers[1].phone)
    listed = get(login(clerk_b), WORKERS)["results"]
    assert all("*" in r["id_number"] for r in listed)


def test_village_staff_sees_them_in_full(county, village_a, login):
    row = get(login(village_a), f"{WORKERS}{county.workers[0].pk}/")
    assert row["id_number"] == county.workers[0].id_number
    assert row["phone"] == county.workers[0].phone


def test_masked_caller_sending_back_the_masked_values_keeps_the_real_ones(county, clerk_b, staff):
    client = staff(clerk_b)
    worker = county.workers[1]
    row = get(client, f"{WORKERS}{worker.pk}/")
    response = send(client, "put", f"{WORKERS}{worker.pk}/", {**row, "name": "改名"})
    assert response.status_code == 200, response.content
    worker = GridWorker.objects.get(pk=worker.pk)
    assert (worker.name, worker.id_number, worker.phone) == ("改名", county.workers[1].id_number, "13900000000")


def test_search_matches_a_whole_id_number_only(county, clerk_a, login):
    client = login(clerk_a)
    number = county.liaisons[0].id_number
    assert names(get(client, WORKERS, search=number)) == {county.liaisons[0].name}
    assert names(get(client, WORKERS, search=number[:12])) == set()
    assert names(get(client, WORKERS, search="联户长")) == {county.liaisons[0].name}
    assert names(get(client, WORKERS, search=county.micro_grids[0].code)) == {county.workers[0].name}


# --- Filters -------------------------------------------------------------------------------------


def test_filters(county, county_official, login):
    client = login(county_official)
    everyone = {w.name for w in [*county.workers, *county.liaisons]}
    assert names(get(client, WORKERS)) == everyone
    assert names(get(client, WORKERS, worker_type="liaison")) == {w.name for w in county.liaisons}
    assert names(get(client, WORKERS, township=county.township_a.code)) == {
        county.workers[0].name,
        county.liaisons[0].name,
    }
    assert names(get(client, WORKERS, grid=county.micro_grids[1].code)) == {county.workers[1].name}
    assert names(get(client, WORKERS, village=county.villages[1].code, worker_type="micro")) == {county.workers[1].name}
    assert names(get(client, WORKERS, is_party_member="true")) == set()
    assert names(get(client, WORKERS, current="true")) == everyone
    assert names(get(client, WORKERS, current="false")) == set()
    assert names(get(client, WORKERS, post="none")) == everyone
    assert get(client, VACANCIES, level="micro_grid")["count"] == 0
    assert get(client, VACANCIES, township=county.township_b.code)["count"] == 1
    links = get(client, LINKS, liaison=county.liaisons[1].pk)["results"]
    assert [row["household"] for row in links] == [county.households[1].number]


def test_bad_filter_values_are_400_not_500(county, clerk_b, login):
    client = login(clerk_b)
    for params in (
        {"worker_type": "boss"},
        {"post": "C"},
        {"township": county.township_a.code},
        {"grid": "99999999999999999999999"},
    ):
        assert client.get(WORKERS, params).status_code == 400, params
    assert client.get(LINKS, {"liaison": "abc"}).status_code == 400
    assert client.get(VACANCIES, {"level": "village"}).status_code == 400


# --- Writes ---------------------------------------------------------------------------------------


def test_create_a_worker(county, clerk_b, staff):
    client = staff(clerk_b)
    response = send(client, "post", WORKERS, new_worker_data(county))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["unit"] == county.micro_grids[1].code
    assert body["village"] == county.villages[1].short_name
    assert body["id_number"] == mask_id_number(make_id_number("513424", "19920202", 31))
    assert GridWorker.objects.get(pk=body["id"]).phone == "13912345678"


def test_create_refusals_are_400_with_the_field_message(county, clerk_b, staff):
    client = staff(clerk_b)
    response = send(client, "post", WORKERS, new_worker_data(county, unit=county.grids[1].code))
    assert response.status_code == 400
    assert response.json() == {"unit": ["A micro-grid worker must serve a micro-grid."]}
    response = send(client, "post", WORKERS, new_worker_data(county, end_date="2024-01-01"))
    assert response.json() == {"end_date": ["The end date is before the start date."]}
    response = send(client, "post", WORKERS, new_worker_data(county, id_number="123"))
    assert response.status_code == 400 and "id_number" in response.json()
    response = send(client, "post", WORKERS, new_worker_data(county, backup="abc", resident=[1]))
    assert response.status_code == 400
    assert response.json() == {
        "backup": ["abc was not found or is outside your scope."],
        "resident": ["Give an id, not list."],
    }


def test_backup_in_another_village_is_400(county, county_official, staff):
    client = staff(county_official)
    a, b = county.workers
    response = send(client, "patch", f"{WORKERS}{a.pk}/", {"backup": b.pk, "post": "A"})
    assert response.status_code == 400
    assert response.json() == {"backup": ["The backup must work in the same village or community."]}


def test_pairing_through_the_api_is_mutual(county, clerk_b, staff):
    client = staff(clerk_b)
    b = county.workers[1]
    other = send(client, "post", WORKERS, new_worker_data(county)).json()
    response = send(client, "patch", f"{WORKERS}{b.pk}/", {"backup": other["id"], "post": "A"})
    assert response.status_code == 200, response.content
    assert response.json()["backup_name"] == "新网格员"
    partner = get(client, f"{WORKERS}{other['id']}/")
    assert (partner["backup"], partner["post"]) == (b.pk, Post.B)


def test_end_action(county, clerk_b, staff):
    client = staff(clerk_b)
    liaison = county.liaisons[1]
    response = send(client, "post", f"{WORKERS}{liaison.pk}/end/", {"end_date": "2024-06-30"})
    assert response.status_code == 200, response.content
    assert response.json()["is_current"] is False
    assert response.json()["households_count"] == 0
    again = send(client, "post", f"{WORKERS}{liaison.pk}/end/", {"end_date": "2024-07-01"})
    assert again.status_code == 400
    assert again.json() == {"end_date": ["This worker left the post on 2024-06-30."]}
    assert send(client, "post", f"{WORKERS}{liaison.pk}/end/", {}).status_code == 400


def test_grid_worker_role_cannot_write(county, grid_worker_a, staff):
    client = staff(grid_worker_a)
    assert send(client, "post", WORKERS, new_worker_data(county)).status_code == 403
    worker = county.workers[0]
    assert send(client, "post", f"{WORKERS}{worker.pk}/end/", {"end_date": "2024-06-30"}).status_code == 403
    assert get(client, f"{WORKERS}{worker.pk}/")["id"] == worker.pk


@override_settings(LIAISON_MAX_HOUSEHOLDS=1)
def test_assign_and_release_a_household(county, clerk_b, staff):
    client = staff(clerk_b)
    micro = county.micro_grids[1]
    household = household_create(number=f"{micro.code}0050", address="新户", grid=micro)
    liaison = county.liaisons[1]
    response = send(client, "post", LINKS, {"liaison": liaison.pk, "household": household.number})
    assert response.status_code == 400
    assert response.json() == {"liaison": ["A household liaison looks after at most 1 households."]}
    response = send(client, "post", LINKS, {"liaison": county.workers[1].pk, "household": household.number})
    assert response.json() == {"liaison": ["Only a household liaison looks after households."]}

    link = LiaisonHousehold.objects.get(household=county.households[1])
    assert client.delete(f"{LINKS}{link.pk}/").status_code == 204
    response = send(client, "post", LINKS, {"liaison": liaison.pk, "household": household.number})
    assert response.status_code == 201, response.content
    assert response.json()["liaison_name"] == liaison.name


def test_second_liaison_for_a_household_is_400(county, clerk_b, staff):
    client = staff(clerk_b)
    other = new_liaison(county.grids[1], 44)
    data = {"liaison": other.pk, "household": county.households[1].number}
    response = send(client, "post", LINKS, data)
    assert response.status_code == 400
    assert response.json() == {"household": [f"This household already has a liaison: {county.liaisons[1].name}."]}
    response = send(client, "post", LINKS, {**data, "replace": True})
    assert response.status_code == 201
    assert LiaisonHousehold.objects.get(household=county.households[1]).liaison == other


def test_liaison_outside_scope_is_not_found(county, clerk_b, staff):
    client = staff(clerk_b)
    response = send(client, "post", LINKS, {"liaison": county.liaisons[0].pk, "household": county.households[1].number})
    assert response.status_code == 400
    assert list(response.json()) == ["liaison"]
    assert "outside your scope" in response.json()["liaison"][0]


# --- Query counts and schema ----------------------------------------------------------------------


@pytest.mark.parametrize("url", [WORKERS, LINKS, VACANCIES])
def test_list_query_count_is_constant(county, county_official, login, django_assert_max_num_queries, url):
    client = login(county_official)
    bound = 7  # session, user, count, page (+ margin); the same however many rows
    with django_assert_max_num_queries(bound):
        first = get(client, url, page_size=500)
    grow_grid_workers(county, 12)
    with django_assert_max_num_queries(bound):
        second = get(client, url, page_size=500)
    if url != VACANCIES:
        assert second["count"] > first["count"]


def test_schema_lists_the_grid_endpoints(county, county_official, login):
    schema = login(county_official).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/grid-workers/", "/api/v1/grid-workers/{id}/end/", LINKS, VACANCIES):
        assert path in schema["paths"], path
