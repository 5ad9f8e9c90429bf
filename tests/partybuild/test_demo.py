"""partybuild's demo data (seed_demo): every roster filled, valid, consistent, deterministic."""

import datetime
import random
from collections import Counter, defaultdict

import pytest
from django.db.models import Count, Q

from governance.demo import seed_demo
from governance.demo.dates import as_of_day
from governance.models import Household, Kind, Level, Resident
from partybuild.demo import members as demo_members
from partybuild.models import (
    WISH_FLOW,
    CentralHousehold,
    MemberRegistration,
    MemberStatus,
    OrgKind,
    PartyMember,
    PartyOrganization,
    PartyOrganizationKind,
    PostClaim,
    RegistrationStatus,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishEvent,
    WishState,
)
from partybuild.selectors import wish_eligible_members
from partybuild.services import overlapping, service_hours, service_points

# The day the tests seed for (the same numbers whenever they run); the records run up to the day before.
TODAY = datetime.date(2025, 7, 1)
REFERENCE_DATE = as_of_day(TODAY)

MODELS = (
    PartyOrganization, PartyMember, CentralHousehold, UnitRegistration, UnitOffer, MemberRegistration, PostClaim,
    Wish, WishEvent, ServiceRecord,
)


@pytest.fixture
def seeded(db):
    return seed_demo(scale="small", seed=1, today=TODAY)


def _sample(model, n=40):
    rows = list(model.objects.order_by("pk"))
    return random.Random(model.__name__).sample(rows, min(n, len(rows)))


def test_small_seed_fills_every_roster(seeded):
    for model in MODELS:
        assert model.objects.count() > 0, model
        assert seeded.rosters[model._meta.label] == model.objects.count()
    # The board shows all six columns; older wishes are further along.
    assert set(Wish.objects.values_list("state", flat=True)) == set(WishState.values)


def test_seeded_rows_pass_the_model_rules(seeded):
    for model in MODELS:
        for row in _sample(model):
            row.full_clean()


def test_organisations_form_a_valid_tree(seeded):
    orgs = list(PartyOrganization.objects.select_related("parent", "org_unit"))
    rules = PartyOrganizationKind.rules()
    for org in orgs:
        if org.parent:
            assert rules.fits(org.kind, org.parent.kind)
            assert org.parent.lft < org.lft < org.rght < org.parent.rght
            assert org.mptt_level == org.parent.mptt_level + 1
    written = {o.pk: (o.lft, o.rght, o.tree_id, o.mptt_level) for o in orgs}
    PartyOrganization.objects.rebuild()
    assert {o.pk: (o.lft, o.rght, o.tree_id, o.mptt_level) for o in PartyOrganization.objects.all()} == written
    kinds = Counter(o.kind for o in orgs)
    # The county, each township (a street working committee for a subdistrict), the agencies' working committee.
    assert kinds[OrgKind.COMMITTEE] + kinds[OrgKind.STREET_COMMITTEE] >= 1 + 3 + 1
    township_kinds = {OrgKind.COMMITTEE, OrgKind.STREET_COMMITTEE}
    townships = {o.org_unit_id for o in orgs if o.kind in township_kinds and o.org_unit.level == Level.TOWNSHIP}
    assert len(townships) == 3
    streets = {o.org_unit.kind for o in orgs if o.kind == OrgKind.STREET_COMMITTEE}
    assert streets == {Kind.SUBDISTRICT}
    assert all(o.work_unit for o in orgs if o.parent and o.parent.name.endswith("直属机关工作委员会"))


def test_members_are_the_tagged_residents(seeded):
    tagged = set(Resident.objects.filter(tags__code="party_member").values_list("pk", flat=True))
    members = list(PartyMember.objects.select_related("resident", "organization__org_unit"))
    assert {m.resident_id for m in members} == tagged
    adults = Resident.objects.filter(birth_date__lte=REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 18)).count()
    assert 0.03 <= len(members) / adults <= 0.12
    for m in members:
        assert m.joined_on <= REFERENCE_DATE
        assert (m.joined_on - m.resident.birth_date).days >= 18 * 365
        if m.status == MemberStatus.PROBATIONARY:
            assert (REFERENCE_DATE - m.joined_on).days < 366
        if m.in_service:
            assert m.work_unit and m.organization.work_unit == m.work_unit
        else:
            # Living at home: his organisation covers the place he lives.
            home = m.resident.household.grid
            assert m.organization.org_unit.is_ancestor_of(home, include_self=True)


def test_central_households_are_run_by_a_member_living_there(seeded):
    tagged = set(Household.objects.filter(tags__code="party_household").values_list("pk", flat=True))
    for central in CentralHousehold.objects.select_related("member__resident"):
        assert central.member.resident.household_id == central.household_id
        assert central.household_id in tagged


def test_double_report_rules_hold_on_every_row(seeded):
    assert not (
        MemberRegistration.objects.filter(status=RegistrationStatus.ACTIVE)
        .values("member").annotate(n=Count("pk")).filter(n__gt=1).exists()
    )
    for registration in MemberRegistration.objects.select_related("member__resident__household__grid", "community"):
        assert registration.member.in_service
        assert registration.community.level == Level.VILLAGE
        assert (registration.status == RegistrationStatus.ENDED) == (registration.ended_on is not None)
        if registration.ended_on:
            assert registration.registered_on <= registration.ended_on <= REFERENCE_DATE
    for claim in PostClaim.objects.select_related("registration"):
        assert claim.registration.registered_on <= claim.claimed_on <= REFERENCE_DATE
    assert not (
        UnitRegistration.objects.filter(status=RegistrationStatus.ACTIVE)
        .values("unit_name", "community").annotate(n=Count("pk")).filter(n__gt=1).exists()
    )
    assert set(UnitOffer.objects.values_list("kind", flat=True)) == {"resource", "need", "project"}


def test_services_follow_the_hours_and_overlap_rules(seeded):
    by_member_day = defaultdict(list)
    for record in ServiceRecord.objects.select_related("wish"):
        assert record.hours == service_hours(record.start_time, record.end_time)
        assert 0.5 <= record.hours <= 4
        assert record.points == service_points(record.hours)
        assert REFERENCE_DATE - datetime.timedelta(days=365) <= record.date <= REFERENCE_DATE
        by_member_day[record.member_id, record.date].append((record.start_time, record.end_time))
        if record.wish:
            assert record.wish.taken_by_id == record.member_id
            assert record.wish.community_id == record.community_id
            assert WISH_FLOW.index(record.wish.state) >= WISH_FLOW.index(WishState.DONE)
    for intervals in by_member_day.values():
        assert overlapping(intervals) == []


def test_wishes_move_in_order_and_go_to_eligible_members(seeded):
    stamps = ("posted_at", "dispatched_at", "taken_at", "done_at", "verified_at", "published_at")
    eligible = {}
    for wish in Wish.objects.select_related("community", "household", "resident"):
        wish.full_clean()
        reached = WISH_FLOW.index(wish.state)
        times = [getattr(wish, name) for name in stamps]
        assert all(t is not None for t in times[: reached + 1]) and all(t is None for t in times[reached + 1 :])
        assert times[: reached + 1] == sorted(times[: reached + 1])
        assert wish.household.grid.is_descendant_of(wish.community)
        assert (wish.taken_by_id is not None) == (reached >= 2)
        assert bool(wish.result) == (reached >= 3)
        if wish.community_id not in eligible:
            eligible[wish.community_id] = set(
                wish_eligible_members(community=wish.community).values_list("pk", flat=True)
            )
        for member_id in (wish.dispatched_to_id, wish.taken_by_id):
            assert member_id is None or member_id in eligible[wish.community_id]


def test_each_wish_has_the_history_of_its_steps(seeded):
    events = defaultdict(list)
    for event in WishEvent.objects.order_by("at", "id"):
        events[event.wish_id].append(event)
    for wish in Wish.objects.all():
        reached = WISH_FLOW.index(wish.state)
        steps = events[wish.pk]
        assert [e.to_state for e in steps] == WISH_FLOW[: reached + 1]
        assert [e.from_state for e in steps] == ["", *WISH_FLOW[:reached]]
        assert [e.at for e in steps] == [getattr(wish, f"{state}_at") for state in WISH_FLOW[: reached + 1]]
        assert all(e.actor_id is None for e in steps)  # the demo has no clerk behind its steps
        if reached >= 1:
            assert steps[1].member_id == wish.dispatched_to_id
        if reached >= 2:
            assert steps[2].member_id == wish.taken_by_id
        if reached >= 3:
            assert steps[3].comment == wish.result


def test_same_seed_same_rosters(db):
    def snapshot():
        return {
            "orgs": sorted(PartyOrganization.objects.values_list("name", "kind", "org_unit__code", "lft", "rght")),
            "members": sorted(
                PartyMember.objects.values_list(
                    "resident__id_number", "organization__name", "status", "joined_on", "in_service", "work_unit"
                )
            ),
            "wishes": sorted(Wish.objects.values_list("household__number", "title", "state", "posted_at")),
            "services": sorted(
                ServiceRecord.objects.values_list("member__resident__id_number", "date", "start_time", "end_time")
            ),
        }

    seed_demo(scale="small", seed=4, today=TODAY)
    first = snapshot()
    seed_demo(scale="small", seed=4, today=TODAY, reset=True)
    assert snapshot() == first
    seed_demo(scale="small", seed=5, today=TODAY, reset=True)
    assert snapshot()["services"] != first["services"]


def test_in_service_share_is_exact_and_of_working_age(db):
    seed_demo(scale="small", seed=3, today=TODAY)
    members = PartyMember.objects.count()
    in_service = PartyMember.objects.filter(in_service=True)
    assert in_service.count() == round(demo_members.IN_SERVICE_SHARE * members)
    young = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 22)
    old = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 60)
    assert not in_service.filter(Q(resident__birth_date__gt=young) | Q(resident__birth_date__lte=old)).exists()
