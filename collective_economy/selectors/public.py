"""What a village publishes to its villagers (村务公开), built so that it cannot hold personal data.

The public page (``collective_economy.views.public``) reads only what ``village_page`` returns:
frozen dataclasses with explicit fields, filled from explicit column lists (``values()`` and
``only()``), never a model instance. What no field here carries can never reach the page:

- decisions published (决议公开 or 实施结果公开): number, matter, description, amount, and for
  each step its date, attendance and votes and whether it passed, and the published results —
  never the minutes, files, signatures or households, nor who recorded them;
- the income and expenses of the village's books for the current and the previous quarter, by
  first-level account under its class (收入, 支出): a detail account (明细科目) may carry a
  person's name (a receivable from 李四), so the detail accounts are summed into their account
  and never named;
- contracts in force: title, kind, subject, area, amount, term, and the counterparty as
  ``Contract.counterparty_public`` (a firm's name; a private person is never named: the
  resident's reference is not even read);
- projects the village leads or takes part in: name, category, investment, status, the villages
  involved, and the income to the collective read from the books.

There is no user: the page is public. Every read is limited to the one village by its code.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collective_economy.models import (
    PUBLISHED_STATES,
    AccountClass,
    BookYear,
    ChartAccount,
    Contract,
    ContractKind,
    ContractStatus,
    Decision,
    DecisionRecord,
    DecisionState,
    Project,
    ProjectStatus,
    Step,
    SubjectKind,
)
from collective_economy.selectors.projects import project_income
from collective_economy.selectors.statements import figures
from governance.models import Level, OrgUnit

ZERO = Decimal("0.00")
# The page lists the newest published decisions; older ones stay in the village's archive.
DECISIONS_SHOWN = 30
PUBLIC_CLASSES = (AccountClass.INCOME, AccountClass.EXPENSE)


def yuan(amount: Decimal | None) -> str:
    """12345.6 → 12,345.60, as the ledger writes money (blank for none)."""
    return "" if amount is None else f"{amount:,.2f}"


# --- The page's parts --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicUnit:
    """A unit of the chain as published: its name and code."""

    code: str
    name: str


@dataclass(frozen=True)
class PublicStep:
    """One step of a decision as held: no minutes, no files, no names."""

    step: str
    label: str
    held_on: datetime.date
    expected: int | None
    attended: int | None
    votes_for: int | None
    votes_against: int | None
    abstentions: int | None
    passed: bool

    @property
    def is_consultation(self) -> bool:
        """民议 counts households that signed, not people at a meeting."""
        return self.step == Step.CONSULTATION

    @property
    def has_counts(self) -> bool:
        return self.expected is not None or self.attended is not None

    @property
    def has_votes(self) -> bool:
        return self.votes_for is not None


@dataclass(frozen=True)
class PublicDecision:
    number: str
    title: str
    description: str
    amount: Decimal | None
    state: str
    state_label: str
    six_step: bool
    steps: tuple[PublicStep, ...]
    result_summary: str

    @property
    def amount_text(self) -> str:
        return yuan(self.amount)

    @property
    def results_published(self) -> bool:
        return self.state == DecisionState.RESULT

    @property
    def published_on(self) -> datetime.date | None:
        dates = [step.held_on for step in self.steps if step.step == Step.PUBLICATION]
        return dates[0] if dates else None


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1-4
    first_month: int
    last_month: int
    until: datetime.date | None  # the current quarter: figures up to this day

    @property
    def label(self) -> str:
        return _("Q%(quarter)s %(year)s") % {"quarter": self.number, "year": self.year}


@dataclass(frozen=True)
class SummaryRow:
    """An income or expense account's amount in each quarter (previous, current), on its normal side."""

    account_class: str
    name: str
    amounts: tuple[Decimal, Decimal]

    @property
    def texts(self) -> tuple[str, str]:
        return tuple(yuan(amount) for amount in self.amounts)


@dataclass(frozen=True)
class QuarterSummary:
    quarters: tuple[Quarter, Quarter]  # previous, current
    income: tuple[SummaryRow, ...]
    expense: tuple[SummaryRow, ...]
    income_total: tuple[Decimal, Decimal]
    expense_total: tuple[Decimal, Decimal]
    has_books: bool

    @property
    def net(self) -> tuple[Decimal, Decimal]:
        return tuple(i - e for i, e in zip(self.income_total, self.expense_total, strict=True))

    @property
    def income_total_texts(self) -> tuple[str, str]:
        return tuple(yuan(amount) for amount in self.income_total)

    @property
    def expense_total_texts(self) -> tuple[str, str]:
        return tuple(yuan(amount) for amount in self.expense_total)

    @property
    def net_texts(self) -> tuple[str, str]:
        return tuple(yuan(amount) for amount in self.net)

    @property
    def is_empty(self) -> bool:
        return not (self.income or self.expense)


@dataclass(frozen=True)
class PublicContract:
    number: str
    title: str
    kind_label: str
    subject_label: str
    subject: str
    area: Decimal | None
    amount: Decimal
    starts_on: datetime.date
    ends_on: datetime.date
    counterparty: str  # ``counterparty_public``: a firm's name, never a private person's

    @property
    def amount_text(self) -> str:
        return yuan(self.amount)


@dataclass(frozen=True)
class PublicProject:
    name: str
    category: str
    investment: Decimal
    status: str
    status_label: str
    started_on: datetime.date | None
    income: Decimal
    lead_village: str
    villages: tuple[str, ...]  # the villages involved, the lead village first

    @property
    def investment_text(self) -> str:
        return yuan(self.investment)

    @property
    def income_text(self) -> str:
        return yuan(self.income)


@dataclass(frozen=True)
class VillagePage:
    village: PublicUnit
    chain: tuple[PublicUnit, ...]  # county (or city) down to the township
    decisions: tuple[PublicDecision, ...]
    summary: QuarterSummary
    contracts: tuple[PublicContract, ...]
    projects: tuple[PublicProject, ...]
    generated_at: datetime.datetime


@dataclass(frozen=True)
class VillageGroup:
    """A township (with its county when the portal holds several) and its villages, for the index."""

    township: PublicUnit
    county: PublicUnit | None
    villages: tuple[PublicUnit, ...]


# --- Reading ---------------------------------------------------------------------------------------


def as_of() -> datetime.date:
    """The day the page is read for: today, local time (the quarters and the contracts in force follow it)."""
    return timezone.localdate()


def public_village(code: str) -> OrgUnit | None:
    """The active village (or community) with ``code``; None for any other unit or an unknown code."""
    return OrgUnit.objects.filter(code=code, level=Level.VILLAGE, is_active=True).only(
        "pk", "code", "name", "short_name", "level", "tree_id", "lft", "rght").first()


def _unit(unit: OrgUnit) -> PublicUnit:
    return PublicUnit(code=unit.code, name=unit.display_name)


def _chain(village: OrgUnit) -> tuple[PublicUnit, ...]:
    """The units above the village, top down (one query)."""
    rows = (OrgUnit.objects.filter(tree_id=village.tree_id, lft__lt=village.lft, rght__gt=village.rght)
            .order_by("lft").values("code", "name", "short_name"))
    return tuple(PublicUnit(code=row["code"], name=row["short_name"] or row["name"]) for row in rows)


def published_decisions(village: OrgUnit, limit: int = DECISIONS_SHOWN) -> tuple[PublicDecision, ...]:
    """The village's decisions whose resolution is published, the latest step taken first, with their steps
    (two queries)."""
    records = Prefetch("records", queryset=DecisionRecord.objects.only(
        "pk", "decision_id", "step", "held_on", "expected", "attended", "votes_for", "votes_against",
        "abstentions", "passed").order_by("held_on", "pk"))
    rows = (Decision.objects.filter(village=village, state__in=PUBLISHED_STATES)
            .only("pk", "number", "title", "description", "amount", "state", "six_step", "result_summary",
                  "created_at")
            .annotate(last_step_on=Max("records__held_on"))
            .order_by("-last_step_on", "-pk").prefetch_related(records)[:limit])
    decisions = []
    for row in rows:
        steps = tuple(PublicStep(
            step=record.step, label=str(Step(record.step).label), held_on=record.held_on,
            expected=record.expected, attended=record.attended, votes_for=record.votes_for,
            votes_against=record.votes_against, abstentions=record.abstentions, passed=record.passed)
            for record in row.records.all())
        decisions.append(PublicDecision(
            number=row.number, title=row.title, description=row.description, amount=row.amount,
            state=row.state, state_label=str(DecisionState(row.state).label), six_step=row.six_step, steps=steps,
            result_summary=row.result_summary if row.state == DecisionState.RESULT else ""))
    return tuple(decisions)


def quarter_of(day: datetime.date, *, until: bool = True) -> Quarter:
    number = (day.month - 1) // 3 + 1
    return Quarter(day.year, number, 3 * number - 2, 3 * number, day if until else None)


def previous_quarter(quarter: Quarter) -> Quarter:
    if quarter.number == 1:
        return Quarter(quarter.year - 1, 4, 10, 12, None)
    number = quarter.number - 1
    return Quarter(quarter.year, number, 3 * number - 2, 3 * number, None)


def quarter_summary(village: OrgUnit, today: datetime.date) -> QuarterSummary:
    """Income and expenses by account for the previous and the current quarter, from the posted vouchers.

    The figures are the statements' own (``selectors.statements.figures``: the net movement of each
    account over the months, without the year-end carry-forward), read for the village's book years
    of each quarter's year and summed per first-level account (a detail account is never named).
    An account is known by its class and name, so a quarter kept under the older chart sits on the
    same row as one kept under the newer chart. Queries: the book years, the chart's income and
    expense accounts, and two grouped queries per quarter.
    """
    current = quarter_of(today)
    quarters = (previous_quarter(current), current)
    years = (BookYear.objects.filter(book__village=village, year__in={q.year for q in quarters})
             .values_list("pk", "year", "chart_id"))
    by_year: dict[int, list[int]] = defaultdict(list)
    charts = set()
    for pk, year, chart_id in years:
        by_year[year].append(pk)
        charts.add(chart_id)
    accounts = {row["pk"]: row for row in ChartAccount.objects.filter(
        chart__in=charts, account_class__in=PUBLIC_CLASSES).values("pk", "code", "name", "account_class", "side")}
    amounts: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    order: dict[tuple[str, str], str] = {}
    for position, quarter in enumerate(quarters):
        book_years = by_year.get(quarter.year)
        if not book_years:
            continue
        for (account_id, _sub), item in figures(book_years, month_from=quarter.first_month,
                                                 month=quarter.last_month).items():
            account = accounts.get(account_id)
            if account is None:
                continue
            net = item.credit_nc - item.debit_nc
            if account["account_class"] == AccountClass.EXPENSE:
                net = -net
            key = (account["account_class"], account["name"])
            amounts[key][position] += net
            order[key] = min(order.get(key, account["code"]), account["code"])
    rows = {cls: [] for cls in PUBLIC_CLASSES}
    for key in sorted(amounts, key=lambda k: order[k]):
        values = tuple(amounts[key])
        if any(values):
            rows[key[0]].append(SummaryRow(account_class=key[0], name=key[1], amounts=values))

    def total(cls):
        return tuple(sum((row.amounts[i] for row in rows[cls]), ZERO) for i in range(2))

    return QuarterSummary(quarters=quarters, income=tuple(rows[AccountClass.INCOME]),
                          expense=tuple(rows[AccountClass.EXPENSE]), income_total=total(AccountClass.INCOME),
                          expense_total=total(AccountClass.EXPENSE), has_books=bool(by_year))


def contracts_in_force(village: OrgUnit, today: datetime.date) -> tuple[PublicContract, ...]:
    """The village's contracts in force today, by number (one query; the resident's reference is not read)."""
    rows = (Contract.objects.filter(village=village, status=ContractStatus.IN_FORCE, ends_on__gte=today)
            .only("pk", "number", "title", "kind", "subject_kind", "subject", "area", "amount", "starts_on",
                  "ends_on", "counterparty_kind", "counterparty_name")
            .order_by("number"))
    return tuple(PublicContract(
        number=row.number, title=row.title, kind_label=str(ContractKind(row.kind).label),
        subject_label=str(SubjectKind(row.subject_kind).label), subject=row.subject, area=row.area,
        amount=row.amount, starts_on=row.starts_on, ends_on=row.ends_on, counterparty=str(row.counterparty_public))
        for row in rows)


def village_projects(village: OrgUnit) -> tuple[PublicProject, ...]:
    """Projects the village leads or takes part in, with their income from the books (four queries)."""
    projects = list(Project.objects.filter(Q(village=village) | Q(villages=village)).distinct()
                    .select_related("category", "village")
                    .only("pk", "name", "investment", "status", "started_on", "category__name",
                          "village__name", "village__short_name")
                    .order_by("-started_on", "name"))
    involved = defaultdict(list)
    for row in (Project.villages.through.objects.filter(project__in=projects)
                .values("project_id", "orgunit__name", "orgunit__short_name").order_by("orgunit__code")):
        involved[row["project_id"]].append(row["orgunit__short_name"] or row["orgunit__name"])
    income = project_income(projects) if projects else {}
    result = []
    for project in projects:
        lead = project.village.display_name
        others = tuple(name for name in involved[project.pk] if name != lead)
        result.append(PublicProject(
            name=project.name, category=project.category.name, investment=project.investment,
            status=project.status, status_label=str(ProjectStatus(project.status).label),
            started_on=project.started_on, income=income.get(project.pk, ZERO), lead_village=lead,
            villages=(lead, *others)))
    return tuple(result)


def village_page(code: str, *, today: datetime.date | None = None) -> VillagePage | None:
    """The public page of the village ``code``, or None when no active village has that code."""
    village = public_village(code)
    if village is None:
        return None
    today = today or as_of()
    return VillagePage(
        village=_unit(village), chain=_chain(village), decisions=published_decisions(village),
        summary=quarter_summary(village, today), contracts=contracts_in_force(village, today),
        projects=village_projects(village), generated_at=timezone.localtime())


def village_index() -> tuple[VillageGroup, ...]:
    """Every active village by township, in the tree's order (one query)."""
    rows = (OrgUnit.objects.filter(level=Level.VILLAGE, is_active=True, parent__is_active=True)
            .values("code", "name", "short_name", "parent__code", "parent__name", "parent__short_name",
                    "parent__parent__code", "parent__parent__name", "parent__parent__short_name",
                    "parent__parent__level")
            .order_by("tree_id", "lft"))
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.get(row["parent__code"])
        if group is None:
            county = None
            if row["parent__parent__code"] and row["parent__parent__level"] in (Level.COUNTY, Level.CITY):
                county = PublicUnit(row["parent__parent__code"],
                                    row["parent__parent__short_name"] or row["parent__parent__name"])
            group = groups[row["parent__code"]] = {
                "township": PublicUnit(row["parent__code"], row["parent__short_name"] or row["parent__name"]),
                "county": county, "villages": []}
        group["villages"].append(PublicUnit(row["code"], row["short_name"] or row["name"]))
    return tuple(VillageGroup(township=g["township"], county=g["county"], villages=tuple(g["villages"]))
                 for g in groups.values())


# --- The rendered pages' cache (views.public fills it; a publication empties it) ----------------

logger = logging.getLogger(__name__)


def cache_key(name: str, language: str | None = None) -> str:
    return f"public:page:{name}:{language or translation.get_language()}"


def public_page_forget(code: str) -> None:
    """Drop a village's cached page in every language (after something was published), so it shows at once."""
    try:
        cache.delete_many([cache_key(f"village:{code}", language) for language, _name in settings.LANGUAGES])
    except Exception:
        logger.warning("Public page cache not cleared for %s: the cache is unavailable", code, exc_info=True)
