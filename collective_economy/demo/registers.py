"""Demo registers of every village: assets on the fixed-asset detail accounts, resources (some let out), contracts
with firms and with residents (by reference; some irregular, some of those cleaned up) and their schedules,
receivables and debts with what was collected or resolved, and the project library.

Planned per village before the books are written (``plan_village``: the books need the assets' detail accounts,
the project's income account and its construction payment), written in bulk after them (``write``): the
payments received on a contract are linked to the month's posted contracting voucher of the village's book,
never more than that voucher took in. In every other village the last payment of the building's lease that
fell due is left unpaid, so the overdue list and the case it may open have something to show.

A private person is always a resident of the village, by reference: no name, ID number or phone is written
into a title, an origin or a description (the public page shows these).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from collective_economy.demo.books import VillageBook, money, split
from collective_economy.models import (
    Asset,
    Contract,
    ContractInstalment,
    ContractPayment,
    DebtRecord,
    DebtSettlement,
    Project,
    ProjectCategory,
    Resource,
)
from collective_economy.services.registers import project_categories_load_shipped
from governance.demo.hooks import DemoContext
from governance.validators import credit_check_char

FIRMS = ("绿源农业开发有限公司", "丰泽水产养殖专业合作社", "恒达建筑工程有限公司", "鑫盛商贸有限公司",
         "金穗农机服务有限公司", "山水旅游开发有限公司", "瑞丰果业有限公司", "安居物业管理有限公司")
BUILDERS = ("恒达建筑工程有限公司", "宏远路桥建设有限公司", "建业市政工程有限公司")
# The project library: the four categories every county has, and the county's own (``LOCAL``).
LOCAL = ("property-economy", "物业经济")
PROJECTS = {
    "suburban-services": ("城郊农产品集配中心", "农产品集配中心"),
    "ecological-economy": ("林下中药材种植基地", "林下种植基地设施"),
    "specialty-agriculture": ("特色水果标准化种植园", "果园滴灌设施"),
    "culture-tourism-health": ("乡村民宿康养项目", "民宿改造工程"),
    LOCAL[0]: ("集体标准厂房", "标准厂房"),
}
CATEGORY_ORDER = ("suburban-services", "ecological-economy", "specialty-agriculture", "culture-tourism-health",
                  LOCAL[0])
PLANNED = ("村级光伏电站", "冷链仓储中心", "乡村研学基地")


@dataclass
class AssetPlan:
    code: str
    name: str
    kind: str
    value: Decimal
    location: str
    quantity: str
    acquired_on: datetime.date
    status: str = "in_use"
    public: bool = False


@dataclass
class ContractPlan:
    number: str
    title: str
    kind: str
    subject_kind: str
    subject: str
    area: Decimal | None
    location: str
    signed_on: datetime.date
    starts_on: datetime.date
    ends_on: datetime.date
    annual: Decimal
    due: tuple[tuple[int, int], ...]  # (month, day) of each year's payments
    firm: tuple[str, str] | None = None  # (name, credit code)
    resident: int | None = None  # a resident of the village, by id
    resource: str = ""
    asset: str = ""
    is_regular: bool = True
    problem: str = ""
    cleaned_up_on: datetime.date | None = None
    arrears: Decimal = Decimal("0.00")
    decision: tuple | None = None  # the key of the decision that let it
    unpaid: datetime.date | None = None  # the one payment due that was not paid (overdue)
    instalments: list = field(default_factory=list)  # (due on, amount)


@dataclass
class DebtPlan:
    kind: str
    number: str
    origin: str
    opening: Decimal
    registered_on: datetime.date
    arisen_on: datetime.date | None
    firm: tuple[str, str] | None = None
    resident: int | None = None
    contract: str = ""
    settlements: list = field(default_factory=list)  # (date, amount, way)


@dataclass
class ProjectPlan:
    name: str
    category: str
    investment: Decimal
    status: str
    started_on: datetime.date | None
    description: str
    paid_on: datetime.date | None = None  # the construction paid (a voucher above the threshold)
    asset: str = ""
    decision: tuple | None = None
    partners: list = field(default_factory=list)  # other villages (plan Units) taking part
    income: bool = False  # its income is posted on the village's detail account 501001


@dataclass
class VillageRegisters:
    assets: list[AssetPlan]
    resources: list[tuple]  # (code, name, kind, area, location, boundaries)
    contracts: list[ContractPlan]
    debts: list[DebtPlan]
    projects: list[ProjectPlan]


def firm(village, serial: int, name: str) -> tuple[str, str]:
    """A firm's name and a valid unified social credit code of the village's county."""
    first17 = f"91{village.code[:6]}MA{serial:07d}"
    return name, first17 + credit_check_char(first17)


def _on(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, min(day, 28 if month == 2 else 30))


def schedule(contract: ContractPlan, first_year: int) -> list[tuple[datetime.date, Decimal]]:
    """The contract's payments due from ``first_year`` (the books' first year) to the end of its term."""
    each = money(contract.annual / len(contract.due))
    years = range(max(first_year, contract.starts_on.year), contract.ends_on.year + 1)
    dates = [_on(year, month, day) for year in years for month, day in contract.due]
    return [(due, each) for due in dates if contract.starts_on <= due <= contract.ends_on]


def plan_village(book: VillageBook, ctx: DemoContext, residents: list[int], partner,
                 last: datetime.date) -> VillageRegisters:
    """What the village's registers hold (no database): sized on its books' figures."""
    rng = ctx.rng("collective_economy.registers", book.village.code)
    village, index = book.village, book.index
    year, previous = last.year, last.year - 1
    short = village.short_name or village.name
    # The month's contracting income is about 55% of the month's operating income: the contracts' yearly
    # fees are sized on it, so a month's payments fit in its contracting voucher.
    monthly = money(book.so_far / last.month * Decimal("0.55"))
    serial = index * 10

    def person(k) -> dict:
        """A head of household of the village as the counterparty (a firm where the village has nobody)."""
        if residents:
            return {"resident": residents[k % len(residents)]}
        return {"firm": firm(village, serial + 5 + k, FIRMS[(index + k) % len(FIRMS)])}

    def fee(monthly, low, high, floor) -> Decimal:
        """A contract's yearly fee: a share of the month's contracting income, at least ``floor`` yuan."""
        return max(money(monthly * Decimal(rng.uniform(low, high))), money(floor))

    fixed = book.opening["fixed"]
    values = split(fixed, 4, rng)
    acquired = [datetime.date(2008 + rng.randint(0, 8), rng.randint(1, 12), rng.randint(1, 28)) for _i in range(4)]
    assets = [
        AssetPlan("ZC-001", "村委会办公楼", "building", values[0], f"{short}村部", f"{rng.randint(300, 900)} m²",
                  acquired[0], public=True),
        AssetPlan("ZC-002", "集体厂房", "building", values[1], f"{short}工业点", f"{rng.randint(600, 2400)} m²",
                  acquired[1], status="leased"),
        AssetPlan("ZC-003", "农机具", "equipment", values[2], f"{short}农机站", f"{rng.randint(3, 9)} 台",
                  acquired[2]),
        AssetPlan("ZC-004", "冷链仓储库", "facility", values[3], f"{short}三组", f"{rng.randint(200, 800)} m³",
                  acquired[3], status="idle" if index % 3 == 2 else "in_use"),
    ]
    river, forest, pond = (money(rng.randint(80, 300)), money(rng.randint(200, 1500)), money(rng.randint(10, 40)))
    resources = [
        ("ZY-001", "河滩耕地", "arable", river, f"{short}一组河滩", "东至河堤，南至村道，西至二组耕地，北至渠边"),
        ("ZY-002", "集体林地", "forest", forest, f"{short}后山", "东至山脊，南至三组林地，西至沟底，北至公路"),
        ("ZY-003", "集体鱼塘", "water", pond, f"{short}四组", "四周至塘埂"),
        ("ZY-004", "荒坡地", "unused", money(rng.randint(15, 60)), f"{short}五组", "东至林地，西至村道"),
    ]

    start = datetime.date(previous, 1, 1)
    contracts = [
        ContractPlan(f"HT{previous}-001", "河滩耕地发包", "letting", "land", "河滩耕地整片发包种植", river,
                     f"{short}一组河滩", datetime.date(previous - 1, 12, 20), start,
                     datetime.date(previous + 4, 12, 31), fee(monthly, 0.4, 0.7, 4_000),
                     ((6, 30), (12, 31)), firm=firm(village, serial + 1, FIRMS[index % 4]), resource="ZY-001",
                     decision=("letting", village.pk)),
        ContractPlan(f"HT{previous}-002", "集体鱼塘承包", "contracting", "water", "鱼塘养殖承包", pond,
                     f"{short}四组", datetime.date(previous - 1, 12, 28), start, datetime.date(previous + 2, 12, 31),
                     fee(monthly, 0.1, 0.2, 1_000), ((3, 31),), **person(0),
                     resource="ZY-003", is_regular=False, problem="low_price",
                     cleaned_up_on=datetime.date(previous, 9, 15) if index % 2 == 0 else None,
                     arrears=money(rng.randint(2_000, 12_000))),
        ContractPlan(f"HT{previous}-003", "集体厂房租赁", "lease", "building", "厂房整体出租", None,
                     f"{short}工业点", datetime.date(previous - 1, 12, 25), start, datetime.date(year + 2, 12, 31),
                     fee(monthly, 0.4, 0.8, 3_000), ((1, 15), (4, 15), (7, 15), (10, 15)),
                     firm=firm(village, serial + 2, FIRMS[4 + index % 4]), asset="ZC-002"),
    ]
    if index % 3 != 1:
        contracts.append(ContractPlan(
            "HT2008-011", "集体林地承包", "contracting", "forest", "林地承包经营", forest, f"{short}后山",
            datetime.date(2008, 3, 1), datetime.date(2008, 3, 1), datetime.date(2048, 2, 28),
            fee(monthly, 0.05, 0.1, 600), ((11, 30),), **person(1),
            resource="ZY-002", is_regular=False, problem="long_term",
            cleaned_up_on=datetime.date(year, 1, 20) if index % 3 == 0 and last.month > 1 else None,
            arrears=money(rng.randint(1_000, 6_000))))
    first_year = previous
    for contract in contracts:
        contract.instalments = schedule(contract, first_year)
    lease = contracts[2]
    if index % 2 == 1:
        fallen = [due for due, _amount in lease.instalments if due < last]
        lease.unpaid = fallen[-1] if fallen else None

    pond_contract = contracts[1]
    debts = [
        DebtPlan("receivable", "ZQ-001", "鱼塘承包费历年欠款", pond_contract.arrears, datetime.date(previous, 3, 31),
                 datetime.date(previous - 2, 12, 31), **person(0), contract=pond_contract.number,
                 settlements=[(datetime.date(previous, 9, 15), money(pond_contract.arrears / 2), "cash")]),
        DebtPlan("receivable", "ZQ-002", "往来借款未收回", money(rng.randint(20_000, 80_000)),
                 datetime.date(previous, 3, 31), datetime.date(2019, 6, 1),
                 firm=firm(village, serial + 3, FIRMS[(index + 3) % 8])),
        DebtPlan("debt", "ZW-001", "村道硬化工程欠款", money(rng.randint(50_000, 300_000)),
                 datetime.date(previous, 3, 31), datetime.date(2020, 11, 30),
                 firm=firm(village, serial + 4, BUILDERS[index % 3])),
    ]
    receivable = debts[1]
    collected = money(receivable.opening * Decimal(rng.uniform(0.3, 0.6)))
    receivable.settlements.append((datetime.date(previous, 11, 20), collected, "cash"))
    if index % 2 == 0 and last.month > 2:
        receivable.settlements.append((datetime.date(year, 2, 10), receivable.opening - collected, "cash"))
    builder = debts[2]
    paid = money(builder.opening * Decimal(rng.uniform(0.2, 0.5)))
    builder.settlements.append((datetime.date(previous, 12, 10), paid, "cash"))
    if index % 3 == 0:
        builder.settlements.append((datetime.date(previous, 12, 28), money(builder.opening * Decimal("0.1")),
                                    "written_off"))
    if index % 2 == 1:
        debts.append(DebtPlan("debt", "ZW-002", "农户集资修建灌溉渠借款", money(rng.randint(5_000, 20_000)),
                              datetime.date(previous, 3, 31), datetime.date(2017, 4, 1), **person(2)))
        debts[-1].settlements.append((datetime.date(previous, 6, 30), debts[-1].opening, "offset"))

    category = CATEGORY_ORDER[index % len(CATEGORY_ORDER)]
    name, facility = PROJECTS[category]
    paid_on = last - datetime.timedelta(days=rng.randint(45, 120))
    cost = money(rng.randint(60_000, 200_000))
    assets.append(AssetPlan("ZC-005", facility, "facility", cost, f"{short}{rng.choice('一二三四五')}组",
                            "1 处", paid_on))
    projects = [ProjectPlan(
        name, category, cost, "operating", paid_on - datetime.timedelta(days=90),
        f"{short}{name}：村集体投资建设并经营，收益归集体。", paid_on=paid_on, asset="ZC-005",
        decision=("project", village.pk), partners=[partner] if partner is not None else [], income=True)]
    if index % 3 == 0:
        other = CATEGORY_ORDER[(index + 2) % len(CATEGORY_ORDER)]
        projects.append(ProjectPlan(PLANNED[index % len(PLANNED)], other, money(rng.randint(200_000, 800_000)),
                                    "planned", None, f"{short}拟建项目，正在论证。"))
    return VillageRegisters(assets, resources, contracts, debts, projects)


# --- Writing --------------------------------------------------------------------------------------------


ProjectVillages = Project.villages.through
ProjectIncome = Project.income_accounts.through


def write(ctx: DemoContext, books: list[VillageBook], plans: dict, writer, decisions: dict, recorder: dict,
          last: datetime.date) -> None:
    """The registers' rows, in bulk with explicit ids, after the books are posted."""
    project_categories_load_shipped()  # the migration's rows, unless a reset or a test emptied the table
    now = ctx.datetime(ctx.now)
    ids = {model: ctx.next_id(model) for model in (Resource, Asset, Contract, ContractInstalment, ContractPayment,
                                                   DebtRecord, DebtSettlement, Project, ProjectVillages,
                                                   ProjectIncome, ProjectCategory)}

    def take(model):
        ids[model] += 1
        return ids[model] - 1

    rows = {model: [] for model in ids}
    categories = dict(ctx.query(ProjectCategory.objects.filter(county__isnull=True).values_list("code", "pk")))
    county = next(unit for unit in ctx.plan.units if unit.level == "county")
    local = take(ProjectCategory)
    rows[ProjectCategory].append((local, county.pk, f"{county.code}-{LOCAL[0]}", LOCAL[1], 10, True))
    categories[LOCAL[0]] = local
    for book in books:
        plan: VillageRegisters = plans[book.village.pk]
        village = book.village.pk
        user = recorder[village]
        resources = {}
        for code, name, kind, area, location, boundaries in plan.resources:
            resources[code] = take(Resource)
            rows[Resource].append((resources[code], village, code, name, kind, str(area), location, boundaries, now))
        assets = {}
        for asset in plan.assets:
            assets[asset.code] = take(Asset)
            sub = book.subs.get(f"fixed@{asset.code}")
            rows[Asset].append((assets[asset.code], village, asset.code, asset.name, asset.kind, asset.location,
                                asset.quantity, str(asset.acquired_on), str(asset.value), asset.status,
                                sub[0] if sub else None, asset.public, now))
        contracts, due = {}, []
        for contract in plan.contracts:
            pk = contracts[contract.number] = take(Contract)
            name, code = contract.firm or ("", "")
            rows[Contract].append((
                pk, "firm" if contract.firm else "resident", name, code, contract.resident, village,
                contract.number, contract.title, contract.kind, contract.subject_kind, contract.subject,
                str(contract.area) if contract.area is not None else None, contract.location,
                resources.get(contract.resource), assets.get(contract.asset),
                str(sum((amount for _due, amount in schedule_all(contract)), Decimal(0))),
                str(contract.signed_on), str(contract.starts_on), str(contract.ends_on), "in_force",
                decisions.get(contract.decision), contract.is_regular, contract.problem,
                str(contract.cleaned_up_on) if contract.cleaned_up_on else None, str(contract.arrears), now))
            for due_on, amount in contract.instalments:
                instalment = take(ContractInstalment)
                rows[ContractInstalment].append((instalment, pk, str(due_on), str(amount), None))
                due.append((due_on, amount, pk, instalment, due_on == contract.unpaid))
        _payments(book, due, rows, take, writer, user, last, now)
        for debt in plan.debts:
            pk = take(DebtRecord)
            name, code = debt.firm or ("", "")
            rows[DebtRecord].append((pk, "firm" if debt.firm else "resident", name, code, debt.resident, village,
                                     debt.kind, debt.number, debt.origin,
                                     str(debt.arisen_on) if debt.arisen_on else None, str(debt.opening),
                                     str(debt.registered_on), contracts.get(debt.contract), now))
            for day, amount, way in debt.settlements:
                if day <= last:
                    rows[DebtSettlement].append((take(DebtSettlement), pk, str(day), str(amount), way, None, user,
                                                 now))
        for project in plan.projects:
            pk = take(Project)
            # Registered in the library when it started (a planned one a month before the demo's last day).
            registered = project.started_on or last - datetime.timedelta(days=30)
            at = ctx.datetime(datetime.datetime.combine(registered, datetime.time(9), tzinfo=ctx.now.tzinfo))
            rows[Project].append((pk, village, categories[project.category], project.name, project.description,
                                  str(project.investment), str(project.started_on) if project.started_on else None,
                                  project.status, decisions.get(project.decision), user, at))
            for unit in (book.village, *project.partners):
                rows[ProjectVillages].append((take(ProjectVillages), pk, unit.pk))
            if project.income:
                rows[ProjectIncome].append((take(ProjectIncome), pk, book.subs["operating@project"][0]))
    ctx.write(Resource, ("id", "village_id", "code", "name", "kind", "area", "location", "boundaries", "created_at"),
              rows[Resource])
    ctx.write(Asset, ("id", "village_id", "code", "name", "kind", "location", "quantity", "acquired_on", "value",
                      "status", "sub_account_id", "is_public_welfare", "created_at"), rows[Asset])
    ctx.write(Contract, ("id", "counterparty_kind", "counterparty_name", "counterparty_credit_code",
                         "counterparty_resident_id", "village_id", "number", "title", "kind", "subject_kind",
                         "subject", "area", "location", "resource_id", "asset_id", "amount", "signed_on", "starts_on",
                         "ends_on", "status", "decision_id", "is_regular", "problem", "cleaned_up_on", "arrears",
                         "created_at"), rows[Contract])
    ctx.write(ContractInstalment, ("id", "contract_id", "due_on", "amount", "case_id"), rows[ContractInstalment])
    ctx.write(ContractPayment, ("id", "contract_id", "instalment_id", "received_on", "amount", "voucher_id",
                                "recorded_by_id", "recorded_at"), rows[ContractPayment])
    ctx.write(DebtRecord, ("id", "counterparty_kind", "counterparty_name", "counterparty_credit_code",
                           "counterparty_resident_id", "village_id", "kind", "number", "origin", "arisen_on",
                           "opening_amount", "registered_on", "contract_id", "created_at"), rows[DebtRecord])
    ctx.write(DebtSettlement, ("id", "record_id", "settled_on", "amount", "way", "voucher_id", "recorded_by_id",
                               "recorded_at"), rows[DebtSettlement])
    ctx.write(ProjectCategory, ("id", "county_id", "code", "name", "sort_order", "is_active"), rows[ProjectCategory])
    ctx.write(Project, ("id", "village_id", "category_id", "name", "description", "investment", "started_on",
                        "status", "decision_id", "created_by_id", "created_at"), rows[Project])
    ctx.write(ProjectVillages, ("id", "project_id", "orgunit_id"), rows[ProjectVillages])
    ctx.write(ProjectIncome, ("id", "project_id", "subaccount_id"), rows[ProjectIncome])


def schedule_all(contract: ContractPlan) -> list[tuple[datetime.date, Decimal]]:
    """Every payment of the contract's term (its amount is their total)."""
    return schedule(contract, contract.starts_on.year)


def _payments(book: VillageBook, due: list, rows, take, writer, user, last, now) -> None:
    """Each payment that fell due (``due``: (due on, amount, contract id, instalment id, left unpaid), in date
    order) paid through the month's contracting voucher, as much as that voucher took in; what it could not
    take, the next months' vouchers do (paid late), up to the demo's last day."""
    for due_on, amount, contract, instalment, unpaid in sorted(due, key=lambda entry: (entry[0], entry[3])):
        if due_on > last or unpaid:
            continue
        left, year, month = amount, due_on.year, due_on.month
        while left > 0 and (year, month) <= (last.year, last.month):
            year_id = book.year_ids[0] if year < last.year else book.year_ids[1]
            voucher = writer.contracting.get((year_id, month))
            if voucher is not None:
                voucher_id, received_on, took_in = voucher
                paid = min(left, took_in - writer.linked.get(voucher_id, Decimal(0)))
                if paid > 0:
                    writer.linked[voucher_id] = writer.linked.get(voucher_id, Decimal(0)) + paid
                    left -= paid
                    rows[ContractPayment].append((take(ContractPayment), contract, instalment, str(received_on),
                                                  str(paid), voucher_id, user, now))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
