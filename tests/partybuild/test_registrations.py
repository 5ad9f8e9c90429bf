"""Double report (双报到): units and in-service members registering with a community, posts claimed."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from partybuild.models import MemberRegistration, PostClaim, RegistrationStatus, UnitRegistration
from partybuild.services import (
    CLAIM_BEFORE_REGISTERED,
    ENDED_BEFORE_REGISTERED,
    MEMBER_NOT_IN_SERVICE,
    NOT_A_COMMUNITY,
    POST_ALREADY_CLAIMED,
    REGISTRATION_ENDED,
    SECOND_ACTIVE_REGISTRATION,
    SECOND_ACTIVE_UNIT_REGISTRATION,
    _save_guarded,
    _second_registration,
    member_registration_create,
    member_registration_end,
    post_claim_add,
    unit_registration_create,
    unit_registration_end,
)
from tests.markers import requires_postgres
from tests.partybuild.conftest import english, errors_of, new_member

DAY = datetime.date(2025, 3, 1)


# --- Members -------------------------------------------------------------------------------


def test_member_registers_and_claims_posts(county):
    member = new_member(county)
    registration = member_registration_create(
        member=member, community=county.villages[0], registered_on=DAY, posts=["policy", "greening", "policy"]
    )
    assert registration.status == RegistrationStatus.ACTIVE
    assert sorted(registration.claims.values_list("post", flat=True)) == ["greening", "policy"]
    claim = post_claim_add(registration=registration, post="patrol", claimed_on=DAY + datetime.timedelta(days=3))
    assert claim.get_post_display()


def test_second_active_registration_is_refused(county):
    member = county.members[0]  # registered with village A by the cast
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(member=member, community=county.villages[1], registered_on=DAY)
    assert errors_of(excinfo) == [
        english(SECOND_ACTIVE_REGISTRATION, member=member.resident.name, community=county.villages[0].display_name)
    ]
    assert member.registrations.count() == 1


def test_after_ending_a_member_registers_again(county):
    member = county.members[0]
    member_registration_end(registration=member.registrations.get(), ended_on=DAY)
    again = member_registration_create(member=member, community=county.villages[1], registered_on=DAY)
    assert member.registrations.filter(status="active").get() == again


def test_a_member_not_in_service_cannot_register(county):
    member = new_member(county, in_service=False)
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(member=member, community=county.villages[0], registered_on=DAY)
    assert errors_of(excinfo) == [english(MEMBER_NOT_IN_SERVICE, member=member.resident.name)]


@pytest.mark.parametrize("unit", ["township_a", "grids"])
def test_registration_is_with_a_village_or_community(county, unit):
    target = getattr(county, unit)
    target = target[0] if isinstance(target, list) else target
    with pytest.raises(ValidationError) as excinfo:
        member_registration_create(member=new_member(county), community=target, registered_on=DAY)
    assert errors_of(excinfo) == [english(NOT_A_COMMUNITY)]


def test_the_unique_index_is_the_last_guard(county):
    """A writer that skips the service's lock (a bulk load) gets the same message from the index."""
    member = county.members[0]
    duplicate = MemberRegistration(member=member, community=county.villages[1], registered_on=DAY)
    with pytest.raises(ValidationError) as excinfo:
        _save_guarded(duplicate, _second_registration(member, county.villages[1]))
    assert errors_of(excinfo) == [
        english(SECOND_ACTIVE_REGISTRATION, member=member.resident.name, community=county.villages[1].display_name)
    ]
    assert member.registrations.count() == 1


def test_end_rules(county):
    registration = county.members[0].registrations.get()
    with pytest.raises(ValidationError) as excinfo:
        member_registration_end(registration=registration, ended_on=registration.registered_on - datetime.timedelta(1))
    assert errors_of(excinfo) == [english(ENDED_BEFORE_REGISTERED, date=registration.registered_on)]
    ended = member_registration_end(registration=registration, ended_on=DAY)
    assert ended.status == "ended" and ended.ended_on == DAY
    with pytest.raises(ValidationError) as excinfo:
        member_registration_end(registration=registration, ended_on=DAY)
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


def test_unit_registers_with_its_lists(county):
    registration = unit_registration_create(
        unit_name="县人民医院", party_organization="县人民医院党委", community=county.villages[0],
        registered_on=DAY, contact_name="王医生", contact_phone="13912345678",
        offers=[("resource", "义诊每月一次"), ("need", "场地"), ("project", "健康讲座")],
    )
    assert sorted(registration.offers.values_list("kind", flat=True)) == ["need", "project", "resource"]


def test_second_active_unit_registration_is_refused(county):
    with pytest.raises(ValidationError) as excinfo:
        unit_registration_create(
            unit_name=" 县财政局 ", party_organization="县财政局机关党支部", community=county.villages[0],
            registered_on=DAY,
        )
    assert errors_of(excinfo) == [
        english(SECOND_ACTIVE_UNIT_REGISTRATION, unit="县财政局", community=county.villages[0].display_name)
    ]
    ended = unit_registration_end(registration=UnitRegistration.objects.get(community=county.villages[0]))
    assert ended.status == "ended"
    again = unit_registration_create(
        unit_name="县财政局", party_organization="县财政局机关党支部", community=county.villages[0], registered_on=DAY
    )
    assert again.status == "active"
    with pytest.raises(ValidationError) as excinfo:
        unit_registration_end(registration=ended)
    assert errors_of(excinfo) == [english(REGISTRATION_ENDED)]


def test_unit_contact_phone_and_list_kind_are_checked(county):
    with pytest.raises(ValidationError) as excinfo:
        unit_registration_create(
            unit_name="县水务局", party_organization="党支部", community=county.villages[0], registered_on=DAY,
            contact_phone="12345",
        )
    assert "contact_phone" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        unit_registration_create(
            unit_name="县水务局", party_organization="党支部", community=county.villages[0], registered_on=DAY,
            offers=[("wishlist", "x")],
        )
    assert not UnitRegistration.objects.filter(unit_name="县水务局").exists()


# --- Concurrency (PostgreSQL) --------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_member_leave_one_active(county):
    member = new_member(county)
    outcomes = []
    barrier = threading.Barrier(2)

    def register(village):
        try:
            barrier.wait()
            member_registration_create(member=member, community=village, registered_on=DAY)
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(errors_of(exc)[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(village,)) for village in county.villages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("ok") == 1
    assert member.registrations.filter(status="active").count() == 1
