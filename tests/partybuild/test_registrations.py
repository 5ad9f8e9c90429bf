"""Double report (双报到): units and in-service members registering with a community, posts claimed;
who registers and who ends a registration."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from governance.models import Role, User
from partybuild.models import MemberRegistration, PostClaim, RegistrationStatus, UnitRegistration
from partybuild.services import (
    CLAIM_BEFORE_REGISTERED,
    ENDED_BEFORE_REGISTERED,
    MEMBER_NOT_IN_SERVICE,
    NOT_A_COMMUNITY,
    POST_ALREADY_CLAIMED,
    REGISTRATION_ENDED,
    REGISTRATION_OUT_OF_SCOPE,
    REGISTRATION_RULES,
    SECOND_ACTIVE_REGISTRATION,
    SECOND_ACTIVE_UNIT_REGISTRATION,
    STEP_NOT_ALLOWED,
    member_registration_create,
    member_registration_end,
    post_claim_add,
    unit_registration_create,
    unit_registration_end,
)
from partybuild.services.common import COMMUNITY_OUT_OF_SCOPE, save_guarded
from partybuild.services.registrations import second_registration
from tests.helpers.concurrency import refusals, run_at_once, successes
from tests.helpers.markers import requires_postgres
from tests.helpers.messages import english, errors_of
from tests.helpers.people import new_member

DAY = datetime.date(2025, 3, 1)


@pytest.fixture
def official(county_official):
    return county_official


def register_unit(user, community, unit_name="县水务局", **fields):
    return unit_registration_create(
        user=user, unit_name=unit_name, party_organization="党支部", community=community, registered_on=DAY, **fields
    )


# --- Members -------------------------------------------------------------------------------


def test_member_registers_and_claims_posts(county, clerk_a):
    member = new_member(county)
    registration = member_registration_create(
        user=clerk_a, member=member, community=county.villages[0], registered_on=DAY,
        posts=["policy", "greening", "policy"],
    )
    assert registration.status == RegistrationStatus.ACTIVE
    assert sorted(registration.claims.values_list("post", flat=True)) == ["greening", "policy"]
    claim = post_claim_add(registration=registration, post="patrol", claimed_on=DAY + datetime.timedelta(days=3))
    assert claim.get_post_display()


def test_second_active_registration_is_refused(county, official):
    member = county.members[0]  # registered with village A by the cast
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(user=official, member=member, community=county.villages[1], registered_on=DAY)
    assert errors_of(excinfo) == [
        english(SECOND_ACTIVE_REGISTRATION, member=member.resident.name, community=county.villages[0].display_name)
    ]
    assert member.registrations.count() == 1


def test_after_ending_a_member_registers_again(county, official):
    member = county.members[0]
    member_registration_end(user=official, registration=member.registrations.get(), ended_on=DAY)
    again = member_registration_create(user=official, member=member, community=county.villages[1], registered_on=DAY)
    assert member.registrations.filter(status="active").get() == again


def test_a_member_not_in_service_cannot_register(county, clerk_a):
    member = new_member(county, in_service=False)
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(user=clerk_a, member=member, community=county.villages[0], registered_on=DAY)
    assert errors_of(excinfo) == [english(MEMBER_NOT_IN_SERVICE, member=member.resident.name)]


@pytest.mark.parametrize("unit", ["township_a", "grids"])
def test_registration_is_with_a_village_or_community(county, clerk_a, unit):
    target = getattr(county, unit)
    target = target[0] if isinstance(target, list) else target
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(user=clerk_a, member=new_member(county), community=target, registered_on=DAY)
    assert errors_of(excinfo) == [english(NOT_A_COMMUNITY)]


def test_the_unique_index_is_the_last_guard(county):
    """A writer that skips the service's lock (a bulk load) gets the same message from the index."""
    member = county.members[0]
    duplicate = MemberRegistration(member=member, community=county.villages[1], registered_on=DAY)
    with pytest.raises(ValidationError) as excinfo:
        save_guarded(duplicate, second_registration(member, county.villages[1]))
    assert errors_of(excinfo) == [
        english(SECOND_ACTIVE_REGISTRATION, member=member.resident.name, community=county.villages[1].display_name)
    ]
    assert member.registrations.count() == 1


def test_end_rules(county, clerk_a):
    registration = county.members[0].registrations.get()
    with pytest.raises(ValidationError) as excinfo:
        member_registration_end(user=clerk_a, registration=registration,
                                ended_on=registration.registered_on - datetime.timedelta(1))
    assert errors_of(excinfo) == [english(ENDED_BEFORE_REGISTERED, date=registration.registered_on)]
    ended = member_registration_end(user=clerk_a, registration=registration, ended_on=DAY)
    assert ended.status == "ended" and ended.ended_on == DAY
    with pytest.raises(ValidationError) as excinfo:
        member_registration_end(user=clerk_a, registration=registration, ended_on=DAY)
    assert errors_of(excinfo) == [english(REGISTRATION_ENDED)]
    with pytest.raises(ValidationError) as excinfo:
        post_claim_add(registration=registration, post="policy", claimed_on=DAY)
    assert errors_of(excinfo) == [english(REGISTRATION_ENDED)]


def test_claim_rules(county):
    registration = county.members[0].registrations.get()  # claims "patrol" in the cast
    with pytest.raises(ValidationError) as excinfo:
        post_claim_add(registration=registration, post="patrol", claimed_on=DAY)
    assert errors_of(excinfo) == [english(POST_ALREADY_CLAIMED, post=english("Security patrols"))]
    with pytest.raises(ValidationError) as excinfo:
        post_claim_add(registration=registration, post="policy", claimed_on=datetime.date(2020, 1, 1))
    assert errors_of(excinfo) == [english(CLAIM_BEFORE_REGISTERED, date=registration.registered_on)]
    with pytest.raises(ValidationError) as excinfo:
        post_claim_add(registration=registration, post="dancing", claimed_on=DAY)
    assert "post" in excinfo.value.message_dict
    assert PostClaim.objects.filter(registration=registration).count() == 1


# --- Units ---------------------------------------------------------------------------------


def test_unit_registers_with_its_lists(county, clerk_a):
    registration = register_unit(
        clerk_a, county.villages[0], unit_name="县人民医院", contact_name="王医生", contact_phone="13912345678",
        offers=[("resource", "义诊每月一次"), ("need", "场地"), ("project", "健康讲座")],
    )
    assert sorted(registration.offers.values_list("kind", flat=True)) == ["need", "project", "resource"]


def test_second_active_unit_registration_is_refused(county, clerk_a):
    with pytest.raises(ValidationError) as excinfo:
        register_unit(clerk_a, county.villages[0], unit_name=" 县财政局 ")
    assert errors_of(excinfo) == [
        english(SECOND_ACTIVE_UNIT_REGISTRATION, unit="县财政局", community=county.villages[0].display_name)
    ]
    registration = UnitRegistration.objects.get(community=county.villages[0])
    ended = unit_registration_end(user=clerk_a, registration=registration)
    assert ended.status == "ended"
    again = register_unit(clerk_a, county.villages[0], unit_name="县财政局")
    assert again.status == "active"
    with pytest.raises(ValidationError) as excinfo:
        unit_registration_end(user=clerk_a, registration=ended)
    assert errors_of(excinfo) == [english(REGISTRATION_ENDED)]


def test_unit_contact_phone_and_list_kind_are_checked(county, clerk_a):
    with pytest.raises(ValidationError) as excinfo:
        register_unit(clerk_a, county.villages[0], contact_phone="12345")
    assert "contact_phone" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        register_unit(clerk_a, county.villages[0], offers=[("wishlist", "x")])
    assert not UnitRegistration.objects.filter(unit_name="县水务局").exists()


# --- Who registers and who ends ------------------------------------------------------------


def test_registering_with_a_community_outside_the_area_is_refused(county, clerk_b):
    member = new_member(county)
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(user=clerk_b, member=member, community=county.villages[0], registered_on=DAY)
    assert errors_of(excinfo) == [english(COMMUNITY_OUT_OF_SCOPE, community=county.villages[0].display_name)]
    with pytest.raises(ValidationError) as excinfo:
        register_unit(clerk_b, county.villages[0])
    assert excinfo.value.message_dict.keys() == {"community"}
    assert not member.registrations.exists() and not UnitRegistration.objects.filter(unit_name="县水务局").exists()


def test_ending_a_registration_outside_the_area_is_refused(county, clerk_b):
    registration = county.members[0].registrations.get()
    with pytest.raises(ValidationError) as excinfo:
        member_registration_end(user=clerk_b, registration=registration, ended_on=DAY)
    assert errors_of(excinfo) == [english(REGISTRATION_OUT_OF_SCOPE)]
    unit = UnitRegistration.objects.get(community=county.villages[0])
    with pytest.raises(ValidationError) as excinfo:
        unit_registration_end(user=clerk_b, registration=unit)
    assert errors_of(excinfo) == [english(REGISTRATION_OUT_OF_SCOPE)]
    registration.refresh_from_db()
    unit.refresh_from_db()
    assert registration.status == unit.status == RegistrationStatus.ACTIVE


def test_a_role_that_does_not_register_is_told_which_roles_do(county):
    # A grid worker's role, even over a whole village: the double report is the community's work.
    worker = User.objects.create_user(username="grid_in_village", password="x", role=Role.GRID,
                                      home_unit=county.villages[0])
    assert not REGISTRATION_RULES["end"].permits(worker)
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(user=worker, member=new_member(county), community=county.villages[0],
                                   registered_on=DAY)
    roles = "、".join(english(label) for label in ("Administrator", "County official", "Township staff",
                                                   "Village staff"))
    assert errors_of(excinfo) == [english(STEP_NOT_ALLOWED, step=english("Register"), roles=roles,
                                          role=english("Grid worker"))]
    with pytest.raises(ValidationError) as excinfo:
        unit_registration_end(user=worker, registration=UnitRegistration.objects.get(community=county.villages[0]))
    assert errors_of(excinfo) == [english(STEP_NOT_ALLOWED, step=english("End the registration"), roles=roles,
                                          role=english("Grid worker"))]
    assert UnitRegistration.objects.get(community=county.villages[0]).status == RegistrationStatus.ACTIVE


def test_village_staff_register_and_end_in_their_community(county, village_a):
    assert REGISTRATION_RULES["end"].permits(village_a)
    registration = member_registration_create(user=village_a, member=new_member(county),
                                              community=county.villages[0], registered_on=DAY)
    assert member_registration_end(user=village_a, registration=registration, ended_on=DAY).status == "ended"


# --- Concurrency (PostgreSQL) --------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_member_leave_one_active(county, official):
    member = new_member(county)
    outcomes = run_at_once([
        lambda village=village: member_registration_create(user=official, member=member, community=village,
                                                           registered_on=DAY)
        for village in county.villages
    ])
    assert len(successes(outcomes)) == 1 and len(refusals(outcomes)) == 1
    assert member.registrations.filter(status="active").count() == 1
