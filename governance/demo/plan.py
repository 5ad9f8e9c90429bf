"""The shape of a demo place, decided before anything is written.

``make_plan(scale, seed)`` returns every org unit (codes, names, kinds, coordinates, MPTT
numbering; every grid and micro-grid has a centroid, as Open311 needs to file a report by
position), how many households each lowest unit holds, and which units the demo users
belong to. It touches no database, so the county and city shapes can be checked in tests
without writing 10^5 households.
"""

import random
from dataclasses import dataclass, field
from decimal import Decimal

from governance.demo import names
from governance.models import Kind, Level, Role


@dataclass(frozen=True)
class CountySeed:
    code6: str
    name: str
    kind: str
    latitude: float
    longitude: float
    micro_grids: bool = True
    weight: float = 1.0


@dataclass(frozen=True)
class Scale:
    """Totals for one demo size; they are split over the tree with seeded jitter."""

    name: str
    counties: tuple[CountySeed, ...]
    townships: int
    villages: int
    grids: int
    micro_grids: int
    households: int
    city: tuple[str, str, float, float] | None = None  # (4-digit code, name, latitude, longitude)


DEMO_USERNAMES = ("admin", "county", "township_a", "township_b", "village_a", "grid_a")

DECHANG = CountySeed("513424", "德昌县", Kind.COUNTY, 27.4025, 102.1755)

SCALES = {
    "small": Scale("small", (DECHANG,), townships=3, villages=6, grids=9, micro_grids=18, households=100),
    # Dechang county as DOMAIN.md describes it: 73 villages/communities, 138 grids, 2218 micro-grids.
    "county": Scale("county", (DECHANG,), townships=14, villages=73, grids=138, micro_grids=2218, households=70_000),
    # Jincheng-shaped (6 county-level units, ~80 townships, ~1700 villages and communities). Half
    # the counties run micro-grids (10-50 households), the others stop at grids of ~500.
    "city": Scale(
        "city",
        (
            CountySeed("140502", "城区", Kind.DISTRICT, 35.5005, 112.8533, True, 7),
            CountySeed("140521", "沁水县", Kind.COUNTY, 35.6908, 112.1869, False, 12),
            CountySeed("140522", "阳城县", Kind.COUNTY, 35.4862, 112.4145, False, 14),
            CountySeed("140524", "陵川县", Kind.COUNTY, 35.7753, 113.2806, False, 12),
            CountySeed("140525", "泽州县", Kind.COUNTY, 35.6170, 112.8390, True, 17),
            CountySeed("140581", "高平市", Kind.COUNTY_CITY, 35.7977, 112.9236, True, 18),
        ),
        townships=80,
        villages=1_700,
        grids=2_100,
        micro_grids=12_900,
        households=1_000_000,
        city=("1405", "晋城市", 35.4907, 112.8513),
    ),
}

# Share of a county's townships that are subdistricts (街道), by the county's kind.
_SUBDISTRICT_SHARE = {Kind.DISTRICT: 0.6, Kind.COUNTY_CITY: 0.25, Kind.COUNTY: 0.12}
_GRID_KINDS_URBAN = (
    (Kind.GRID_NEW_ESTATE, 3), (Kind.GRID_OLD_ESTATE, 3), (Kind.GRID_WORK_UNIT, 1.5),
    (Kind.GRID_URBAN_VILLAGE, 1), (Kind.GRID_STANDARD, 2),
)
_GRID_KINDS_SUBURBAN = ((Kind.GRID_STANDARD, 5), (Kind.GRID_PERI_URBAN, 3), (Kind.GRID_URBAN_VILLAGE, 1))
_GRID_KINDS_RURAL = ((Kind.GRID_STANDARD, 9), (Kind.GRID_PERI_URBAN, 1))


@dataclass(eq=False)
class Unit:
    code: str
    name: str
    level: str
    kind: str
    parent: "Unit | None" = None
    short_name: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    children: list["Unit"] = field(default_factory=list)
    # MPTT bookkeeping, filled by _number().
    lft: int = 0
    rght: int = 0
    depth: int = 0
    # Lowest units only: how many households, and what their addresses look like.
    households: int = 0
    region: str = ""  # the county's 6-digit code: ID numbers of its people start with it
    address: "AddressStyle | None" = None
    pk: int | None = None  # set once written
    first_household_id: int | None = None  # lowest units: their households have consecutive ids from here

    def add(self, child: "Unit") -> "Unit":
        child.parent = self
        self.children.append(child)
        return child


@dataclass(frozen=True)
class AddressStyle:
    """How the households of one lowest unit are addressed.

    Rural: "<prefix><group>组<n>号"; urban: "<prefix><road><no>号<estate><building>栋<u>单元<room>室".
    """

    prefix: str
    rural: bool
    group: int = 1  # first 组 (rural) or building (urban) number
    road: str = ""
    road_no: int = 0
    estate: str = ""
    floors: int = 6


@dataclass
class Plan:
    scale: Scale
    seed: int
    root: Unit
    units: list[Unit]  # pre-order, children in code order: the order MPTT numbers them
    leaves: list[Unit]  # units that hold households, in pre-order
    users: dict[str, tuple[str, Unit]]  # username -> (role, home unit): the printed demo logins
    # Further accounts, one for each other village of township A (username -> role, unit), so a case
    # can be dispatched to any village there: dispatch refuses a unit where nobody has an account.
    staff: dict[str, tuple[str, Unit]] = field(default_factory=dict)

    def count_by_level(self) -> dict[str, int]:
        counts = {level.value: 0 for level in Level}
        for unit in self.units:
            counts[unit.level] += 1
        return counts

    @property
    def households(self) -> int:
        return sum(leaf.households for leaf in self.leaves)

    def counties(self) -> list[Unit]:
        return [u for u in self.units if u.level == Level.COUNTY]


def split(total: int, weights: list[float], rng: random.Random, minimum: int = 1, jitter: float = 0.35) -> list[int]:
    """``total`` split into len(weights) parts of at least ``minimum``, about proportional to weights."""
    n = len(weights)
    if n == 0:
        return []
    if total < n * minimum:
        raise ValueError(f"cannot split {total} into {n} parts of at least {minimum}")
    jittered = [w * (1 + rng.uniform(-jitter, jitter)) for w in weights]
    rest = total - n * minimum
    scale = rest / sum(jittered)
    raw = [w * scale for w in jittered]
    counts = [int(r) for r in raw]
    short = rest - sum(counts)
    for i in sorted(range(n), key=lambda i: counts[i] - raw[i])[:short]:
        counts[i] += 1
    return [c + minimum for c in counts]


def _weighted(rng: random.Random, choices) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


def _coord(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


class _Namer:
    """Hands out place-name stems without repeats, in a seeded order."""

    def __init__(self, rng: random.Random, stems: list[str]):
        self._stems = stems[:]
        rng.shuffle(self._stems)

    def take(self) -> str:
        if not self._stems:
            raise ValueError("demo name pool exhausted")
        return self._stems.pop()


def make_plan(scale: Scale | str, seed: int = 1) -> Plan:
    if isinstance(scale, str):
        scale = SCALES[scale]
    rng = random.Random(f"yiwang-demo/{scale.name}/{seed}")
    township_names = _Namer(rng, names.township_stems())
    subdistrict_names = _Namer(rng, list(names.SUBDISTRICT_STEMS))
    village_names = _Namer(rng, names.village_stems())
    community_names = _Namer(rng, names.community_stems())

    if scale.city:
        code4, city_name, lat, lon = scale.city
        root = Unit(f"{code4}00000000", city_name, Level.CITY, Kind.CITY, latitude=_coord(lat), longitude=_coord(lon))
        counties = [
            root.add(
                Unit(
                    f"{c.code6}000000", c.name, Level.COUNTY, c.kind,
                    latitude=_coord(c.latitude), longitude=_coord(c.longitude),
                )
            )
            for c in scale.counties
        ]
    else:
        (c,) = scale.counties
        root = Unit(f"{c.code6}000000", c.name, Level.COUNTY, c.kind, latitude=_coord(c.latitude),
                    longitude=_coord(c.longitude))
        counties = [root]

    # Townships: 街道 get codes 001-099, 镇 101-199, 乡 201-299, as the statistical codes do.
    township_counts = split(scale.townships, [c.weight for c in scale.counties], rng, jitter=0.1)
    townships: list[Unit] = []
    for county, seed_county, count in zip(counties, scale.counties, township_counts, strict=True):
        n_sub = max(1, round(count * _SUBDISTRICT_SHARE[seed_county.kind]))
        n_xiang = round((count - n_sub) * 0.3)
        n_town = count - n_sub - n_xiang
        kinds = [(Kind.SUBDISTRICT, 1 + i) for i in range(n_sub)]
        kinds += [(Kind.TOWN, 101 + i) for i in range(n_town)]
        kinds += [(Kind.TOWNSHIP, 201 + i) for i in range(n_xiang)]
        for kind, number in kinds:
            if kind == Kind.SUBDISTRICT:
                try:
                    name = subdistrict_names.take() + "街道"
                except ValueError:
                    name = township_names.take() + "街道"
            else:
                name = township_names.take() + ("镇" if kind == Kind.TOWN else "乡")
            townships.append(
                county.add(
                    Unit(
                        f"{county.code[:6]}{number:03d}000", name, Level.TOWNSHIP, kind,
                        latitude=_coord(float(county.latitude) + rng.uniform(-0.25, 0.25)),
                        longitude=_coord(float(county.longitude) + rng.uniform(-0.25, 0.25)),
                    )
                )
            )

    # Villages and communities: 居委会 (社区) codes 001-199, 村委会 201-399.
    weights = {Kind.SUBDISTRICT: 1.0, Kind.TOWN: 1.2, Kind.TOWNSHIP: 0.8}
    village_counts = split(scale.villages, [weights[t.kind] for t in townships], rng, minimum=2)
    villages: list[Unit] = []
    for township, count in zip(townships, village_counts, strict=True):
        if township.kind == Kind.SUBDISTRICT:
            n_comm = count - 1 if count >= 5 else count  # an old 城关 subdistrict keeps a village
        elif township.kind == Kind.TOWN:
            n_comm = 2 if count >= 10 else 1 if count >= 4 else 0  # the town seat
        else:
            n_comm = 0
        for i in range(count):
            if i < n_comm:
                stem = community_names.take()
                code = f"{township.code[:9]}{1 + i:03d}"
                unit = Unit(code, f"{stem}社区居民委员会", Level.VILLAGE, Kind.COMMUNITY, short_name=f"{stem}社区")
            else:
                stem = village_names.take()
                code = f"{township.code[:9]}{201 + i - n_comm:03d}"
                unit = Unit(code, f"{stem}村村民委员会", Level.VILLAGE, Kind.VILLAGE, short_name=f"{stem}村")
            unit.latitude = _coord(float(township.latitude) + rng.uniform(-0.06, 0.06))
            unit.longitude = _coord(float(township.longitude) + rng.uniform(-0.06, 0.06))
            villages.append(township.add(unit))

    # Grids: the village code plus 3 digits. Urban grids follow estates, rural ones the land.
    grid_counts = split(
        scale.grids, [1.8 if v.kind == Kind.COMMUNITY else 1.0 for v in villages], rng, minimum=1
    )
    grids: list[Unit] = []
    for village, count in zip(villages, grid_counts, strict=True):
        township = village.parent
        if village.kind == Kind.COMMUNITY:
            grid_kinds = _GRID_KINDS_URBAN
        elif township.kind == Kind.TOWNSHIP:
            grid_kinds = _GRID_KINDS_RURAL
        else:
            grid_kinds = _GRID_KINDS_SUBURBAN
        for i in range(count):
            grids.append(
                village.add(
                    Unit(
                        f"{village.code}{1 + i:03d}",
                        f"{village.short_name}第{names.chinese_number(1 + i)}网格",
                        Level.GRID,
                        _weighted(rng, grid_kinds),
                    )
                )
            )

    # Micro-grids (grid code plus 3 digits), only in counties that run them.
    county_of = {}
    for county, seed_county in zip(counties, scale.counties, strict=True):
        county_of[county.code] = seed_county
    micro_parents = [g for g in grids if county_of[_county(g).code].micro_grids]
    micro_counts = split(
        scale.micro_grids if micro_parents else 0,
        [1.3 if g.parent.kind == Kind.COMMUNITY else 1.0 for g in micro_parents],
        rng,
        minimum=1,
    )
    for grid, count in zip(micro_parents, micro_counts, strict=True):
        for i in range(count):
            grid.add(Unit(f"{grid.code}{1 + i:03d}", "", Level.MICRO_GRID, Kind.MICRO_GRID))

    leaves = [g for g in grids if not g.children] + [m for g in grids for m in g.children]
    _name_leaves_and_addresses(grids, rng)
    _place_grids(grids, random.Random(f"yiwang-demo/{scale.name}/{seed}/centroids"))

    # Households: ~30 per micro-grid (10-50), ~450 per grid without micro-grids.
    leaf_weights = []
    for leaf in leaves:
        urban = _village(leaf).kind == Kind.COMMUNITY
        base = 1.0 if leaf.level == Level.MICRO_GRID else 14.0
        leaf_weights.append(base * (1.2 if urban else 1.0))
    for leaf, count in zip(leaves, split(scale.households, leaf_weights, rng, minimum=1, jitter=0.4), strict=True):
        leaf.households = count
        leaf.region = _county(leaf).code[:6]

    units = _number(root)
    leaves = [u for u in units if u.level in (Level.GRID, Level.MICRO_GRID) and not u.children]
    users = _demo_users(root, counties)
    return Plan(scale=scale, seed=seed, root=root, units=units, leaves=leaves, users=users,
                staff=_village_staff(users))


def _county(unit: Unit) -> Unit:
    while unit.level != Level.COUNTY:
        unit = unit.parent
    return unit


def _village(unit: Unit) -> Unit:
    while unit.level != Level.VILLAGE:
        unit = unit.parent
    return unit


def _name_leaves_and_addresses(grids: list[Unit], rng: random.Random) -> None:
    """Name micro-grids after village groups (组) or estate buildings, and fix address styles."""
    group_next: dict[str, int] = {}
    for grid in grids:
        village = grid.parent
        township = village.parent
        county = township.parent
        prefix = f"{county.parent.name if county.parent else ''}{county.name}{township.name}"
        rural = village.kind == Kind.VILLAGE or grid.kind == Kind.GRID_URBAN_VILLAGE
        if rural:
            prefix += village.short_name
            units = grid.children or [grid]
            for unit in units:
                group = group_next.get(village.code, 1)
                if unit.level == Level.MICRO_GRID:
                    unit.name = f"{village.short_name}{group}组微网格"
                    group_next[village.code] = group + 1
                else:  # a grid without micro-grids spans several groups
                    group_next[village.code] = group + 3
                unit.address = AddressStyle(prefix=prefix, rural=True, group=group)
            continue
        pool = names.WORK_UNIT_COMPOUNDS if grid.kind == Kind.GRID_WORK_UNIT else names.ESTATES
        estate = rng.choice(pool)
        road = rng.choice(names.ROADS)
        road_no = rng.randrange(1, 300)
        floors = 6 if grid.kind in (Kind.GRID_OLD_ESTATE, Kind.GRID_WORK_UNIT) else rng.choice((6, 11, 18))
        if grid.children:
            for building, unit in enumerate(grid.children, start=1):
                unit.name = f"{village.short_name}{estate}{building}栋微网格"
                unit.address = AddressStyle(prefix, False, building, road, road_no, estate, floors)
        else:
            grid.address = AddressStyle(prefix, False, 1, road, road_no, estate, floors)


# How far a grid's centroid lies from its village's, and a micro-grid's from its grid's (degrees:
# about 2 km and 400 m): micro-grids cluster round their grid, grids round their village.
GRID_SPREAD = 0.02
MICRO_GRID_SPREAD = 0.004


def _place_grids(grids: list[Unit], rng: random.Random) -> None:
    """Give every grid a centroid near its village's and every micro-grid one near its grid's.

    Open311 files a report given only lat/long in the grid or micro-grid whose centroid is
    nearest (``grid.api.open311.nearest_grid``). Drawn from their own random stream, so the rest
    of the plan (names, households) is the same as without them.
    """
    for grid in grids:
        village = grid.parent
        grid.latitude = _coord(float(village.latitude) + rng.uniform(-GRID_SPREAD, GRID_SPREAD))
        grid.longitude = _coord(float(village.longitude) + rng.uniform(-GRID_SPREAD, GRID_SPREAD))
        for micro in grid.children:
            micro.latitude = _coord(float(grid.latitude) + rng.uniform(-MICRO_GRID_SPREAD, MICRO_GRID_SPREAD))
            micro.longitude = _coord(float(grid.longitude) + rng.uniform(-MICRO_GRID_SPREAD, MICRO_GRID_SPREAD))


def _number(root: Unit) -> list[Unit]:
    """Pre-order list of the tree with MPTT lft/rght/depth set, siblings ordered by code.

    OrgUnit's MPTTMeta orders insertion by code, so this is exactly the numbering that
    ``OrgUnit.objects.rebuild()`` would produce: the seed writes it directly and skips the
    rebuild (tests compare both).
    """
    order: list[Unit] = []
    counter = 1
    stack: list[tuple[Unit, bool]] = [(root, False)]
    while stack:
        unit, done = stack.pop()
        if done:
            unit.rght = counter
            counter += 1
            continue
        unit.lft = counter
        counter += 1
        unit.depth = unit.parent.depth + 1 if unit.parent else 0
        unit.children.sort(key=lambda u: u.code)
        order.append(unit)
        stack.append((unit, True))
        stack.extend((child, False) for child in reversed(unit.children))
    return order


# The demo users' names (family name, given name): people are listed by name, not by login.
DEMO_NAMES = {
    "admin": ("赵", "敏"), "county": ("刘", "建国"), "township_a": ("张", "丽"), "township_b": ("王", "磊"),
    "village_a": ("李", "春梅"), "grid_a": ("杨", "波"),
}
STAFF_NAMES = (("陈", "芳"), ("周", "强"), ("吴", "秀英"), ("郑", "伟"), ("孙", "丽娟"), ("马", "超"), ("朱", "红"),
               ("胡", "军"), ("郭", "燕"), ("何", "勇"), ("高", "静"), ("林", "涛"))


def demo_name(username: str, index: int = 0) -> tuple[str, str]:
    """(family name, given name) of a demo account."""
    return DEMO_NAMES.get(username) or STAFF_NAMES[index % len(STAFF_NAMES)]


def _village_staff(users: dict[str, tuple[str, Unit]]) -> dict[str, tuple[str, Unit]]:
    """A village account (``village_<code>``) for each other village of township A."""
    township_a, village_a = users["township_a"][1], users["village_a"][1]
    return {
        f"village_{village.code}": (Role.VILLAGE, village)
        for village in sorted(township_a.children, key=lambda u: u.code)
        if village is not village_a and village.level == Level.VILLAGE
    }


def _demo_users(root: Unit, counties: list[Unit]) -> dict[str, tuple[str, Unit]]:
    """Where the demo users sit: township A is the first town (镇), B another township."""
    county = counties[0]
    townships = sorted(county.children, key=lambda u: u.code)
    rural = [t for t in townships if t.kind == Kind.TOWN] or townships
    township_a = rural[0]
    township_b = next(t for t in townships if t is not township_a)
    village_units = sorted(township_a.children, key=lambda u: u.code)
    village_a = next((v for v in village_units if v.kind == Kind.VILLAGE), village_units[0])
    grid_a = sorted(village_a.children, key=lambda u: u.code)[0]
    return {
        "admin": (Role.ADMIN, root),
        "county": (Role.COUNTY, county),
        "township_a": (Role.TOWNSHIP, township_a),
        "township_b": (Role.TOWNSHIP, township_b),
        "village_a": (Role.VILLAGE, village_a),
        "grid_a": (Role.GRID, grid_a),
    }
