"""Reads of the case pages: the filtered list, its counts by state, possible duplicates, pickers.

Every selector takes the user (``fetched_by``) and starts from ``visible_to``: a case, grid or
person outside his subtree is never returned. The list costs the same queries whatever its
length: the joins a row shows are ``select_related``, the overdue flag is an annotation, and
the counts by state are one grouped query.
"""

import datetime
import re
from dataclasses import dataclass

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Level, OrgUnit, User
from governance.selectors import active_staff_exists, subtree_q
from grid.models import OPEN_STATES, WORKING_STATES, Case, CaseAction, CaseEvent, CaseState, Rating

CASE_GRID_LEVELS = (Level.GRID, Level.MICRO_GRID)
# A similar open case reported this recently in the same grid is shown as a possible duplicate.
DUPLICATE_DAYS = 7
# A search text that can only be (the start of) a case number, ours or an old system's.
NUMBER_LIKE = re.compile(r"[0-9A-Za-z-]+")
# The joins a row of the list shows.
CASE_ROW_JOINS = ("category", "category__parent", "grid", "grid__parent", "handling_unit", "assignee", "dispatcher",
                  "dispatcher_unit")


def case_overdue_q(now: datetime.datetime | None = None) -> Q:
    """Flagged overdue by the periodic scan, or still being worked on past its deadline."""
    now = now or timezone.now()
    return Q(is_overdue=True) | Q(state__in=WORKING_STATES, due_at__lt=now)


def case_late_q(end: datetime.datetime, now: datetime.datetime | None = None) -> Q:
    """Reported before ``end``, still open then, past its deadline and not resolved by then (by now, for
    an ``end`` still to come); a case not accepted is never late. What the dashboard's "overdue open
    cases at month end" counts (``grid.indicators.case_counts``)."""
    cutoff = min(end, now or timezone.now())
    still_open = Q(closed_at__isnull=True) | Q(closed_at__gte=end)
    return (Q(reported_at__lt=end) & still_open & Q(due_at__lt=cutoff)
            & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=cutoff)) & ~Q(state=CaseState.REJECTED))


# The steps a case list filters by the day they happened on: (parameter prefix, field).
STEP_DATES = (("accepted", "accepted_at"), ("resolved", "resolved_at"), ("closed", "closed_at"))


def case_list_queryset(queryset: QuerySet) -> QuerySet:
    """Decorate a case queryset with what a list row shows (no query per row)."""
    return queryset.select_related(*CASE_ROW_JOINS).annotate(
        overdue_now=ExpressionWrapper(case_overdue_q(), output_field=BooleanField())
    )


def day_start(day: datetime.date) -> datetime.datetime:
    """The start of a day in the portal's time zone (what a "from"/"to" date filter compares with)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def filter_cases(queryset: QuerySet, *, user=None, filters: dict | None = None) -> QuerySet:
    """Narrow cases by the list's filters (absent or empty values do not filter).

    ``filters`` keys: state, open, colour, category (a CaseCategory: a top category matches its
    sub-categories), triage, source, unit (an OrgUnit: cases located in its subtree), overdue,
    mine (assigned to ``user``), reported_from / reported_to, accepted_from / accepted_to,
    resolved_from / resolved_to, closed_from / closed_to (dates, inclusive; closed counts a case
    not accepted too), overdue_on (late at the end of that day, ``case_late_q``), rated_from /
    rated_to (rated on those days), rated (has a rating), q (number, title or description).
    """
    filters = filters or {}
    if filters.get("state"):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("open"):
        queryset = queryset.filter(state__in=OPEN_STATES)
    for name in ("colour", "triage", "source"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    category = filters.get("category")
    if category is not None:
        queryset = queryset.filter(Q(category=category) | Q(category__parent=category))
    unit = filters.get("unit")
    if unit is not None:
        queryset = queryset.filter(subtree_q(unit, "grid"))
    if filters.get("overdue"):
        queryset = queryset.filter(case_overdue_q())
    if filters.get("mine"):
        queryset = queryset.filter(assignee_id=getattr(user, "pk", None))
    if filters.get("reported_from"):
        queryset = queryset.filter(reported_at__gte=day_start(filters["reported_from"]))
    if filters.get("reported_to"):
        queryset = queryset.filter(reported_at__lt=day_start(filters["reported_to"] + datetime.timedelta(days=1)))
    for name, field in STEP_DATES:
        if filters.get(f"{name}_from"):
            queryset = queryset.filter(**{f"{field}__gte": day_start(filters[f"{name}_from"])})
        if filters.get(f"{name}_to"):
            next_day = filters[f"{name}_to"] + datetime.timedelta(days=1)
            queryset = queryset.filter(**{f"{field}__lt": day_start(next_day)})
    if filters.get("overdue_on"):
        queryset = queryset.filter(case_late_q(day_start(filters["overdue_on"] + datetime.timedelta(days=1))))
    if filters.get("rated_from") or filters.get("rated_to"):
        rated = CaseEvent.objects.filter(case=OuterRef("pk"), action=CaseAction.RATE)
        if filters.get("rated_from"):
            rated = rated.filter(at__gte=day_start(filters["rated_from"]))
        if filters.get("rated_to"):
            rated = rated.filter(at__lt=day_start(filters["rated_to"] + datetime.timedelta(days=1)))
        queryset = queryset.filter(Exists(rated))
    if filters.get("rated"):
        queryset = queryset.filter(rating__in=Rating.values)
    text = (filters.get("q") or "").strip()
    if text:
        queryset = queryset.filter(case_search_q(text))
    return queryset


def case_search_q(text: str) -> Q:
    """What a search box matches: the start of a case number, or text in the title or description.

    Something that can only be a case number (six or more letters, digits or dashes, no Chinese)
    is looked up by number alone: an index answers that at once, where a text match reads every
    case of the user's area.
    """
    text = text.strip()
    by_number = Q(number__startswith=text)
    if len(text) >= 6 and NUMBER_LIKE.fullmatch(text):
        return by_number
    return by_number | Q(title__icontains=text) | Q(description__icontains=text)


def case_list(*, fetched_by, filters: dict | None = None) -> QuerySet:
    """The cases ``fetched_by`` sees, narrowed by ``filters``, with the joins a list row needs."""
    queryset = Case.objects.visible_to(fetched_by)
    return case_list_queryset(filter_cases(queryset, user=fetched_by, filters=filters))


def state_counts(*, fetched_by, filters: dict | None = None) -> dict[str, int]:
    """How many cases of each state match ``filters`` (the state filter itself ignored): one query."""
    filters = {key: value for key, value in (filters or {}).items() if key != "state"}
    queryset = filter_cases(Case.objects.visible_to(fetched_by), user=fetched_by, filters=filters)
    # COUNT(*), not COUNT(id): the (grid, state) index alone answers it.
    rows = queryset.order_by().values_list("state").annotate(n=Count("*"))
    counts = {state: 0 for state in CaseState.values}
    counts.update(dict(rows))
    return counts


def case_duplicates(*, fetched_by, grid, category, exclude_token=None, exclude_pk=None,
                    now: datetime.datetime | None = None, limit: int = 5) -> list[Case]:
    """Open cases of the same category in the same grid reported in the last 7 days (newest first)."""
    if grid is None or category is None:
        return []
    since = (now or timezone.now()) - datetime.timedelta(days=DUPLICATE_DAYS)
    queryset = Case.objects.visible_to(fetched_by).filter(
        grid=grid, category=category, state__in=OPEN_STATES, reported_at__gte=since
    )
    if exclude_token is not None:
        queryset = queryset.exclude(token=exclude_token)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return list(queryset.select_related("grid").order_by("-reported_at", "-pk")[:limit])


def grid_choices(*, fetched_by, text: str = "", limit: int = 30) -> list[OrgUnit]:
    """Grids and micro-grids of the user's area matching ``text`` (name, short name or code start)."""
    units = OrgUnit.objects.visible_to(fetched_by).filter(level__in=CASE_GRID_LEVELS, is_active=True)
    text = text.strip()[:50]
    if text:
        units = units.filter(Q(name__icontains=text) | Q(short_name__icontains=text) | Q(code__startswith=text))
    return list(units.select_related("parent").order_by("code")[:limit])


def dispatch_units(*, fetched_by, case: Case, levels) -> list[OrgUnit]:
    """Units a case may be dispatched to by ``fetched_by``: in his area, under the unit handling
    the case, of ``levels`` (micro-grids left out: too many for a select; their grid stands for them)."""
    levels = [level for level in levels if level != Level.MICRO_GRID]
    units = OrgUnit.objects.visible_to(fetched_by).filter(level__in=levels, is_active=True)
    units = units.filter(subtree_q(case.handling_unit))
    units = units.annotate(has_staff=active_staff_exists())  # whether anyone could take a case there
    return list(units.select_related("parent").order_by("tree_id", "lft"))


@dataclass
class DispatchGroup:
    """Units a case may go to that belong together in the dispatch form: a village (or township) and its grids."""

    label: str
    units: list[OrgUnit]
    is_home: bool = False
    head_id: int | None = None


def dispatch_groups(*, fetched_by, case: Case, levels) -> list[DispatchGroup]:
    """``dispatch_units`` grouped for the form: the case's own village (or township, for a major
    matter) and its grids first, then the rest of the area, one group per village or township.

    Units nobody could take a case in (no active account at or below them) are left out: the
    service refuses them too, by the same rule (``active_staff_exists``). One query.
    """
    units = [unit for unit in dispatch_units(fetched_by=fetched_by, case=case, levels=levels) if unit.has_staff]
    head_level = Level.TOWNSHIP if Level.TOWNSHIP in levels else Level.VILLAGE
    grid = case.grid
    groups: list[DispatchGroup] = []
    for unit in units:  # in tree order: a village comes before its grids
        head = unit.parent if unit.level == Level.GRID and unit.parent_id else unit
        if groups and groups[-1].head_id == head.pk:
            groups[-1].units.append(unit)
            continue
        home = head.level == head_level and grid is not None and _contains(head, grid)
        label = _("%(name)s, where the case is") % {"name": head.display_name} if home else head.display_name
        groups.append(DispatchGroup(label=label, units=[unit], is_home=home, head_id=head.pk))
    groups.sort(key=lambda group: not group.is_home)  # stable: the rest keep the tree's order
    return groups


def _contains(outer: OrgUnit, inner: OrgUnit) -> bool:
    return outer.tree_id == inner.tree_id and outer.lft <= inner.lft and inner.rght <= outer.rght


def unit_staff(*, fetched_by, unit: OrgUnit) -> QuerySet:
    """Active users whose home unit lies in ``unit`` (and in the user's area): who a case may go to."""
    return (
        User.objects.visible_to(fetched_by)
        .filter(is_active=True)
        .filter(subtree_q(unit, "home_unit"))
        .select_related("home_unit")
        .order_by("home_unit__code", "last_name", "first_name", "username")
    )
