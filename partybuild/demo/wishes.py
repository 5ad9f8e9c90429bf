"""Demo micro-wishes and volunteer services: a year of wishes per community (mostly from dibao,
elderly, disabled and left-behind households), older ones further along the six steps, each step
recorded as a ``WishEvent`` (no author: the demo has no clerk behind them); and about
``SERVICES_PER_YEAR`` services a year for each volunteer: 0.5-4 hours on the half hour, never
overlapping for one member on one day, hours and points by the rule of the services; a finished
wish has the service of the member who took it."""

import datetime
from bisect import bisect
from collections import defaultdict
from itertools import accumulate

from governance.demo.hooks import DemoContext
from governance.models import Level, Relation, Resident
from partybuild.demo.common import POST_CUM, POSTS, Member, day_text, village_of
from partybuild.models import (
    WISH_FLOW,
    ServicePost,
    ServiceRecord,
    Wish,
    WishAction,
    WishCategory,
    WishEvent,
    WishState,
)
from partybuild.services.volunteering import service_hours, service_points

SERVICES_PER_YEAR = 18  # per volunteer, on average (Dechang: 4388 volunteers, 184,000 hours)
HOUSEHOLDS_PER_WISH = 20  # a community posts about one wish a year per this many households
MIN_WISHES_PER_COMMUNITY = 6

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
# Descriptions by the posts' plain strings (the hot loop's keys).
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
# The step that reaches each state of the flow, and the columns of a step's row.
_EVENT_ACTIONS = [action.value for action in (WishAction.POST, WishAction.DISPATCH, WishAction.TAKE,
                                               WishAction.COMPLETE, WishAction.VERIFY, WishAction.PUBLISH)]
EVENT_COLUMNS = ("id", "wish_id", "action", "from_state", "to_state", "member_id", "at", "comment")


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


def write_wishes_and_services(ctx: DemoContext, members: list[Member], today: int) -> None:
    households = _wish_households(ctx)
    volunteers = defaultdict(list)  # village pk -> volunteers serving there
    eligible = defaultdict(list)  # village pk -> members living there who may take its wishes
    for m in members:
        if m.volunteer_in is not None:
            volunteers[m.volunteer_in.pk].append(m)
        if not m.in_service and not m.is_mobile:
            eligible[village_of(m.leaf).pk].append(m)
    leaves_of = defaultdict(list)
    for leaf in ctx.plan.leaves:
        leaves_of[village_of(leaf).pk].append(leaf)
    wish_id, event_id, service_id = ctx.next_id(Wish), ctx.next_id(WishEvent), ctx.next_id(ServiceRecord)
    now = ctx.now
    wish_rows, event_rows, service_rows = [], [], []
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
            members = (None, dispatched_to, taken_by, None, None, None)
            for i in range(reached + 1):
                event_rows.append(
                    (event_id, wish_id, _EVENT_ACTIONS[i], WISH_FLOW[i - 1] if i else "", WISH_FLOW[i],
                     members[i].pk if members[i] else None, stamp(times[i]), result if i == 3 else "")
                )
                event_id += 1
            if service:
                member, day, start, length, kind, linked = service
                descriptions = _DESCRIPTIONS[kind]
                service_rows.append(
                    (service_id, member.pk, village.pk, day_text(day), _SLOT_TEXT[start],
                     _SLOT_TEXT[start + length], _HOURS_TEXT[length], kind, linked,
                     descriptions[int(rand() * len(descriptions))], _POINTS[length])
                )
                service_id += 1
            wish_id += 1
        # The volunteers' own services, about SERVICES_PER_YEAR each (the hot loop at city scale).
        append, date_of, slot_text, hours_text, points = (
            service_rows.append, day_text, _SLOT_TEXT, _HOURS_TEXT, _POINTS
        )
        post_total, length_total = POST_CUM[-1], _LENGTH_CUM[-1]
        for m in volunteers[village.pk]:
            window = today - m.volunteer_from + 1
            n = min(window, max(1, round((1 + int(rand() * rand() * 4 * SERVICES_PER_YEAR)) * window / 365)))
            kinds = m.claims
            place = slots[m.pk].place
            member_id, village_id = m.pk, village.pk
            for day in sorted(rng.sample(range(m.volunteer_from, today + 1), n)):
                date = date_of(day)
                for _ in range(2 if rand() < 0.08 else 1):
                    if kinds:
                        kind = kinds[int(rand() * len(kinds))]
                    else:
                        kind = POSTS[bisect(POST_CUM, rand() * post_total)]
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
            ctx.write(WishEvent, EVENT_COLUMNS, event_rows)
            ctx.write(ServiceRecord, service_columns, service_rows)
            wish_rows, event_rows, service_rows = [], [], []
    ctx.write(Wish, wish_columns, wish_rows)
    ctx.write(WishEvent, EVENT_COLUMNS, event_rows)
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
            by_village[village_of(units[grid_id]).pk].append((household_id, head_id, tag))
    return by_village
