"""grid's demo data (seed_demo): the county's proportions on the plan, valid rows on a small seed."""

import random
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.db.models import Count

from governance.demo import make_plan, seed_demo
from governance.models import Level, OrgUnit, User
from grid import demo
from grid.models import GridWorker, LiaisonHousehold, Post, WorkerType
from grid.selectors import vacancies
from grid.services import gridworker_validate

# --- the plan (no database) -----------------------------------------------------------


def test_county_plan_has_dechangs_proportions():
    roster = demo.plan_rosters(make_plan("county", seed=1), max_households=15)
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
    roster = demo.plan_rosters(make_plan("county", seed=2), max_households=9)
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

    assert shape(demo.plan_rosters(make_plan("county", 3), 15)) == shape(demo.plan_rosters(make_plan("county", 3), 15))
    assert shape(demo.plan_rosters(make_plan("county", 3), 15)) != shape(demo.plan_rosters(make_plan("county", 4), 15))


# --- a small seed ---------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    return seed_demo(scale="small", seed=1)


def test_small_seed_writes_what_the_plan_says(seeded):
    plan = make_plan("small", seed=1)
    roster = demo.plan_rosters(plan)
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
        ), sorted(LiaisonHousehold.objects.values_list("liaison__id_number", "household__number"))

    seed_demo(scale="small", seed=6)
    first = snapshot()
    seed_demo(scale="small", seed=6, reset=True)
    assert snapshot() == first
