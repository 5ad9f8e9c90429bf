"""Excel rosters of the party-building app: organisations, members, party-member households,
double report (units, members) and service records; wishes are exported only."""

import datetime

import pytest
from django.utils import translation

from governance.rosters import get_spec, roster_import
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    OfferKind,
    PartyMember,
    PartyOrganization,
    RegistrationStatus,
    ServiceRecord,
    UnitRegistration,
    Wish,
)
from partybuild.services import SECOND_ACTIVE_REGISTRATION, SERVICE_DAY_OVER_24, SERVICE_OVERLAP
from tests.helpers.excel import exported, fill_template, headers, xlsx
from tests.helpers.people import new_household, new_member, new_resident


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def header(kind, name):
    return str(get_spec(kind).column(name).header)


def test_party_organizations_template_round_trip_with_a_parent_in_the_same_file(county, admin_user):
    village, grid = county.villages[0], county.grids[0]
    content = fill_template("party_organizations", [
        {"name": "新党总支", "kind": "general_branch", "org_unit": village.code, "parent": county.committees[0].name},
        {"name": "新党支部", "kind": "branch", "org_unit": grid.code, "parent": "新党总支"},
    ])
    report = roster_import(kind="party_organizations", file=content, user=admin_user)
    assert report.ok and report.new == 2, str(report)
    child = PartyOrganization.objects.get(name="新党支部")
    assert child.parent.name == "新党总支" and child.parent.parent == county.committees[0]
    county.committees[0].refresh_from_db()
    assert child.is_descendant_of(county.committees[0])
    rows = exported("party_organizations", PartyOrganization.objects.filter(name__startswith="新"), admin_user)
    assert [row[header("party_organizations", "name")] for row in rows] == ["新党总支", "新党支部"]
    assert roster_import(kind="party_organizations", file=content, user=admin_user).unchanged == 2


def test_party_organization_kind_must_fit_under_its_parent(county, english):
    rows = [["错误的党委", "committee", county.grids[0].code, county.branches[0].name]]
    names = ["name", "kind", "org_unit", "parent"]
    report = roster_import(kind="party_organizations", file=xlsx(headers("party_organizations", names), rows))
    assert [e.message for e in report.errors] == [
        "A 党委 cannot be placed under a 党支部: a 党委 sits under 党委、街道党工委."]


def test_party_members_template_round_trip(county, admin_user):
    residents = [new_resident(county), new_resident(county)]
    content = fill_template("party_members", [
        {"resident": residents[0].id_number, "organization": county.branches[0].name, "joined_on": "2015-07-01"},
        {"resident": residents[1].id_number, "organization": county.branches[0].name,
         "organization_unit": county.villages[0].code, "joined_on": datetime.date(2016, 7, 1), "status": "probationary",
         "in_service": "是", "work_unit": "县教育局"},
    ])
    report = roster_import(kind="party_members", file=content, user=admin_user)
    assert report.new == 2, str(report)
    member = PartyMember.objects.get(resident=residents[1])
    assert (member.status, member.in_service, member.joined_on) == ("probationary", True, datetime.date(2016, 7, 1))
    rows = exported("party_members", PartyMember.objects.filter(resident__in=residents), admin_user)
    assert sorted(row[header("party_members", "name")] for row in rows) == sorted(r.name for r in residents)


def test_an_in_service_member_needs_a_work_unit(county, english):
    resident = new_resident(county)
    rows = [[resident.id_number, county.branches[0].name, "2015-07-01", "Y", ""]]
    names = ["resident", "organization", "joined_on", "in_service", "work_unit"]
    report = roster_import(kind="party_members", file=xlsx(headers("party_members", names), rows))
    assert [(e.column, e.message) for e in report.errors] == [("Work unit", "An in-service member needs a work unit.")]


def test_central_households_template_round_trip(county, admin_user):
    household = new_household(county)
    member = new_member(county, household=household)
    content = fill_template(
        "central_households", [{"household": household.number, "member": member.resident.id_number}]
    )
    assert roster_import(kind="central_households", file=content, user=admin_user).new == 1
    rows = exported("central_households", CentralHousehold.objects.filter(household=household), admin_user)
    assert rows[0][header("central_households", "member_name")] == member.resident.name


def test_unit_registrations_template_round_trip_with_their_lists(county, admin_user):
    village = county.villages[0]
    content = fill_template("unit_registrations", [
        {"unit_name": "县卫健局", "party_organization": "县卫健局党支部", "community": village.code,
         "registered_on": "2025-03-01", "resources": "义诊；健康讲座", "needs": "场地", "projects": ""},
        {"unit_name": "县水务局", "party_organization": "县水务局党支部", "community": village.code,
         "registered_on": "2025-03-02"},
    ])
    report = roster_import(kind="unit_registrations", file=content, user=admin_user)
    assert report.new == 2, str(report)
    registration = UnitRegistration.objects.get(unit_name="县卫健局")
    assert set(registration.offers.filter(kind=OfferKind.RESOURCE).values_list("description", flat=True)) == {
        "义诊", "健康讲座"}
    rows = exported("unit_registrations", UnitRegistration.objects.filter(unit_name="县卫健局"), admin_user)
    assert rows[0][header("unit_registrations", "resources")] == "义诊；健康讲座"
    assert roster_import(kind="unit_registrations", file=content, user=admin_user).unchanged == 2


def test_member_registrations_template_round_trip(county, admin_user):
    member = new_member(county)
    village = county.villages[0]
    content = fill_template("member_registrations", [
        {"member": member.resident.id_number, "community": village.code, "registered_on": "2025-05-01",
         "posts": "policy、patrol"},
    ])
    report = roster_import(kind="member_registrations", file=content, user=admin_user)
    assert report.new == 1, str(report)
    registration = MemberRegistration.objects.get(member=member)
    assert set(registration.claims.values_list("post", flat=True)) == {"policy", "patrol"}
    rows = exported("member_registrations", MemberRegistration.objects.filter(member=member), admin_user)
    assert rows[0][header("member_registrations", "member_name")] == member.resident.name


def test_one_active_registration_per_member(county, english):
    member = county.members[0]  # registered (active) with the village of township A
    rows = [[member.resident.id_number, county.villages[0].code, "2025-05-01"]]
    names = ["member", "community", "registered_on"]
    report = roster_import(kind="member_registrations", file=xlsx(headers("member_registrations", names), rows))
    expected = str(SECOND_ACTIVE_REGISTRATION) % {"member": member.resident.name, "community": county.villages[0]}
    assert [e.message for e in report.errors] == [expected]
    # Ending the first one in the same file makes room for the new one.
    first = MemberRegistration.objects.get(member=member, status=RegistrationStatus.ACTIVE)
    rows.append([member.resident.id_number, county.villages[0].code, first.registered_on, "2025-04-30"])
    report = roster_import(
        kind="member_registrations", file=xlsx(headers("member_registrations", [*names, "ended_on"]), rows)
    )
    assert report.ok and (report.new, report.changed) == (1, 1), str(report)
    first.refresh_from_db()
    assert first.status == RegistrationStatus.ENDED and first.ended_on == datetime.date(2025, 4, 30)


SERVICE = ["member", "community", "date", "start_time", "end_time", "kind"]


def test_service_records_template_round_trip_with_hours_and_points(county, admin_user):
    member = county.members[0]
    content = fill_template("service_records", [
        {"member": member.resident.id_number, "community": county.villages[0].code, "date": "2025-06-01",
         "start_time": "09:00", "end_time": "11:30", "kind": "patrol"},
        {"member": member.resident.id_number, "community": county.villages[0].code, "date": "2025-06-01",
         "start_time": datetime.time(14, 0), "end_time": "15:06", "kind": "greening"},
    ])
    report = roster_import(kind="service_records", file=content, user=admin_user)
    assert report.new == 2, str(report)
    morning = ServiceRecord.objects.get(member=member, date=datetime.date(2025, 6, 1), start_time=datetime.time(9))
    assert (str(morning.hours), morning.points) == ("2.5", 25)
    rows = exported("service_records", ServiceRecord.objects.filter(date=datetime.date(2025, 6, 1)), admin_user)
    assert len(rows) == 2
    assert roster_import(kind="service_records", file=content, user=admin_user).unchanged == 2


def test_no_overlapping_services_and_at_most_24_hours(county, english):
    member = county.members[0]  # served 09:00-11:00 on 2024-04-01 (the cast)
    rows = [[member.resident.id_number, county.villages[0].code, "2024-04-01", "10:00", "12:00", "patrol"]]
    report = roster_import(kind="service_records", file=xlsx(headers("service_records", SERVICE), rows))
    expected = str(SERVICE_OVERLAP) % {
        "start": "10:00", "end": "12:00", "member": member.resident.name, "other_start": "09:00",
        "other_end": "11:00", "date": "2024-04-01"}
    assert [e.message for e in report.errors] == [expected]
    rows = [[member.resident.id_number, county.villages[0].code, "2024-04-01", "11:00", "10:00", "patrol"]]
    report = roster_import(kind="service_records", file=xlsx(headers("service_records", SERVICE), rows))
    assert len(report.errors) == 1 and "end time must be after the start time" in report.errors[0].message
    assert str(SERVICE_DAY_OVER_24)  # the 24-hour rule cannot be broken without an overlap within one day


def test_wishes_are_exported_only(county, admin_user):
    rows = exported("wishes", Wish.objects.all(), admin_user)
    assert {row[header("wishes", "title")] for row in rows} == {"修理屋顶漏水"}
    report = roster_import(kind="wishes", file=b"a,b\n1,2\n")
    assert not report.ok and not get_spec("wishes").importable
