"""The demo's cases (事件/诉求), planned from the plan and the seed alone (no database).

Thirteen complete months of cases (the city: four years and a month, about 2,000,000) and the
days of the month in progress, up to the demo's "now" (``case_months``), in the proportions
DOMAIN.md reports: about one case a year for every two households (Yangquan's mining district,
~250,000 people: 18,925 in half a year), ~70% green, ~22% yellow, ~8% red, mostly minor matters;
accepted within hours, resolved within the colour's deadline about 95% of the time; in past
months over 99% closed (Yangquan: 18,807 of 18,925), the rest stuck and mostly overdue, the
fewer the older the month; the current month has cases in every state. Each case has the
events of the steps it went through (and an "overdue" event where the deadline passed first),
and numbers follow the township/month sequence. ``plan_cases`` plans them one township at a
time; ``summarize_cases`` counts them for the tests; ``grid.demo.cases`` writes them.
"""

import datetime
import math
import random
import zoneinfo
from bisect import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

from django.conf import settings

from governance.demo.dates import END_OF_DAY
from governance.demo.names import SURNAMES
from governance.indicators.months import month_last_day, month_start, shift_month
from governance.models import Level
from grid.models import CaseAction, CaseSource, CaseState, Colour, MediationOutcome, Rating, Triage
from grid.rosters.cases import case_is_overdue
from grid.taxonomy import DEADLINES, TAXONOMY

CASES_PER_HOUSEHOLD_YEAR = 0.5
CASE_YEARS = {"city": 4}  # years of history by scale (default one)
REJECT_SHARE = 0.02
LATE_SHARE = 0.04
RETURN_SHARE = 0.03
# Past months: cases still open (most of them overdue), last month's share halving with each month
# back: the cases still open are mostly recent ones, and a realistic few of them are overdue.
STUCK_SHARE = 0.004
STUCK_DECAY = 0.5
MEDIATION_SHARE = 0.45  # dispute cases with a mediation record
HOUR = 3600

CATEGORY_WEIGHTS = {  # parent code: (weight, (green, yellow, red), (major, minor, private))
    "livelihood": (24, (78, 18, 4), (12, 76, 12)),
    "dispute": (20, (65, 25, 10), (10, 75, 15)),
    "sanitation": (20, (78, 18, 4), (8, 88, 4)),
    "hazard": (9, (50, 32, 18), (35, 63, 2)),
    "public-order": (6, (62, 26, 12), (30, 68, 2)),
    "fire": (5, (50, 32, 18), (35, 63, 2)),
    "illegal-building": (4, (60, 30, 10), (40, 58, 2)),
    "policy": (10, (90, 8, 2), (5, 55, 40)),
    "other": (2, (80, 15, 5), (10, 70, 20)),
}
SOURCE_WEIGHTS = (
    (CaseSource.GRID_WORKER, 38), (CaseSource.HOTLINE, 18), (CaseSource.PATROL, 14), (CaseSource.VISIT, 14),
    (CaseSource.ONLINE, 9), (CaseSource.ASSIGNED, 5), (CaseSource.OTHER, 2),
)
RATING_WEIGHTS = ((Rating.SATISFIED, 85), (Rating.BASIC, 12), (Rating.DISSATISFIED, 3))
OUTCOME_WEIGHTS = (
    (MediationOutcome.AGREED, 75), (MediationOutcome.PARTIAL, 12), (MediationOutcome.FAILED, 8),
    (MediationOutcome.REFERRED, 5),
)
# When in the day cases come in (local hour: weight).
HOUR_WEIGHTS = (0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 2, 6, 9, 9, 8, 4, 5, 8, 8, 8, 6, 4, 3, 2.5, 1.5, 1, 0.5)
MEDIATORS = ("法官", "检察官", "民警", "律师", "人民调解员", "司法所长")

TITLES = {
    "dispute-neighbour": ("邻里院墙界线纠纷", "楼上漏水引发邻里矛盾", "邻居占用公共通道"),
    "dispute-family": ("夫妻因赡养老人发生争吵", "兄弟分家析产纠纷", "家庭暴力求助"),
    "dispute-land": ("承包地边界争议", "林地权属纠纷", "宅基地使用争议"),
    "dispute-wages": ("务工人员讨要工资", "工地拖欠农民工工资", "辞职后工资未结清"),
    "dispute-property": ("物业费收取争议", "小区停车位纠纷", "电梯维修费用分摊争议"),
    "dispute-other": ("买卖合同纠纷", "借款纠纷求助调解"),
    "hazard-building": ("老旧房屋墙体开裂", "危房住户未搬离", "围墙倾斜存在倒塌风险"),
    "hazard-traffic": ("路口缺少减速带", "道路坑洼影响通行", "路灯损坏夜间无照明"),
    "hazard-geology": ("山体落石威胁道路", "雨后边坡出现裂缝"),
    "hazard-power-gas": ("电线老化私拉乱接", "燃气管道疑似泄漏", "变压器周边杂物堆积"),
    "hazard-other": ("河道护栏缺失", "窨井盖缺失"),
    "sanitation-garbage": ("垃圾清运不及时", "路边堆放建筑垃圾", "垃圾桶破损"),
    "sanitation-sewage": ("生活污水直排河沟", "下水道堵塞外溢", "化粪池满溢"),
    "sanitation-street": ("商户占道经营", "流动摊贩占用人行道"),
    "sanitation-noise": ("夜间施工噪音扰民", "广场舞音响声音过大", "餐馆油烟噪音扰民"),
    "sanitation-other": ("畜禽散养影响环境", "空地杂草丛生"),
    "livelihood-assistance": ("申请低保救助", "困难家庭临时救助申请", "残疾人补贴咨询办理"),
    "livelihood-employment": ("返乡人员求职登记", "创业贷款申请咨询"),
    "livelihood-health": ("家庭医生签约咨询", "慢病药品报销问题"),
    "livelihood-education": ("适龄儿童入学咨询", "留守儿童课后看护需求"),
    "livelihood-elderly": ("独居老人需要照护", "高龄补贴发放问题", "老年食堂就餐申请"),
    "livelihood-utilities": ("自来水停水未通知", "电压不稳影响用电", "冬季供暖不热"),
    "livelihood-other": ("公交站点设置建议", "快递无法送达"),
    "public-order-risk": ("出租屋人员来往复杂", "夜间有人聚集滋事"),
    "public-order-fraud": ("老人疑似遭遇电信诈骗", "群众反映诈骗短信"),
    "public-order-other": ("车辆乱停乱放", "疑似非法营运车辆"),
    "fire-lane": ("消防通道被车辆堵塞", "楼道堆放杂物"),
    "fire-equipment": ("消火栓损坏", "灭火器过期未更换"),
    "fire-ebike": ("电动车楼道内充电", "飞线充电存在隐患"),
    "fire-other": ("秸秆焚烧", "野外用火隐患"),
    "illegal-building-structure": ("楼顶违规搭建", "私自扩建门面"),
    "illegal-building-land": ("占用耕地建房", "违规占用河道"),
    "policy-insurance": ("城乡居民医保缴费咨询", "养老保险转移接续咨询"),
    "policy-farming": ("耕地地力补贴发放咨询", "农机购置补贴咨询"),
    "policy-registration": ("户口迁移办理咨询", "居住证办理咨询"),
    "policy-other": ("惠民政策咨询",),
    "other": ("群众意见建议", "其他求助事项"),
}
RESULTS = {
    "dispute": ("经调解双方达成一致，签订调解协议", "组织双方当面协商，矛盾已化解"),
    "hazard": ("已现场排查并完成整改", "已设置警示标志并安排维修"),
    "sanitation": ("已安排清理，现场恢复整洁", "已联系责任单位整改到位"),
    "livelihood": ("已协调相关部门办理完毕", "已上门服务并答复群众"),
    "public-order": ("已会同派出所处置", "已开展宣传并加强巡查"),
    "fire": ("已督促清理并复查合格", "已更换设施并开展消防宣传"),
    "illegal-building": ("已责令拆除并复查", "已移交综合执法部门处理"),
    "policy": ("已当面解答政策并告知办理流程", "已电话答复群众"),
    "other": ("已答复群众", "已转交相关单位办理"),
}
REJECT_REASONS = ("不属于受理范围，已告知群众向相关部门反映", "重复上报，已合并处理", "信息不全，无法核实")
RETURN_REASONS = ("整改不到位，请重新处置", "群众反映问题仍未解决")
VERIFY_NOTES = ("现场核查属实", "电话回访确认", "")


@dataclass(slots=True, eq=False)
class PlannedCase:
    """One demo case: where, what, and the steps it went through up to the demo's "now"."""

    township: object
    leaf: object
    category: str  # sub-category code (or a category without any)
    parent: str  # its top category's code
    source: str
    colour: str
    triage: str
    reported: int  # epoch seconds
    steps: list  # (action, to_state, at, comment, unit or None), in order; OVERDUE keeps the state
    handling: object  # plan Unit handling it now
    state: str = CaseState.REPORTED
    due: int | None = None
    overdue: bool = False
    rating: str = ""
    result: str = ""
    title: str = ""
    number: str = ""
    reporter: tuple[str, str] = ("", "")  # name, phone
    mediations: list = field(default_factory=list)  # (held_on date, mediator, room, outcome)

    def at(self, action: str) -> int | None:
        """When the step last happened (None: not yet)."""
        found = None
        for step in self.steps:
            if step[0] == action:
                found = step[2]
        return found


@dataclass
class CaseSummary:
    """Counts over planned cases, for the tests (no database)."""

    total: int = 0
    colours: Counter = field(default_factory=Counter)
    triage: Counter = field(default_factory=Counter)
    parents: Counter = field(default_factory=Counter)
    states_past: Counter = field(default_factory=Counter)
    states_current: Counter = field(default_factory=Counter)
    overdue: int = 0
    resolved_dispatched: int = 0
    on_time: int = 0
    mediated_disputes: int = 0
    disputes: int = 0
    by_township: Counter = field(default_factory=Counter)


def _weighted(pairs):
    """(values, cumulative weights) for ``_pick``."""
    values, weights = zip(*pairs, strict=True)
    return values, list(accumulate(weights))


def _pick(rand, table):
    values, cumulative = table
    return values[bisect(cumulative, rand() * cumulative[-1])]


def _township_of(unit):
    while unit.level != Level.TOWNSHIP:
        unit = unit.parent
    return unit


def _village_of(unit):
    while unit.level != Level.VILLAGE:
        unit = unit.parent
    return unit


def case_months(as_of: datetime.date, years: int = 1) -> list[datetime.date]:
    """The months with cases (their first days), oldest first: the ``years`` years of complete months
    before the day seeded for (the day after ``as_of``) and the month before them, which the dashboards
    compare the first of them with (the same month a year before), then the days of the month in
    progress up to ``as_of``, if any."""
    seeded_in = month_start(as_of + datetime.timedelta(days=1))
    first, last = shift_month(seeded_in, -(12 * years + 1)), month_start(as_of)
    months = [first]
    while months[-1] < last:
        months.append(shift_month(months[-1], 1))
    return months


class _CasePlanner:
    """Plans the cases of one township (seeded by the township's code): deterministic for a seed."""

    def __init__(self, plan, township, leaves, now: datetime.datetime, deadlines: dict[str, int]):
        self.township = township
        self.leaves = leaves
        self.rng = random.Random(f"yiwang-demo/{plan.seed}/grid/cases/{township.code}")
        self.rand = self.rng.random
        self.now = int(now.timestamp())
        self.zone = now.tzinfo
        self.as_of = now.date()
        self.deadlines = {colour: hours * HOUR for colour, hours in deadlines.items()}
        self.leaf_table = _weighted([(leaf, max(leaf.households, 1)) for leaf in leaves])
        self.parents = _weighted([(code, weight) for code, (weight, _c, _t) in CATEGORY_WEIGHTS.items()])
        self.children = {code: [child for child, _name in children] or [code] for code, _n, children in TAXONOMY}
        self.colours = {code: _weighted(zip((Colour.GREEN, Colour.YELLOW, Colour.RED), c, strict=True))
                        for code, (_w, c, _t) in CATEGORY_WEIGHTS.items()}
        self.triages = {code: _weighted(zip((Triage.MAJOR, Triage.MINOR, Triage.PRIVATE), t, strict=True))
                        for code, (_w, _c, t) in CATEGORY_WEIGHTS.items()}
        self.sources = _weighted(SOURCE_WEIGHTS)
        self.ratings = _weighted(RATING_WEIGHTS)
        self.outcomes = _weighted(OUTCOME_WEIGHTS)
        self.hours = _weighted(list(enumerate(HOUR_WEIGHTS)))
        self.surnames = _weighted(SURNAMES)

    def between(self, low: float, high: float) -> int:
        return int(low + self.rand() * (high - low))

    def month_cases(self, month: datetime.date, per_month: float) -> list[PlannedCase]:
        days = month_last_day(month).day
        current = month == month_start(self.as_of)
        back = (self.as_of.year - month.year) * 12 + self.as_of.month - month.month
        stuck_share = STUCK_SHARE * STUCK_DECAY ** (back - 1) if back else 0
        season = 1 + 0.12 * _cos_month(month.month)
        expected = per_month * season * (0.9 + 0.2 * self.rand())
        last_day = days
        if current:
            last_day = self.as_of.day
            expected *= last_day / days
        count = int(expected + self.rand())
        cases = []
        for _ in range(count):
            day = 1 + int(self.rand() * last_day)
            hour = _pick(self.rand, self.hours)
            start = datetime.datetime(month.year, month.month, day, hour, int(self.rand() * 60), tzinfo=self.zone)
            reported = int(start.timestamp())
            if reported > self.now - 600:
                reported = self.now - 600 - int(self.rand() * 8 * HOUR)
            cases.append(self.case(reported, stuck=not current and self.rand() < stuck_share))
        return cases

    def case(self, reported: int, stuck: bool = False, state: str | None = None, late: bool | None = None,
             leaf=None) -> PlannedCase:
        # ``late`` (showcase): resolved after the deadline (or, cut before, the deadline just passed).
        """A case reported at ``reported``, its life up to now; ``stuck``: left open in a working state;
        ``state``: cut at that state (the showcase of the current month)."""
        rand = self.rand
        leaf = leaf or _pick(rand, self.leaf_table)
        parent = _pick(rand, self.parents)
        children = self.children[parent]
        category = children[int(rand() * len(children))]
        triage = _pick(rand, self.triages[parent])
        colour = _pick(rand, self.colours[parent])
        township = self.township
        case = PlannedCase(
            township=township, leaf=leaf, category=category, parent=parent, source=_pick(rand, self.sources),
            colour=colour, triage=triage, reported=reported, steps=[], handling=township,
        )
        titles = TITLES.get(category) or TITLES["other"]
        case.title = titles[int(rand() * len(titles))]
        results = RESULTS[parent]
        case.result = results[int(rand() * len(results))]
        steps = case.steps
        steps.append((CaseAction.CREATE, CaseState.REPORTED, reported, "", township))
        t = reported
        if state == CaseState.REJECTED or (state is None and rand() < REJECT_SHARE):
            reason = REJECT_REASONS[int(rand() * len(REJECT_REASONS))]
            steps.append((CaseAction.REJECT, CaseState.REJECTED, t + self.between(0.3 * HOUR, 6 * HOUR), reason,
                          None))
            case.result = reason
            return self.finish(case, state, move=state is not None)
        t += 600 + int(min(rng_exp(rand, 2 * HOUR), 12 * HOUR))
        steps.append((CaseAction.ACCEPT, CaseState.ACCEPTED, t, "", None))
        if triage == Triage.PRIVATE:
            t += self.between(1 * HOUR, 48 * HOUR)
            steps.append((CaseAction.RESOLVE, CaseState.RESOLVED, t, case.result, None))
        else:
            if triage == Triage.MAJOR:
                case.handling = township
            else:
                village = _village_of(leaf)
                grid = leaf if leaf.level == Level.GRID else leaf.parent
                case.handling = village if rand() < 0.8 else grid
            t += self.between(300, 3 * HOUR)
            dispatched = t
            steps.append((CaseAction.DISPATCH, CaseState.DISPATCHED, t, "", case.handling))
            deadline = self.deadlines[colour]
            case.due = dispatched + deadline
            t += self.between(300, 4 * HOUR)
            steps.append((CaseAction.TAKE, CaseState.TAKEN, t, "", None))
            t += self.between(0, 2 * HOUR)
            steps.append((CaseAction.START, CaseState.IN_PROGRESS, t, "", None))
            if late is None:
                late = rand() < LATE_SHARE
            span = deadline * (1.05 + rand() * 0.95 if late else 0.1 + rand() * 0.85)
            resolved = max(t + 600, dispatched + int(span))
            if not late and resolved > case.due:
                resolved = max(t + 60, case.due - 600)
            if state is None and rand() < RETURN_SHARE:
                steps.append((CaseAction.RESOLVE, CaseState.RESOLVED, resolved, case.result, None))
                back = resolved + self.between(2 * HOUR, 24 * HOUR)
                reason = RETURN_REASONS[int(rand() * len(RETURN_REASONS))]
                steps.append((CaseAction.RETURN, CaseState.IN_PROGRESS, back, reason, None))
                resolved = back + self.between(4 * HOUR, 48 * HOUR)
            t = resolved
            steps.append((CaseAction.RESOLVE, CaseState.RESOLVED, t, case.result, None))
            if case.parent == "dispute" and rand() < MEDIATION_SHARE:
                self.mediate(case, dispatched, t)
        t += self.between(2 * HOUR, 48 * HOUR)
        notes = VERIFY_NOTES[int(rand() * len(VERIFY_NOTES))]
        steps.append((CaseAction.VERIFY, CaseState.VERIFIED, t, notes, None))
        t += self.between(1 * HOUR, 24 * HOUR)
        case.rating = _pick(rand, self.ratings)
        steps.append((CaseAction.RATE, CaseState.RATED, t, "", None))
        t += self.between(0.5 * HOUR, 24 * HOUR)
        steps.append((CaseAction.CLOSE, CaseState.CLOSED, t, "", None))
        if stuck:  # past months: a few cases never got further than work (or the check)
            cut = CaseState.IN_PROGRESS if triage != Triage.PRIVATE and rand() < 0.7 else (
                CaseState.RESOLVED if triage != Triage.PRIVATE else CaseState.ACCEPTED)
            return self.finish(case, cut)
        return self.finish(case, state, move=state is not None, late=bool(late))

    def mediate(self, case: PlannedCase, start: int, end: int) -> None:
        rand = self.rand
        sessions = 2 if rand() < 0.15 else 1
        for i in range(sessions):
            held = start + int((end - start) * (i + 1) / (sessions + 1))
            first, second = self.rng.sample(MEDIATORS, 2)
            mediator = f"{_pick(rand, self.surnames)}{first}、{_pick(rand, self.surnames)}{second}"
            if rand() < 0.6:
                room = f"{case.township.name}矛盾纠纷调解室"
            else:
                village = _village_of(case.leaf)
                room = f"{village.short_name or village.name}人民调解室"
            outcome = MediationOutcome.PARTIAL if i < sessions - 1 else _pick(rand, self.outcomes)
            case.mediations.append((held, mediator, room, outcome))

    def finish(self, case: PlannedCase, cut: str | None, move: bool = False, late: bool = False) -> PlannedCase:
        """Keep the steps done by now, or those up to the first reaching ``cut``; ``move``: shift the
        case so that its last step was a few hours ago (its deadline just past if it was late)."""
        steps = case.steps
        if cut is not None:
            keep = next((i for i, step in enumerate(steps) if step[1] == cut), len(steps) - 1)
            del steps[keep + 1:]
            if move:
                target = self.now - self.between(HOUR, 20 * HOUR)
                shift = target - (case.due if late and case.due is not None else steps[-1][2])
                shift = min(shift, self.now - 60 - steps[-1][2])
                steps[:] = [(a, s, at + shift, c, u) for a, s, at, c, u in steps]
                case.reported += shift
                if case.due is not None:
                    case.due += shift
                case.mediations = [(held + shift, m, r, o) for held, m, r, o in case.mediations]
        now = self.now
        steps[:] = sorted((step for step in steps if step[2] <= now and step[0] != CaseAction.OVERDUE),
                          key=lambda step: step[2])
        case.mediations = [item for item in case.mediations if item[0] <= now]
        state = CaseState.REPORTED
        for _action, to_state, _at, _comment, _unit in steps:
            state = to_state
        case.state = state
        if case.at(CaseAction.DISPATCH) is None:
            case.handling = case.township
            case.due = None
            case.mediations = []
        if case.at(CaseAction.ACCEPT) is None:
            case.triage = ""  # sorted when accepted
        resolved = case.at(CaseAction.RESOLVE)
        if resolved is not None and (case.at(CaseAction.RETURN) or 0) > resolved:
            resolved = None
        due = case.due
        if due is not None and due < now and (resolved is None or resolved > due):
            # The overdue scan flagged it (a few minutes after the deadline), while it was being worked on.
            steps.append((CaseAction.OVERDUE, "", min(now, due + self.between(60, 900)), "", None))
            steps.sort(key=lambda step: step[2])
        case.overdue = case_is_overdue(state=state, due_at=due, resolved_at=resolved, now=now)
        if state not in (CaseState.RATED, CaseState.CLOSED):
            case.rating = ""
        if state not in (CaseState.RESOLVED, CaseState.VERIFIED, CaseState.RATED, CaseState.CLOSED,
                         CaseState.REJECTED):
            case.result = ""
        return case

    def showcase(self) -> list[PlannedCase]:
        """The current month's cases in every open state (and one overdue, one rejected)."""
        cases = []
        for state, late in (
            (CaseState.REPORTED, False), (CaseState.ACCEPTED, False), (CaseState.DISPATCHED, False),
            (CaseState.TAKEN, False), (CaseState.IN_PROGRESS, False), (CaseState.IN_PROGRESS, True),
            (CaseState.RESOLVED, False), (CaseState.VERIFIED, False), (CaseState.RATED, False),
            (CaseState.REJECTED, False),
        ):
            reported = self.now - 10 * 24 * HOUR
            for _attempt in range(20):  # a private matter is never dispatched: draw again
                case = self.case(reported, state=state, late=late)
                if case.state == state and (not late or case.overdue):
                    break
            cases.append(case)
        return cases

    def reporter(self) -> tuple[str, str]:
        rand = self.rand
        name = _pick(rand, self.surnames) + ("先生" if rand() < 0.5 else "女士")
        return name, f"1{(3, 5, 7, 8, 9)[int(rand() * 5)]}{int(rand() * 1_000_000_000):09d}"


def rng_exp(rand, mean: float) -> float:
    return -mean * math.log(1.0 - rand())


def _cos_month(month: int) -> float:
    return math.cos(2 * math.pi * (month - 7) / 12)


def plan_cases(plan, as_of: datetime.date, deadlines: dict | None = None, years: int | None = None):
    """(township, its planned cases in the order reported, numbered) for every township of ``plan``,
    their lives up to the demo's "now" on ``as_of`` (``governance.demo.dates``)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    now = datetime.datetime.combine(as_of, END_OF_DAY, tzinfo=zone)
    deadlines = deadlines or DEADLINES
    years = years or CASE_YEARS.get(plan.scale.name, 1)
    leaves_by_township = defaultdict(list)
    for leaf in plan.leaves:
        leaves_by_township[_township_of(leaf)].append(leaf)
    months = case_months(as_of, years)
    for township in (unit for unit in plan.units if unit.level == Level.TOWNSHIP):
        leaves = leaves_by_township.get(township)
        if not leaves:
            continue
        planner = _CasePlanner(plan, township, leaves, now, deadlines)
        per_month = sum(leaf.households for leaf in leaves) * CASES_PER_HOUSEHOLD_YEAR / 12
        cases = []
        for month in months:
            cases += planner.month_cases(month, per_month)
        cases += planner.showcase()
        cases.sort(key=lambda case: case.reported)
        sequence = Counter()
        for case in cases:
            month = datetime.datetime.fromtimestamp(case.reported, zone).strftime("%Y%m")
            sequence[month] += 1
            case.number = f"{township.code[:9]}{month}{sequence[month]:05d}"
            case.reporter = planner.reporter() if case.source != CaseSource.PATROL else ("", "")
        yield township, cases


def summarize_cases(plan, as_of: datetime.date, years: int | None = None) -> CaseSummary:
    summary = CaseSummary()
    current = as_of.strftime("%Y%m")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    for township, cases in plan_cases(plan, as_of, years=years):
        for case in cases:
            summary.total += 1
            summary.by_township[township.code] += 1
            summary.colours[case.colour] += 1
            summary.triage[case.triage] += 1
            summary.parents[case.parent] += 1
            month = datetime.datetime.fromtimestamp(case.reported, zone).strftime("%Y%m")
            (summary.states_current if month == current else summary.states_past)[case.state] += 1
            summary.overdue += case.overdue
            resolved = case.at(CaseAction.RESOLVE)
            if case.due is not None and resolved is not None and case.state != CaseState.IN_PROGRESS:
                summary.resolved_dispatched += 1
                summary.on_time += resolved <= case.due
            if case.parent == "dispute":
                summary.disputes += 1
                summary.mediated_disputes += bool(case.mediations)
    return summary


