"""Monthly indicators: the registry, the rollup engine, and governance's own indicators.

An app declares its indicators in its ``indicators.py`` with ``register(Indicator(...))``;
they are found by autodiscovery, so ``governance`` never imports the apps above it.

A count or ratio indicator names a *leaf* function ``(start, end, units) -> QuerySet``: a
set-based query over the app's rows of the month, grouped by the org unit each row hangs
on (``.values(node=F("grid")).annotate(...)``), limited to ``units``. Indicators that
share a leaf function form a family: the leaf query runs once, embedded in one statement
that sums its columns over every ancestor by a range join on the tree (MPTT tree_id/lft)
and inserts the IndicatorValue rows. No row travels through Python, and the number of
statements does not grow with the tree.

A median cannot be summed up the tree: its ``samples`` function returns
``(tree_id, lft, value)`` rows of the month, and each unit's median is taken over the
samples inside its own range.
"""

import bisect
import datetime
import statistics
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

COUNT = "count"
RATIO = "ratio"
MEDIAN = "median"


@dataclass(frozen=True)
class Indicator:
    """A monthly indicator: ``numerator``/``denominator`` name columns of the leaf query."""

    key: str
    label: str
    unit: str
    kind: str = COUNT
    leaf: Callable[[datetime.datetime, datetime.datetime, QuerySet], QuerySet] | None = None
    numerator: str = "n"
    denominator: str | None = None
    # MEDIAN only: (start, end, units) -> iterable of (tree_id, lft, value) rows.
    samples: Callable | None = None

    def __post_init__(self):
        if self.kind not in (COUNT, RATIO, MEDIAN):
            raise ValueError(f"indicator {self.key}: unknown kind {self.kind!r}")
        if self.kind == MEDIAN and self.samples is None:
            raise ValueError(f"median indicator {self.key} needs samples")
        if self.kind != MEDIAN and self.leaf is None:
            raise ValueError(f"indicator {self.key} needs a leaf function")
        if self.kind == RATIO and not self.denominator:
            raise ValueError(f"ratio indicator {self.key} needs a denominator column")


_registry: dict[str, Indicator] = {}
_discovered = False
_discover_lock = threading.Lock()


def register(indicator: Indicator) -> Indicator:
    _registry[indicator.key] = indicator
    return indicator


def unregister(key: str) -> None:
    _registry.pop(key, None)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    with _discover_lock:
        if not _discovered:
            autodiscover_modules("indicators")
            _discovered = True


def all_indicators() -> list[Indicator]:
    _discover()
    return list(_registry.values())


def get_indicator(key: str) -> Indicator:
    _discover()
    return _registry[key]


# --- Months -------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(period: datetime.date) -> datetime.date:
    return (period.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_bounds(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as local (Asia/Shanghai) midnights: start inclusive, end exclusive."""

    def midnight(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    return midnight(period), midnight(next_month(period))


# --- The rollup ---------------------------------------------------------------------------


def _scope(org):
    """The units the run writes (``org``'s subtree, or all) and the SQL condition on alias ``a``."""
    from governance.models import OrgUnit

    if org is None:
        return OrgUnit.objects.all(), "1 = 1", []
    # Read the range afresh: MPTT renumbers lft/rght on every insert, so a held instance may be stale.
    tree_id, lft, rght = OrgUnit.objects.filter(pk=org.pk).values_list("tree_id", "lft", "rght").get()
    units = OrgUnit.objects.filter(tree_id=tree_id, lft__gte=lft, lft__lte=rght)
    return units, "a.tree_id = %s AND a.lft >= %s AND a.lft <= %s", [tree_id, lft, rght]


def _families(indicators):
    families: dict = {}
    for indicator in indicators:
        if indicator.kind != MEDIAN:
            families.setdefault(indicator.leaf, []).append(indicator)
    return families


def _family_name(leaf) -> str:
    return f"{leaf.__module__}.{leaf.__qualname__}"


def _delete(period, keys, units):
    from governance.models import IndicatorValue

    IndicatorValue.objects.filter(period=period, key__in=keys, org_unit__in=units.values("pk")).delete()


def _rollup_family(leaf, members, period, start, end, units, where, where_params, now) -> None:
    """Delete the family's rows in scope, then one INSERT ... SELECT computes and writes them all.

    The inner SELECT sums the leaf columns over each ancestor ``a``: for every unit in scope,
    the units ``u`` of its subtree are one index range on (tree_id, lft), joined to the leaf
    rows by id. A cross join with the family's keys then fans each unit's sums out to one row
    per indicator.
    """
    from governance.models import IndicatorValue, OrgUnit

    quote = connection.ops.quote_name
    leaf_qs = leaf(start, end, units).order_by()
    leaf_sql, leaf_params = leaf_qs.query.get_compiler(using=leaf_qs.db).as_sql()
    columns = sorted({m.numerator for m in members} | {m.denominator for m in members if m.denominator})
    alias = {column: f"c{i}" for i, column in enumerate(columns)}
    sums = ", ".join(f"SUM(l.{quote(column)}) AS {alias[column]}" for column in columns)

    def case(expression_of) -> tuple[str, list]:
        whens, params = [], []
        for member in members:
            expression = expression_of(member)
            if expression is not None:
                whens.append(f"WHEN %s THEN {expression}")
                params.append(member.key)
        if not whens:
            return "NULL", []
        return f"CASE k.ikey {' '.join(whens)} ELSE NULL END", params

    def value(member):
        n = f"r.{alias[member.numerator]}"
        if member.kind == RATIO:
            d = f"r.{alias[member.denominator]}"
            return f"CASE WHEN {d} IS NULL OR {d} = 0 THEN NULL ELSE {n} * 1.0 / {d} END"
        return n

    numerator_sql, numerator_params = case(lambda m: f"r.{alias[m.numerator]}")
    denominator_sql, denominator_params = case(lambda m: f"r.{alias[m.denominator]}" if m.denominator else None)
    value_sql, value_params = case(value)
    keys_sql = " UNION ALL ".join("SELECT %s AS ikey" for _member in members)
    table, tree = quote(IndicatorValue._meta.db_table), quote(OrgUnit._meta.db_table)
    sql = (
        f"INSERT INTO {table} (org_unit_id, period, {quote('key')}, numerator, denominator, value, computed_at) "
        f"SELECT r.node, %s, k.ikey, {numerator_sql}, {denominator_sql}, {value_sql}, %s "
        f"FROM (SELECT a.id AS node, {sums} FROM {tree} a "
        f"INNER JOIN {tree} u ON u.tree_id = a.tree_id AND u.lft >= a.lft AND u.lft <= a.rght "
        f"INNER JOIN ({leaf_sql}) l ON l.node = u.id "
        f"WHERE {where} GROUP BY a.id) r "
        f"CROSS JOIN ({keys_sql}) k"
    )
    params = [
        connection.ops.adapt_datefield_value(period),
        *numerator_params,
        *denominator_params,
        *value_params,
        connection.ops.adapt_datetimefield_value(now),
        *leaf_params,
        *where_params,
        *[m.key for m in members],
    ]
    with transaction.atomic():
        _delete(period, [m.key for m in members], units)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _rollup_median(indicator, period, start, end, units, scope_ranges, now) -> None:
    """Each unit's median over the samples inside its range (one query for the samples)."""
    from governance.models import IndicatorValue

    samples = sorted((tree_id, lft, float(v)) for tree_id, lft, v in indicator.samples(start, end, units)
                     if v is not None)
    positions = [(tree_id, lft) for tree_id, lft, _v in samples]
    rows = []
    for unit_id, tree_id, lft, rght in scope_ranges:
        first = bisect.bisect_left(positions, (tree_id, lft))
        last = bisect.bisect_right(positions, (tree_id, rght))
        if first == last:
            continue
        median = statistics.median(v for _t, _l, v in samples[first:last])
        rows.append(IndicatorValue(
            org_unit_id=unit_id, period=period, key=indicator.key, numerator=last - first,
            value=Decimal(str(round(median, 6))), computed_at=now,
        ))
    with transaction.atomic():
        _delete(period, [indicator.key], units)
        IndicatorValue.objects.bulk_create(rows)


def rollup_month(period: datetime.date, org=None, indicators: list[Indicator] | None = None):
    """Compute and store every indicator of ``period`` for ``org``'s subtree (or every unit).

    Idempotent: each family's rows in scope are replaced in one transaction. A family that
    raises keeps its old rows, and the run is marked partial with the error, never complete.
    Returns the RollupRun.
    """
    from governance.models import RollupRun, RollupStatus

    period = month_start(period)
    start, end = month_bounds(period)
    indicators = all_indicators() if indicators is None else indicators
    run = RollupRun.objects.create(period=period, org_unit=org, started_at=timezone.now())
    clock = time.monotonic()
    units, where, where_params = _scope(org)
    now = timezone.now()
    parts, errors = {}, []

    def attempt(name, keys, work):
        began = time.monotonic()
        try:
            work()
        except Exception as exc:  # one broken indicator must not stop the others
            errors.append({"part": name, "keys": keys, "error": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc(limit=5)})
            parts[name] = {"keys": keys, "status": "failed", "seconds": round(time.monotonic() - began, 3)}
        else:
            parts[name] = {"keys": keys, "status": "ok", "seconds": round(time.monotonic() - began, 3)}

    for leaf, members in _families(indicators).items():
        attempt(_family_name(leaf), [m.key for m in members],
                lambda leaf=leaf, members=members: _rollup_family(
                    leaf, members, period, start, end, units, where, where_params, now))
    medians = [indicator for indicator in indicators if indicator.kind == MEDIAN]
    if medians:
        scope_ranges = list(units.order_by().values_list("pk", "tree_id", "lft", "rght"))
        for indicator in medians:
            attempt(indicator.key, [indicator.key],
                    lambda indicator=indicator: _rollup_median(
                        indicator, period, start, end, units, scope_ranges, now))

    failed = sum(1 for part in parts.values() if part["status"] == "failed")
    if not failed:
        run.status = RollupStatus.COMPLETE
    elif failed == len(parts):
        run.status = RollupStatus.FAILED
    else:
        run.status = RollupStatus.PARTIAL
    run.finished_at = timezone.now()
    run.duration_s = round(time.monotonic() - clock, 3)
    run.errors, run.parts = errors, parts
    run.save(update_fields=["status", "finished_at", "duration_s", "errors", "parts"])
    return run


# --- governance's indicators --------------------------------------------------------------


def household_counts(start, end, units):
    from governance.models import Household

    return (Household.objects.filter(is_active=True, created_at__lt=end, grid__in=units)
            .values(node=F("grid")).annotate(n=Count("pk")))


def resident_counts(start, end, units):
    from governance.models import Resident

    return (Resident.objects.filter(is_active=True, created_at__lt=end, household__grid__in=units)
            .values(node=F("household__grid")).annotate(n=Count("pk")))


register(Indicator(key="households", label=_("Households"), unit=_("households"), leaf=household_counts))
register(Indicator(key="residents", label=_("Residents"), unit=_("persons"), leaf=resident_counts))

