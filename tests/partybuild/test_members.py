"""Party members and party-member households (党员中心户)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from partybuild.models import CentralHousehold, MemberStatus
from partybuild.services import (
    CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE,
    MEMBER_STILL_REGISTERED,
    ORG_INACTIVE,
    central_household_clear,
    central_household_set,
    member_registration_end,
    party_member_create,
    party_member_update,
    party_organization_update,
)
from tests.helpers.messages import english, errors_of
from tests.helpers.people import new_household, new_member, new_resident, operator


def test_create_a_probationary_member(county):
    resident = new_resident(county)
    member = party_member_create(
        resident=resident, organization=county.branches[0], joined_on=datetime.date(2024, 7, 1),
        status=MemberStatus.PROBATIONARY, is_mobile=True,
    )
    assert member.status == "probationary" and member.is_mobile and not member.in_service
    assert resident.party_member == member


def test_in_service_member_needs_a_work_unit(county):
    with pytest.raises(ValidationError) as excinfo:
        party_member_create(
            resident=new_resident(county), organization=county.branches[0], joined_on=datetime.date(2020, 1, 1),
            in_service=True,
        )
    assert errors_of(excinfo) == [english("An in-service member needs a work unit.")]


def test_a_resident_is_one_member_only(county):
    with pytest.raises(ValidationError) as excinfo:
        party_member_create(
            resident=county.residents[0], organization=county.branches[0], joined_on=datetime.date(2020, 1, 1)
        )
    assert "resident" in excinfo.value.message_dict


def test_an_inactive_organisation_takes_no_new_members(county):
    branch = party_organization_update(organization=county.branches[0], is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        party_member_create(resident=new_resident(county), organization=branch, joined_on=datetime.date(2020, 1, 1))
    assert errors_of(excinfo) == [english(ORG_INACTIVE, organization=branch.name)]


def test_leaving_service_needs_the_registration_ended_first(county):
    member = county.members[0]
    with pytest.raises(ValidationError) as excinfo:
        party_member_update(member=member, in_service=False, work_unit="")
    assert errors_of(excinfo) == [
        english(MEMBER_STILL_REGISTERED, member=member.resident.name, community=county.villages[0].display_name)
    ]
    member_registration_end(user=operator(), registration=member.registrations.get(),
                            ended_on=datetime.date(2025, 1, 1))
    updated = party_member_update(member=member, in_service=False, work_unit="")
    assert not updated.in_service


def test_central_household_is_run_by_a_member_living_in_it(county):
    household = new_household(county)
    member = county.members[0]
    with pytest.raises(ValidationError) as excinfo:
        central_household_set(household=household, member=member)
    assert errors_of(excinfo) == [
        english(CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE, member=member.resident.name, household=household.number)
    ]
    resident_member = new_member(county, household=household)
    central = central_household_set(household=household, member=resident_member, since=datetime.date(2024, 1, 1))
    assert central.member == resident_member and household.central_household == central


def test_central_household_changes_hands_and_is_cleared(county):
    household = county.households[0]
    successor = new_member(county, household=household)
    central = central_household_set(household=household, member=successor)
    assert CentralHousehold.objects.filter(household=household).count() == 1
    assert central.member == successor
    central_household_clear(household=household)
    assert not CentralHousehold.objects.filter(household=household).exists()
