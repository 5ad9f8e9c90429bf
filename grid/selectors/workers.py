"""Reads of the grid rosters that are more than one filter. Every selector takes the user.

A post is **staffed** when a current worker (no end date) of the right type serves it: a
micro-grid needs a micro-grid worker (优网格员), a standard grid a full-time or part-time grid
worker. A **vacancy** is an active grid or micro-grid in the user's scope that is not staffed;
the list is one statement (a correlated NOT EXISTS per row, served by the (unit, worker_type)
index), whatever the size of the county.
"""

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf

from governance.models import Household, Level, OrgUnit
from governance.selectors import subtree_q
from governance.validators import is_phone, normalize_id_number
from grid.models import GridWorker, LiaisonHousehold, WorkerType

# Which worker types staff which level.
STAFFING_TYPES = {
    Level.GRID: (WorkerType.FULL_TIME, WorkerType.PART_TIME),
    Level.MICRO_GRID: (WorkerType.MICRO,),
}
VACANCY_LEVELS = (Level.GRID, Level.MICRO_GRID)


def current_q(prefix: str = "") -> Q:
    """Workers still in post (the model's ``is_current``: no end date)."""
    return Q(**{f"{prefix}end_date__isnull": True})


def unit_subtree_q(unit: OrgUnit, path: str = "") -> Q:
    """Rows whose OrgUnit at ``path`` lies in ``unit``'s subtree, read from the database.

    The unit's range is read by scalar subqueries in the same statement (as the scope rule
    does): MPTT renumbers lft/rght on every insert, so a caller's copy may be stale.
    """
    prefix = f"{path}__" if path else ""

    def bound(field):
        return Subquery(OrgUnit.objects.filter(pk=unit.pk).order_by().values(field)[:1])

    return Q(
        **{f"{prefix}tree_id": bound("tree_id"), f"{prefix}lft__gte": bound("lft"), f"{prefix}lft__lt": bound("rght")}
    )


# --- Worker lists -------------------------------------------------------------------------


def worker_list_queryset(queryset: QuerySet) -> QuerySet:
    """What a worker list row shows (unit, its village and township, backup), with the page.

    Up to three parents are joined: a micro-grid's grid, village and township. The liaison's
    household count is a correlated subquery, so the paginator's COUNT leaves it out.
    """
    households = (
        LiaisonHousehold.objects.filter(liaison=OuterRef("pk"))
        .order_by()
        .values("liaison")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.select_related(
        "unit", "unit__parent", "unit__parent__parent", "unit__parent__parent__parent", "backup"
    ).annotate(n_households=Coalesce(households, 0))


def filter_workers(
    queryset: QuerySet,
    *,
    worker_type: str | list[str] | None = None,
    post: str | None = None,
    is_party_member: bool | None = None,
    current: bool | None = None,
    unit: OrgUnit | None = None,
    search: str = "",
) -> QuerySet:
    """Narrow a worker queryset by the list filters; None (or empty) means "not filtered".

    ``post=""`` is not a filter; ``post="none"`` keeps the workers without an A/B post.
    ``unit`` keeps workers anywhere below that unit (the caller takes it from the user's scope).
    """
    if worker_type:
        types = [worker_type] if isinstance(worker_type, str) else list(worker_type)
        queryset = queryset.filter(worker_type__in=types)
    if post == "none":
        queryset = queryset.filter(post="")
    elif post:
        queryset = queryset.filter(post=post)
    if is_party_member is not None:
        queryset = queryset.filter(is_party_member=is_party_member)
    if current is not None:
        queryset = queryset.filter(current_q()) if current else queryset.exclude(current_q())
    if unit is not None:
        queryset = queryset.filter(unit_subtree_q(unit, "unit"))
    if search:
        queryset = search_workers(queryset, search)
    return queryset


def search_workers(queryset: QuerySet, text: str) -> QuerySet:
    """Name (part of it), a whole ID number, a whole phone, or a unit code (its start).

    An ID number or phone matches only whole: they are stored encrypted and found by their keyed
    hash, and a partial match would let a masked user guess digits.
    """
    text = text.strip()
    id_number = normalize_id_number(text)
    if len(id_number) == 18:
        return queryset.filter(id_number=id_number)
    if is_phone(text):
        return queryset.filter(phone=text)
    return queryset.filter(Q(name__icontains=text) | Q(unit__code__startswith=text))


def worker_list(*, fetched_by, filters: dict | None = None) -> QuerySet:
    """The user's grid workers, filtered by ``filters`` (the keyword arguments of ``filter_workers``)."""
    queryset = GridWorker.objects.visible_to(fetched_by)
    if filters:
        queryset = filter_workers(queryset, **filters)
    return worker_list_queryset(queryset).order_by("unit__code", "name", "pk")


# --- Vacancies and coverage ---------------------------------------------------------------


def _staffed(level: str):
    """EXISTS a current worker of the right type serving the outer unit."""
    return Exists(GridWorker.objects.filter(current_q(), unit=OuterRef("pk"), worker_type__in=STAFFING_TYPES[level]))


def _staffed_q() -> Q:
    return Q(Q(level=Level.GRID) & _staffed(Level.GRID)) | Q(Q(level=Level.MICRO_GRID) & _staffed(Level.MICRO_GRID))


def _display(prefix: str):
    """The display name (short name, else name) of the unit at ``prefix``."""
    return Coalesce(NullIf(F(f"{prefix}short_name"), Value("")), F(f"{prefix}name"))


def _ancestor_name(level: str) -> Case:
    """The name of the grid's or micro-grid's ancestor at ``level`` (joined, not queried per row)."""
    # How many steps up that ancestor is, from a grid and from a micro-grid.
    steps = {Level.GRID: {Level.MICRO_GRID: 1}, Level.VILLAGE: {Level.GRID: 1, Level.MICRO_GRID: 2}}
    steps[Level.TOWNSHIP] = {Level.GRID: 2, Level.MICRO_GRID: 3}
    whens = [When(level=child_level, then=_display("parent__" * n)) for child_level, n in steps[level].items()]
    return Case(*whens, default=Value(""), output_field=CharField())


def vacancies(*, fetched_by, level: str | None = None, within: OrgUnit | None = None) -> QuerySet:
    """Active grids and micro-grids in the user's scope that no current worker serves.

    ``level`` keeps only grids or only micro-grids; ``within`` only the subtree of one unit.
    Each row carries ``grid_name`` (a micro-grid's grid), ``village_name`` and ``township_name``.
    """
    if level is not None and level not in VACANCY_LEVELS:
        return OrgUnit.objects.none()
    units = OrgUnit.objects.visible_to(fetched_by).filter(
        level__in=[level] if level else VACANCY_LEVELS, is_active=True
    )
    if within is not None:
        units = units.filter(unit_subtree_q(within))
    return (
        units.exclude(_staffed_q())
        .annotate(
            grid_name=_ancestor_name(Level.GRID),
            village_name=_ancestor_name(Level.VILLAGE),
            township_name=_ancestor_name(Level.TOWNSHIP),
        )
        .order_by("code")
    )


def _share(part: int, whole: int) -> float | None:
    """A percentage with one decimal (887 of 2218 → 40.0), None of nothing."""
    return round(100 * part / whole, 1) if whole else None


def coverage_summary(*, unit: OrgUnit, fetched_by) -> dict:
    """How well ``unit``'s subtree is staffed: three queries, whatever its size.

    Empty when the unit is outside the user's scope. Keys:

    - ``grids``/``grids_staffed``/``grids_vacant``, the same for ``micro_grids`` (active units);
    - ``workers`` (current ones), ``party_members`` and ``party_share`` among them (percent);
    - ``by_type``: one dict per worker type (``type``, ``label``, ``count``, ``party_members``);
    - ``micro_party_share``: the party share among micro-grid workers (Dechang: 887 of 2218, 40.0);
    - ``households`` (active) and ``households_with_liaison``.
    """
    # Re-read in scope: MPTT renumbers lft/rght on every insert, a caller's copy may be stale.
    unit = OrgUnit.objects.visible_to(fetched_by).filter(pk=unit.pk).first()
    if unit is None:
        return {}
    units = (
        OrgUnit.objects.filter(subtree_q(unit), level__in=VACANCY_LEVELS, is_active=True)
        .annotate(staffed=Case(When(_staffed_q(), then=Value(1)), default=Value(0)))
        .aggregate(
            grids=Count("pk", filter=Q(level=Level.GRID)),
            grids_staffed=Count("pk", filter=Q(level=Level.GRID, staffed=1)),
            micro_grids=Count("pk", filter=Q(level=Level.MICRO_GRID)),
            micro_grids_staffed=Count("pk", filter=Q(level=Level.MICRO_GRID, staffed=1)),
        )
    )
    rows = {
        row["worker_type"]: row
        for row in GridWorker.objects.filter(subtree_q(unit, "unit"), current_q())
        .values("worker_type")
        .annotate(count=Count("pk"), party_members=Count("pk", filter=Q(is_party_member=True)))
        .order_by()
    }
    by_type = [
        {
            "type": value,
            "label": label,
            "count": rows.get(value, {}).get("count", 0),
            "party_members": rows.get(value, {}).get("party_members", 0),
        }
        for value, label in WorkerType.choices
    ]
    workers = sum(row["count"] for row in by_type)
    party_members = sum(row["party_members"] for row in by_type)
    micro = rows.get(WorkerType.MICRO, {"count": 0, "party_members": 0})
    households = Household.objects.filter(subtree_q(unit, "grid"), is_active=True).aggregate(
        households=Count("pk"), households_with_liaison=Count("pk", filter=Q(liaison_link__isnull=False))
    )
    return {
        **units,
        "grids_vacant": units["grids"] - units["grids_staffed"],
        "micro_grids_vacant": units["micro_grids"] - units["micro_grids_staffed"],
        "workers": workers,
        "party_members": party_members,
        "party_share": _share(party_members, workers),
        "by_type": by_type,
        "micro_party_share": _share(micro["party_members"], micro["count"]),
        **households,
    }
