"""Demo party members and organisations: who is a member (the residents the seed tagged 党员), who
is in service and where, the organisation tree, and the party-member households (党员中心户)."""

from bisect import bisect
from collections import defaultdict
from itertools import accumulate

from django.db.models import Max

from governance.demo.hooks import DemoContext
from governance.models import Household, Kind, Level, Relation, Resident, Tag
from partybuild.demo.common import Member, Org, county_of, day_text, village_of
from partybuild.models import CentralHousehold, MemberStatus, OrgKind, PartyMember, PartyOrganization

IN_SERVICE_SHARE = 0.20  # of all members
VOLUNTEER_SHARE = 0.28  # of members neither in service nor mobile, aged 18-72


# County agencies whose members are in service: (name pattern, weight by staff size). "{}" is
# the county's name: 德昌县财政局, 国网德昌县供电公司.
WORK_UNITS = (
    ("{}委办公室", 2), ("{}政府办公室", 2), ("{}委组织部", 2), ("{}委宣传部", 1), ("{}纪委监委", 2),
    ("{}财政局", 3), ("{}教育局", 3), ("{}人民医院", 8), ("{}中医医院", 4), ("{}第一中学", 5),
    ("{}实验小学", 4), ("{}公安局", 6), ("{}人民法院", 3), ("{}人民检察院", 2), ("{}税务局", 3),
    ("{}自然资源局", 2), ("{}住房和城乡建设局", 2), ("{}农业农村局", 3), ("{}林业和草原局", 2),
    ("{}水利局", 2), ("{}交通运输局", 2), ("{}卫生健康局", 2), ("{}市场监督管理局", 3), ("{}民政局", 2),
    ("{}人力资源和社会保障局", 2), ("{}应急管理局", 1), ("{}文化广播电视和旅游局", 1),
    ("{}发展和改革局", 2), ("{}统计局", 1), ("{}审计局", 1), ("{}医疗保障局", 1), ("{}退役军人事务局", 1),
    ("{}司法局", 1), ("{}疾病预防控制中心", 2), ("{}妇幼保健院", 2), ("{}融媒体中心", 1),
    ("国网{}供电公司", 3), ("{}农村信用合作联社", 2), ("中国农业银行{}支行", 2),
)


def load_members(ctx: DemoContext, units: dict) -> list[Member]:
    rows = ctx.query(
        Resident.objects.filter(tags__code="party_member", is_active=True)
        .order_by("id")
        .values_list("id", "household_id", "household__grid_id", "birth_date", "relation")
    )
    today = ctx.as_of
    return [
        Member(rid, hid, units[grid_id], birth.toordinal(), (today - birth).days * 4 // 1461, relation)
        for rid, hid, grid_id, birth, relation in rows
    ]


def decide_members(ctx: DemoContext, members: list[Member], today: int) -> None:
    rng = ctx.rng("partybuild", "members")
    # In service: exactly IN_SERVICE_SHARE of all members, among those of working age, townspeople
    # 2.5 times as likely (weighted sampling without replacement: the largest u^(1/w) win).
    working = [m for m in members if 22 <= m.age <= 59]
    keys = sorted(
        ((rng.random() ** (1 / (2.5 if village_of(m.leaf).kind == Kind.COMMUNITY else 1.0)), i) for i, m in
         enumerate(working)),
        reverse=True,
    )
    for _key, i in keys[: round(IN_SERVICE_SHARE * len(members))]:
        working[i].in_service = True
    unit_names = {}
    for m in members:
        rand = rng.random
        if m.in_service:
            county = county_of(m.leaf)
            if county.code not in unit_names:
                names = [pattern.format(county.name) for pattern, _ in WORK_UNITS]
                unit_names[county.code] = (names, list(accumulate(w for _, w in WORK_UNITS)))
            names, cum = unit_names[county.code]
            m.work_unit = names[bisect(cum, rand() * cum[-1])]
        elif 18 <= m.age <= 50 and rand() < 0.10:
            m.is_mobile = True
        adult = m.birth + 6575  # about 18 years; the seed tags only adults
        if adult > today - 400 or rand() < (0.06 if m.age < 36 else 0.008):
            m.status = MemberStatus.PROBATIONARY  # joined within the last year
            m.joined_on = min(today, max(adult + 1, today - 30 - int(rand() * 330)))
        else:
            join_age = 18 + int(rand() * rand() * 30)  # most join in their twenties
            m.joined_on = min(max(adult + 1, m.birth + int(join_age * 365.25) + int(rand() * 365)), today - 366)
    # Volunteers: the registered in-service members (decided with the registrations) and a
    # share of the members living at home.
    for m in members:
        if not m.in_service and not m.is_mobile and 18 <= m.age <= 72 and rng.random() < VOLUNTEER_SHARE:
            m.volunteer_in = village_of(m.leaf)
            m.volunteer_from = today - 364


# --- Organisations --------------------------------------------------------------------------


def _committee_name(unit) -> str:
    if unit.kind == Kind.SUBDISTRICT:
        return f"中共{unit.name}工作委员会"
    return f"中共{unit.name}委员会"


def build_organizations(ctx: DemoContext, members: list[Member]) -> tuple[Org, list[tuple[Org, object]]]:
    """The tree of organisations, and each member's organisation; returns (root, [(agency org, county)])."""
    rng = ctx.rng("partybuild", "organizations")
    plan = ctx.plan
    root = Org(_committee_name(plan.root), OrgKind.COMMITTEE, plan.root)
    at_home = defaultdict(list)  # leaf -> members who belong to their home organisations
    for m in members:
        if not m.in_service:
            at_home[m.leaf].append(m)
    agencies = []
    county_orgs = {}
    for county in plan.counties():
        county_org = root if county is plan.root else root.add(Org(_committee_name(county), OrgKind.COMMITTEE, county))
        county_orgs[county.code] = county_org
        # The agencies sit in the communities of the county seat (the first subdistrict).
        seat = sorted((t for t in county.children if t.kind == Kind.SUBDISTRICT), key=lambda t: t.code)
        seats = [v for t in seat[:1] for v in t.children if v.kind == Kind.COMMUNITY] or [
            v for t in county.children for v in t.children
        ]
        work = county_org.add(Org(f"中共{county.name}直属机关工作委员会", OrgKind.COMMITTEE, county))
        for i, (pattern, weight) in enumerate(WORK_UNITS):
            unit_name = pattern.format(county.name)
            big = weight >= 5
            org = work.add(
                Org(
                    f"{unit_name}{'党总支' if big else '党支部'}",
                    OrgKind.GENERAL_BRANCH if big else OrgKind.BRANCH,
                    seats[i % len(seats)],
                    work_unit=unit_name,
                )
            )
            agencies.append((org, county))
    agency_of = {org.work_unit: org for org, _county in agencies}
    for m in members:
        if m.in_service:
            m.org = agency_of[m.work_unit]

    for township in (u for u in plan.units if u.level == Level.TOWNSHIP):
        street = township.kind == Kind.SUBDISTRICT  # a city district's chain: 街道党工委 → 社区党委
        committee = county_orgs[county_of(township).code].add(
            Org(_committee_name(township), OrgKind.STREET_COMMITTEE if street else OrgKind.COMMITTEE, township)
        )
        for village in township.children:
            community = village.kind == Kind.COMMUNITY
            grids = village.children
            count = sum(len(at_home[leaf]) for g in grids for leaf in (g.children or [g]))
            # Many members: a general branch (党总支; a community party committee in a subdistrict) over
            # numbered branches, grids shared out.
            if count >= (120 if community else 180) and len(grids) >= 2:
                top = committee.add(
                    Org(f"{village.short_name}党委", OrgKind.COMMUNITY_COMMITTEE, village) if street and community
                    else Org(f"{village.short_name}党总支", OrgKind.GENERAL_BRANCH, village)
                )
                parts = min(len(grids), max(2, min(4, count // 60)))
                branches = [
                    top.add(Org(f"{village.short_name}第{'一二三四'[i]}党支部", OrgKind.BRANCH, village))
                    for i in range(parts)
                ]
                branch_of = {g.code: branches[i * parts // len(grids)] for i, g in enumerate(grids)}
            else:
                branch = committee.add(Org(f"{village.short_name}党支部", OrgKind.BRANCH, village))
                branch_of = {g.code: branch for g in grids}
            for grid in grids:
                leaves = grid.children or [grid]
                owner = branch_of[grid.code]
                grid_members = sum(len(at_home[leaf]) for leaf in leaves)
                if grid_members >= 3 and rng.random() < (0.85 if community else 0.5):
                    owner = owner.add(Org(f"{grid.name}党支部", OrgKind.GRID_BRANCH, grid))
                    for leaf in grid.children if community else ():
                        if len(at_home[leaf]) >= 3 and rng.random() < 0.7:
                            stem = leaf.name.removesuffix("微网格")
                            kind = "庭院" if leaf.address.rural else ""
                            group = owner.add(Org(f"{stem}{kind}党小组", OrgKind.GROUP, leaf))
                            for m in at_home[leaf]:
                                m.org = group
                for leaf in leaves:
                    for m in at_home[leaf]:
                        if m.org is None:
                            m.org = owner
    return root, agencies


def _number(root: Org, first_id: int) -> list[Org]:
    """Pre-order list with ids and MPTT numbers, siblings by name (MPTTMeta.order_insertion_by)."""
    order, counter, stack = [], 1, [(root, False)]
    while stack:
        org, done = stack.pop()
        if done:
            org.rght = counter
            counter += 1
            continue
        org.pk = first_id + len(order)
        org.lft = counter
        counter += 1
        org.depth = org.parent.depth + 1 if org.parent else 0
        org.children.sort(key=lambda o: o.name)
        order.append(org)
        stack.append((org, True))
        stack.extend((child, False) for child in reversed(org.children))
    return order


def write_organizations(ctx: DemoContext, root: Org) -> None:
    orgs = _number(root, ctx.next_id(PartyOrganization))
    tree_id = _next_tree_id(ctx)
    ctx.write(
        PartyOrganization,
        ("id", "name", "kind", "parent_id", "org_unit_id", "work_unit", "is_active", "lft", "rght", "tree_id",
         "mptt_level"),
        [
            (o.pk, o.name, o.kind, o.parent.pk if o.parent else None, o.unit.pk, o.work_unit, True, o.lft, o.rght,
             tree_id, o.depth)
            for o in orgs
        ],
    )


def _next_tree_id(ctx: DemoContext) -> int:
    ctx.flush()
    return (PartyOrganization.objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1


def write_members(ctx: DemoContext, members: list[Member]) -> None:
    first = ctx.next_id(PartyMember)
    day = day_text
    rows = []
    for i, m in enumerate(members):
        m.pk = first + i
        rows.append(
            (m.pk, m.resident_id, m.org.pk, m.status, day(m.joined_on), m.in_service, m.work_unit, m.is_mobile, True)
        )
    ctx.write(
        PartyMember,
        ("id", "resident_id", "organization_id", "status", "joined_on", "in_service", "work_unit", "is_mobile",
         "is_active"),
        rows,
    )


def write_central_households(ctx: DemoContext, members: list[Member], today: int) -> None:
    """The households tagged 党员中心户, run by their head, who is a member."""
    rng = ctx.rng("partybuild", "central-households")
    households = ctx.query(
        Resident.objects.filter(household__tags__code="party_household", relation=Relation.HEAD)
        .order_by("household_id")
        .values_list("household_id", flat=True)
    )
    head_member = {
        m.household_id: m for m in members if m.relation == Relation.HEAD and m.status == MemberStatus.FULL
    }
    chosen = [head_member[h] for h in households if h in head_member]
    # A village without one (small places) gets one: a member heading a household, tagged too.
    covered = {village_of(m.leaf).pk for m in chosen}
    extra = {}
    for m in head_member.values():
        village = village_of(m.leaf)
        if village.pk not in covered and not m.is_mobile:
            extra.setdefault(village.pk, m)
    tag = ctx.query(Tag.objects.filter(code="party_household").values_list("pk", flat=True))
    if tag:
        links = [(m.household_id, tag[0]) for m in extra.values()]
        ctx.write(Household.tags.through, ("household_id", "tag_id"), links)
        chosen += extra.values()
    first = ctx.next_id(CentralHousehold)
    rows = []
    for m in sorted(chosen, key=lambda m: m.household_id):
        since = min(today - 1, max(m.joined_on + 365, today - 30 - int(rng.random() * 2500)))
        rows.append((first + len(rows), m.household_id, m.pk, day_text(since)))
    ctx.write(CentralHousehold, ("id", "household_id", "member_id", "since"), rows)
