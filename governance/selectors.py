"""Reads of the org chain that are more than one filter. Every selector takes the user.

Subtree counts are correlated subqueries over the tree range (tree_id, lft..rght), so a
summary of N units is one SQL statement whatever N is: the index on (tree_id, lft) serves
each range, and the page never issues a query per row.
"""

from django.db.models import Exists, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from governance.models import LEVEL_ORDER, Household, Level, OrgUnit, Resident, User

# What a summary counts, in display order: every level below the unit, then people.
COUNT_KEYS = ["township", "village", "grid", "micro_grid", "households", "residents"]


def active_staff_exists() -> Exists:
    """Whether an active account's home unit lies in the unit of the outer query (a unit someone could
    act in): an ``Exists`` over the unit's own tree range, read in the same statement."""
    return Exists(User.objects.filter(
        is_active=True, home_unit__tree_id=OuterRef("tree_id"), home_unit__lft__gte=OuterRef("lft"),
        home_unit__lft__lt=OuterRef("rght"),
    ))


def subtree_q(unit: OrgUnit, path: str = "", *, include_self: bool = True) -> Q:
    """The Q matching rows whose OrgUnit at ``path`` lies in ``unit``'s subtree."""
    prefix = f"{path}__" if path else ""
    lower = f"{prefix}lft__gte" if include_self else f"{prefix}lft__gt"
    return Q(**{f"{prefix}tree_id": unit.tree_id, lower: unit.lft, f"{prefix}lft__lt": unit.rght})


def count_subquery(queryset: QuerySet):
    """A scalar subquery counting ``queryset``'s rows, 0 when there are none.

    COUNT as a plain Func (not an aggregate) keeps Django from adding a GROUP BY, so the
    subquery returns exactly one row.
    """
    counted = queryset.order_by().annotate(_n=Func(Value(1), function="COUNT")).values("_n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _in_outer_subtree(path: str) -> dict:
    """Filter kwargs: the OrgUnit at ``path`` lies in the subtree of the outer query's unit."""
    prefix = f"{path}__" if path else ""
    return {
        f"{prefix}tree_id": OuterRef("tree_id"),
        f"{prefix}lft__gte": OuterRef("lft"),
        f"{prefix}lft__lt": OuterRef("rght"),
    }


def count_keys_below(level: str | None) -> list[str]:
    """The counts worth showing for units of ``level``: the levels under it, then people."""
    if level is None:
        return COUNT_KEYS
    below = [lv.value for lv in LEVEL_ORDER[LEVEL_ORDER.index(level) + 1 :]]
    return [key for key in COUNT_KEYS if key in below or key in ("households", "residents")]


def with_subtree_counts(units: QuerySet, keys: list[str]) -> QuerySet:
    """Annotate each unit with ``n_<key>``: active units of each level and people under it."""
    annotations = {}
    for key in keys:
        if key == "households":
            qs = Household.objects.filter(is_active=True, **_in_outer_subtree("grid"))
        elif key == "residents":
            qs = Resident.objects.filter(is_active=True, **_in_outer_subtree("household__grid"))
        else:
            qs = OrgUnit.objects.filter(level=key, is_active=True, **_in_outer_subtree(""))
        annotations[f"n_{key}"] = count_subquery(qs)
    return units.annotate(**annotations)


def unit_chain(*, unit: OrgUnit, fetched_by) -> list[OrgUnit]:
    """The unit's ancestors and itself, from the top down, cut at the user's home unit.

    A clerk may walk back up to his own unit but never above it: what lies above is out of
    his scope (the top bar shows his own chain, which is no secret to him).
    """
    return list(unit.get_ancestors(include_self=True).visible_to(fetched_by).order_by("lft"))


def unit_summary(*, unit: OrgUnit, fetched_by) -> dict:
    """Counts inside ``unit``'s subtree (levels below it, households, residents): one query.

    Empty when the unit is outside the user's scope; the whole subtree of a visible unit is
    visible too, so the counts need no further scoping.
    """
    keys = count_keys_below(unit.level)
    units = with_subtree_counts(OrgUnit.objects.visible_to(fetched_by).filter(pk=unit.pk), keys)
    row = units.values(*[f"n_{k}" for k in keys]).first()
    return {key: row[f"n_{key}"] for key in keys} if row else {}


def children_summary(*, unit: OrgUnit | None, fetched_by) -> tuple[list[OrgUnit], list[str]]:
    """The unit's visible children, each annotated with its subtree counts, in one query.

    With ``unit=None`` (the system operator, who has no home unit) the top-level units.
    Returns the children and the count keys that apply to them (``n_<key>`` attributes).
    """
    units = OrgUnit.objects.visible_to(fetched_by)
    if unit is None:
        units = units.filter(parent__isnull=True)
        level = units.values_list("level", flat=True).first()
    else:
        units = units.filter(parent=unit)
        next_index = LEVEL_ORDER.index(unit.level) + 1
        level = LEVEL_ORDER[next_index].value if next_index < len(LEVEL_ORDER) else None
    if level is None:
        return [], []
    keys = count_keys_below(level)
    children = list(with_subtree_counts(units.filter(is_active=True).order_by("code"), keys))
    return children, keys


def child_level(unit: OrgUnit | None) -> str | None:
    """The level one below ``unit`` (None under a micro-grid or above the top)."""
    if unit is None:
        return None
    index = LEVEL_ORDER.index(unit.level) + 1
    return LEVEL_ORDER[index].value if index < len(LEVEL_ORDER) else None


def filter_choice_units(*, fetched_by, level: str, within: OrgUnit | None = None) -> QuerySet:
    """Units of ``level`` the user may pick in a filter, optionally inside ``within``."""
    units = OrgUnit.objects.visible_to(fetched_by).filter(level=level)
    if within is not None:
        units = units.filter(subtree_q(within))
    return units.order_by("code")


def unit_for_level_display(unit: OrgUnit, level: str) -> OrgUnit | None:
    """Walk up already-loaded parents from ``unit`` to the one at ``level`` (no query if joined)."""
    current = unit
    while current is not None:
        if current.level == level:
            return current
        if current.level == Level.CITY:
            return None
        current = current.parent
    return None


def household_list_queryset(queryset: QuerySet) -> QuerySet:
    """What a household list row shows, fetched with the page (no query per row)."""
    return (
        queryset.select_related("grid", "grid__parent", "grid__parent__parent", "grid__parent__parent__parent")
        .prefetch_related("tags")
        # A correlated subquery, not a JOIN + GROUP BY: the paginator's COUNT then drops it
        # and counts households alone, which matters at 10^5 rows.
        .annotate(n_residents=count_subquery(Resident.objects.filter(household=OuterRef("pk"), is_active=True)))
    )


def resident_list_queryset(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("household", "household__grid", "household__grid__parent").prefetch_related("tags")
