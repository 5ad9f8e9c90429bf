"""Reads of "My work" and of the dispute mediation pages (矛盾纠纷): the sections of a user's
work, the disputes with their mediation records, and the day/week/month summaries
(日分析、周综述、月报告).

Every selector takes the user and starts from ``visible_to``. My work costs one query for the
counts of all its sections and one per section that has cases; a summary costs one grouped
query for the period and the one before it together, whatever the number of cases.
"""

import bisect
import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from governance.indicators.months import month_start, next_month
from governance.models import OrgUnit, User
from governance.scope import scope_filter
from grid.models import (
    CHECK_STATES,
    DISPUTE_CATEGORY,
    MANAGER_ROLES,
    OPEN_STATES,
    WORKING_STATES,
    Case,
    CaseCategory,
    CaseState,
    Mediation,
    MediationOutcome,
)
from grid.selectors.cases import case_list_queryset, case_overdue_q, day_start

# Rows a section of My work lists (its count and the case list's filters show the rest).
WORK_ROWS = 20
DUE_SOON_HOURS = 24
# A case reported to a unit waits there to be accepted, then dispatched (or answered, if private).
INTAKE_STATES = (CaseState.REPORTED, CaseState.ACCEPTED)


# --- My work ---------------------------------------------------------------------------------


@dataclass
class WorkSection:
    key: str
    count: int
    rows: list = field(default_factory=list)


def _is_manager(user: User) -> bool:
    return user.role in MANAGER_ROLES or (user.is_superuser and user.home_unit_id is None)


def _checked_by(user: User) -> Q:
    """Cases whose check falls to ``user``'s level: dispatched from his subtree (a private matter,
    never dispatched, is checked where it was handled) — the rule of ``grid.services.cases._checks``."""
    dispatched = scope_filter(user, "dispatcher_unit")
    handled = scope_filter(user, "handling_unit")
    if dispatched is None or handled is None:  # the system operator
        return Q()
    return (Q(dispatcher_unit__isnull=False) & dispatched) | (Q(dispatcher_unit__isnull=True) & handled)


def _section_filters(user: User, now: datetime.datetime) -> dict[str, Q]:
    """The condition of each section of ``user``'s work, in the order the page shows them."""
    home = user.home_unit_id
    manager = _is_manager(user)
    to_unit = Q(assignee__isnull=True, handling_unit_id=home) if home else Q(pk__in=[])
    # What runs against a deadline on his account: his own cases, his unit's unassigned ones,
    # and, for a manager, whatever his level dispatched.
    responsible = Q(assignee_id=user.pk) | to_unit
    if manager:
        responsible |= _checked_by(user) & Q(dispatcher_unit__isnull=False)
    sections = {
        "overdue": responsible & Q(state__in=WORKING_STATES) & case_overdue_q(now),
        "due_soon": responsible & Q(
            state__in=WORKING_STATES, is_overdue=False, due_at__gte=now,
            due_at__lt=now + datetime.timedelta(hours=DUE_SOON_HOURS),
        ),
        "assigned": Q(assignee_id=user.pk, state__in=WORKING_STATES),
    }
    if home:
        sections["unit"] = to_unit & Q(state=CaseState.DISPATCHED)
    if manager and home:
        sections["intake"] = Q(handling_unit_id=home, state__in=INTAKE_STATES)
    if manager:
        sections["check"] = _checked_by(user) & Q(state__in=CHECK_STATES)
    return sections


SECTION_ORDER = {
    "overdue": ("due_at", "pk"),
    "due_soon": ("due_at", "pk"),
    "assigned": (F("due_at").asc(nulls_last=True), "pk"),
    "unit": (F("due_at").asc(nulls_last=True), "pk"),
    "intake": ("reported_at", "pk"),
    "check": (F("resolved_at").asc(nulls_last=True), "pk"),
}


def my_work(*, fetched_by: User, now: datetime.datetime | None = None, rows: int = WORK_ROWS) -> list[WorkSection]:
    """The sections of the user's work, each with its count and its first ``rows`` cases (most urgent first).

    Sections: overdue, due within 24 hours, assigned to me, dispatched to my unit without a
    person, waiting for my unit to accept or dispatch (managers), waiting for my check (managers:
    resolved cases their level dispatched, then their rating and close).
    """
    now = now or timezone.now()
    filters = _section_filters(fetched_by, now)
    # Every section is about open cases (about 1% of all in a county that closes its cases): the
    # state index narrows the scan before the sections' conditions.
    visible = Case.objects.visible_to(fetched_by).filter(state__in=OPEN_STATES)
    any_section = Q()
    for condition in filters.values():
        any_section |= condition
    counts = visible.filter(any_section).aggregate(
        **{key: Count("pk", filter=condition) for key, condition in filters.items()}
    )
    sections = []
    for key, condition in filters.items():
        section = WorkSection(key=key, count=counts[key] or 0)
        if section.count:
            queryset = case_list_queryset(visible.filter(condition)).order_by(*SECTION_ORDER[key])
            section.rows = list(queryset[:rows])
        sections.append(section)
    return sections


# --- Disputes and their mediation -------------------------------------------------------------


def dispute_categories() -> QuerySet:
    """The dispute category (矛盾纠纷) and its sub-categories."""
    return CaseCategory.objects.filter(Q(code=DISPUTE_CATEGORY) | Q(parent__code=DISPUTE_CATEGORY))


def dispute_q() -> Q:
    """Cases of the dispute category or one of its sub-categories (a subquery, no join)."""
    return Q(category_id__in=dispute_categories().values("pk"))


def dispute_cases(*, fetched_by: User) -> QuerySet:
    return Case.objects.visible_to(fetched_by).filter(dispute_q())


MEDIATION_ROW_JOINS = ("category", "grid", "grid__parent", "grid__parent__parent", "grid__parent__parent__parent")


def mediation_list_queryset(queryset: QuerySet) -> QuerySet:
    """Decorate a dispute queryset with what a row of the mediation list shows (no query per row)."""
    return queryset.select_related(*MEDIATION_ROW_JOINS).prefetch_related(
        Prefetch("mediations", queryset=Mediation.objects.select_related("recorded_by").order_by("-held_on", "-id"))
    )


def mediation_rooms(*, fetched_by: User, limit: int = 30) -> list[str]:
    """The mediation rooms already used in the user's area, most used first (the form suggests them)."""
    rows = (
        Mediation.objects.visible_to(fetched_by)
        .values("room")
        .annotate(n=Count("pk"))
        .order_by("-n", "room")[:limit]
    )
    return [row["room"] for row in rows]


# --- Summaries: 日分析、周综述、月报告 ------------------------------------------------------------

PERIOD_KINDS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    """A day, an ISO week (Monday to Sunday) or a calendar month: ``start`` included, ``end`` excluded."""

    kind: str
    start: datetime.date
    end: datetime.date

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def previous(self) -> "Period":
        return period_of(self.kind, self.start - datetime.timedelta(days=1))

    def next(self) -> "Period":
        return period_of(self.kind, self.end)

    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%Y-%m-%d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m-%d} – {self.last_day:%Y-%m-%d}"


def period_of(kind: str, day: datetime.date) -> Period:
    if kind == "day":
        return Period(kind, day, day + datetime.timedelta(days=1))
    if kind == "week":
        start = day - datetime.timedelta(days=day.weekday())
        return Period(kind, start, start + datetime.timedelta(days=7))
    if kind == "month":
        start = month_start(day)
        return Period(kind, start, next_month(start))
    raise ValueError(f"unknown period kind: {kind}")


METRICS = ("raised", "mediated", "sessions", "agreed", "open", "overdue")


def _metric_counts(prefix: str, period: Period, now: datetime.datetime) -> dict:
    """Count expressions of one period (over cases LEFT JOINed to their mediations).

    - raised: disputes reported in the period;
    - mediated / agreed: disputes with a mediation session (one that reached agreement) in it;
    - sessions: mediation sessions held in it;
    - open: disputes reported before its end and not closed (or rejected) by then;
    - overdue: of those, the ones past their deadline and not resolved by its end (or now).
    """
    start, end = day_start(period.start), day_start(period.end)
    cutoff = min(end, now)
    held = Q(mediations__held_on__gte=period.start, mediations__held_on__lt=period.end)
    still_open = Q(reported_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))
    late = still_open & Q(due_at__lt=cutoff) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=cutoff))
    return {
        f"{prefix}raised": Count("pk", distinct=True, filter=Q(reported_at__gte=start, reported_at__lt=end)),
        f"{prefix}mediated": Count("pk", distinct=True, filter=held),
        f"{prefix}sessions": Count("mediations", filter=held),
        f"{prefix}agreed": Count("pk", distinct=True, filter=held & Q(mediations__outcome=MediationOutcome.AGREED)),
        f"{prefix}open": Count("pk", distinct=True, filter=still_open),
        f"{prefix}overdue": Count("pk", distinct=True, filter=late),
    }


def _summary_base(user: User, first: Period, last: Period) -> QuerySet:
    """The disputes any metric of ``first`` .. ``last`` may count: reported before the end, and
    not closed before the start unless mediated in between (keeps a year of closed cases out)."""
    start, end = day_start(first.start), day_start(last.end)
    mediated = Mediation.objects.filter(held_on__gte=first.start, held_on__lt=last.end).values("case_id")
    return dispute_cases(fetched_by=user).filter(
        Q(reported_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start) | Q(pk__in=mediated))
    )


@dataclass
class SummaryRow:
    """The metrics of one line of a summary (a total, a category or a unit) for the period and the one before."""

    label: str = ""
    unit: OrgUnit | None = None
    current: dict = field(default_factory=lambda: dict.fromkeys(METRICS, 0))
    previous: dict = field(default_factory=lambda: dict.fromkeys(METRICS, 0))

    def add(self, row: dict) -> None:
        for metric in METRICS:
            self.current[metric] += row[f"c_{metric}"]
            self.previous[metric] += row[f"p_{metric}"]

    @property
    def is_empty(self) -> bool:
        return not any(self.current.values()) and not any(self.previous.values())


@dataclass
class DisputeSummary:
    period: Period
    previous_period: Period
    total: SummaryRow
    categories: list[SummaryRow]
    units: list[SummaryRow]
    unit_level: str | None  # the level of the units listed (one below the user's unit)
    outside_units: SummaryRow | None  # disputes located in the user's own unit, above its children


def _child_units(user: User) -> list[OrgUnit]:
    """The units one level below the user's unit (the top units for the system operator)."""
    units = OrgUnit.objects.visible_to(user)
    if user.home_unit_id is None:
        units = units.filter(parent__isnull=True)
    else:
        units = units.filter(parent_id=user.home_unit_id)
    return list(units.only("pk", "code", "name", "short_name", "level", "tree_id", "lft", "rght").order_by("code"))


def dispute_summary(*, fetched_by: User, period: Period, now: datetime.datetime | None = None) -> DisputeSummary:
    """The disputes of the user's area in ``period`` and the period before, in total, by
    sub-category and by unit one level below the user's: three queries in all."""
    now = now or timezone.now()
    previous = period.previous()
    categories = list(dispute_categories().order_by("sort_order", "code"))
    children = _child_units(fetched_by)
    grouped = (
        _summary_base(fetched_by, previous, period)
        .order_by()
        .values("category_id", "grid__tree_id", "grid__lft")
        .annotate(**_metric_counts("c_", period, now), **_metric_counts("p_", previous, now))
    )
    total = SummaryRow()
    # Sub-categories in their order, then the top category (cases filed under it directly, if any).
    categories.sort(key=lambda category: category.parent_id is None)
    by_category = {category.pk: SummaryRow(label=category.name) for category in categories}
    by_unit = {child.pk: SummaryRow(label=child.display_name, unit=child) for child in children}
    outside = SummaryRow()
    # Children ranges sorted by (tree, lft): a grid falls in the child whose range holds its lft.
    starts = [(child.tree_id, child.lft) for child in children]
    for row in grouped:
        total.add(row)
        by_category[row["category_id"]].add(row)
        key = (row["grid__tree_id"], row["grid__lft"])
        index = bisect.bisect_right(starts, key) - 1
        child = children[index] if index >= 0 else None
        if child is not None and child.tree_id == key[0] and child.lft <= key[1] < child.rght:
            by_unit[child.pk].add(row)
        else:
            outside.add(row)
    return DisputeSummary(
        period=period,
        previous_period=previous,
        total=total,
        categories=[row for category, row in zip(categories, by_category.values(), strict=True)
                    if category.parent_id or not row.is_empty],
        units=list(by_unit.values()),
        unit_level=children[0].level if children else None,
        outside_units=None if outside.is_empty else outside,
    )


def summary_cases(*, fetched_by: User, period: Period) -> QuerySet:
    """The disputes reported in ``period``, oldest first, with their mediation sessions."""
    return mediation_list_queryset(
        dispute_cases(fetched_by=fetched_by).filter(
            reported_at__gte=day_start(period.start), reported_at__lt=day_start(period.end)
        )
    ).order_by("reported_at", "pk")
