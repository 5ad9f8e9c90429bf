"""The grid's monthly indicators: cases through their loop, and grid workers, with how the dashboard shows them."""

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.indicators.months import month_start, shift_month, this_month
from governance.indicators.registry import (
    DENOMINATOR,
    FLOW,
    HIGHER,
    LOWER,
    MEDIAN,
    NUMERATOR,
    RATIO,
    STOCK,
    VALUE,
    Breakdown,
    Indicator,
    Panel,
    RecordLink,
    Tally,
    Target,
    register,
    register_breakdown,
    register_panel,
)
from governance.models import Level, OrgUnit
from governance.terms import local_names
from grid.forms.cases import CaseFilterForm
from grid.models import Case, CaseAction, CaseEvent, CaseState, Colour, GridWorker, Rating, Triage, WorkerType
from grid.rosters.terms import CASE_CATEGORIES, WORKER_TYPES
from grid.selectors.workers import STAFFING_TYPES
from grid.taxonomy import TAXONOMY


def _month_cases(start, end, units):
    """The cases a month can count: reported before its end and not closed before its start.

    Every step of a case comes after its report and before its closing, so this holds every
    case raised, accepted, resolved or closed in the month and every case open at its end.
    It is two ranges of the (closed_at, reported_at) index (still open; closed since the
    month began), so a recent month reads its own cases and the open ones, not the history.
    """
    return Case.objects.filter(grid__in=units, reported_at__lt=end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=start)
    )


def case_counts(start, end, units):
    """Cases of the month, one scan: raised (by colour, triage and top category), accepted,
    resolved, closed in it; overdue at its end.

    Open at month end: reported before it and not closed by then. Overdue: of those, past
    the deadline and not resolved by the end (or by now, for the month in progress), as the
    dispute summary counts them. A sub-category counts for its top category. Each case's dates
    are compared once (the names below), and the 26 counts test the names (``Tally``).
    """
    cutoff = min(end, timezone.now())

    def within(field):
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})

    def flag(condition):
        return ExpressionWrapper(condition, output_field=BooleanField())

    still_open = Q(closed_at__isnull=True) | Q(closed_at__gte=end)
    late = (still_open & Q(due_at__lt=cutoff) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=cutoff))
            & ~Q(state=CaseState.REJECTED))
    rows = _month_cases(start, end, units).values(
        node=F("grid"), raised=flag(within("reported_at")), accepted=flag(within("accepted_at")),
        resolved=flag(within("resolved_at")), closed=flag(within("closed_at")),
        closed_by_end=flag(Q(closed_at__lt=end)), late=flag(late),
        # A case without a deadline (never dispatched) cannot be late.
        on_time=flag(Q(due_at__isnull=True) | Q(resolved_at__lte=F("due_at"))),
        top=Coalesce("category__parent__code", "category__code"), case_colour=F("colour"),
        case_triage=F("triage"))
    raised = {"raised": True}
    counts = {_column(code): {**raised, "top": code} for code, _name, _children in TAXONOMY}
    counts.update(
        raised=raised, accepted={"accepted": True}, resolved={"resolved": True}, closed={"closed": True},
        raised_closed={**raised, "closed_by_end": True}, overdue={"late": True},
        red={**raised, "case_colour": Colour.RED}, yellow={**raised, "case_colour": Colour.YELLOW},
        green={**raised, "case_colour": Colour.GREEN}, major={**raised, "case_triage": Triage.MAJOR},
        minor={**raised, "case_triage": Triage.MINOR}, private={**raised, "case_triage": Triage.PRIVATE},
        resolved_on_time={"resolved": True, "on_time": True},
    )
    return Tally(rows, counts)


def rating_counts(start, end, units):
    """Cases rated in the month (a "rate" step in it), and those rated satisfied or basically satisfied.

    The case keeps only its last rating: a case rated twice in the month counts once, with it.
    """
    rated = CaseEvent.objects.filter(action=CaseAction.RATE, at__gte=start, at__lt=end, case__grid__in=units)
    return rated.values(node=F("case__grid")).annotate(
        rated=Count("case", distinct=True),
        satisfied=Count("case", distinct=True, filter=Q(case__rating__in=[Rating.SATISFIED, Rating.BASIC])),
    )


def case_cohorts(start, end, units):
    """The cases raised in the month as they stand now (a cohort): how many, closed by now,
    resolved on time, resolved or already late, rated, rated satisfied.

    These figures follow the cases after their month: ``case_steps_since`` tells the refresh
    task which months changed. A case that is open and past its deadline counts as late
    before it is resolved; a rejected case is never late.
    """
    now = timezone.now()
    resolved = Q(resolved_at__isnull=False)
    late_open = Q(resolved_at__isnull=True, due_at__lt=now) & ~Q(state=CaseState.REJECTED)
    return (Case.objects.filter(grid__in=units, reported_at__gte=start, reported_at__lt=end)
            .values(node=F("grid"))
            .annotate(raised=Count("pk"),
                      closed=Count("pk", filter=Q(closed_at__isnull=False)),
                      due=Count("pk", filter=resolved | late_open),
                      on_time=Count("pk", filter=resolved & (Q(due_at__isnull=True) | Q(resolved_at__lte=F("due_at")))),
                      rated=Count("pk", filter=Q(rating__in=Rating.values)),
                      satisfied=Count("pk", filter=Q(rating__in=[Rating.SATISFIED, Rating.BASIC]))))


COHORT_MONTHS = 12  # asked for the first time, the refresh recomputes this many months


def case_steps_since(marker):
    """The months whose cases took a step since ``marker`` (the last step id seen), and the new marker.

    The first time (no marker): the last ``COHORT_MONTHS`` months.
    """
    latest = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if marker is None:
        return {shift_month(this_month(), -i) for i in range(COHORT_MONTHS)}, latest
    months = (CaseEvent.objects.filter(pk__gt=marker, pk__lte=latest)
              .annotate(month=TruncMonth("case__reported_at", output_field=DateField()))
              .values_list("month", flat=True).order_by().distinct())
    return {month_start(month) for month in months}, latest


def hours_to_resolve(start, end, units):
    """(tree_id, lft, hours) of each case resolved in the month: report to resolution."""
    rows = (
        _month_cases(start, end, units).filter(resolved_at__gte=start, resolved_at__lt=end)
        .annotate(taken=ExpressionWrapper(F("resolved_at") - F("reported_at"), output_field=DurationField()))
        .values_list("grid__tree_id", "grid__lft", "taken")
        .order_by()
    )
    return ((tree_id, lft, taken.total_seconds() / 3600) for tree_id, lft, taken in rows.iterator())


def _serving_at(day):
    """Workers serving at the end of a month whose next day is ``day``: started before it, not ended by it."""
    return Q(start_date__lt=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


def worker_counts(start, end, units):
    """Grid workers serving at the month's end: all, party members, and by type (one column a type)."""
    by_type = {_type_column(value): Count("pk", filter=Q(worker_type=value)) for value in WorkerType.values}
    return (GridWorker.objects.filter(_serving_at(end.date()), unit__in=units)
            .values(node=F("unit"))
            .annotate(members=Count("pk", filter=Q(is_party_member=True)), workers=Count("pk"), **by_type))


def _type_column(worker_type: str) -> str:
    return f"t_{worker_type}"


def _staffs(day, level):
    """EXISTS a worker of a type that staffs ``level`` (STAFFING_TYPES) serving the outer unit at ``day``.

    A household liaison or a building head serves a grid but does not staff it: the vacancy
    list (``grid.selectors.workers``) asks the same of the workers in post today.
    """
    return Exists(GridWorker.objects.filter(_serving_at(day), unit=OuterRef("pk"),
                                            worker_type__in=STAFFING_TYPES[level]))


def uncovered_units(start, end, units):
    """Per active grid: 1 (``grids``), 1 if it is not staffed (``unstaffed``), 1 if no grid worker of its
    own serves it (``without_own``); per active micro-grid: 1 (``micro_grids``), 1 if no micro-grid
    worker serves it (``micro_unstaffed``); all at the month's end.

    A grid is staffed when its own full-time or part-time grid worker serves it, or when it has
    active micro-grids and a micro-grid worker serves every one of them: a county that staffs
    its micro-grids and not the grids above them has no unstaffed grid, but every grid of it
    is "without its own grid worker".
    """
    day = end.date()
    micro_grids = OrgUnit.objects.filter(parent=OuterRef("pk"), level=Level.MICRO_GRID, is_active=True)
    grid, micro = Q(level=Level.GRID), Q(level=Level.MICRO_GRID)
    staffed_below = Q(has_micro=True, micro_gap=False)
    return (OrgUnit.objects.filter(pk__in=units.values("pk"), is_active=True, level__in=[Level.GRID, Level.MICRO_GRID])
            .annotate(own_grid=_staffs(day, Level.GRID), own_micro=_staffs(day, Level.MICRO_GRID),
                      has_micro=Exists(micro_grids),
                      micro_gap=Exists(micro_grids.exclude(_staffs(day, Level.MICRO_GRID))))
            .values(node=F("pk"))
            .annotate(grids=Count("pk", filter=grid),
                      unstaffed=Count("pk", filter=grid & Q(own_grid=False) & ~staffed_below),
                      without_own=Count("pk", filter=grid & Q(own_grid=False)),
                      micro_grids=Count("pk", filter=micro),
                      micro_unstaffed=Count("pk", filter=micro & Q(own_micro=False))))


def _check_grids(end, units) -> tuple[int, int]:
    """For ``rollup_indicators --verify``: (grids not staffed, grids without their own worker) at the
    month's end, from plain lists of ids rather than the leaf's correlated subqueries."""
    day = end.date()
    serving = GridWorker.objects.filter(start_date__lt=day).exclude(end_date__lt=day)
    grids = set(OrgUnit.objects.filter(pk__in=units, level=Level.GRID, is_active=True).values_list("pk", flat=True))
    own = set(serving.filter(unit__in=grids, worker_type__in=STAFFING_TYPES[Level.GRID])
              .values_list("unit", flat=True))
    micro = dict(OrgUnit.objects.filter(parent__in=grids, level=Level.MICRO_GRID, is_active=True)
                 .values_list("pk", "parent"))
    served = set(serving.filter(unit__in=micro, worker_type__in=STAFFING_TYPES[Level.MICRO_GRID])
                 .values_list("unit", flat=True))
    gaps = {parent for pk, parent in micro.items() if pk not in served}
    staffed_below = set(micro.values()) - gaps
    without_own = grids - own
    return len(without_own - staffed_below), len(without_own)


def _check_workers(worker_type: str):
    def check(start, end, units) -> int:
        day = end.date()
        return (GridWorker.objects.filter(unit__in=units, worker_type=worker_type, start_date__lt=day)
                .exclude(end_date__lt=day).count())

    return check


CASES = pgettext_lazy("measure word for cases", "cases")
HOURS = pgettext_lazy("measure word for hours", "hours")
UNITS = pgettext_lazy("measure word for org units", "units")
PERSONS = pgettext_lazy("measure word for persons", "persons")


def case_list(first_day: str = "", last_day: str = "", counts: str = VALUE, **query) -> RecordLink | None:
    """The case list filtered by ``query`` and the period's days (``first_day``/``last_day``: the
    list's parameters for them), whose count equals the figure's ``counts`` number; None while the
    list has no filter of that name (the link would open a list whose count differs)."""
    link = RecordLink("grid:case-list", first_day=first_day, last_day=last_day, query=query, counts=counts)
    if any(name not in CaseFilterForm.base_fields for name in link.parameters):
        return None
    return link


def cases_reported(counts: str = VALUE, **query) -> RecordLink | None:
    """The case list of the cases reported in the period (and matching ``query``): it reproduces
    "cases raised" and its splits by colour and triage, and the cases a cohort rate is a share of."""
    return case_list("reported_from", "reported_to", counts, **query)


# The dashboard's places (headline, league, trend) are shared with the other apps: households
# and residents come first (10, 20), the grid's 30-100, party building's after them. "Closed"
# counts every case that ended: closed or not accepted; a rate's list is the
# list of the cases it is a share of.
register(Indicator(key="grid.cases_raised", label=_("Cases raised"), unit=CASES, leaf=case_counts,
                   numerator="raised", check=lambda start, end, units: Case.objects.filter(
                       grid__in=units, reported_at__gte=start, reported_at__lt=end).count(),
                   headline=30, league=30, trend=10, records=cases_reported(), over=FLOW,
                   definition=_("Cases reported in the month.")))
register(Indicator(key="grid.cases_accepted", label=_("Cases accepted"), unit=CASES, leaf=case_counts,
                   numerator="accepted", over=FLOW, records=case_list("accepted_from", "accepted_to"),
                   definition=_("Cases accepted in the month, whenever they were reported.")))
register(Indicator(key="grid.cases_resolved", label=_("Cases resolved"), unit=CASES, leaf=case_counts,
                   numerator="resolved", over=FLOW, records=case_list("resolved_from", "resolved_to"),
                   definition=_("Cases resolved in the month, whenever they were reported.")))
register(Indicator(key="grid.cases_closed", label=_("Cases closed"), unit=CASES, leaf=case_counts,
                   numerator="closed", check=lambda start, end, units: Case.objects.filter(
                       grid__in=units, closed_at__gte=start, closed_at__lt=end).count(),
                   headline=40, league=40, trend=20, over=FLOW, records=case_list("closed_from", "closed_to"),
                   definition=_("Cases that ended in the month, closed or not accepted, "
                                "whenever they were reported.")))
register(Indicator(key="grid.closure_rate", label=_("Closure rate within the month"), unit="%", kind=RATIO,
                   leaf=case_counts, numerator="raised_closed", denominator="raised", better=HIGHER, over=FLOW,
                   records=cases_reported(DENOMINATOR),
                   definition=_("Of the cases raised in each month, the share closed by the end of that same "
                                "month: a case raised late in a month and closed early in the next never counts.")))
register(Indicator(key="grid.closure_rate_to_date", label=_("Closure rate (to date)"), unit="%", kind=RATIO,
                   leaf=case_cohorts, numerator="closed", denominator="raised", changes=case_steps_since,
                   headline=50, league=50, trend=40, target=Target(green=0.95, yellow=0.85), better=HIGHER, over=FLOW,
                   records=cases_reported(DENOMINATOR),
                   definition=_("Of the cases raised in the period, the share closed as of today (as of its "
                                "approval for an approved month): the rate counties publish.")))
register(Indicator(key="grid.cases_overdue", label=_("Overdue open cases at month end"), unit=CASES,
                   leaf=case_counts, numerator="overdue", records=case_list(last_day="overdue_on"),
                   headline=70, league=70, trend=30, target=Target(green=0, yellow=2), better=LOWER, over=STOCK,
                   definition=_("Cases still open at the end of the month, past their deadline and not resolved "
                                "by then (for the month in progress: by now); a case not accepted is never "
                                "overdue.")))
register(Indicator(key="grid.cases_red", label=_("Red cases raised"), unit=CASES, leaf=case_counts,
                   numerator="red", better=LOWER, records=cases_reported(colour="red"), over=FLOW,
                   definition=_("Cases reported in the month and marked red (the most urgent).")))
register(Indicator(key="grid.cases_yellow", label=_("Yellow cases raised"), unit=CASES, leaf=case_counts,
                   numerator="yellow", records=cases_reported(colour="yellow"), over=FLOW,
                   definition=_("Cases reported in the month and marked yellow.")))
register(Indicator(key="grid.cases_green", label=_("Green cases raised"), unit=CASES, leaf=case_counts,
                   numerator="green", records=cases_reported(colour="green"), over=FLOW,
                   definition=_("Cases reported in the month and marked green (routine).")))
register(Indicator(key="grid.median_hours_to_resolve", label=_("Median hours to resolve"), unit=HOURS,
                   kind=MEDIAN, samples=hours_to_resolve, headline=80, league=80, better=LOWER,
                   records=case_list("resolved_from", "resolved_to", NUMERATOR),
                   definition=_("Of the cases resolved in the period, the median time from report to "
                                "resolution, in hours.")))
register(Indicator(key="grid.worker_party_share", label=_("Grid workers who are party members"), unit="%",
                   kind=RATIO, leaf=worker_counts, numerator="members", denominator="workers",
                   headline=100, league=100, better=HIGHER, over=STOCK,
                   definition=_("Of the grid workers of every type serving at the end of the month, the share "
                                "who are party members.")))
register(Indicator(key="grid.cases_major", label=_("Major matters raised"), unit=CASES, leaf=case_counts,
                   numerator="major", over=FLOW, records=cases_reported(triage="major"),
                   definition=_("Cases reported in the month and triaged as major matters.")))
register(Indicator(key="grid.cases_minor", label=_("Minor matters raised"), unit=CASES, leaf=case_counts,
                   numerator="minor", over=FLOW, records=cases_reported(triage="minor"),
                   definition=_("Cases reported in the month and triaged as minor matters.")))
register(Indicator(key="grid.cases_private", label=_("Private matters raised"), unit=CASES, leaf=case_counts,
                   numerator="private", over=FLOW, records=cases_reported(triage="private"),
                   definition=_("Cases reported in the month and triaged as private matters.")))
register(Indicator(key="grid.on_time_rate", label=_("On-time rate within the month"), unit="%", kind=RATIO,
                   leaf=case_counts, numerator="resolved_on_time", denominator="resolved", better=HIGHER, over=FLOW,
                   records=case_list("resolved_from", "resolved_to", DENOMINATOR),
                   definition=_("Of the cases resolved in each month, the share resolved by their deadline.")))
register(Indicator(key="grid.on_time_rate_to_date", label=_("On-time rate (to date)"), unit="%", kind=RATIO,
                   leaf=case_cohorts, numerator="on_time", denominator="due", changes=case_steps_since,
                   headline=60, league=60, target=Target(green=0.9, yellow=0.8), better=HIGHER, over=FLOW,
                   definition=_("Of the cases raised in the period that are resolved or already past their "
                                "deadline as of today, the share resolved by the deadline.")))
register(Indicator(key="grid.satisfaction_rate", label=_("Satisfaction within the month"), unit="%", kind=RATIO,
                   leaf=rating_counts, numerator="satisfied", denominator="rated", better=HIGHER, over=FLOW,
                   records=case_list("rated_from", "rated_to", DENOMINATOR),
                   definition=_("Of the cases rated in each month, the share rated satisfied or basically "
                                "satisfied.")))
register(Indicator(key="grid.satisfaction_rate_to_date", label=_("Satisfaction rate (to date)"), unit="%",
                   kind=RATIO, leaf=case_cohorts, numerator="satisfied", denominator="rated",
                   changes=case_steps_since, headline=90, target=Target(green=0.9, yellow=0.8), better=HIGHER,
                   over=FLOW, records=cases_reported(DENOMINATOR, rated="1"),
                   definition=_("Of the cases raised in the period and rated as of today, the share "
                                "rated satisfied or basically satisfied.")))
# Counts that keep their denominator: "3 of 40 grids are not staffed".
register(Indicator(key="grid.units_without_worker", label=_("Grids not staffed"), unit=UNITS,
                   leaf=uncovered_units, numerator="unstaffed", denominator="grids", over=STOCK,
                   check=lambda start, end, units: _check_grids(end, units)[0],
                   definition=_("Active grids that neither their own full-time or part-time grid worker nor "
                                "micro-grid workers in every one of their micro-grids serve at the end of the "
                                "month.")))
register(Indicator(key="grid.grids_without_own_worker", label=_("Grids without their own grid worker"),
                   unit=UNITS, leaf=uncovered_units, numerator="without_own", denominator="grids", over=STOCK,
                   check=lambda start, end, units: _check_grids(end, units)[1],
                   definition=_("Active grids on which no full-time or part-time grid worker serves at the end of "
                                "the month, whether or not their micro-grids are staffed.")))
register(Indicator(key="grid.micro_grids_without_worker", label=_("Micro-grids without a micro-grid worker"),
                   unit=UNITS, leaf=uncovered_units, numerator="micro_unstaffed", denominator="micro_grids",
                   over=STOCK, definition=_("Active micro-grids on which no micro-grid worker serves at the end "
                                            "of the month.")))
# Workers by type are plain rows of the full table, and the coverage panel lists them beside the
# grids they staff: the six figures describe one roster, read with coverage rather than as a chart.
WORKER_TYPE_DEFINITION = _("Serving at the end of the month: started before it ended, and not left by then.")
for _type, _label in WorkerType.choices:
    register(Indicator(key=f"grid.workers.{_type}", label=_label, unit=PERSONS,
                       leaf=worker_counts, numerator=_type_column(_type), over=STOCK,
                       definition=WORKER_TYPE_DEFINITION, check=_check_workers(_type),
                       term=(WORKER_TYPES, _type)))


def _column(code: str) -> str:
    return "c_" + code.replace("-", "_")


# The dashboard's "cases by category": one indicator per seeded top category, each a bar of it.
CASES_BY_CATEGORY = register_breakdown(Breakdown(
    key="grid.cases_by_category", title=_("Cases by category"), label_heading=_("Category"),
    value_heading=pgettext_lazy("count of cases", "Cases"), empty=_("Case counts by category are not computed yet."),
    order=10, definition=_("Cases reported in the month by their top category (a sub-category counts for "
                           "its top category).")))
for _code, _name, _children in TAXONOMY:
    register(Indicator(key=f"grid.cases_category.{_code}", label=_name, unit=CASES, leaf=case_counts,
                       numerator=_column(_code), breakdown=CASES_BY_CATEGORY.key, over=FLOW,
                       term=(CASE_CATEGORIES, _code)))


def _share(part, whole) -> str | None:
    return f"{100 * part / whole:.1f}" if whole else None


def _counted(value, column: str) -> int | None:
    figure = getattr(value, column) if value is not None else None
    return int(figure) if figure is not None else None


def coverage_context(unit, period, values) -> dict:
    """The dashboard's grid-worker coverage: from the month's values already read (no query).

    ``units`` (the active grids) is None until the coverage is computed for the month; each figure
    below it is 0 when the month has no row for it (nothing of that kind in the unit's area).
    """
    unstaffed = values.get("grid.units_without_worker")
    without_own = values.get("grid.grids_without_own_worker")
    micro = values.get("grid.micro_grids_without_worker")
    party = values.get("grid.worker_party_share")
    units = _counted(unstaffed, "denominator")
    vacant = _counted(unstaffed, "numerator") or 0
    members = _counted(party, "numerator") or 0
    workers = _counted(party, "denominator") or 0
    names = local_names(unit)  # read once per unit and request: the page has read them already
    by_type = [(names.label(WORKER_TYPES, value, label),
                _counted(values.get(f"grid.workers.{value}"), "numerator") or 0)
               for value, label in WorkerType.choices]
    return {
        "units": units, "without": vacant,
        "covered_share": _share(units - vacant, units) if units else None,
        "without_own": _counted(without_own, "numerator") or 0,
        "micro_grids": _counted(micro, "denominator") or 0, "micro_without": _counted(micro, "numerator") or 0,
        "by_type": [(label, count) for label, count in by_type if count],
        "party_members": members, "workers": workers, "party_share": _share(members, workers),
    }


register_panel(Panel(key="grid-coverage", title=_("Grid-worker coverage"), template="grid/_dashboard_coverage.html",
                     context=coverage_context, order=10))
