"""The monthly rollup: every indicator of a month computed in set-based SQL and stored as
``IndicatorValue`` rows, for a subtree or the whole tree.

Indicators that share a leaf function form a family: the leaf query runs once, embedded in
one statement that sums its columns up the tree a level at a time (``_subtree_sums``) and
inserts the IndicatorValue rows that count something (``_kept``). No row travels through
Python, and the number of statements does not grow with the tree. Medians (``medians``) are taken per unit
from the month's samples inside its range.
"""

import datetime
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import IntegerField
from django.utils import timezone

from governance.indicators.medians import by_position, insert_medians, medians_at, unit_order
from governance.indicators.months import month_bounds, month_start, stored_periods
from governance.indicators.registry import MEDIAN, RATIO, Indicator, Tally, all_indicators
from governance.models import LEVEL_ORDER, IndicatorValue, Level, OrgUnit, PeriodValue, RollupRun, RollupStatus

# --- The rollup ---------------------------------------------------------------------------

# The levels above the townships: a run split into shards of townships computes them last,
# from the townships' stored rows (see ``compute_upper``).
UPPER_LEVELS = ("city", "county")


# The condition on alias ``a`` of a run over every unit.
EVERY_UNIT = "1 = 1"

# A run's part is a shard of consecutive townships of one tree, named by its first and last
# township's codes (``first..last``), or by its one unit's code.
SHARD_SEP = ".."


def shard_name(first: str, last: str) -> str:
    return first if first == last else f"{first}{SHARD_SEP}{last}"


def shard_ends(name: str) -> tuple[str, str]:
    """The codes of a part's first and last township (the same code for a part of one unit)."""
    first, _sep, last = name.partition(SHARD_SEP)
    return first, last or first


def _scope(org, through=None):
    """The units the run writes and the SQL condition on alias ``a``: ``org``'s subtree (or every
    unit), or with ``through`` the shard from township ``org`` to township ``through`` in tree order.

    A shard is one range of lft in one tree, [org.lft, through.rght]. A county whose townships the
    shard crosses into has its lft inside that range: the levels above the townships are left out,
    ``compute_upper`` writes them once every shard is done.
    """
    if org is None:
        return OrgUnit.objects.all(), EVERY_UNIT, []
    # Read the range afresh: MPTT renumbers lft/rght on every insert, so a held instance may be stale.
    if through is None or through.pk == org.pk:
        tree_id, lft, rght = OrgUnit.objects.filter(pk=org.pk).values_list("tree_id", "lft", "rght").get()
        units = OrgUnit.objects.filter(tree_id=tree_id, lft__gte=lft, lft__lte=rght)
        return units, "a.tree_id = %s AND a.lft >= %s AND a.lft <= %s", [tree_id, lft, rght]
    ends = dict((pk, (tree_id, lft, rght)) for pk, tree_id, lft, rght in OrgUnit.objects.filter(
        pk__in=[org.pk, through.pk]).values_list("pk", "tree_id", "lft", "rght"))
    (tree_id, lft, _rght), (last_tree_id, _lft, rght) = ends[org.pk], ends[through.pk]
    if last_tree_id != tree_id or rght < lft:
        raise ValueError(f"not a shard: {org.code} to {through.code} is no range of one tree")
    units = OrgUnit.objects.filter(tree_id=tree_id, lft__gte=lft, lft__lte=rght).exclude(level__in=UPPER_LEVELS)
    levels = ", ".join("%s" for _level in UPPER_LEVELS)
    return (units, f"a.tree_id = %s AND a.lft >= %s AND a.lft <= %s AND a.level NOT IN ({levels})",
            [tree_id, lft, rght, *UPPER_LEVELS])


def _families(indicators):
    families: dict = {}
    for indicator in indicators:
        if indicator.kind != MEDIAN:
            families.setdefault(indicator.leaf, []).append(indicator)
    return families


def _family_name(leaf) -> str:
    return f"{leaf.__module__}.{leaf.__qualname__}"


def _delete(period, keys, units):
    IndicatorValue.objects.filter(period=period, key__in=keys, org_unit__in=units.values("pk")).delete()


def _case_by_key(members, expression_of) -> tuple[str, list]:
    whens, params = [], []
    for member in members:
        expression = expression_of(member)
        if expression is not None:
            whens.append(f"WHEN %s THEN {expression}")
            params.append(member.key)
    if not whens:
        return "NULL", []
    return f"CASE k.ikey {' '.join(whens)} ELSE NULL END", params


def _leaf_sql(leaf, start, end, units) -> tuple[str, list]:
    """The leaf of a family as SQL and parameters, to be joined in a statement."""
    return _compiled(leaf(start, end, units))


def _compiled(found) -> tuple[str, list]:
    """A leaf's result (a grouped queryset or a ``Tally``) as SQL and parameters."""
    if isinstance(found, Tally):
        return _tally_sql(found)
    queryset = found.order_by()
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def _tally_sql(tally: Tally) -> tuple[str, list]:
    """A ``Tally`` as SQL: its rows fenced in a subquery (so each name is computed once per row),
    then one filtered COUNT per column, grouped by node."""
    quote = connection.ops.quote_name
    queryset = tally.rows.order_by()
    rows_sql, rows_params = queryset.query.get_compiler(using=queryset.db).as_sql()
    # A subquery with an OFFSET is not merged into the outer query by either database's planner.
    fence = "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"
    counts, params = [], []
    for column, conditions in tally.counts.items():
        tests = " AND ".join(f"x.{quote(name)} = %s" for name in conditions)
        counts.append(f"COUNT(*) FILTER (WHERE {tests}) AS {quote(column)}")
        params += list(conditions.values())
    sql = f"SELECT x.node AS node, {', '.join(counts)} FROM ({rows_sql} {fence}) x GROUP BY x.node"
    return sql, [*params, *rows_params]


def _leaf_counts(found) -> set[str]:
    """The columns of a leaf's result that are counts (integers), to be summed as integers (``_integral``)."""
    if isinstance(found, Tally):
        return set(found.counts)
    return {name for name, expression in found.query.annotations.items()
            if isinstance(expression.output_field, IntegerField)}


def _replace(period, keys, units, sql, params) -> None:
    """Delete the keys' rows of ``units`` for the month, then insert them anew.

    Run inside the family's savepoint (``Outcome.attempt``): both or neither.
    """
    _delete(period, keys, units)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _ratio_sql(n: str, d: str) -> str:
    return f"CASE WHEN {d} IS NULL OR {d} = 0 THEN NULL ELSE {n} * 1.0 / {d} END"


# The deepest a unit can be below its tree's root (MPTT's level): each level of ``Level`` sits
# exactly one below its parent's (``governance.models.org``), so a tree has at most six levels.
MAX_DEPTH = len(LEVEL_ORDER) - 1


def _integral(column: str) -> str:
    """A count as an integer: PostgreSQL sums a bigint (what COUNT gives) into numeric, digit by
    digit, and the sum of integers into a bigint; for the case family, 26 columns summed at every
    level, that was a third of its statement. A count of one unit's records fits an integer."""
    return f"CAST({column} AS INTEGER)"


def _subtree_sums(leaf_sql: str, names: list[str], columns: list[tuple[str, str, bool]], where: str) -> str:
    """The common tables that sum a family's leaf columns over every unit's subtree, ending in
    ``r`` (node, the columns named ``names``) for the units in scope (``where`` on alias ``a``).

    Bottom up, one level at a time: ``u`` is the leaf's rows summed per unit (with the unit's
    parent and depth); ``s5`` the units at the deepest level, which have nothing below them;
    each ``s<d>`` the units at depth d that have leaf rows, together with the sums of
    ``s<d+1>`` added up per parent first, so that each parent's own parent is looked up once,
    not once per child. So only the units with something below them are touched, each once,
    and no unit is paired with its subtree (the pairs were the whole statement's cost for a
    family with few rows: every unit of the tree read its subtree's range). ``columns`` are
    (quoted leaf column, name, is a count). Its parameters are the leaf's, then ``where``'s.
    """
    tree = connection.ops.quote_name(OrgUnit._meta.db_table)
    listed = ", ".join(names)

    def summed(source: str, name: str, count: bool) -> str:
        return f"{_integral(f'SUM({_integral(source)})')} AS {name}" if count else f"SUM({source}) AS {name}"

    own = ", ".join(summed(f"l.{column}", name, count) for column, name, count in columns)
    up = ", ".join(summed(f"x.{name}", name, count) for _column, name, count in columns)
    ctes = [f"l AS ({leaf_sql})",
            f"u AS (SELECT o.id AS node, o.parent_id AS parent, o.mptt_level AS depth, {own} "
            f"FROM l INNER JOIN {tree} o ON o.id = l.node GROUP BY o.id, o.parent_id, o.mptt_level)",
            f"s{MAX_DEPTH} AS (SELECT node, parent, {listed} FROM u WHERE depth = {MAX_DEPTH})"]
    for depth in range(MAX_DEPTH - 1, -1, -1):
        children = (f"SELECT o.id AS node, o.parent_id AS parent, {listed} FROM (SELECT x.parent AS node, {up} "
                    f"FROM s{depth + 1} x WHERE x.parent IS NOT NULL GROUP BY x.parent) c "
                    f"INNER JOIN {tree} o ON o.id = c.node")
        ctes.append(f"s{depth} AS (SELECT x.node AS node, x.parent AS parent, {up} FROM ("
                    f"SELECT node, parent, {listed} FROM u WHERE depth = {depth} UNION ALL {children}"
                    f") x GROUP BY x.node, x.parent)")
    every = " UNION ALL ".join(f"SELECT node, {listed} FROM s{depth}" for depth in range(MAX_DEPTH + 1))
    if where == EVERY_UNIT:  # the whole tree: no unit to leave out
        ctes.append(f"r AS ({every})")
    else:
        ctes.append(f"r AS (SELECT s.* FROM ({every}) s INNER JOIN {tree} a ON a.id = s.node WHERE {where})")
    return ", ".join(ctes)


def _kept(numerator: str, denominator: str | None) -> str:
    """The SQL condition of a row worth storing: no row is stored whose numerator is 0 and whose
    denominator is 0 or missing (nothing counted, or a ratio of nothing). The dashboards read such a
    missing row as zero (``governance.indicators.dashboard``); a rate of 0 out of 5 is stored."""
    if denominator is None:
        return f"({numerator} IS NULL OR {numerator} <> 0)"
    return f"({numerator} IS NULL OR {numerator} <> 0 OR {denominator} <> 0)"


@dataclass
class FamilyStatement:
    """A family's one statement in its parts: the leaf, the common tables that end in ``r`` (a row
    per unit in scope with the family's summed columns), and the rows to store (one SELECT of ``r``
    per key, put together by UNION ALL). ``bench/anatomy.py`` times each part on its own."""

    leaf_sql: str
    leaf_params: list
    ctes: str
    ctes_params: list
    rows_sql: str
    rows_params: list

    @property
    def insert(self) -> tuple[str, list]:
        quote = connection.ops.quote_name
        columns = f"org_unit_id, period, {quote('key')}, numerator, denominator, value, computed_at"
        return (f"WITH {self.ctes} INSERT INTO {quote(IndicatorValue._meta.db_table)} ({columns}) {self.rows_sql}",
                [*self.ctes_params, *self.rows_params])


def family_statement(leaf, members, period, start, end, units, where, where_params, now) -> FamilyStatement:
    """The statement that computes and writes a family's rows in scope (see ``_rollup_family``).

    The common table ``r`` sums the leaf columns up the tree (``_subtree_sums``). Each indicator
    then takes its own columns of ``r`` (one SELECT per key, put together by UNION ALL: the table
    is read once per key, with no per-row CASE on the key), leaving out the rows that count
    nothing (``_kept``). A non-cumulative family joins the leaf rows to ``a`` itself.
    """
    quote = connection.ops.quote_name
    found = leaf(start, end, units)
    leaf_sql, leaf_params = _compiled(found)
    columns = sorted({m.numerator for m in members} | {m.denominator for m in members if m.denominator})
    alias = {column: f"c{i}" for i, column in enumerate(columns)}
    counts = _leaf_counts(found)
    tree = quote(OrgUnit._meta.db_table)
    if all(m.cumulative for m in members):
        ctes = _subtree_sums(leaf_sql, [alias[c] for c in columns],
                             [(quote(c), alias[c], c in counts) for c in columns], where)
    else:
        sums = ", ".join(f"SUM({_integral(f'l.{quote(c)}')}) AS {alias[c]}" if c in counts
                         else f"SUM(l.{quote(c)}) AS {alias[c]}" for c in columns)
        ctes = (f"r AS (SELECT a.id AS node, {sums} FROM {tree} a INNER JOIN ({leaf_sql}) l ON l.node = a.id "
                f"WHERE {where} GROUP BY a.id)")
    day, at = connection.ops.adapt_datefield_value(period), connection.ops.adapt_datetimefield_value(now)
    selects, select_params = [], []
    for member in members:
        n = f"r.{alias[member.numerator]}"
        d = f"r.{alias[member.denominator]}" if member.denominator else None
        value = _ratio_sql(n, d) if member.kind == RATIO else n
        selects.append(f"SELECT r.node, %s, %s, {n}, {d or 'CAST(NULL AS NUMERIC)'}, {value}, %s "
                       f"FROM r WHERE {_kept(n, d)}")
        select_params += [day, member.key, at]
    return FamilyStatement(leaf_sql, leaf_params, ctes, [*leaf_params, *where_params],
                           " UNION ALL ".join(selects), select_params)


def _rollup_family(leaf, members, period, start, end, units, where, where_params, now) -> None:
    """Delete the family's rows in scope, then one statement computes and writes them all
    (``family_statement``)."""
    sql, params = family_statement(leaf, members, period, start, end, units, where, where_params, now).insert
    _replace(period, [m.key for m in members], units, sql, params)


def _upper_family(leaf, members, period, start, end, upper, where, where_params, now) -> None:
    """A family's values above the townships, from the townships' stored rows: one INSERT ... SELECT.

    Each upper unit ``a`` sums, over its range, the family's stored township rows and the
    leaf rows hanging on upper units themselves (a county party committee's members), so
    nothing below a township is read again.
    """
    if not all(m.cumulative for m in members):
        # About the unit itself (its children), not its subtree: cheap to compute directly.
        _rollup_family(leaf, members, period, start, end, upper, where, where_params, now)
        return
    quote = connection.ops.quote_name
    leaf_sql, leaf_params = _leaf_sql(leaf, start, end, upper)
    numerator_sql, numerator_params = _case_by_key(members, lambda m: f"l.{quote(m.numerator)}")
    denominator_sql, denominator_params = _case_by_key(
        members, lambda m: f"l.{quote(m.denominator)}" if m.denominator else None)
    ratios = [m.key for m in members if m.kind == RATIO]
    if ratios:
        value_sql = (f"CASE WHEN r.ikey IN ({', '.join('%s' for _k in ratios)}) "
                     f"THEN {_ratio_sql('r.num', 'r.den')} ELSE r.num END")
    else:
        value_sql = "r.num"
    keys = [m.key for m in members]
    keys_sql = " UNION ALL ".join("SELECT %s AS ikey" for _member in members)
    in_keys = ", ".join("%s" for _k in keys)
    table, tree, key = quote(IndicatorValue._meta.db_table), quote(OrgUnit._meta.db_table), quote("key")
    sql = (
        f"INSERT INTO {table} (org_unit_id, period, {key}, numerator, denominator, value, computed_at) "
        f"SELECT r.node, %s, r.ikey, r.num, r.den, {value_sql}, %s "
        f"FROM (SELECT a.id AS node, s.ikey AS ikey, SUM(s.num) AS num, SUM(s.den) AS den FROM {tree} a "
        f"INNER JOIN ("
        f"SELECT t.tree_id AS tree_id, t.lft AS lft, v.{key} AS ikey, v.numerator AS num, v.denominator AS den "
        f"FROM {table} v INNER JOIN {tree} t ON t.id = v.org_unit_id "
        f"WHERE v.period = %s AND v.{key} IN ({in_keys}) AND t.level = %s "
        f"UNION ALL "
        f"SELECT u.tree_id, u.lft, k.ikey, {numerator_sql}, {denominator_sql} "
        f"FROM {tree} u INNER JOIN ({leaf_sql}) l ON l.node = u.id CROSS JOIN ({keys_sql}) k"
        f") s ON s.tree_id = a.tree_id AND s.lft >= a.lft AND s.lft <= a.rght "
        f"WHERE {where} GROUP BY a.id, s.ikey) r WHERE {_kept('r.num', 'r.den')}"
    )
    params = [
        connection.ops.adapt_datefield_value(period),
        *(ratios if ratios else []),
        connection.ops.adapt_datetimefield_value(now),
        connection.ops.adapt_datefield_value(period),
        *keys,
        Level.TOWNSHIP,
        *numerator_params,
        *denominator_params,
        *leaf_params,
        *keys,
        *where_params,
    ]
    _replace(period, keys, upper, sql, params)


def _rollup_median(indicator, period, start, end, units, scope_ranges, now, write_units=None) -> None:
    """Each unit's median of the month over the samples inside its range, and of the month's
    quarter, half-year and year over theirs (``PeriodValue``).

    Each month's samples are read once (one query a month, up to the year's last month that has
    begun), and every period takes the months it holds. ``units`` bounds the samples,
    ``scope_ranges`` and ``write_units`` (default ``units``) the units written.
    """
    write_units = units if write_units is None else write_units
    stored = stored_periods(period)
    today = month_start(timezone.localtime(now).date())
    read: dict = {}  # month: its samples' values by position
    order = unit_order(scope_ranges)

    def medians_over(months):
        at: dict = {}
        for month in months:
            if month > today:
                continue
            if month not in read:
                read[month] = by_position(indicator.samples(*month_bounds(month), units))
            for position, values in read[month].items():
                at.setdefault(position, []).extend(values)
        return medians_at(at, order)

    medians = medians_over([period])
    _delete(period, [indicator.key], write_units)  # in the family's savepoint
    insert_medians(IndicatorValue, {"period": period, "key": indicator.key, "computed_at": now}, medians)
    for kept in stored:
        medians = medians_over(kept.months)
        PeriodValue.objects.filter(key=indicator.key, first=kept.first, last=kept.last,
                                   org_unit__in=write_units.values("pk")).delete()
        insert_medians(PeriodValue, {"key": indicator.key, "first": kept.first, "last": kept.last, "computed_at": now},
                medians)


class Outcome:
    """What one computation did, family by family: ``parts`` by name and ``errors``, as RollupRun keeps them."""

    def __init__(self, label: str = "", progress: Callable | None = None):
        self.label, self.progress = label, progress
        self.parts: dict = {}
        self.errors: list = []
        self.total = 0

    def attempt(self, name, keys, work) -> None:
        began = time.monotonic()
        try:
            with transaction.atomic():  # a savepoint: a failed family leaves the transaction usable
                work()
        except Exception as exc:  # one broken indicator must not stop the others
            self.errors.append({"part": f"{self.label} {name}".strip(), "keys": keys,
                                "error": f"{type(exc).__name__}: {exc}",
                                "traceback": traceback.format_exc(limit=5)})
            status = "failed"
        else:
            status = "ok"
        self.parts[name] = {"keys": keys, "status": status, "seconds": round(time.monotonic() - began, 3)}
        if self.progress is not None:
            self.progress(self.label, name, len(self.parts), self.total, status)

    @property
    def failed(self) -> int:
        return sum(1 for part in self.parts.values() if part["status"] == "failed")


def compute_month(period: datetime.date, org=None, indicators=None, *, through=None, label="",
                  progress=None) -> Outcome:
    """Compute and store every indicator of ``period`` for ``org``'s subtree (or every unit), without a RollupRun.

    With ``through`` (a township after township ``org`` in the same tree), for the shard of the
    townships from ``org`` to ``through`` instead (see ``_scope``): the levels above them are left
    to ``compute_upper``. ``progress(label, family, done, total, status)`` is called after each family.
    """
    period = month_start(period)
    start, end = month_bounds(period)
    indicators = all_indicators() if indicators is None else indicators
    units, where, where_params = _scope(org, through)
    now = timezone.now()
    families = _families(indicators)
    medians = [indicator for indicator in indicators if indicator.kind == MEDIAN]
    outcome = Outcome(label, progress)
    outcome.total = len(families) + len(medians)
    with transaction.atomic():  # one commit; each family is a savepoint that a failure rolls back alone
        for leaf, members in families.items():
            outcome.attempt(_family_name(leaf), [m.key for m in members],
                            lambda leaf=leaf, members=members: _rollup_family(
                                leaf, members, period, start, end, units, where, where_params, now))
        if medians:
            scope_ranges = list(units.order_by().values_list("pk", "tree_id", "lft", "rght"))
            for indicator in medians:
                outcome.attempt(indicator.key, [indicator.key],
                                lambda indicator=indicator: _rollup_median(
                                    indicator, period, start, end, units, scope_ranges, now))
    return outcome


def compute_upper(period: datetime.date, org=None, indicators=None, *, label="upper", progress=None) -> Outcome:
    """The values of the units above the townships in ``org``'s subtree (or everywhere).

    Run after every township of the scope was computed (``compute_month(org=township)``):
    counts and ratios are summed from the townships' stored rows, one statement per family;
    medians are taken afresh from the samples, since a median of medians is wrong.
    """
    period = month_start(period)
    start, end = month_bounds(period)
    indicators = all_indicators() if indicators is None else indicators
    units, where, where_params = _scope(org)
    levels = ", ".join("%s" for _level in UPPER_LEVELS)
    upper = units.filter(level__in=UPPER_LEVELS)
    where, where_params = f"{where} AND a.level IN ({levels})", [*where_params, *UPPER_LEVELS]
    now = timezone.now()
    families = _families(indicators)
    medians = [indicator for indicator in indicators if indicator.kind == MEDIAN]
    outcome = Outcome(label, progress)
    outcome.total = len(families) + len(medians)
    with transaction.atomic():  # one commit, a savepoint per family (see compute_month)
        for leaf, members in families.items():
            outcome.attempt(_family_name(leaf), [m.key for m in members],
                            lambda leaf=leaf, members=members: _upper_family(
                                leaf, members, period, start, end, upper, where, where_params, now))
        if medians:
            scope_ranges = list(OrgUnit.objects.filter(pk__in=upper.values("pk")).order_by()
                                .values_list("pk", "tree_id", "lft", "rght"))
            for indicator in medians:
                outcome.attempt(indicator.key, [indicator.key],
                                lambda indicator=indicator: _rollup_median(
                                    indicator, period, start, end, units, scope_ranges, now, write_units=upper))
    return outcome


def run_status(parts: dict) -> str:
    """complete when every part succeeded, failed when none did, else partial."""
    failed = sum(1 for part in parts.values() if part.get("status") != "ok")
    if not failed:
        return RollupStatus.COMPLETE
    if failed == len(parts):
        return RollupStatus.FAILED
    return RollupStatus.PARTIAL


def rollup_month(period: datetime.date, org=None, indicators: list[Indicator] | None = None, *, progress=None):
    """Compute and store every indicator of ``period`` for ``org``'s subtree (or every unit).

    Idempotent: each family's rows in scope are replaced in one transaction. A family that
    raises keeps its old rows, and the run is marked partial with the error, never complete.
    Returns the RollupRun.
    """
    period = month_start(period)
    run = RollupRun.objects.create(period=period, org_unit=org, started_at=timezone.now())
    clock = time.monotonic()
    outcome = compute_month(period, org, indicators, progress=progress)
    run.status = run_status(outcome.parts)
    run.finished_at = timezone.now()
    run.duration_s = round(time.monotonic() - clock, 3)
    run.errors, run.parts = outcome.errors, outcome.parts
    run.save(update_fields=["status", "finished_at", "duration_s", "errors", "parts"])
    return run


def approval_changes(period: datetime.date) -> bool:
    """Whether recomputing the month now would change any stored value; writes nothing.

    The figures "as of today" (``Indicator.changes``) are left out: they move as the month's cases
    are closed, which is no correction of the month. The month is recomputed inside a transaction
    that is rolled back; before that, its rows are copied to a temporary table, and one EXCEPT each
    way compares them in the database.
    """
    period = month_start(period)
    indicators = [indicator for indicator in all_indicators() if indicator.changes is None]
    keys = [indicator.key for indicator in indicators]
    quote = connection.ops.quote_name
    table = quote(IndicatorValue._meta.db_table)
    columns = f"org_unit_id, {quote('key')}, numerator, denominator, value"
    of_keys = f"{quote('key')} IN ({', '.join('%s' for _key in keys)})"
    day = connection.ops.adapt_datefield_value(period)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS indicator_before")
            cursor.execute(f"CREATE TEMPORARY TABLE indicator_before AS SELECT {columns} FROM {table} "
                           f"WHERE period = %s AND {of_keys}", [day, *keys])
        compute_month(period, indicators=indicators)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM (SELECT {columns} FROM {table} WHERE period = %s AND {of_keys} "
                f"EXCEPT SELECT {columns} FROM indicator_before) x "
                f"UNION ALL SELECT 1 FROM (SELECT {columns} FROM indicator_before "
                f"EXCEPT SELECT {columns} FROM {table} WHERE period = %s AND {of_keys}) y",
                [day, *keys, day, *keys],
            )
            changed = cursor.fetchone() is not None
            cursor.execute("DROP TABLE indicator_before")
        transaction.set_rollback(True)
    return changed


def refresh_to_date(months_of, locked) -> dict:
    """Recompute the figures "as of today" (``Indicator.changes``) of the months whose records moved.

    ``months_of(indicator.changes)`` returns the months to recompute for that function (it keeps
    the markers); ``locked(month)`` says whether a month is approved, hence frozen as of its
    approval. Each month is one ``compute_month`` of those indicators' families only. Returns
    {month: Outcome}.
    """
    by_changes: dict = {}
    for indicator in all_indicators():
        if indicator.changes is not None:
            by_changes.setdefault(indicator.changes, []).append(indicator)
    months: dict = {}
    for changes, indicators in by_changes.items():
        for month in months_of(changes):
            months.setdefault(month_start(month), []).extend(indicators)
    today = month_start(timezone.localdate())
    return {month: compute_month(month, indicators=indicators, label="to date")
            for month, indicators in sorted(months.items()) if month <= today and not locked(month)}
