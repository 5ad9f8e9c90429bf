"""The party-building API: scope (404 outside), wish transitions, writes through the services, masking, queries."""

import datetime
import json

import pytest

from governance.masking import mask_id_number, mask_phone
from partybuild.models import CentralHousehold, UnitRegistration, Wish
from partybuild.services import (
    SECOND_ACTIVE_REGISTRATION,
    SERVICE_OVERLAP,
    WISH_WRONG_STATE,
    service_record_create,
    wish_post,
)
from tests.helpers.api import get, post
from tests.helpers.growth import grow_party_rows
from tests.helpers.messages import english
from tests.helpers.people import grid_role_in_village, new_member, new_resident, operator

API = "/api/v1/"

ENDPOINTS = {
    "party-organizations": lambda c, i: c.branches[i],
    "party-members": lambda c, i: c.members[i],
    "central-households": lambda c, i: CentralHousehold.objects.get(household=c.households[i]),
    "unit-registrations": lambda c, i: UnitRegistration.objects.get(community=c.villages[i]),
    "member-registrations": lambda c, i: c.members[i].registrations.get(),
    "wishes": lambda c, i: c.wishes[i],
    "service-records": lambda c, i: c.members[i].services.get(),
}


def ids(payload):
    return {row["id"] for row in payload["results"]}


# --- Scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_clerk_b_sees_nothing_of_township_a(county, other_county, clerk_b, login, endpoint):
    client = login(clerk_b)
    row_a, row_b = ENDPOINTS[endpoint](county, 0), ENDPOINTS[endpoint](county, 1)
    listed = ids(get(client, f"{API}{endpoint}/", page_size=500))
    assert row_b.pk in listed and row_a.pk not in listed
    assert ENDPOINTS[endpoint](other_county, 1).pk not in listed
    assert client.get(f"{API}{endpoint}/{row_a.pk}/").status_code == 404
    assert client.get(f"{API}{endpoint}/{row_b.pk}/").status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_is_refused(county, client, endpoint):
    assert client.get(f"{API}{endpoint}/").status_code in (401, 403)


# --- Wish transitions ----------------------------------------------------------------------


def test_the_six_steps_through_the_api(county, village_a, staff):
    client = staff(village_a)
    member = county.members[0]
    response = post(client, f"{API}wishes/", {
        "community": county.villages[0].code, "household": county.households[0].number, "title": "换灯泡",
        "category": "housing",
    })
    assert response.status_code == 201, response.content
    url = f"{API}wishes/{response.json()['id']}/"
    steps = [
        ("dispatch", {"member": member.resident.id_number}, "dispatched"),
        ("take", {"member": member.pk}, "taken"),
        ("complete", {"result": "已更换"}, "done"),
        ("verify", None, "verified"),
    ]
    for step, data, state in steps:
        assert get(client, url)["allowed_steps"] == [step]
        response = post(client, f"{url}{step}/", data)
        assert response.status_code == 200, (step, response.content)
        assert response.json()["state"] == state
    # A role that takes no step is refused with the reason; the village's staff publishes.
    response = post(staff(grid_role_in_village(county)), f"{url}publish/")
    assert response.status_code == 400 and "Grid worker" in response.json()["non_field_errors"][0]
    client = staff(village_a)  # the same test client, logged in as the village's staff again
    assert get(client, url)["allowed_steps"] == ["publish"]
    response = post(client, f"{url}publish/")
    assert response.status_code == 200 and response.json()["state"] == "published"
    final = get(client, url)
    assert final["taken_by"] == member.pk and final["result"] == "已更换" and final["published_at"]
    assert [(e["action"], e["actor_name"]) for e in final["events"]] == [
        ("post", "village_a"), ("dispatch", "village_a"), ("take", "village_a"), ("complete", "village_a"),
        ("verify", "village_a"), ("publish", "village_a"),
    ]
    assert final["events"][1]["member"] == member.pk and final["events"][3]["comment"] == "已更换"


def test_a_step_out_of_order_is_400_with_the_message(county, village_a, staff):
    client = staff(village_a)
    response = post(client, f"{API}wishes/{county.wishes[0].pk}/verify/")
    assert response.status_code == 400
    expected = english(WISH_WRONG_STATE, current=english("Posted"), expected=english("Done"))
    assert response.json() == {"non_field_errors": [expected]}
    assert Wish.objects.get(pk=county.wishes[0].pk).state == "posted"


def test_a_step_on_a_wish_outside_scope_is_404(county, clerk_b, staff):
    client = staff(clerk_b)
    response = post(client, f"{API}wishes/{county.wishes[0].pk}/dispatch/", {"member": county.members[1].pk})
    assert response.status_code == 404
    assert Wish.objects.get(pk=county.wishes[0].pk).state == "posted"


def test_a_member_outside_scope_is_not_found(county, clerk_b, staff):
    client = staff(clerk_b)
    response = post(client, f"{API}wishes/{county.wishes[1].pk}/dispatch/", {"member": county.members[0].pk})
    assert response.status_code == 400
    assert response.json()["member"] == [f"{county.members[0].pk} was not found or is outside your scope."]


def test_an_open_dispatch_and_a_missing_member(county, village_a, staff):
    client = staff(village_a)
    url = f"{API}wishes/{county.wishes[0].pk}/"
    assert post(client, f"{url}dispatch/", {"member": None}).json()["dispatched_to"] is None
    assert post(client, f"{url}take/", {}).status_code == 400
    assert post(client, f"{url}take/", {"member": "not-a-number"}).status_code == 400
    assert post(client, f"{url}take/", {"member": county.members[0].pk}).json()["taken_by"] == county.members[0].pk


def test_transitions_need_the_change_permission(county, village_a, login):
    client = login(village_a)  # permissions not synced: a user without the role's rights
    assert post(client, f"{API}wishes/{county.wishes[0].pk}/dispatch/", {}).status_code == 403
    assert client.get(f"{API}wishes/{county.wishes[0].pk}/").status_code == 200


def test_edit_a_wish_but_not_its_state_or_household(county, village_a, staff):
    client = staff(village_a)
    url = f"{API}wishes/{county.wishes[0].pk}/"
    response = client.patch(url, json.dumps({"title": "修屋顶", "state": "published"}),
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["title"] == "修屋顶"
    assert response.json()["state"] == "posted"
    response = client.patch(url, json.dumps({"household": county.households[0].number}),
                            content_type="application/json")
    assert response.status_code == 200
    other = wish_post(user=operator(), community=county.villages[0], title="x", category="other",
                      resident=county.residents[0])
    response = client.patch(url, json.dumps({"resident": county.residents[0].pk}), content_type="application/json")
    assert response.status_code == 400 and other.pk


# --- Writes through the services -----------------------------------------------------------


def test_second_active_registration_is_400(county, village_a, staff):
    client = staff(village_a)
    member = county.members[0]
    response = post(client, f"{API}member-registrations/", {
        "member": member.pk, "community": county.villages[0].code, "registered_on": "2025-01-01",
    })
    assert response.status_code == 400
    assert response.json()["member"] == [
        english(SECOND_ACTIVE_REGISTRATION, member=member.resident.name, community=county.villages[0].display_name)
    ]


def test_register_end_and_claim(county, village_a, staff):
    client = staff(village_a)
    member = new_member(county)
    response = post(client, f"{API}member-registrations/", {
        "member": member.resident.id_number, "community": county.villages[0].code, "registered_on": "2025-01-01",
        "posts": ["policy", "environment"],
    })
    assert response.status_code == 201, response.content
    url = f"{API}member-registrations/{response.json()['id']}/"
    claimed = post(client, f"{url}claim/", {"post": "patrol", "claimed_on": "2025-02-01"})
    assert claimed.status_code == 201, claimed.content
    assert sorted(c["post"] for c in get(client, url)["claims"]) == ["environment", "patrol", "policy"]
    assert post(client, f"{url}end/", {"ended_on": "2024-01-01"}).status_code == 400
    ended = post(client, f"{url}end/", {"ended_on": "2025-06-01"})
    assert ended.status_code == 200 and ended.json()["status"] == "ended"


def test_unit_registration_with_offers_and_masked_phone(county, clerk_a, staff):
    client = staff(clerk_a)
    response = post(client, f"{API}unit-registrations/", {
        "unit_name": "县医院", "party_organization": "县医院党委", "community": county.villages[0].code,
        "registered_on": "2025-01-01", "contact_phone": "13912345678",
        "offers": [{"kind": "resource", "description": "义诊"}],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["contact_phone"] == mask_phone("13912345678") and body["offers"][0]["kind"] == "resource"
    url = f"{API}unit-registrations/{body['id']}/"
    # Sending back the masked phone keeps the stored one.
    assert client.patch(url, json.dumps({"contact_phone": body["contact_phone"], "contact_name": "李"}),
                        content_type="application/json").status_code == 200
    assert UnitRegistration.objects.get(pk=body["id"]).contact_phone == "13912345678"
    assert post(client, f"{url}offers/", {"kind": "need", "description": "志愿者"}).status_code == 201
    assert post(client, f"{url}end/").json()["status"] == "ended"
    assert post(client, f"{url}end/").status_code == 400


def test_service_record_overlap_is_400(county, village_a, staff):
    client = staff(village_a)
    member = county.members[0]
    data = {"member": member.pk, "community": county.villages[0].code, "date": "2025-05-04",
            "start_time": "09:00", "end_time": "11:00", "kind": "patrol"}
    created = post(client, f"{API}service-records/", data)
    assert created.status_code == 201, created.content
    assert created.json()["hours"] == "2.0" and created.json()["points"] == 20
    response = post(client, f"{API}service-records/", {**data, "start_time": "10:00", "end_time": "12:00"})
    assert response.status_code == 400
    assert response.json()["start_time"] == [english(
        SERVICE_OVERLAP, start="10:00", end="12:00", member=member.resident.name, other_start="09:00",
        other_end="11:00", date="2025-05-04",
    )]
    assert post(client, f"{API}service-records/", {**data, "end_time": "08:00"}).status_code == 400


def test_party_member_create_update_and_the_resident_is_fixed(county, clerk_a, staff):
    client = staff(clerk_a)
    resident = new_resident(county)
    response = post(client, f"{API}party-members/", {
        "resident": resident.id_number, "organization": county.branches[0].pk, "joined_on": "2020-07-01",
    })
    assert response.status_code == 201, response.content
    url = f"{API}party-members/{response.json()['id']}/"
    patched = client.patch(url, json.dumps({"status": "probationary", "resident": county.residents[0].pk}),
                           content_type="application/json")
    assert patched.status_code == 400 and "resident" in patched.json()
    assert post(client, f"{API}party-members/", {
        "resident": county.residents[1].pk, "organization": county.branches[0].pk, "joined_on": "2020-07-01",
    }).status_code == 400  # township B's resident is outside clerk A's scope


def test_central_household_delete(county, clerk_a, staff):
    client = staff(clerk_a)
    central = CentralHousehold.objects.get(household=county.households[0])
    assert client.delete(f"{API}central-households/{central.pk}/").status_code == 204
    assert not CentralHousehold.objects.filter(pk=central.pk).exists()


# --- Masking, filters ----------------------------------------------------------------------


def test_township_clerk_sees_masked_members(county, clerk_a, login):
    row = get(login(clerk_a), f"{API}party-members/{county.members[0].pk}/")
    resident = county.residents[0]
    assert row["id_number"] == mask_id_number(resident.id_number) and row["phone"] == mask_phone(resident.phone)
    assert row["registered_with"] == county.villages[0].code


def test_village_staff_sees_full_members(county, village_a, login):
    row = get(login(village_a), f"{API}party-members/{county.members[0].pk}/")
    assert row["id_number"] == county.residents[0].id_number


def test_filters(county, county_official, login):
    client = login(county_official)
    assert ids(get(client, f"{API}wishes/", state="posted", community=county.villages[0].code)) == {
        county.wishes[0].pk
    }
    assert ids(get(client, f"{API}party-members/", organization=county.committees[1].pk)) == {county.members[1].pk}
    assert ids(get(client, f"{API}party-members/", registered="false")) == set()
    assert ids(get(client, f"{API}service-records/", branch=county.township_a.code)) == {
        county.members[0].services.get().pk
    }
    assert ids(get(client, f"{API}member-registrations/", post="patrol", community=county.township_b.code)) == {
        county.members[1].registrations.get().pk
    }
    assert ids(get(client, f"{API}party-organizations/", kind="committee")) == {c.pk for c in county.committees}
    for bad in ({"organization": "abc"}, {"organization": "99999999999999999999"}, {"member": "x"}):
        endpoint = "party-members" if "organization" in bad else "service-records"
        response = client.get(f"{API}{endpoint}/", bad, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, response.content


def test_double_points_both_sides_see_the_record(county, clerk_a, clerk_b, login):
    service = service_record_create(
        member=county.members[0], community=county.villages[1], date=datetime.date(2025, 5, 4),
        start_time=datetime.time(9), end_time=datetime.time(10), kind="patrol",
    )
    assert service.pk in ids(get(login(clerk_a), f"{API}service-records/"))
    assert service.pk in ids(get(login(clerk_b), f"{API}service-records/"))


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list_query_count_is_constant(county, county_official, login, django_assert_max_num_queries, endpoint):
    client = login(county_official)
    bound = 7  # session, user, count, page, one prefetch (+ margin)
    with django_assert_max_num_queries(bound):
        first = get(client, f"{API}{endpoint}/")
    grow_party_rows(county, 6)
    with django_assert_max_num_queries(bound):
        second = get(client, f"{API}{endpoint}/")
    assert second["count"] >= first["count"]


def test_schema_lists_the_wish_actions(county, county_official, login):
    response = login(county_official).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for step in ("dispatch", "take", "complete", "verify", "publish"):
        assert f"/api/v1/wishes/{{id}}/{step}/" in paths
    assert "/api/v1/service-records/" in paths and "/api/v1/central-households/{id}/" in paths
