"""The party-building pages: scope, masking, the member page and its service form, the double
report forms, the micro-wish board and its steps, constant query counts, exports."""

import datetime
import importlib.util

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from governance.services import household_create, resident_create
from partybuild.models import (
    MemberRegistration,
    PartyMember,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishState,
)
from partybuild.services import (
    member_registration_create,
    party_member_create,
    service_record_create,
    wish_complete,
    wish_dispatch,
    wish_post,
    wish_take,
    wish_update,
    wish_verify,
)
from tests.helpers.people import grid_role_in_village, make_id_number, operator
from tests.helpers.wishes import advance

MEMBERS = "/party/members/"
REGISTRATIONS = "/party/registrations/"
UNIT_REGISTRATIONS = "/party/registrations/units/"
NEW_REGISTRATION = "/party/registrations/new/"
NEW_UNIT_REGISTRATION = "/party/registrations/units/new/"
BOARD = "/party/wishes/"
WISHES = "/party/wishes/list/"
NEW_WISH = "/party/wishes/new/"
SERVICES = "/party/services/"
LISTS = [MEMBERS, REGISTRATIONS, UNIT_REGISTRATIONS, BOARD, WISHES, SERVICES]


def member_url(member):
    return reverse("partybuild:member-detail", args=[member.pk])


def wish_url(wish):
    return reverse("partybuild:wish-detail", args=[wish.pk])


def step_url(wish, step):
    return reverse("partybuild:wish-step", args=[wish.pk, step])


def text(response) -> str:
    return response.content.decode()


def rows(response) -> list:
    return list(response.context["object_list"])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def today() -> datetime.date:
    return timezone.localdate()


def add_member(county, n: int, *, in_service=False, township=0) -> PartyMember:
    """A new party member living in a new household of the township's micro-grid."""
    micro = county.micro_grids[township]
    household = household_create(number=f"{micro.code}{n:04d}", address=f"测试{n}号", grid=micro)
    resident = resident_create(
        household=household, name=f"党员{n}", id_number=make_id_number("513424", "19800101", n),
        phone=f"1380000{n:04d}",
    )
    return party_member_create(
        resident=resident, organization=county.branches[township], joined_on=datetime.date(2010, 7, 1),
        in_service=in_service, work_unit="县税务局" if in_service else "",
    )


# --- Login and scope ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [*LISTS, NEW_REGISTRATION, NEW_UNIT_REGISTRATION, NEW_WISH, "/party/members/1/",
                                 "/party/wishes/1/", "/party/pickers/members/", "/party/pickers/households/"])
def test_anonymous_is_sent_to_login(client, county, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_clerk_b_sees_nothing_of_township_a_on_any_page(staff, county, clerk_b):
    client = staff(clerk_b)
    a_values = [
        county.residents[0].name, county.villages[0].display_name, county.wishes[0].household.address,
        county.branches[0].name, county.committees[0].name,
    ]
    for url in [*LISTS, NEW_REGISTRATION, NEW_UNIT_REGISTRATION, NEW_WISH, f"{WISHES}?state=posted"]:
        body = text(client.get(url))
        for value in a_values:
            assert value not in body, (url, value)
    assert county.residents[1].name in text(client.get(MEMBERS))


def test_detail_pages_and_writes_of_township_a_are_404_for_clerk_b(staff, county, clerk_b):
    client = staff(clerk_b)
    member, wish = county.members[0], county.wishes[0]
    assert client.get(member_url(member)).status_code == 404
    assert client.get(wish_url(wish)).status_code == 404
    assert client.post(member_url(member), {"community": county.villages[0].pk}).status_code == 404
    assert client.post(step_url(wish, "dispatch"), {}).status_code == 404
    assert Wish.objects.get(pk=wish.pk).state == WishState.POSTED
    assert client.get(member_url(county.members[1])).status_code == 200
    assert client.get(wish_url(county.wishes[1])).status_code == 200


def test_pickers_offer_only_what_the_user_sees(staff, county, clerk_b):
    client = staff(clerk_b)
    members = text(client.get("/party/pickers/members/", {"q": county.residents[0].name}))
    assert county.residents[0].name not in members
    assert county.residents[1].name in text(client.get("/party/pickers/members/", {"q": county.residents[1].name}))
    households = text(client.get("/party/pickers/households/", {"q": county.households[0].address}))
    assert county.households[0].number not in households
    assert county.households[0].number not in text(client.get("/party/pickers/households/"))
    # A wish or community of A as a parameter answers nothing.
    assert county.residents[1].name not in text(client.get("/party/pickers/members/", {"wish": county.wishes[0].pk}))
    assert "option value=\"" + str(county.households[1].pk) not in text(
        client.get("/party/pickers/households/", {"community": county.villages[0].pk})
    )


def test_county_official_sees_no_other_county(staff, county, other_county, county_official):
    client = staff(county_official)
    for url in LISTS:
        body = text(client.get(url))
        assert other_county.residents[0].name not in body, url
        assert other_county.villages[0].display_name not in body, url
    assert client.get(member_url(other_county.members[0])).status_code == 404
    assert client.get(wish_url(other_county.wishes[0])).status_code == 404


def test_roles_that_may_not_write_see_no_form_and_are_refused(staff, county, grid_worker_a):
    client = staff(grid_worker_a)  # a grid worker reads members and posts wishes, nothing more
    member = county.members[0]
    page = client.get(member_url(member))
    assert page.status_code == 200 and 'id="service-form"' not in text(page)
    assert client.post(member_url(member), {"community": county.villages[0].pk}).status_code == 403
    assert client.get(NEW_REGISTRATION).status_code == 403
    assert client.get(NEW_UNIT_REGISTRATION).status_code == 403
    assert client.get(NEW_WISH).status_code == 200
    assert ServiceRecord.objects.filter(member=member).count() == 1


# --- Masking -----------------------------------------------------------------------------


def test_township_clerk_sees_masked_id_numbers_and_phones(staff, county, clerk_a):
    resident = county.residents[0]
    client = staff(clerk_a)
    for url in (MEMBERS, member_url(county.members[0])):
        body = text(client.get(url))
        assert resident.id_number not in body
        assert resident.id_number[:6] + "********" + resident.id_number[-4:] in body
    body = text(client.get(member_url(county.members[0])))
    assert resident.phone not in body and resident.phone[:3] + "****" + resident.phone[-4:] in body


def test_village_staff_sees_full_id_numbers(staff, county, village_a):
    body = text(staff(village_a).get(member_url(county.members[0])))
    assert county.residents[0].id_number in body and county.residents[0].phone in body


# --- Member list -------------------------------------------------------------------------


def test_member_filters_and_search(staff, county, clerk_a):
    plain = add_member(county, 50)
    client = staff(clerk_a)
    member = county.members[0]
    assert set(rows(client.get(MEMBERS))) == {member, plain}
    assert rows(client.get(MEMBERS, {"in_service": "yes"})) == [member]
    assert rows(client.get(MEMBERS, {"in_service": "no"})) == [plain]
    assert rows(client.get(MEMBERS, {"status": "probationary"})) == []
    assert rows(client.get(MEMBERS, {"mobile": "yes"})) == []
    assert set(rows(client.get(MEMBERS, {"organization": county.committees[0].pk}))) == {member, plain}
    assert rows(client.get(MEMBERS, {"q": plain.resident.name})) == [plain]
    assert rows(client.get(MEMBERS, {"q": member.resident.id_number})) == [member]
    assert rows(client.get(MEMBERS, {"q": member.resident.id_number[:10]})) == []
    assert rows(client.get(MEMBERS, {"q": "财政"})) == [member]
    # An organisation of another township is no option: the filter is dropped, not an error.
    response = client.get(MEMBERS, {"organization": county.committees[1].pk})
    assert response.status_code == 200 and set(rows(response)) == {member, plain}


def test_member_list_shows_registration_and_hours(staff, county, clerk_a):
    response = staff(clerk_a).get(MEMBERS)
    row = next(r for r in rows(response) if r.pk == county.members[0].pk)
    assert row.registered_with == county.villages[0].display_name
    assert row.total_hours == 2


# --- Member page -------------------------------------------------------------------------


def test_member_page_shows_registrations_services_and_totals(staff, county, clerk_a):
    member = county.members[0]
    service_record_create(member=member, community=county.villages[0], date=today(),
                          start_time=datetime.time(14), end_time=datetime.time(15, 30), kind="greening")
    response = staff(clerk_a).get(member_url(member))
    assert response.status_code == 200
    context = response.context
    assert context["total_hours"] == pytest.approx(3.5)
    assert context["services_count"] == 2
    assert [claim.post for claim in context["claimed_posts"]] == ["patrol"]
    body = text(response)
    assert 'data-total="hours">3.5<' in body
    assert 'data-total="points">15<' in body  # the cast's record carries no points, ours 15


def test_the_branch_and_the_community_see_the_same_totals(staff, county, clerk_a, village_a):
    member = county.members[0]
    service_record_create(member=member, community=county.villages[0], date=today(),
                          start_time=datetime.time(8), end_time=datetime.time(9), kind="patrol")
    totals = [
        (staff(user).get(member_url(member)).context["total_hours"]) for user in (clerk_a, village_a)
    ]
    assert totals[0] == totals[1] == 3


def _service_post(client, member, **overrides):
    data = {
        "community": member.organization.org_unit_id, "date": today().isoformat(), "start_time": "09:00",
        "end_time": "11:00", "kind": "patrol", "wish": "", "description": "巡逻",
    }
    data.update(overrides)
    return client.post(member_url(member), data)


def test_logging_two_hours_of_service(staff, county, clerk_a):
    member = add_member(county, 51)
    client = staff(clerk_a)
    response = _service_post(client, member)
    assert response.status_code == 302
    record = ServiceRecord.objects.get(member=member)
    assert (record.hours, record.points, record.community) == (2, 20, county.villages[0])
    page = client.get(response.url)
    assert page.context["total_hours"] == 2 and page.context["points"] == 20
    assert any("2.0" in message for message in messages_of(page))


def test_overlapping_service_is_refused_with_its_reason(staff, county, clerk_a):
    member = add_member(county, 52)
    client = staff(clerk_a)
    _service_post(client, member)
    response = _service_post(client, member, start_time="10:00", end_time="12:00")
    assert response.status_code == 200
    form = response.context["service_form"]
    assert "09:00" in str(form.errors["start_time"][0])
    assert form["end_time"].value() == "12:00"  # what was typed is kept
    assert ServiceRecord.objects.filter(member=member).count() == 1


def test_bad_service_times_are_refused_on_their_fields(staff, county, clerk_a):
    member = add_member(county, 53)
    client = staff(clerk_a)
    response = _service_post(client, member, start_time="11:00", end_time="09:00")
    assert response.context["service_form"].errors["end_time"]
    tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
    response = _service_post(client, member, date=tomorrow)
    assert response.status_code == 200
    assert response.context["service_form"].errors["date"]
    response = _service_post(client, member, community=county.villages[1].pk)  # another township's
    assert response.context["service_form"].errors["community"]
    response = _service_post(client, member, start_time="nonsense")
    assert response.context["service_form"].errors["start_time"]
    assert not ServiceRecord.objects.filter(member=member).exists()


def test_service_may_link_only_a_wish_the_member_took(staff, county, clerk_a):
    member = county.members[0]
    wish = county.wishes[0]
    client = staff(clerk_a)
    response = _service_post(client, member, wish=wish.pk, start_time="13:00", end_time="14:00")
    assert response.status_code == 200 and response.context["service_form"].errors["wish"]
    advance(wish, "complete", member=member)
    response = _service_post(client, member, wish=wish.pk, start_time="13:00", end_time="14:00")
    assert response.status_code == 302
    assert ServiceRecord.objects.get(wish=wish).hours == 1


# --- Double report -----------------------------------------------------------------------


def test_registering_an_in_service_member_with_posts(staff, county, clerk_a):
    member = add_member(county, 54, in_service=True)
    client = staff(clerk_a)
    form_page = client.get(NEW_REGISTRATION, {"member": member.pk})
    assert member.resident.name in text(form_page)  # preselected from the member page's link
    response = client.post(NEW_REGISTRATION, {
        "member": member.pk, "community": county.villages[0].pk, "registered_on": today().isoformat(),
        "posts": ["patrol", "policy"],
    })
    assert response.status_code == 302 and response.url == member_url(member)
    registration = MemberRegistration.objects.get(member=member)
    assert sorted(registration.claims.values_list("post", flat=True)) == ["patrol", "policy"]
    listing = client.get(REGISTRATIONS, {"post": "policy"})
    assert rows(listing) == [registration]


def test_a_second_active_registration_shows_the_reason(staff, county, clerk_a):
    member = county.members[0]  # registered by the cast
    response = staff(clerk_a).post(NEW_REGISTRATION, {
        "member": member.pk, "community": county.villages[0].pk, "registered_on": today().isoformat(),
    })
    assert response.status_code == 200
    with translation.override("en"):
        assert "already has an active registration" in str(response.context["form"].errors["member"][0])
    assert MemberRegistration.objects.filter(member=member).count() == 1


def test_registration_refuses_members_out_of_scope_or_not_in_service(staff, county, clerk_a):
    plain = add_member(county, 55)
    client = staff(clerk_a)
    for member in (county.members[1], plain):
        response = client.post(NEW_REGISTRATION, {
            "member": member.pk, "community": county.villages[0].pk, "registered_on": today().isoformat(),
        })
        assert response.status_code == 200 and response.context["form"].errors["member"]
    response = client.post(NEW_REGISTRATION, {"member": "x", "community": "y", "registered_on": "z"})
    assert response.status_code == 200


def test_registering_a_work_unit_with_its_lists(staff, county, clerk_a):
    client = staff(clerk_a)
    response = client.post(NEW_UNIT_REGISTRATION, {
        "unit_name": "县医院", "party_organization": "县医院党委", "community": county.villages[0].pk,
        "registered_on": today().isoformat(), "contact_name": "李主任", "contact_phone": "13812345678",
        "resources": "义诊团队\n健康讲座", "needs": "场地", "projects": "",
    })
    assert response.status_code == 302
    registration = UnitRegistration.objects.get(unit_name="县医院")
    assert sorted(UnitOffer.objects.filter(registration=registration).values_list("kind", "description")) == [
        ("need", "场地"), ("resource", "义诊团队"), ("resource", "健康讲座"),
    ]
    body = text(client.get(UNIT_REGISTRATIONS))
    assert "义诊团队" in body and "138****5678" in body
    # The same unit again with the same community: the service's message, nothing written.
    again = client.post(NEW_UNIT_REGISTRATION, {
        "unit_name": "县医院", "party_organization": "县医院党委", "community": county.villages[0].pk,
        "registered_on": today().isoformat(),
    })
    assert again.status_code == 200 and again.context["form"].errors["unit_name"]
    assert UnitRegistration.objects.filter(unit_name="县医院").count() == 1


# --- Micro-wishes ------------------------------------------------------------------------


def test_posting_a_wish(staff, county, clerk_a):
    client = staff(clerk_a)
    response = client.post(NEW_WISH, {
        "community": county.villages[0].pk, "household": county.households[0].pk, "title": "代买米面",
        "category": "daily_life", "content": "腿脚不便",
    })
    assert response.status_code == 302
    wish = Wish.objects.get(title="代买米面")
    assert (wish.state, wish.household, wish.community) == (WishState.POSTED, county.households[0], county.villages[0])


def test_posting_a_wish_for_a_household_out_of_scope_is_refused(staff, county, clerk_a):
    response = staff(clerk_a).post(NEW_WISH, {
        "community": county.villages[0].pk, "household": county.households[1].pk, "title": "越界",
        "category": "other",
    })
    assert response.status_code == 200 and response.context["form"].errors["household"]
    assert not Wish.objects.filter(title="越界").exists()


def test_posting_a_wish_for_a_household_of_another_community_shows_the_reason(staff, county, county_official):
    response = staff(county_official).post(NEW_WISH, {
        "community": county.villages[0].pk, "household": county.households[1].pk, "title": "不属本社区",
        "category": "other",
    })
    assert response.status_code == 200
    with translation.override("en"):
        assert "does not belong to" in str(response.context["form"].errors["household"][0])


def test_a_wish_goes_through_the_six_steps(staff, county, clerk_a):
    wish, member = county.wishes[0], county.members[0]
    client = staff(clerk_a)
    posts = [
        ("dispatch", {"member": member.pk}, WishState.DISPATCHED),
        ("take", {"member": member.pk}, WishState.TAKEN),
        ("complete", {"result": "已修好"}, WishState.DONE),
        ("verify", {}, WishState.VERIFIED),
        ("publish", {}, WishState.PUBLISHED),
    ]
    for step, data, state in posts:
        response = client.post(step_url(wish, step), {**data, "next": BOARD})
        assert response.status_code == 302 and response.url == BOARD, step
        assert Wish.objects.get(pk=wish.pk).state == state, step
    wish.refresh_from_db()
    assert (wish.dispatched_to, wish.taken_by, wish.result) == (member, member, "已修好")
    page = client.get(wish_url(wish))
    assert page.context["steps"] == [] and page.context["next_step"] is None
    # The history: who did each step, in order.
    assert [(e.action, e.actor) for e in page.context["events"]] == [
        ("post", None), *((step, clerk_a) for step, _data, _state in posts)
    ]
    history = text(page)
    assert "township_a" in history and "已修好" in history


def test_dispatching_to_nobody_lets_an_eligible_member_take_it(staff, county, clerk_a):
    wish, member = county.wishes[0], county.members[0]
    client = staff(clerk_a)
    client.post(step_url(wish, "dispatch"), {"member": ""})
    wish.refresh_from_db()
    assert wish.state == WishState.DISPATCHED and wish.dispatched_to is None
    client.post(step_url(wish, "take"), {"member": member.pk})
    assert Wish.objects.get(pk=wish.pk).taken_by == member


def test_a_refused_step_shows_the_reason_without_an_error_page(staff, county, clerk_a):
    wish = county.wishes[0]
    client = staff(clerk_a)
    response = client.post(step_url(wish, "verify"), {"next": BOARD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == BOARD
    assert len(messages_of(response)) == 1
    assert wish.title in text(response)  # back on the board, the card unchanged
    assert Wish.objects.get(pk=wish.pk).state == WishState.POSTED
    # Taking without a member, a member of another township, an unknown step.
    wish = wish_dispatch(user=operator(), wish=wish, member=county.members[0])
    response = client.post(step_url(wish, "take"), {"member": ""})
    assert response.status_code == 302
    assert client.post(step_url(wish, "take"), {"member": county.members[1].pk}).status_code == 302
    assert Wish.objects.get(pk=wish.pk).state == WishState.DISPATCHED
    assert client.post(step_url(wish, "explode"), {}).status_code == 404
    # The result is required to complete.
    wish_take(user=operator(), wish=wish, member=county.members[0])
    client.post(step_url(wish, "complete"), {"result": "  "})
    assert Wish.objects.get(pk=wish.pk).state == WishState.TAKEN


def test_a_foreign_next_url_is_ignored(staff, county, clerk_a):
    response = staff(clerk_a).post(step_url(county.wishes[0], "dispatch"), {"next": "https://evil.example/"})
    assert response.url == BOARD


def test_the_board_and_the_page_offer_only_the_steps_of_the_users_role(staff, county, village_a):
    wish = advance(county.wishes[0], "publish", member=county.members[0])
    client = staff(grid_role_in_village(county))
    board = client.get(BOARD)
    assert [c["step"] for c in board.context["columns"]] == [None] * 6
    assert step_url(wish, "publish") not in text(board)
    page = client.get(wish_url(wish))
    assert page.context["steps"] == []
    with translation.override("en"):
        assert str(page.context["next_step"]["label"]) == "Publish"
        assert "Village staff" in str(page.context["next_step"]["roles"])
    assert 'id="next-step-who"' in text(page)
    client = staff(village_a)
    columns = [c["step"] for c in client.get(BOARD).context["columns"]]
    assert columns == ["dispatch", "take", "complete", "verify", "publish", None]
    assert [item["step"] for item in client.get(wish_url(wish)).context["steps"]] == ["publish"]


def test_a_step_the_role_does_not_take_is_refused_with_the_reason(staff, county):
    wish = advance(county.wishes[0], "publish", member=county.members[0])
    response = staff(grid_role_in_village(county)).post(step_url(wish, "publish"), {"next": BOARD}, follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == BOARD
    shown = messages_of(response)
    assert len(shown) == 1 and "晒单" in shown[0]
    assert Wish.objects.get(pk=wish.pk).state == WishState.VERIFIED
    assert not wish.events.filter(action="publish").exists()


def test_the_wish_page_shows_who_did_what_when(staff, county, clerk_a, django_assert_max_num_queries):
    client = staff(clerk_a)
    wish = county.wishes[0]
    with django_assert_max_num_queries(10):
        page = text(client.get(wish_url(wish)))
    assert 'id="wish-history"' in page and 'data-action="post"' in page
    for n in range(3):
        wish_update(user=clerk_a, wish=wish, title=f"修理屋顶漏水{n}")
    wish = advance(wish, "publish", member=county.members[0])
    with django_assert_max_num_queries(10):  # the same, however long the history
        response = client.get(wish_url(wish))
    events = list(response.context["events"])
    assert [e.action for e in events] == ["post", "edit", "edit", "edit", "dispatch", "take", "complete", "verify"]
    body = text(response)
    assert body.count('<li data-action="') == len(events)
    assert "township_a" in body and county.members[0].resident.name in body and "已修好" in body
    # An old wish, entered before steps were recorded, says so instead of an empty list.
    wish.events.all().delete()
    assert 'id="wish-events"' not in text(client.get(wish_url(wish)))


def test_step_forms_load_into_the_card_with_htmx(staff, county, clerk_a):
    client = staff(clerk_a)
    wish = county.wishes[0]
    fragment = client.get(step_url(wish, "dispatch"), {"next": BOARD}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    body = text(fragment)
    assert "<html" not in body and 'name="member"' in body and f'"wish": "{wish.pk}"' in body.replace("&quot;", '"')
    # Without htmx the step's form lives on the wish's page.
    assert client.get(step_url(wish, "dispatch")).url == wish_url(wish)
    picker = text(client.get("/party/pickers/members/", {"wish": wish.pk}))
    assert f'value="{county.members[0].pk}"' in picker


def test_the_board_shows_six_columns_with_counts(staff, county, clerk_a):
    member = county.members[0]
    village = county.villages[0]
    household = county.households[0]
    for n in range(4):
        wish = wish_post(user=operator(), community=village, household=household, title=f"心愿{n}", category="other")
        if n >= 1:
            wish_dispatch(user=operator(), wish=wish, member=member)
        if n >= 2:
            wish_take(user=operator(), wish=wish, member=member)
        if n >= 3:
            wish_verify(user=operator(), wish=wish_complete(user=operator(), wish=wish, result="好"))
    response = staff(clerk_a).get(BOARD)
    counts = {column["state"]: column["count"] for column in response.context["columns"]}
    assert counts == {"posted": 2, "dispatched": 1, "taken": 1, "done": 0, "verified": 1, "published": 0}


def test_board_columns_are_capped_with_a_more_link(staff, county, clerk_a, monkeypatch):
    from partybuild.views import wishes

    monkeypatch.setattr(wishes, "BOARD_COLUMN_SIZE", 2)
    for n in range(3):
        wish_post(user=operator(), community=county.villages[0], household=county.households[0], title=f"多{n}",
                  category="other")
    response = staff(clerk_a).get(BOARD)
    posted = response.context["columns"][0]
    assert (posted["count"], len(posted["wishes"]), posted["more"]) == (4, 2, 2)
    assert "/party/wishes/list/?state=posted" in text(response)
    assert len(rows(staff(clerk_a).get(WISHES, {"state": "posted"}))) == 4


def test_service_list_filters_and_totals(staff, county, clerk_a):
    member = county.members[0]
    service_record_create(member=member, community=county.villages[0], date=today(),
                          start_time=datetime.time(8), end_time=datetime.time(9, 30), kind="greening")
    client = staff(clerk_a)
    response = client.get(SERVICES)
    assert len(rows(response)) == 2
    assert response.context["totals"]["hours"] == pytest.approx(3.5)
    assert [r.kind for r in rows(client.get(SERVICES, {"kind": "greening"}))] == ["greening"]
    assert len(rows(client.get(SERVICES, {"month": today().strftime("%Y-%m")}))) == 1
    assert len(rows(client.get(SERVICES, {"member": member.pk}))) == 2
    assert rows(client.get(SERVICES, {"member": county.members[1].pk})) == []


def test_bad_query_parameters_never_fail(staff, county, county_official):
    client = staff(county_official)
    for params in (
        {"page": "abc"}, {"page": "999"}, {"sort": "password"}, {"sort": "-"}, {"organization": "x"},
        {"status": "??"}, {"in_service": "perhaps"}, {"state": "gone"}, {"month": "2020-13"}, {"kind": "x"},
        {"member": "abc"}, {"township": "x' OR 1=1"}, {"q": "x" * 500}, {"post": "x"}, {"category": "x"},
    ):
        for url in LISTS:
            assert client.get(url, params).status_code == 200, (url, params)
    for params in ({"q": "x" * 500}, {"wish": "abc"}, {"wish": "999999"}, {"community": "x"}):
        assert client.get("/party/pickers/members/", params).status_code == 200
        assert client.get("/party/pickers/households/", params).status_code == 200


# --- Query counts and export ---------------------------------------------------------------


def _add_rows(county, start: int, count: int) -> None:
    village = county.villages[0]
    for n in range(start, start + count):
        member = add_member(county, n, in_service=True)
        member_registration_create(user=operator(), member=member, community=village, registered_on=today(),
                                   posts=["patrol", "public"])
        service_record_create(member=member, community=village, date=today(), start_time=datetime.time(9),
                              end_time=datetime.time(10), kind="patrol")
        wish = wish_post(user=operator(), community=village, household=member.resident.household, title=f"愿{n}",
                         category="other")
        if n % 2:
            advance(wish, "complete", member=member)


@pytest.mark.parametrize(
    "url,params",
    [
        (MEMBERS, {}),
        (MEMBERS, {"in_service": "yes", "sort": "-hours"}),
        (REGISTRATIONS, {"post": "patrol"}),
        (UNIT_REGISTRATIONS, {}),
        (BOARD, {}),
        (WISHES, {"sort": "state"}),
        (SERVICES, {"kind": "patrol"}),
    ],
)
def test_list_pages_query_count_is_constant(staff, county, county_official, django_assert_max_num_queries, url, params):
    client = staff(county_official)
    _add_rows(county, 100, 2)
    with django_assert_max_num_queries(12):
        assert client.get(url, params).status_code == 200
    _add_rows(county, 200, 15)
    with django_assert_max_num_queries(12):
        assert client.get(url, params).status_code == 200


def test_member_page_query_count_is_constant(staff, county, clerk_a, django_assert_max_num_queries):
    member = county.members[0]
    client = staff(clerk_a)
    with django_assert_max_num_queries(16):
        client.get(member_url(member))
    for n in range(12):
        service_record_create(member=member, community=county.villages[0], date=today() - datetime.timedelta(days=n),
                              start_time=datetime.time(6), end_time=datetime.time(7), kind="public")
        wish = wish_post(user=operator(), community=county.villages[0], household=county.households[0],
                         title=f"项{n}", category="other")
        advance(wish, "complete", member=member)
    with django_assert_max_num_queries(16):
        assert client.get(member_url(member)).status_code == 200


export_ready = pytest.mark.skipif(
    importlib.util.find_spec("governance.rosters") is None, reason="governance.rosters (Excel export) not there yet"
)


@export_ready
@pytest.mark.parametrize("url", [MEMBERS, REGISTRATIONS, UNIT_REGISTRATIONS, WISHES, SERVICES])
def test_export_button_returns_xlsx(staff, county, clerk_a, url):
    client = staff(clerk_a)
    assert "export=xlsx" in text(client.get(url))
    response = client.get(url, {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content[:2] == b"PK"
