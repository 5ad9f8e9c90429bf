"""Medians (the median hours to resolve a case ...) of every unit of a subtree, from samples.

A median does not add up the tree as counts do: each unit's is taken over the samples of its
whole subtree. ``medians_at`` does it for all units in one sweep of the tree order, merging
sorted runs bottom up; the engine (``engine._rollup_median``) stores the month's and its
periods' medians with ``insert_medians``, and the dashboards take a range of months no rollup
stores with ``period_medians``.
"""

from decimal import Decimal
from heapq import merge
from itertools import chain

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from governance.indicators.months import Period
from governance.indicators.registry import Indicator
from governance.models import OrgUnit


def median_of(ordered: list[float]) -> Decimal:
    n = len(ordered)
    middle = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return Decimal(str(round(middle, 6)))


def medians_of(samples, scope_ranges) -> dict[int, tuple[int, Decimal]]:
    """{unit id: (number of samples, median)} of the units of ``scope_ranges`` (id, tree_id, lft, rght)
    over ``samples`` ((tree_id, lft, value) rows, any order), none for a unit without samples."""
    return medians_at(by_position(samples), unit_order(scope_ranges))


def by_position(samples) -> dict[tuple[int, int], list[float]]:
    """The samples' values by the position (tree_id, lft) they hang on."""
    at: dict = {}
    for tree_id, lft, value in samples:
        if value is not None:
            at.setdefault((tree_id, lft), []).append(float(value))
    return at


def unit_order(scope_ranges) -> list[tuple]:
    """The units in tree order, as ``medians_at`` walks them."""
    return sorted((tree_id, lft, 0, unit_id, rght) for unit_id, tree_id, lft, rght in scope_ranges)


def medians_at(at: dict, units: list[tuple]) -> dict[int, tuple[int, Decimal]]:
    """The medians of ``units`` (``unit_order``) over the values ``at`` each position (``by_position``).

    Bottom up, in one sweep of the tree order: the values hanging on each position are sorted
    once; a unit's values are its own and its sub-units' sorted lists put together, which the
    sort merges as runs (in C). Each value is copied once per level above it; no unit sorts its
    subtree's values from scratch.
    """
    if not at:
        return {}
    events = merge(units, sorted((tree_id, lft, 1, None, None) for tree_id, lft in at))
    medians: dict = {}
    stack: list = []  # open units: [unit_id, tree_id, rght, list of sorted runs]

    def close():
        unit_id, _tree_id, _rght, runs = stack.pop()
        if not runs:
            return
        values = runs[0] if len(runs) == 1 else sorted(chain.from_iterable(runs))
        medians[unit_id] = (len(values), median_of(values))
        if stack:
            stack[-1][3].append(values)

    for tree_id, lft, is_sample, unit_id, rght in events:
        while stack and (stack[-1][1] != tree_id or stack[-1][2] < lft):
            close()
        if is_sample:
            if stack:
                stack[-1][3].append(sorted(at[tree_id, lft]))
        else:
            stack.append([unit_id, tree_id, rght, []])
    while stack:
        close()
    return medians


def insert_medians(model, same: dict, medians: dict[int, tuple[int, Decimal]]) -> None:
    """Write one row per unit of ``medians`` ({unit id: (samples, median)}) with the values ``same``
    (field name: value) that every row shares, in one statement.

    PostgreSQL takes the three columns that vary as arrays (``unnest``): the statement and what
    Python prepares do not grow with the rows' fields, and the count of statements not with the
    tree (one INSERT per 1,000 rows was 691 statements for a province's medians).
    """
    if not medians:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in same]
    values = [field.get_db_prep_save(same[field.name], connection) for field in fields]
    columns = ", ".join(quote(column) for column in [*(f.column for f in fields), "org_unit_id", "numerator", "value"])
    head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
    marks = ", ".join("%s" for _field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids, counts, middles = list(medians), [n for n, _m in medians.values()], [m for _n, m in medians.values()]
            cursor.execute(f"{head}SELECT {marks}, x.unit, x.n, x.middle FROM "
                           f"unnest(%s::integer[], %s::integer[], %s::numeric[]) AS x(unit, n, middle)",
                           [*values, ids, counts, middles])
        else:
            cursor.executemany(f"{head}VALUES ({marks}, %s, %s, %s)",
                               [(*values, unit, n, str(middle)) for unit, (n, middle) in medians.items()])


def period_medians(indicator: Indicator, period: Period, units: list[OrgUnit]) -> dict[int, tuple[int, Decimal]]:
    """The medians of ``units`` over a period whose medians no rollup stores (any range of months),
    taken now from the period's samples: one query for the samples of the units' subtrees.

    The units' ranges are read from the objects: pass units read from the database in this
    request (MPTT renumbers lft/rght on every insert, so an instance held longer may be stale).
    """
    if not units:
        return {}
    start, end = period.bounds()
    ranges = [(unit.pk, unit.tree_id, unit.lft, unit.rght) for unit in units]
    subtrees = Q()
    for _pk, tree_id, lft, rght in ranges:
        subtrees |= Q(tree_id=tree_id, lft__gte=lft, lft__lte=rght)
    return medians_of(indicator.samples(start, min(end, timezone.now()), OrgUnit.objects.filter(subtrees)), ranges)
