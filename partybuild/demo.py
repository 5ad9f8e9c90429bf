"""Demo party organisations, members, double report, micro-wishes and service records.

Plugged into ``seed_demo`` through governance's demo hooks (``register`` at the bottom): runs
after the households and residents are written, in the same transaction, and writes in bulk
with explicit ids. Everything is derived from the plan, the seed and the residents the seed
tagged 党员, so the same seed gives the same rosters; dates count back from the demo's fixed
"today" (``ctx.today``), never from the clock.

- Organisations: the county (city) party committee; per county a 机关工委 with the party
  branches of the county's agencies; per township a 党委 (党工委 for a subdistrict) → per
  village/community a 党支部 (a 党总支 with numbered 党支部 where members are many) → 网格
  党支部 for grids with enough members → 楼栋/庭院党小组 per micro-grid in communities.
- Members: every resident tagged 党员 (about 7.5% of adults); exactly ``IN_SERVICE_SHARE``
  of them in service with a county agency (townspeople more often), some probationary
  (joined in the last year), some mobile (working away).
- 党员中心户: the households tagged so, run by their head (a member).
- Double report: each agency registers with the community it sits in (some also with a
  paired village), with resource/need/project entries; most in-service members register
  with the community they live in and claim one to three of the six posts.
- A year of micro-wishes per community (mostly from dibao, elderly, disabled and left-behind
  households), older ones further along the six steps, and about 18 services a year for each
  volunteer (registered in-service members and a share of the others): 0.5-4 hours on the
  half hour, never overlapping for one member on one day, hours and points by the rule of
  ``partybuild.services``; a finished wish has the service of the member who took it.
"""

import datetime
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

from django.db import connection
from django.db.models import Max

from governance.demo.hooks import DemoContext, register
from governance.demo.people import PeopleFactory
from governance.models import Household, Kind, Level, Relation, Resident, Tag
from governance.tree import tree_write_lock
from partybuild.models import (
    WISH_FLOW,
    CentralHousehold,
    MemberRegistration,
    MemberStatus,
    OfferKind,
    OrgKind,
    PartyMember,
    PartyOrganization,
    PostClaim,
    RegistrationStatus,
    ServicePost,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishCategory,
    WishState,
)
from partybuild.services import service_hours, service_points

IN_SERVICE_SHARE = 0.20  # of all members
REGISTERED_SHARE = 0.88  # of in-service members: an active registration
ENDED_ONLY_SHARE = 0.03  # of in-service members: only an ended registration (moved away)
RE_REGISTERED_SHARE = 0.06  # of the registered: an older, ended registration too
VOLUNTEER_SHARE = 0.28  # of members neither in service nor mobile, aged 18-72
SERVICES_PER_YEAR = 18  # per volunteer, on average (Dechang: 4388 volunteers, 184,000 hours)
HOUSEHOLDS_PER_WISH = 20  # a community posts about one wish a year per this many households
MIN_WISHES_PER_COMMUNITY = 6

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
AREA_CODES = {"5134": "0834", "1405": "0356"}  # landline prefixes by province+city code

OFFERS = {
    OfferKind.RESOURCE: (
        "会议室一间", "党员志愿服务队一支", "法律咨询服务", "健康义诊", "政策宣讲", "图书捐赠", "公务车辆应急保障",
        "实用技术培训", "就业岗位信息", "文体活动场地", "防汛救灾物资", "电脑及办公设备",
    ),
    OfferKind.NEED: (
        "老旧小区路灯维修", "独居老人定期探访", "留守儿童课后辅导", "垃圾分类宣传", "背街小巷环境整治",
        "社区活动经费", "楼道消防器材更新", "困难家庭就业帮扶", "社区卫生服务站设备",
    ),
    OfferKind.PROJECT: (
        "共建文明小区", "四点半课堂", "义诊进社区", "法律进社区", "绿化认养", "平安巡逻", "爱心超市",
        "邻里互助站", "农产品产销对接", "老年食堂",
    ),
}

# (title, result) by category.
WISHES = {
    WishCategory.DAILY_LIFE: (
        ("代购米面油等生活用品", "已送货上门"), ("更换家中老化的电线插座", "已请电工更换"),
        ("帮忙缴纳水电费", "已代缴并送回票据"), ("疏通厨房下水管道", "已疏通"),
    ),
    WishCategory.ELDERLY_CARE: (
        ("陪同老人到医院复查", "已陪同就诊"), ("为独居老人打扫卫生", "已上门打扫"),
        ("每周上门陪老人聊天", "已结对定期探望"), ("帮老人申请高龄补贴", "补贴已申请到位"),
    ),
    WishCategory.CHILDREN: (
        ("为孩子辅导数学功课", "已安排党员每周辅导"), ("想要一套课外读物", "已送去图书一套"),
        ("想要一个新书包和文具", "已送去书包文具"), ("暑假期间托管看护", "已纳入四点半课堂"),
    ),
    WishCategory.HEALTH: (
        ("上门测量血压血糖", "已联系家庭医生上门"), ("代配常用药品", "已代配送达"),
        ("申请一台轮椅", "已捐赠轮椅一台"), ("联系康复训练", "已对接康复机构"),
    ),
    WishCategory.HOUSING: (
        ("修理屋顶漏水", "已修缮完毕"), ("修补破损的院墙", "已修补"), ("更换老旧门窗", "已更换"),
        ("安装楼道扶手", "已安装"),
    ),
    WishCategory.EMPLOYMENT: (
        ("推荐附近的就业岗位", "已推荐到企业上岗"), ("报名参加技能培训", "已报名参加培训"),
        ("帮忙联系农产品销路", "已对接收购商"),
    ),
    WishCategory.OTHER: (
        ("帮忙办理医保参保手续", "已办理完毕"), ("协助调解邻里纠纷", "双方已达成和解"),
        ("想要一台二手洗衣机", "已捐赠洗衣机一台"),
    ),
}
# Which households ask for what, by their tag.
CATEGORIES_BY_TAG = {
    "elderly_alone": (WishCategory.ELDERLY_CARE, WishCategory.HEALTH, WishCategory.DAILY_LIFE, WishCategory.HOUSING),
    "left_behind_child": (WishCategory.CHILDREN, WishCategory.CHILDREN, WishCategory.DAILY_LIFE),
    "dibao": (WishCategory.DAILY_LIFE, WishCategory.EMPLOYMENT, WishCategory.HOUSING, WishCategory.HEALTH),
    "disabled": (WishCategory.HEALTH, WishCategory.DAILY_LIFE, WishCategory.HOUSING),
    "": tuple(WishCategory.values),
}
SERVICE_KIND_BY_CATEGORY = {
    WishCategory.DAILY_LIFE: ServicePost.PUBLIC, WishCategory.ELDERLY_CARE: ServicePost.POVERTY,
    WishCategory.CHILDREN: ServicePost.PUBLIC, WishCategory.HEALTH: ServicePost.PUBLIC,
    WishCategory.HOUSING: ServicePost.POVERTY, WishCategory.EMPLOYMENT: ServicePost.POVERTY,
    WishCategory.OTHER: ServicePost.PUBLIC,
}
SERVICE_DESCRIPTIONS = {
    ServicePost.POLICY: ("宣讲惠民政策", "宣讲防范电信诈骗知识", "宣讲医保参保政策", "入户宣传垃圾分类"),
    ServicePost.POVERTY: ("走访慰问困难群众", "为低保户代办事项", "帮扶困难家庭务工", "看望独居老人"),
    ServicePost.PUBLIC: ("义务理发", "社区义诊", "代写书信材料", "文艺演出志愿服务"),
    ServicePost.GREENING: ("小区绿化带补植", "认养树木浇水", "清除绿地杂草", "植树活动"),
    ServicePost.ENVIRONMENT: ("清理楼道杂物", "清扫背街小巷", "清理河道垃圾", "整治乱堆乱放"),
    ServicePost.PATROL: ("夜间治安巡逻", "防溺水巡查", "森林防火巡查", "校园周边护学"),
}
POST_WEIGHTS = (
    (ServicePost.POLICY, 3), (ServicePost.POVERTY, 3), (ServicePost.PUBLIC, 4),
    (ServicePost.GREENING, 2), (ServicePost.ENVIRONMENT, 4), (ServicePost.PATROL, 3),
)
# Plain strings in the hot loops (a str-enum formats slower), descriptions by the same keys.
_POSTS, _POST_CUM = [p.value for p, _ in POST_WEIGHTS], list(accumulate(w for _, w in POST_WEIGHTS))
_DESCRIPTIONS = {post.value: texts for post, texts in SERVICE_DESCRIPTIONS.items()}
_PATROL = ServicePost.PATROL.value
# Service lengths in half hours (0.5-4 hours) and how common they are.
_LENGTHS, _LENGTH_CUM = (1, 2, 3, 4, 5, 6, 7, 8), list(accumulate((4, 16, 14, 24, 10, 14, 4, 8)))
_DAY_START, _LAST_START, _DAY_END = 16, 40, 46  # half-hour slots: 08:00, 20:00, 23:00
_SLOT_TIME = [datetime.time(s // 2, 30 * (s % 2)) for s in range(48)]
_SLOT_TEXT = [t.isoformat() for t in _SLOT_TIME]
# Hours and points of a service of n half hours, by partybuild's own rule.
_HOURS = {n: service_hours(_SLOT_TIME[16], _SLOT_TIME[16 + n]) for n in _LENGTHS}
_HOURS_TEXT = {n: str(h) for n, h in _HOURS.items()}
_POINTS = {n: service_points(h) for n, h in _HOURS.items()}
_REASONS = ("家中无人帮忙", "行动不便", "子女在外务工", "家庭经济困难", "自己办不了")
_WISH_STEPS = (WishState.DISPATCHED, WishState.TAKEN, WishState.DONE, WishState.VERIFIED, WishState.PUBLISHED)
# Hours from one step to the next: (least, most) and the chance a wish stalls before it.
_STEP_DELAYS = ((1, 72, 0.03), (1, 96, 0.04), (20, 480, 0.02), (12, 168, 0.03), (24, 336, 0.05))


@dataclass(eq=False)
class Org:
    name: str
    kind: str
    unit: object  # a plan Unit
    parent: "Org | None" = None
    work_unit: str = ""
    children: list["Org"] = field(default_factory=list)
    pk: int = 0
    lft: int = 0
    rght: int = 0
    depth: int = 0

    def add(self, child: "Org") -> "Org":
        child.parent = self
        self.children.append(child)
        return child


@dataclass(eq=False)
class Member:
    resident_id: int
    household_id: int
    leaf: object  # the plan Unit the household hangs under
    birth: int  # ordinal
    age: int
    relation: str
    pk: int = 0
    org: Org | None = None
    status: str = MemberStatus.FULL
    joined_on: int = 0  # ordinal
    in_service: bool = False
    work_unit: str = ""
    is_mobile: bool = False
    volunteer_in: object = None  # the village-level Unit where he volunteers
    volunteer_from: int = 0  # ordinal: first day he may serve there
    claims: tuple = ()


def seed(ctx: DemoContext) -> None:
    today = ctx.today.toordinal()
    units = {u.pk: u for u in ctx.plan.units}
    with ctx.step("party members"):
        members = _load_members(ctx, units)
        _decide_members(ctx, members, today)
        with tree_write_lock(PartyOrganization.tree_lock_key):
            root, agencies = _build_organizations(ctx, members)
            _write_organizations(ctx, root)
        _write_members(ctx, members)
        _write_central_households(ctx, members, today)
    with ctx.step("double report"):
        _write_unit_registrations(ctx, agencies, today)
        _write_member_registrations(ctx, members, today)
    with ctx.step("wishes and services"):
        _write_wishes_and_services(ctx, members, today)


def reset() -> None:
    """Delete every row of the app's models, children first, one statement each."""
    with connection.cursor() as cursor:
        for model in (
            ServiceRecord, PostClaim, MemberRegistration, UnitOffer, UnitRegistration, CentralHousehold, Wish,
            PartyMember, PartyOrganization,
        ):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


# --- members --------------------------------------------------------------------------


def _village(unit):
    while unit.level != Level.VILLAGE:
        unit = unit.parent
    return unit


def _county(unit):
    while unit.level != Level.COUNTY:
        unit = unit.parent
    return unit


def _load_members(ctx: DemoContext, units: dict) -> list[Member]:
    rows = ctx.query(
        Resident.objects.filter(tags__code="party_member", is_active=True)
        .order_by("id")
        .values_list("id", "household_id", "household__grid_id", "birth_date", "relation")
    )
    today = ctx.today
    return [
        Member(rid, hid, units[grid_id], birth.toordinal(), (today - birth).days * 4 // 1461, relation)
        for rid, hid, grid_id, birth, relation in rows
    ]


def _decide_members(ctx: DemoContext, members: list[Member], today: int) -> None:
    rng = ctx.rng("partybuild", "members")
    # In service: exactly IN_SERVICE_SHARE of all members, among those of working age, townspeople
    # 2.5 times as likely (weighted sampling without replacement: the largest u^(1/w) win).
    working = [m for m in members if 22 <= m.age <= 59]
    keys = sorted(
        ((rng.random() ** (1 / (2.5 if _village(m.leaf).kind == Kind.COMMUNITY else 1.0)), i) for i, m in
         enumerate(working)),
        reverse=True,
    )
    for _key, i in keys[: round(IN_SERVICE_SHARE * len(members))]:
        working[i].in_service = True
    unit_names = {}
    for m in members:
        rand = rng.random
        if m.in_service:
            county = _county(m.leaf)
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
            m.volunteer_in = _village(m.leaf)
            m.volunteer_from = today - 364


# --- organisations ---------------------------------------------------------------------


def _committee_name(unit) -> str:
    if unit.kind == Kind.SUBDISTRICT:
        return f"中共{unit.name}工作委员会"
    return f"中共{unit.name}委员会"


def _build_organizations(ctx: DemoContext, members: list[Member]) -> tuple[Org, list[tuple[Org, object]]]:
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
        committee = county_orgs[_county(township).code].add(
            Org(_committee_name(township), OrgKind.COMMITTEE, township)
        )
        for village in township.children:
            community = village.kind == Kind.COMMUNITY
            grids = village.children
            count = sum(len(at_home[leaf]) for g in grids for leaf in (g.children or [g]))
            # Many members: a general branch (党总支) over numbered branches, grids shared out.
            if count >= (120 if community else 180) and len(grids) >= 2:
                top = committee.add(Org(f"{village.short_name}党总支", OrgKind.GENERAL_BRANCH, village))
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


def _write_organizations(ctx: DemoContext, root: Org) -> None:
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


def _write_members(ctx: DemoContext, members: list[Member]) -> None:
    first = ctx.next_id(PartyMember)
    day = _day_text
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


def _write_central_households(ctx: DemoContext, members: list[Member], today: int) -> None:
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
    covered = {_village(m.leaf).pk for m in chosen}
    extra = {}
    for m in head_member.values():
        village = _village(m.leaf)
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
        rows.append((first + len(rows), m.household_id, m.pk, _day_text(since)))
    ctx.write(CentralHousehold, ("id", "household_id", "member_id", "since"), rows)


# --- double report ---------------------------------------------------------------------


def _person_name(rand) -> str:
    return PeopleFactory._surname(rand) + PeopleFactory._given(rand, 1975, "M" if rand() < 0.6 else "F")


def _write_unit_registrations(ctx: DemoContext, agencies: list, today: int) -> None:
    rng = ctx.rng("partybuild", "unit-registrations")
    rand = rng.random
    villages = defaultdict(list)
    for unit in ctx.units(Level.VILLAGE):
        villages[_county(unit).code].append(unit)
    first_reg, first_offer = ctx.next_id(UnitRegistration), ctx.next_id(UnitOffer)
    registrations, offers = [], []
    for org, county in agencies:
        area = AREA_CODES.get(county.code[:4], "0834")
        targets = [org.unit]
        if rand() < 0.3:  # also paired with a village (结对共建)
            paired = villages[county.code][int(rand() * len(villages[county.code]))]
            if paired is not org.unit:
                targets.append(paired)
        for community in targets:
            reg_id = first_reg + len(registrations)
            registered = today - 20 - int(rand() * 2200)
            registrations.append(
                (reg_id, org.work_unit, org.name, community.pk, _day_text(registered), _person_name(rand),
                 f"{area}-{2_000_000 + int(rand() * 7_999_999)}", RegistrationStatus.ACTIVE)
            )
            for kind, (lo, hi) in ((OfferKind.RESOURCE, (1, 3)), (OfferKind.NEED, (1, 2)), (OfferKind.PROJECT, (0, 2))):
                pool = OFFERS[kind]
                for description in rng.sample(pool, lo + int(rand() * (hi - lo + 1))):
                    offers.append((first_offer + len(offers), reg_id, kind, description))
    ctx.write(
        UnitRegistration,
        ("id", "unit_name", "party_organization", "community_id", "registered_on", "contact_name", "contact_phone",
         "status"),
        registrations,
    )
    ctx.write(UnitOffer, ("id", "registration_id", "kind", "description"), offers)


def _pick_posts(rand, count: int) -> tuple:
    posts = []
    while len(posts) < count:
        post = _POSTS[bisect(_POST_CUM, rand() * _POST_CUM[-1])]
        if post not in posts:
            posts.append(post)
    return tuple(posts)


def _write_member_registrations(ctx: DemoContext, members: list[Member], today: int) -> None:
    """Most in-service members registered with the community they live in, with claimed posts."""
    rng = ctx.rng("partybuild", "member-registrations")
    rand = rng.random
    first_reg, first_claim = ctx.next_id(MemberRegistration), ctx.next_id(PostClaim)
    registrations, claims = [], []
    earliest = datetime.date(2018, 1, 1).toordinal()

    def add(m, community, registered, status, ended, posts):
        reg_id = first_reg + len(registrations)
        registrations.append(
            (reg_id, m.pk, community.pk, _day_text(registered), status, _day_text(ended) if ended else None)
        )
        for post in posts:
            claimed = min(registered + int(rand() * 20), ended or today)
            claims.append((first_claim + len(claims), reg_id, post, _day_text(claimed)))

    for m in members:
        if not m.in_service:
            continue
        home = _village(m.leaf)
        start = max(m.joined_on + 30, earliest)
        draw = rand()
        if start > today - 60:
            continue  # joined too recently to have registered
        if draw < REGISTERED_SHARE:
            registered = start + int(rand() * (today - 7 - start))
            if rand() < RE_REGISTERED_SHARE and registered - start > 400:
                # An older registration, ended when he moved (or re-registered the same community).
                siblings = home.parent.children
                before = siblings[int(rand() * len(siblings))]
                old = start + int(rand() * (registered - start - 300))
                ended = old + 90 + int(rand() * (registered - old - 120))
                add(m, before, old, RegistrationStatus.ENDED, ended, _pick_posts(rand, 1))
            m.claims = _pick_posts(rand, 1 + int(rand() * rand() * 3))
            add(m, home, registered, RegistrationStatus.ACTIVE, None, m.claims)
            m.volunteer_in = home
            m.volunteer_from = max(registered, today - 364)
        elif draw < REGISTERED_SHARE + ENDED_ONLY_SHARE and start < today - 130:
            registered = start + int(rand() * (today - 100 - start))
            ended = registered + 30 + int(rand() * (today - 30 - registered - 30))
            add(m, home, registered, RegistrationStatus.ENDED, ended, _pick_posts(rand, 1))
    ctx.write(
        MemberRegistration, ("id", "member_id", "community_id", "registered_on", "status", "ended_on"), registrations
    )
    ctx.write(PostClaim, ("id", "registration_id", "post", "claimed_on"), claims)


# --- wishes and services ---------------------------------------------------------------


class _Slots:
    """Busy half-hour slots of one member, by day: services of one member never overlap."""

    __slots__ = ("busy",)

    def __init__(self):
        self.busy = {}

    def place(self, day: int, length: int, start: int) -> int | None:
        """The first free start at or after ``start`` (then from 08:00) that fits ``length``; reserved."""
        taken = self.busy.get(day)
        if taken is None:
            self.busy[day] = [(start, start + length)]
            return start
        for candidate in [start, *range(_DAY_START, _LAST_START + 1)]:
            end = candidate + length
            if end <= _DAY_END and all(end <= a or candidate >= b for a, b in taken):
                taken.append((candidate, end))
                return candidate
        return None


def _write_wishes_and_services(ctx: DemoContext, members: list[Member], today: int) -> None:
    households = _wish_households(ctx)
    volunteers = defaultdict(list)  # village pk -> volunteers serving there
    eligible = defaultdict(list)  # village pk -> members living there who may take its wishes
    for m in members:
        if m.volunteer_in is not None:
            volunteers[m.volunteer_in.pk].append(m)
        if not m.in_service and not m.is_mobile:
            eligible[_village(m.leaf).pk].append(m)
    leaves_of = defaultdict(list)
    for leaf in ctx.plan.leaves:
        leaves_of[_village(leaf).pk].append(leaf)
    wish_id, service_id = ctx.next_id(Wish), ctx.next_id(ServiceRecord)
    now = ctx.now
    wish_rows, service_rows = [], []
    wish_columns = (
        "id", "community_id", "household_id", "resident_id", "title", "content", "category", "state",
        "dispatched_to_id", "taken_by_id", "result", "posted_at", "dispatched_at", "taken_at", "done_at",
        "verified_at", "published_at",
    )
    service_columns = (
        "id", "member_id", "community_id", "date", "start_time", "end_time", "hours", "kind", "wish_id",
        "description", "points",
    )
    stamp = ctx.datetime
    for village in ctx.units(Level.VILLAGE):
        rng = ctx.rng("partybuild", "wishes", village.code)
        rand = rng.random
        leaves = leaves_of[village.pk]
        total = sum(leaf.households for leaf in leaves)
        if not total:
            continue
        slots = defaultdict(_Slots)
        takers = volunteers[village.pk] or eligible[village.pk]
        needy = households.get(village.pk, [])
        count = max(MIN_WISHES_PER_COMMUNITY, round(total / HOUSEHOLDS_PER_WISH * (0.7 + 0.6 * rand())))
        wishes = []
        for _ in range(count):
            if needy and rand() < 0.75:
                household_id, head_id, tag = needy[int(rand() * len(needy))]
                resident_id = head_id if rand() < 0.5 else None
            else:
                leaf = leaves[int(rand() * len(leaves))]
                household_id = ctx.household_ids(leaf)[int(rand() * leaf.households)]
                resident_id, tag = None, ""
            categories = CATEGORIES_BY_TAG[tag]
            category = categories[int(rand() * len(categories))]
            title, result = WISHES[category][int(rand() * len(WISHES[category]))]
            posted = now - datetime.timedelta(days=int(rand() * 365), hours=int(rand() * 9), minutes=int(rand() * 60))
            times = [posted]
            for lo, hi, stall in _STEP_DELAYS:
                if not takers or rand() < stall:
                    break
                when = times[-1] + datetime.timedelta(hours=lo + rand() * (hi - lo))
                if len(times) == 3:  # done: during the day, on the half hour
                    when = when.replace(hour=10 + int(rand() * 9), minute=30 * int(rand() * 2), second=0,
                                        microsecond=0)
                    if when <= times[-1]:
                        when += datetime.timedelta(days=1)
                if when > now:
                    break
                times.append(when)
            wishes.append([household_id, resident_id, title, result, category, times])
        wishes.sort(key=lambda w: w[5][0])
        _show_every_state(wishes)
        for w in wishes:
            household_id, resident_id, title, result, category, times = w
            reached = len(times) - 1  # 0 = posted ... 5 = published
            state = WishState.POSTED if reached == 0 else _WISH_STEPS[reached - 1]
            dispatched_to = taken_by = None
            service = None
            if reached >= 1:
                dispatched_to = takers[int(rand() * len(takers))]
                taken_by = dispatched_to
                if rand() < 0.1:  # dispatched to nobody in particular: any eligible member takes it
                    dispatched_to = None
            if reached >= 3:
                done = times[3]
                length = 2 + int(rand() * 5)
                end = done.hour * 2 + done.minute // 30
                start = slots[taken_by.pk].place(done.toordinal(), length, end - length)
                if start is not None:
                    kind = SERVICE_KIND_BY_CATEGORY[category].value
                    service = (taken_by, done.toordinal(), start, length, kind, wish_id)
            reason = _REASONS[int(rand() * len(_REASONS))]
            wish_rows.append(
                (wish_id, village.pk, household_id, resident_id, title, f"{title}，{reason}。", category, state,
                 dispatched_to.pk if dispatched_to else None, taken_by.pk if reached >= 2 else None,
                 result if reached >= 3 else "", *(stamp(times[i]) if i < len(times) else None for i in range(6)))
            )
            if service:
                member, day, start, length, kind, linked = service
                descriptions = _DESCRIPTIONS[kind]
                service_rows.append(
                    (service_id, member.pk, village.pk, _day_text(day), _SLOT_TEXT[start],
                     _SLOT_TEXT[start + length], _HOURS_TEXT[length], kind, linked,
                     descriptions[int(rand() * len(descriptions))], _POINTS[length])
                )
                service_id += 1
            wish_id += 1
        # The volunteers' own services, about SERVICES_PER_YEAR each (the hot loop at city scale).
        append, day_text, slot_text, hours_text, points = (
            service_rows.append, _day_text, _SLOT_TEXT, _HOURS_TEXT, _POINTS
        )
        post_total, length_total = _POST_CUM[-1], _LENGTH_CUM[-1]
        for m in volunteers[village.pk]:
            window = today - m.volunteer_from + 1
            n = min(window, max(1, round((1 + int(rand() * rand() * 4 * SERVICES_PER_YEAR)) * window / 365)))
            kinds = m.claims
            place = slots[m.pk].place
            member_id, village_id = m.pk, village.pk
            for day in sorted(rng.sample(range(m.volunteer_from, today + 1), n)):
                date = day_text(day)
                for _ in range(2 if rand() < 0.08 else 1):
                    if kinds:
                        kind = kinds[int(rand() * len(kinds))]
                    else:
                        kind = _POSTS[bisect(_POST_CUM, rand() * post_total)]
                    length = _LENGTHS[bisect(_LENGTH_CUM, rand() * length_total)]
                    if kind == _PATROL and rand() < 0.5:
                        wanted = 38 + int(rand() * 3)  # an evening round
                    else:
                        wanted = _DAY_START + int(rand() * 20)
                    start = place(day, length, min(wanted, _DAY_END - length))
                    if start is None:
                        continue
                    descriptions = _DESCRIPTIONS[kind]
                    append(
                        (service_id, member_id, village_id, date, slot_text[start], slot_text[start + length],
                         hours_text[length], kind, None, descriptions[int(rand() * len(descriptions))],
                         points[length])
                    )
                    service_id += 1
        if len(service_rows) >= 20_000:
            ctx.write(Wish, wish_columns, wish_rows)
            ctx.write(ServiceRecord, service_columns, service_rows)
            wish_rows, service_rows = [], []
    ctx.write(Wish, wish_columns, wish_rows)
    ctx.write(ServiceRecord, service_columns, service_rows)


def _show_every_state(wishes: list) -> None:
    """Older wishes are further along; so that a community's board shows every column, the
    newest wish beyond a missing state stops at it (it stalled there)."""
    reached = [len(w[5]) - 1 for w in wishes]
    counts = defaultdict(int)
    for r in reached:
        counts[r] += 1
    for target in range(len(WISH_FLOW)):
        if counts[target]:
            continue
        for i in reversed(range(len(wishes))):
            if reached[i] > target and counts[reached[i]] >= 2:
                counts[reached[i]] -= 1
                counts[target] += 1
                reached[i] = target
                del wishes[i][5][target + 1 :]
                break


def _wish_households(ctx: DemoContext) -> dict[int, list[tuple[int, int, str]]]:
    """(household, head, tag) of the households that most often post wishes, by village pk."""
    units = {u.pk: u for u in ctx.plan.units}
    rows = ctx.query(
        Resident.objects.filter(
            relation=Relation.HEAD,
            household__tags__code__in=[tag for tag in CATEGORIES_BY_TAG if tag],
        )
        .order_by("household_id", "household__tags__code")
        .values_list("household_id", "id", "household__grid_id", "household__tags__code")
    )
    by_village = defaultdict(list)
    seen = set()
    for household_id, head_id, grid_id, tag in rows:
        if household_id not in seen:
            seen.add(household_id)
            by_village[_village(units[grid_id]).pk].append((household_id, head_id, tag))
    return by_village


_DAYS: dict[int, str] = {}


def _day_text(ordinal: int) -> str:
    text = _DAYS.get(ordinal)
    if text is None:
        text = _DAYS[ordinal] = datetime.date.fromordinal(ordinal).isoformat()
    return text


register(
    seed=seed,
    reset=reset,
    models=(
        PartyOrganization, PartyMember, CentralHousehold, UnitRegistration, UnitOffer, MemberRegistration, PostClaim,
        Wish, ServiceRecord,
    ),
)
