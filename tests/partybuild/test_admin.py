"""The party-building admin: scope, saves through the services with the rules on the form, wish steps, queries."""

import datetime

import pytest
from django.urls import reverse

from governance.masking import mask_id_number, mask_phone
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    PartyOrganization,
    ServiceRecord,
    UnitRegistration,
    Wish,
    WishEvent,
)
from partybuild.services import (
    SECOND_ACTIVE_REGISTRATION,
    SERVICE_OVERLAP,
    WISH_WRONG_STATE,
    service_record_create,
    wish_post,
)
from tests.helpers.admin import listed, refused
from tests.helpers.growth import grow_party_rows
from tests.helpers.messages import english
from tests.helpers.people import grid_role_in_village, new_member, operator
from tests.helpers.wishes import advance

# The admin's rules for every role, as an operator who names them in ADMIN_ROLES meets them.
pytestmark = pytest.mark.usefixtures("admin_for_every_role")

ROWS = {
    "partyorganization": lambda c, i: c.branches[i],
    "partymember": lambda c, i: c.members[i],
    "centralhousehold": lambda c, i: CentralHousehold.objects.get(household=c.households[i]),
    "unitregistration": lambda c, i: UnitRegistration.objects.get(community=c.villages[i]),
    "memberregistration": lambda c, i: c.members[i].registrations.get(),
    "wish": lambda c, i: c.wishes[i],
    "servicerecord": lambda c, i: c.members[i].services.get(),
}


def url(model, view="changelist", *args):
    return reverse(f"admin:partybuild_{model}_{view}", args=args)


def listed_actions(response) -> list[tuple[str, str]]:
    assert response.status_code == 200
    form = response.context["action_form"]  # None when the user has no action at all
    return [] if form is None else [choice for choice in form.fields["action"].choices if choice[0]]


def form_errors(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    form = response.context["adminform"].form
    return [message for messages in form.errors.values() for message in messages]


# --- Scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ROWS)
def test_clerk_b_sees_nothing_of_township_a(county, other_county, clerk_b, staff, model):
    client = staff(clerk_b)
    rows = listed(client.get(url(model)))
    assert ROWS[model](county, 1) in rows
    assert ROWS[model](county, 0) not in rows and ROWS[model](other_county, 1) not in rows
    assert refused(client.get(url(model, "change", ROWS[model](county, 0).pk)))
    assert client.get(url(model, "change", ROWS[model](county, 1).pk)).status_code == 200


def test_the_organisation_tree_is_indented(county, county_official, staff):
    response = staff(county_official).get(url("partyorganization"))
    assert listed(response)[0] == county.committees[0]
    assert "padding-left" in response.content.decode() or "margin-left" in response.content.decode()


def test_village_staff_cannot_edit_the_tree(county, village_a, staff):
    client = staff(village_a)
    assert client.get(url("partyorganization")).status_code == 200
    assert client.get(url("partyorganization", "add")).status_code == 403


# --- Saves through the services, rules on the form -----------------------------------------


def test_add_organisation_with_a_wrong_kind_shows_the_rule(county, county_official, staff):
    client = staff(county_official)
    data = {"name": "错位党小组", "kind": "committee", "parent": county.branches[0].pk,
            "org_unit": county.villages[0].pk, "work_unit": "", "is_active": "on"}
    errors = form_errors(client.post(url("partyorganization", "add"), data))
    assert any("cannot be placed under" in e or "不能" in e for e in errors), errors
    response = client.post(url("partyorganization", "add"), {**data, "kind": "grid_branch",
                                                              "org_unit": county.grids[0].pk})
    assert response.status_code == 302
    created = PartyOrganization.objects.get(name="错位党小组")
    assert created.parent == county.branches[0] and created.is_leaf_node()


def test_second_active_registration_is_shown_on_the_member_field(county, village_a, staff):
    client = staff(village_a)
    member = county.members[0]
    response = client.post(url("memberregistration", "add"), {
        "member": member.pk, "community": county.villages[0].pk, "registered_on": "2025-01-01",
    }, HTTP_ACCEPT_LANGUAGE="en")
    form = response.context["adminform"].form
    assert form.errors["member"] == [english(
        SECOND_ACTIVE_REGISTRATION, member=member.resident.name, community=county.villages[0].display_name,
    )]


def test_register_with_posts_then_change_posts(county, village_a, staff):
    client = staff(village_a)
    member = new_member(county)
    response = client.post(url("memberregistration", "add"), {
        "member": member.pk, "community": county.villages[0].pk, "registered_on": "2025-01-01",
        "posts": ["policy", "greening"],
    })
    assert response.status_code == 302, form_errors(response)
    registration = MemberRegistration.objects.get(member=member)
    assert sorted(registration.claims.values_list("post", flat=True)) == ["greening", "policy"]
    response = client.post(url("memberregistration", "change", registration.pk), {"posts": ["policy", "patrol"]})
    assert response.status_code == 302
    assert sorted(registration.claims.values_list("post", flat=True)) == ["patrol", "policy"]


def test_end_registrations_action(county, village_a, staff):
    client = staff(village_a)
    registration = county.members[0].registrations.get()
    client.post(url("memberregistration"), {"action": "end_registrations", "_selected_action": [registration.pk]})
    registration.refresh_from_db()
    assert registration.status == "ended" and registration.ended_on == datetime.date.today()


def test_overlapping_service_is_shown_on_the_form(county, village_a, staff):
    client = staff(village_a)
    member = county.members[0]
    service_record_create(member=member, community=county.villages[0], date=datetime.date(2025, 5, 4),
                          start_time=datetime.time(9), end_time=datetime.time(11), kind="patrol")
    data = {"member": member.pk, "community": county.villages[0].pk, "date": "2025-05-04", "start_time": "10:00",
            "end_time": "12:00", "kind": "patrol", "description": ""}
    response = client.post(url("servicerecord", "add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert form_errors(response) == [english(
        SERVICE_OVERLAP, start="10:00", end="12:00", member=member.resident.name, other_start="09:00",
        other_end="11:00", date="2025-05-04",
    )]
    response = client.post(url("servicerecord", "add"), {**data, "start_time": "11:00", "end_time": "12:30"})
    assert response.status_code == 302
    assert ServiceRecord.objects.get(member=member, start_time=datetime.time(11)).points == 15


def test_masked_member_and_contact_phone_for_a_township_clerk(county, clerk_a, staff):
    client = staff(clerk_a)
    resident = county.residents[0]
    page = client.get(url("partymember")).content.decode()
    assert mask_id_number(resident.id_number) in page and resident.id_number not in page
    registration = UnitRegistration.objects.get(community=county.villages[0])
    UnitRegistration.objects.filter(pk=registration.pk).update(contact_phone="13912345678")
    page = client.get(url("unitregistration")).content.decode()
    assert mask_phone("13912345678") in page and "13912345678" not in page
    page = client.get(url("unitregistration", "change", registration.pk)).content.decode()
    assert "13912345678" not in page


def test_village_staff_sees_the_full_id_number(county, village_a, staff):
    page = staff(village_a).get(url("partymember")).content.decode()
    assert county.residents[0].id_number in page


# --- Wishes --------------------------------------------------------------------------------


def step_url(wish, step):
    return reverse("admin:partybuild_wish_step", args=[wish.pk, step])


def test_the_wish_form_offers_the_next_step_and_no_state(county, village_a, staff):
    client = staff(village_a)
    wish = county.wishes[0]
    page = client.get(url("wish", "change", wish.pk)).content.decode()
    assert step_url(wish, "dispatch") in page
    assert 'name="state"' not in page


def test_dispatch_and_take_through_the_step_pages(county, village_a, staff):
    client = staff(village_a)
    wish, member = county.wishes[0], county.members[0]
    assert client.get(step_url(wish, "dispatch")).status_code == 200
    assert client.post(step_url(wish, "dispatch"), {"member": member.pk}).status_code == 302
    assert client.post(step_url(wish, "take"), {"member": member.pk}).status_code == 302
    assert client.post(step_url(wish, "complete"), {"result": "修好了"}).status_code == 302
    wish.refresh_from_db()
    assert wish.state == "done" and wish.taken_by == member and wish.result == "修好了"


def test_a_step_out_of_order_shows_the_message(county, village_a, staff):
    client = staff(village_a)
    response = client.post(step_url(county.wishes[0], "verify"), {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    expected = english(WISH_WRONG_STATE, current=english("Posted"), expected=english("Done"))
    assert expected in response.context["form"].non_field_errors()
    assert Wish.objects.get(pk=county.wishes[0].pk).state == "posted"


def test_a_member_outside_the_eligible_ones_is_not_a_choice(county, village_a, staff):
    client = staff(village_a)
    response = client.post(step_url(county.wishes[0], "dispatch"), {"member": county.members[1].pk})
    assert response.status_code == 200 and "member" in response.context["form"].errors


def test_steps_outside_scope_are_refused(county, clerk_b, staff):
    client = staff(clerk_b)
    assert refused(client.post(step_url(county.wishes[0], "dispatch"), {}))
    assert Wish.objects.get(pk=county.wishes[0].pk).state == "posted"


def test_bulk_verify_goes_through_the_service(county, village_a, staff):
    client = staff(village_a)
    member = county.members[0]
    done = wish_post(user=operator(), community=county.villages[0], title="送菜", category="daily_life",
                     household=county.households[0])
    done = advance(done, "verify", member=member)
    response = client.post(
        url("wish"), {"action": "verify_selected", "_selected_action": [done.pk, county.wishes[0].pk]}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 2
    assert Wish.objects.get(pk=done.pk).state == "verified"
    assert Wish.objects.get(pk=county.wishes[0].pk).state == "posted"


def test_bulk_steps_record_the_admins_user_and_are_offered_by_role(county, village_a, staff):
    wish = advance(county.wishes[0], "verify", member=county.members[0])
    client = staff(grid_role_in_village(county))
    actions = [name for name, _label in listed_actions(client.get(url("wish")))]
    assert "verify_selected" not in actions and "publish_selected" not in actions  # his role takes no step
    # Posted anyway (a forged form): not an action of his role, nothing changes.
    response = client.post(url("wish"), {"action": "verify_selected", "_selected_action": [wish.pk]}, follow=True)
    assert response.status_code == 200 and Wish.objects.get(pk=wish.pk).state == "done"
    client = staff(village_a)
    actions = [name for name, _label in listed_actions(client.get(url("wish")))]
    assert "verify_selected" in actions and "publish_selected" in actions
    client.post(url("wish"), {"action": "verify_selected", "_selected_action": [wish.pk]})
    assert wish.events.get(action="verify").actor == village_a
    client.post(url("wish"), {"action": "publish_selected", "_selected_action": [wish.pk]})
    assert wish.events.get(action="publish").actor == village_a


def test_the_wish_page_shows_its_history_read_only(county, village_a, staff):
    client = staff(village_a)
    wish = county.wishes[0]
    client.post(step_url(wish, "dispatch"), {"member": county.members[0].pk})
    page = client.get(url("wish", "change", wish.pk))
    inline = next(formset for formset in page.context["inline_admin_formsets"] if formset.opts.model is WishEvent)
    assert [form.original.action for form in inline] == ["post", "dispatch"]
    assert [form.original.actor for form in inline] == [None, village_a]
    assert not inline.has_add_permission and not inline.has_delete_permission


def test_a_step_page_refuses_a_role_that_does_not_take_it(county, staff):
    worker = grid_role_in_village(county)
    wish = advance(county.wishes[0], "publish", member=county.members[0])
    response = staff(worker).post(step_url(wish, "publish"), {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert any("Grid worker" in error for error in response.context["form"].non_field_errors())
    assert Wish.objects.get(pk=wish.pk).state == "verified"


def test_add_wish_for_a_household_of_another_community(county, village_a, county_official, staff):
    client = staff(county_official)
    response = client.post(url("wish", "add"), {
        "community": county.villages[0].pk, "household": county.households[1].pk, "title": "x", "content": "",
        "category": "other",
    })
    assert form_errors(response)
    response = client.post(url("wish", "add"), {
        "community": county.villages[0].pk, "household": county.households[0].pk, "title": "新心愿", "content": "",
        "category": "other",
    })
    assert response.status_code == 302
    assert Wish.objects.get(title="新心愿").state == "posted"


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("model", ROWS)
def test_changelist_query_count_is_constant(county, county_official, staff, django_assert_max_num_queries, model):
    client = staff(county_official)
    bound = 14  # session, user, permissions, filter choices, counts, page, one prefetch
    with django_assert_max_num_queries(bound):
        first = listed(client.get(url(model)))
    grow_party_rows(county, 6)
    with django_assert_max_num_queries(bound):
        second = listed(client.get(url(model)))
    assert len(second) >= len(first)


@pytest.mark.parametrize("model", ROWS)
def test_add_and_change_pages_render(county, county_official, staff, model):
    client = staff(county_official)
    assert client.get(url(model, "add")).status_code == 200
    assert client.get(url(model, "change", ROWS[model](county, 0).pk)).status_code == 200


@pytest.mark.parametrize("step", ["dispatch", "take", "complete", "verify", "publish"])
def test_every_step_page_renders(county, county_official, staff, step):
    response = staff(county_official).get(step_url(county.wishes[0], step))
    assert response.status_code == 200
    assert response.context["step_title"]
