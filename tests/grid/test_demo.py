"""grid's demo data (seed_demo): the county's proportions on the plan, valid rows on a small seed."""

import datetime
import random
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.db.models import Count

from governance.demo import make_plan, seed_demo
from governance.demo.dates import as_of_day
from governance.models import Level, OrgUnit, User
from grid.demo.case_plan import CASE_YEARS, CASES_PER_HOUSEHOLD_YEAR, plan_cases, summarize_cases
from grid.demo.workers import plan_rosters
from grid.models import (
    DISPUTE_CATEGORY,
    FINAL_STATES,
    Case,
    CaseAction,
    CaseCounter,
    CaseEvent,
    CaseState,
    GridWorker,
    LiaisonHousehold,
    Mediation,
    Post,
    Triage,
    WorkerType,
)
from grid.selectors.workers import vacancies
from grid.services.cases import township_of
from grid.services.workers import gridworker_validate

# The day the tests seed for (the same numbers whenever they run); the records run up to the day before.
TODAY = datetime.date(2025, 7, 1)
AS_OF = as_of_day(TODAY)

# --- the plan (no database) -----------------------------------------------------------


def test_county_plan_has_dechangs_proportions():
    roster = plan_rosters(make_plan("county", seed=1), max_households=15)
    # One micro-grid worker per micro-grid, 887 of 2218 party members (40.0%), as published.
    assert roster.micro_workers == 2218
    assert roster.micro_party_members == 887
    assert abs(100 * roster.micro_party_members / roster.micro_workers - 40.0) <= 0.5
    # About 1% of the micro-grids left vacant on purpose, party members among them in proportion.
    assert roster.vacancies == 22
    vacant = [leaf for leaf in roster.leaves if leaf.vacant]
    current_party = roster.micro_party_members - sum(leaf.party for leaf in vacant)
    assert abs(100 * current_party / (roster.micro_workers - len(vacant)) - 40.0) <= 0.5
    # 2000+ household liaisons, about ten households each.
    assert 2000 <= roster.liaisons <= 2300
    assert 8 <= roster.liaison_households / roster.liaisons <= 12
    assert len(roster.grids) == 138
    assert 0.15 <= sum(g.ab_pair for g in roster.grids) / 138 <= 0.35


def test_liaison_blocks_fit_the_limit_and_never_share_a_household():
    roster = plan_rosters(make_plan("county", seed=2), max_households=9)
    for leaf in roster.leaves:
        taken = set()
        for first, count in leaf.liaison_blocks:
            assert 1 <= count <= 9
            block = set(range(first, first + count))
            assert block <= set(range(leaf.unit.households)) and not block & taken
            taken |= block


def test_plan_is_deterministic():
    def shape(roster):
        return [(leaf.unit.code, leaf.party, leaf.vacant, tuple(leaf.liaison_blocks)) for leaf in roster.leaves]

    assert shape(plan_rosters(make_plan("county", 3), 15)) == shape(plan_rosters(make_plan("county", 3), 15))
    assert shape(plan_rosters(make_plan("county", 3), 15)) != shape(plan_rosters(make_plan("county", 4), 15))


def test_county_cases_plan_has_realistic_proportions():
    summary = summarize_cases(make_plan("county", seed=1), AS_OF)
    # About one case a year per two households (Yangquan's mining district: 18,925 in half a year).
    assert 25_000 <= summary.total <= 40_000
    share = {colour: count / summary.total for colour, count in summary.colours.items()}
    assert 0.65 <= share["green"] <= 0.75 and 0.18 <= share["yellow"] <= 0.26 and 0.05 <= share["red"] <= 0.11
    assert summary.triage[Triage.MINOR] / summary.total >= 0.6
    assert {code for code, _n in summary.parents.most_common(3)} == {"livelihood", "dispute", "sanitation"}
    # Past months: over 99% closed (Yangquan: 18,807 of 18,925), a few still open.
    past = sum(summary.states_past.values())
    done = sum(summary.states_past[state] for state in FINAL_STATES)
    assert 0.99 <= done / past < 1
    # The current month has cases in every state, some overdue; ~95% resolved within the deadline.
    assert set(summary.states_current) == set(CaseState.values)
    assert summary.overdue > 14
    assert 0.92 <= summary.on_time / summary.resolved_dispatched <= 0.98
    assert 0.25 <= summary.mediated_disputes / summary.disputes <= 0.5
    assert len(summary.by_township) == 14


def test_city_scale_has_about_two_million_cases():
    plan = make_plan("city", seed=1)
    expected = plan.households * CASES_PER_HOUSEHOLD_YEAR * CASE_YEARS["city"]
    assert 1_800_000 <= expected <= 2_200_000


def test_case_plan_is_deterministic_and_numbered_in_sequence():
    def shape(seed):
        return [(c.number, c.reported, c.category, c.colour, c.state, tuple(c.steps[-1][:3]))
                for _t, cases in plan_cases(make_plan("small", seed), AS_OF) for c in cases]

    assert shape(1) == shape(1) and shape(1) != shape(2)
    for township, cases in plan_cases(make_plan("small", 1), AS_OF):
        by_month = defaultdict(list)
        for case in cases:
            assert case.number.startswith(township.code[:9])
            by_month[case.number[9:15]].append(int(case.number[15:]))
            times = [step[2] for step in case.steps]
            assert times == sorted(times) and times[0] == case.reported
        for numbers in by_month.values():
            assert numbers == list(range(1, len(numbers) + 1))


# --- a small seed ---------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    return seed_demo(scale="small", seed=1, today=TODAY)


def test_small_seed_writes_what_the_plan_says(seeded):
    plan = make_plan("small", seed=1)
    roster = plan_rosters(plan)
    workers = GridWorker.objects.all()
    types = Counter(workers.values_list("worker_type", flat=True))
    assert set(types) == set(WorkerType.values)  # every kind of worker is there
    micro = workers.filter(worker_type=WorkerType.MICRO)
    assert micro.count() == roster.micro_workers == 18
    assert micro.filter(is_party_member=True).count() == roster.micro_party_members
    assert micro.filter(end_date__isnull=False).count() == roster.vacancies >= 1
    assert types[WorkerType.FULL_TIME] == 9  # one per grid
    assert types[WorkerType.LIAISON] == roster.liaisons
    assert LiaisonHousehold.objects.count() == roster.liaison_households
    assert seeded.rosters["grid.GridWorker"] == workers.count()


def test_seeded_workers_pass_the_model_and_service_rules(seeded):
    rows = list(GridWorker.objects.select_related("unit", "backup__unit", "resident", "party_member__resident"))
    for worker in random.Random(1).sample(rows, 30) + [w for w in rows if w.backup_id or w.end_date]:
        worker.full_clean()
        gridworker_validate(worker=worker)
    for worker in rows:
        # A person, linked: his ID number and phone; one role each.
        assert worker.resident and (worker.id_number, worker.phone) == (worker.resident.id_number,
                                                                         worker.resident.phone)
        if worker.is_party_member and not worker.party_member_id:
            # Only where the small place has no member left for a post planned for one.
            assert worker.worker_type == WorkerType.MICRO
        if worker.party_member:
            assert worker.is_party_member
            assert worker.party_member.resident_id == worker.resident_id
        if worker.backup:  # A/B posts back each other up, in the same village
            assert worker.backup.backup_id == worker.pk
            assert {worker.post, worker.backup.post} == {Post.A, Post.B}
            assert worker.unit.parent_id == worker.backup.unit.parent_id
    assert len({w.id_number for w in rows}) == len(rows)
    assert len({w.resident_id for w in rows}) == len(rows)


def test_liaison_rules_hold_on_every_row(seeded):
    limit = settings.LIAISON_MAX_HOUSEHOLDS
    assert not (
        LiaisonHousehold.objects.values("liaison").annotate(n=Count("pk")).filter(n__gt=limit).exists()
    )
    assert not LiaisonHousehold.objects.exclude(liaison__worker_type=WorkerType.LIAISON).exists()
    assert not LiaisonHousehold.objects.filter(liaison__end_date__isnull=False).exists()
    households = defaultdict(set)
    for link in LiaisonHousehold.objects.select_related("liaison__unit", "household__grid"):
        link.full_clean()
        assert link.household.grid_id == link.liaison.unit_id  # neighbours in his own unit
        assert link.liaison.resident.household_id in {h.pk for h in link.household.grid.households.all()}
        households[link.liaison_id].add(link.household_id)
    assert len(households) == GridWorker.objects.filter(worker_type=WorkerType.LIAISON).count()


def test_the_vacant_micro_grids_show_as_vacancies(seeded):
    admin = User.objects.get(username="admin")
    vacant = set(vacancies(fetched_by=admin, level=Level.MICRO_GRID).values_list("pk", flat=True))
    left = set(GridWorker.objects.filter(worker_type=WorkerType.MICRO, end_date__isnull=False)
               .values_list("unit_id", flat=True))
    assert vacant == left and vacant
    assert not vacancies(fetched_by=admin, level=Level.GRID).exists()  # every grid has its full-time worker
    assert OrgUnit.objects.filter(level=Level.MICRO_GRID).count() - len(vacant) == GridWorker.objects.filter(
        worker_type=WorkerType.MICRO, end_date__isnull=True
    ).count()


def test_same_seed_same_workers(db):
    def snapshot():
        return sorted(
            GridWorker.objects.values_list(
                "id_number", "worker_type", "unit__code", "start_date", "end_date", "post", "backup__id_number"
            )
        ), sorted(LiaisonHousehold.objects.values_list("liaison__id_number", "household__number")), sorted(
            Case.objects.values_list("number", "title", "state", "reported_at", "grid__code")
        ), CaseEvent.objects.count()

    seed_demo(scale="small", seed=6, today=TODAY)
    first = snapshot()
    seed_demo(scale="small", seed=6, today=TODAY, reset=True)
    assert snapshot() == first


def test_seeded_cases_follow_the_plan_and_the_loop(seeded):
    planned = [case for _t, cases in plan_cases(make_plan("small", seed=1), AS_OF) for case in cases]
    assert Case.objects.count() == len(planned) == seeded.rosters["grid.Case"]
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    cases = list(Case.objects.select_related("grid", "category__parent", "handling_unit"))
    events = defaultdict(list)
    for event in CaseEvent.objects.order_by("at", "id"):
        events[event.case_id].append(event)
    for case in cases:
        case.full_clean()
        assert case.number.startswith(township_of(case.grid).code[:9]) and not case.migrated
        steps = events[case.pk]
        assert steps[0].action == CaseAction.CREATE and steps[0].at == case.reported_at
        state = ""
        for event in steps:  # each event starts where the last one ended
            assert event.from_state == state
            state = event.to_state
        assert state == case.state
        if case.state == CaseState.CLOSED:
            assert steps[-1].action == CaseAction.CLOSE and steps[-1].at == case.closed_at and case.rating
        if case.dispatched_at:
            assert case.due_at > case.dispatched_at
        if case.is_overdue:
            assert case.state not in FINAL_STATES and any(e.action == CaseAction.OVERDUE for e in steps)
    assert not Mediation.objects.exclude(case__category__parent__code=DISPUTE_CATEGORY).exists()
    # Counters end at the last number of each township and month: a new case takes the next one.
    for counter in CaseCounter.objects.select_related("township"):
        numbers = Case.objects.filter(number__startswith=f"{counter.township.code[:9]}{counter.month}")
        assert numbers.count() == counter.last
        assert max(numbers.values_list("number", flat=True)).endswith(f"{counter.last:05d}")


def test_seeded_cases_are_scoped(seeded):
    clerk = User.objects.get(username="township_a")
    visible = Case.objects.visible_to(clerk)
    mine = [case for case in Case.objects.select_related("grid") if township_of(case.grid) == clerk.home_unit]
    assert visible.count() == len(mine) > 0
    assert visible.count() < Case.objects.count()
    assert not CaseEvent.objects.visible_to(clerk).exclude(case__in=visible).exists()


def test_a_seeded_case_goes_on_through_the_loop(seeded):
    from grid.services.cases import case_accept, case_allowed_actions

    clerk = User.objects.get(username="township_a")
    case = Case.objects.visible_to(clerk).filter(state=CaseState.REPORTED).first()
    assert case is not None  # every township has one of each open state this month
    assert CaseAction.ACCEPT in case_allowed_actions(case=case, user=clerk)
    case_accept(case=case, user=clerk, triage=Triage.MINOR)
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.events.last().action == CaseAction.ACCEPT
