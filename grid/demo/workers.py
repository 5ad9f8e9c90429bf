"""Demo grid workers, A/B posts, household liaisons (联户长) and building heads.

What each unit gets is decided by ``plan_rosters`` from the plan and the seed alone (no
database), so the county's proportions can be checked without writing 70,000 households:

- one micro-grid worker (优网格员) per micro-grid, exactly ``MICRO_PARTY_SHARE`` of them party
  members (Dechang: 887 of 2218); ``VACANT_SHARE`` of them (at least one) have left, so their
  micro-grids show as vacancies (a post is staffed by a current worker);
- a full-time grid worker per standard grid, a part-time one in some, and in ``AB_SHARE`` of
  the grids an A/B pair (Zhenlai's 互为顶岗: the full-time worker on the A post, a part-time
  worker of the same grid on the B post, each the other's named backup);
- about one household liaison per ``HOUSEHOLDS_PER_LIAISON`` households (2000+ in the county),
  each looking after 8-12 neighbouring households of his lowest unit (never more than
  ``settings.LIAISON_MAX_HOUSEHOLDS``; a household has at most one);
- building heads (楼栋长) and some stairwell heads (单元长) in urban micro-grids.

Then ``seed_workers`` fills the posts with residents of the unit (or of its grid, village,
township when the unit has nobody suitable): name, ID number and phone copied from the
resident, who is linked, and his party member record when he has one; one role per person, so
ID numbers stay unique. Where a post planned for a party member finds no member on the roster
(only in a small place), a resident takes it flagged as a member whose records are kept
elsewhere. Residents come from the database one township at a time (their households have
consecutive ids), so memory stays flat at city scale.
"""

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from governance.demo.hooks import DemoContext
from governance.models import Level, Resident
from grid.models import GridWorker, LiaisonHousehold, Post, WorkerType
from partybuild.models import PartyMember

MICRO_PARTY_SHARE = 0.40
VACANT_SHARE = 0.01
PART_TIME_SHARE = 0.30
AB_SHARE = 0.25
HOUSEHOLDS_PER_LIAISON = 33
LIAISON_HOUSEHOLDS = (8, 12)  # each liaison looks after this many, capped by the setting
BUILDING_HEAD_SHARE = 0.8
UNIT_HEAD_SHARE = 0.4

WORKER_COLUMNS = (
    "id", "name", "id_number", "phone", "resident_id", "worker_type", "unit_id", "start_date", "end_date",
    "is_party_member", "party_member_id", "post", "backup_id",
)


@dataclass(eq=False)
class LeafRoster:
    unit: object  # a plan Unit holding households
    party: bool = False  # micro-grids: the worker is a party member
    vacant: bool = False  # micro-grids: the worker has left
    liaison_blocks: list[tuple[int, int]] = field(default_factory=list)  # (first household index, count)
    building_heads: int = 0
    unit_heads: int = 0


@dataclass(eq=False)
class GridRoster:
    unit: object
    part_time: bool = False
    ab_pair: bool = False


@dataclass
class RosterPlan:
    leaves: list[LeafRoster]
    grids: list[GridRoster]

    @property
    def micro_workers(self) -> int:
        return sum(1 for leaf in self.leaves if leaf.unit.level == Level.MICRO_GRID)

    @property
    def micro_party_members(self) -> int:
        return sum(1 for leaf in self.leaves if leaf.party)

    @property
    def vacancies(self) -> int:
        return sum(1 for leaf in self.leaves if leaf.vacant)

    @property
    def liaisons(self) -> int:
        return sum(len(leaf.liaison_blocks) for leaf in self.leaves)

    @property
    def liaison_households(self) -> int:
        return sum(count for leaf in self.leaves for _first, count in leaf.liaison_blocks)


def plan_rosters(plan, max_households: int | None = None) -> RosterPlan:
    """Which posts each grid and lowest unit of ``plan`` gets (no database)."""

    limit = max_households or settings.LIAISON_MAX_HOUSEHOLDS
    rng = random.Random(f"yiwang-demo/{plan.seed}/grid/plan")
    leaves = [LeafRoster(leaf) for leaf in plan.leaves]
    micro = [leaf for leaf in leaves if leaf.unit.level == Level.MICRO_GRID]
    order = list(range(len(micro)))
    rng.shuffle(order)
    n_party = round(MICRO_PARTY_SHARE * len(micro))
    party, other = order[:n_party], order[n_party:]
    for i in party:
        micro[i].party = True
    n_vacant = max(1, round(VACANT_SHARE * len(micro))) if micro else 0
    n_vacant_party = round(MICRO_PARTY_SHARE * n_vacant)
    for i in party[:n_vacant_party] + other[: n_vacant - n_vacant_party]:
        micro[i].vacant = True
    for leaf in leaves:
        unit = leaf.unit
        households = unit.households
        n = int(households / HOUSEHOLDS_PER_LIAISON + rng.random())
        if n:
            stride = households // n
            for i in range(n):
                size = min(limit, stride, LIAISON_HOUSEHOLDS[0] + int(rng.random() * (LIAISON_HOUSEHOLDS[1] - 7)))
                leaf.liaison_blocks.append((i * stride + int(rng.random() * (stride - size + 1)), size))
        if unit.address is not None and not unit.address.rural:
            if unit.level == Level.MICRO_GRID:  # one building
                leaf.building_heads = 1 if rng.random() < BUILDING_HEAD_SHARE else 0
            else:  # a grid of several buildings
                per_building = unit.address.floors * 6
                leaf.building_heads = min(8, -(-households // per_building))
            if leaf.building_heads and rng.random() < UNIT_HEAD_SHARE:
                leaf.unit_heads = 1 + int(rng.random() * 2)
    grids = []
    for unit in plan.units:
        if unit.level == Level.GRID:
            ab = rng.random() < AB_SHARE
            grids.append(GridRoster(unit, part_time=ab or rng.random() < PART_TIME_SHARE, ab_pair=ab))
    return RosterPlan(leaves, grids)


# A resident who could take a post: (resident id, household id, age, party membership), where
# the membership is (member id, may serve at home: neither in service elsewhere nor away) or None.
Person = tuple


class _Township:
    """The residents who could take a post in one township, by household; each takes one post."""

    def __init__(self, people: list[Person]):
        self.by_household = defaultdict(list)
        for person in people:
            self.by_household[person[1]].append(person)
        self.used: set[int] = set()

    def pick(self, rand, households, ages, party: bool | None) -> Person | None:
        """A free person of ``households`` (ids) within ``ages``, from a household at a random place
        onwards; ``party`` True: a member who may serve at home, False: not a member, None: anyone."""
        lo, hi = ages
        by_household, used = self.by_household, self.used
        n = len(households)
        start = int(rand() * n) if n else 0
        for k in range(n):
            for person in by_household.get(households[(start + k) % n], ()):
                resident_id, _household, age, member = person
                if lo <= age <= hi and resident_id not in used and (
                    party is None or (member[1] if party and member else party is False and not member)
                ):
                    used.add(resident_id)
                    return person
        return None


def seed_workers(ctx: DemoContext) -> None:
    with ctx.step("grid workers"):
        roster = plan_rosters(ctx.plan)
        members = {
            resident_id: (pk, not (in_service or mobile))
            for pk, resident_id, in_service, mobile in ctx.query(
                PartyMember.objects.filter(is_active=True).values_list("id", "resident_id", "in_service", "is_mobile")
            )
        }
        writer = _Writer(ctx)
        leaves_by_township = defaultdict(list)
        for leaf in roster.leaves:
            leaves_by_township[leaf.unit.parent.parent.parent.pk if leaf.unit.level == Level.MICRO_GRID
                               else leaf.unit.parent.parent.pk].append(leaf)
        grids_by_township = defaultdict(list)
        for grid in roster.grids:
            grids_by_township[grid.unit.parent.parent.pk].append(grid)
        for township in ctx.units(Level.TOWNSHIP):
            leaves = leaves_by_township[township.pk]
            if not leaves:
                continue
            people = _load_people(ctx, leaves, members)
            _fill_township(ctx, writer, _Township(people), leaves, grids_by_township[township.pk])
            writer.write()


def _load_people(ctx: DemoContext, leaves: list[LeafRoster], members: dict) -> list[Person]:
    """The adults with a phone of one township (its households have consecutive ids); names,
    ID numbers and phones are read later, for the few who take a post."""
    first = leaves[0].unit.first_household_id
    last = leaves[-1].unit.first_household_id + leaves[-1].unit.households
    today = ctx.as_of
    qn = connection.ops.quote_name
    with ctx.cursor() as cursor:
        cursor.execute(
            f"SELECT id, household_id, birth_date FROM {qn(Resident._meta.db_table)} "
            "WHERE household_id >= %s AND household_id < %s AND is_active AND phone <> '' "
            "AND birth_date <= %s AND birth_date > %s ORDER BY id",
            [first, last, today.replace(year=today.year - 20), today.replace(year=today.year - 76)],
        )
        rows = cursor.fetchall()
    ordinal = today.toordinal()
    parse = datetime.date.fromisoformat
    return [
        (rid, hid, (ordinal - (parse(birth) if isinstance(birth, str) else birth).toordinal()) * 4 // 1461,
         members.get(rid))
        for rid, hid, birth in rows
    ]


class _Writer:
    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.next_worker = ctx.next_id(GridWorker)
        self.next_link = ctx.next_id(LiaisonHousehold)
        self.workers: list[list] = []
        self.links: list[tuple] = []

    def worker(self, person: Person, worker_type: str, unit, start: int, end: int | None = None,
               party: bool = False) -> list:
        """A worker row; ``party`` flags a member whose record is not on this county's roster."""
        member_id = person[3][0] if person[3] else None
        row = [
            self.next_worker, None, None, None, person[0], worker_type, unit.pk,
            _day(start), _day(end) if end else None, party or member_id is not None, member_id, "", None,
        ]
        self.next_worker += 1
        self.workers.append(row)
        return row

    def link(self, liaison_row: list, household_id: int, since: int) -> None:
        self.links.append((self.next_link, liaison_row[0], household_id, _day(since)))
        self.next_link += 1

    def write(self) -> None:
        """Copy name, ID number and phone from the residents, then hand the rows over."""
        details = {}
        ids = [row[4] for row in self.workers]
        for i in range(0, len(ids), 900):
            details.update(
                (rid, rest) for rid, *rest in self.ctx.query(
                    Resident.objects.filter(pk__in=ids[i : i + 900]).values_list("id", "name", "id_number", "phone")
                )
            )
        for row in self.workers:
            row[1:4] = details[row[4]]
        self.ctx.write(GridWorker, WORKER_COLUMNS, [tuple(row) for row in self.workers])
        self.ctx.write(LiaisonHousehold, ("id", "liaison_id", "household_id", "since"), self.links)
        self.workers, self.links = [], []


def _households(ctx: DemoContext, units) -> list[int]:
    return [h for unit in units for h in ctx.household_ids(unit)]


def _fill_township(ctx, writer: _Writer, people: _Township, leaves: list[LeafRoster], grids: list[GridRoster]):
    today = ctx.as_of.toordinal()
    township = leaves[0].unit
    while township.level != Level.TOWNSHIP:
        township = township.parent
    rand = ctx.rng("grid", "workers", township.code).random
    everyone = _households(ctx, [leaf.unit for leaf in leaves])

    def started(least=30, most=2500):
        return today - least - int(rand() * (most - least))

    def find(units_in_order, ages, party):
        """The first of the given household groups (own unit, grid, village, township) with someone."""
        for households in units_in_order:
            person = people.pick(rand, households, ages, party)
            if person is not None:
                return person
        return None

    grid_households = {}
    village_households = defaultdict(list)
    for grid in grids:
        households = _households(ctx, grid.unit.children or [grid.unit])
        grid_households[grid.unit.pk] = households
        village_households[grid.unit.parent.pk].extend(households)

    # Micro-grid workers first: their party share is the published figure.
    for leaf in leaves:
        unit = leaf.unit
        if unit.level != Level.MICRO_GRID:
            continue
        own = list(ctx.household_ids(unit))
        wider = [own, grid_households[unit.parent.pk], village_households[unit.parent.parent.pk], everyone]
        person = find(wider, (22, 65), True) if leaf.party else find(wider, (25, 60), False)
        flag_only = False
        if person is None:
            # Nobody on the roster fits (a small place): a member whose party records are kept
            # elsewhere (his work unit's branch outside the county) - flagged, not linked.
            person = find(wider, (22, 65), False) or find(wider, (20, 75), None)
            flag_only = leaf.party
        if person is None:
            continue
        if leaf.vacant:  # left between one week and four months ago; the post is open
            end = today - 7 - int(rand() * 113)
            writer.worker(person, WorkerType.MICRO, unit, end - 200 - int(rand() * 2000), end, flag_only)
        else:
            writer.worker(person, WorkerType.MICRO, unit, started(), party=flag_only)

    # Full-time (and part-time) grid workers; A/B pairs back each other up.
    for grid in grids:
        households = grid_households[grid.unit.pk]
        wider = [households, village_households[grid.unit.parent.pk], everyone]
        full = find(wider, (23, 50), True if rand() < 0.5 else None) or find(wider, (20, 60), None)
        part = None
        if grid.part_time:
            part = find(wider, (30, 62), True if rand() < 0.6 else None) or find(wider, (20, 70), None)
        full_row = writer.worker(full, WorkerType.FULL_TIME, grid.unit, started(60, 3000)) if full else None
        part_row = writer.worker(part, WorkerType.PART_TIME, grid.unit, started()) if part else None
        if grid.ab_pair and full_row and part_row:
            full_row[11], full_row[12] = Post.A, part_row[0]
            part_row[11], part_row[12] = Post.B, full_row[0]

    # Household liaisons, each among the neighbours he looks after; building and stairwell heads.
    for leaf in leaves:
        unit = leaf.unit
        ids = ctx.household_ids(unit)
        for first, count in leaf.liaison_blocks:
            block = ids[first : first + count]
            person = (
                (people.pick(rand, block, (25, 75), True) if rand() < 0.5 else None)
                or people.pick(rand, block, (25, 75), None)
                or people.pick(rand, ids, (25, 75), None)
            )
            if person is None:
                continue
            since = started(20, 1800)
            row = writer.worker(person, WorkerType.LIAISON, unit, since)
            for household_id in block:
                writer.link(row, household_id, since)
        for worker_type, count in ((WorkerType.BUILDING_HEAD, leaf.building_heads), (WorkerType.UNIT_HEAD,
                                                                                     leaf.unit_heads)):
            for _ in range(count):
                person = people.pick(rand, ids, (28, 72), None)
                if person is not None:
                    writer.worker(person, worker_type, unit, started())


_DAYS: dict[int, str] = {}


def _day(ordinal: int) -> str:
    text = _DAYS.get(ordinal)
    if text is None:
        text = _DAYS[ordinal] = datetime.date.fromordinal(ordinal).isoformat()
    return text
