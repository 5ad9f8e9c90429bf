"""The league (排名): the units one level down with their figures over a period, sorted by a
column and coloured by distance to each column's target, or by rank where no target says
anything. A month is one grouped query, a longer period two (``periods`` adds the months up).
"""

import datetime
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _

from governance.indicators.dashboard.numbers import (
    Figure,
    Goal,
    Row,
    Targets,
    as_decimal,
    indicator_map,
    placed,
)
from governance.indicators.dashboard.periods import combine, is_computed
from governance.indicators.months import Period
from governance.indicators.registry import HIGHER, Indicator
from governance.models import IndicatorValue, OrgUnit


@dataclass
class LeagueRow:
    unit: OrgUnit
    figures: dict[str, Figure] = field(default_factory=dict)

    ordered: list[Figure] = field(default_factory=list)  # the figures in the league's column order

    def cells(self, keys):
        return [self.figures[key] for key in keys]


@dataclass
class League:
    keys: list[str]
    indicators: list[Indicator]
    rows: list[LeagueRow]
    sort: str = ""
    goals: dict[str, Goal] = field(default_factory=dict)  # the targets in force at the unit, by column
    notes: dict[str, str] = field(default_factory=dict)  # a column's colouring, when it is not plain


def apply_goals(rows: list[Row], league: League, targets: Targets, period: Period) -> None:
    """Give every figure the target in force at the unit (no query), and colour the league by it.

    Each league column is coloured by distance to its target (met, near, far); a column without a
    target, or whose units are all far from it (a target that colours the whole league red says
    nothing), is coloured by rank instead: its best and its worst quarter.
    """
    goals = targets.goals(period)
    for row in rows:
        row.current.set_goal(goals.get(row.key))
    league.goals = {key: goals[key] for key in league.keys if key in goals}
    for league_row in league.rows:
        for key, figure in league_row.figures.items():
            figure.set_goal(goals.get(key))
    for key, indicator in zip(league.keys, league.indicators, strict=True):
        figures = [league_row.figures[key] for league_row in league.rows if league_row.figures[key].value is not None]
        targeted = [figure for figure in figures if figure.target is not None]
        if targeted and len(figures) > 1 and all(figure.rating == "red" for figure in targeted):
            for figure in figures:
                figure.by_rank = True
            ranked = _rank(figures, indicator)
            league.notes[key] = (_("All far from the target: coloured by rank") if ranked
                                 else _("All far from the target"))
        elif not targeted:
            _rank(figures, indicator)


def _rank(figures: list[Figure], indicator: Indicator) -> bool:
    """Mark the best quarter "top" and the worst quarter "bottom" (ties share the better rank).

    Nothing is marked (False) for an indicator that does not say which way is better, or whose
    units all have the same value."""
    if indicator.better is None or len({figure.value for figure in figures}) < 2:
        return False
    higher = indicator.better == HIGHER
    values = [as_decimal(figure.value) for figure in figures]
    # The number of better values, by bisecting the sorted values (not a count against each of
    # them: a league of sixty units times its columns).
    ordered = sorted(values)
    for figure, value in zip(figures, values, strict=True):
        better = len(ordered) - bisect_right(ordered, value) if higher else bisect_left(ordered, value)
        quarter = 4 * better // len(figures)
        figure.rank = "top" if quarter == 0 else "bottom" if quarter == 3 else ""
    return True


def league_keys(sort: str = "") -> list[str]:
    """The league's columns: the indicators placed among them, plus the sort key if it is another indicator."""
    keys = [indicator.key for indicator in placed("league")]
    sort_key = sort.lstrip("-")
    if sort_key in indicator_map() and sort_key not in keys:
        keys.append(sort_key)
    return keys


def _sorted(rows: list[LeagueRow], sort: str, keys: list[str]) -> tuple[list[LeagueRow], str]:
    """``sort`` is an indicator key (ascending) or ``-key`` (descending); units without a value
    sort last either way, and ties keep the tree order."""
    sort_key = sort.lstrip("-")
    if sort_key not in keys:
        return rows, ""
    present = [r for r in rows if r.figures[sort_key].value is not None]
    missing = [r for r in rows if r.figures[sort_key].value is None]
    present.sort(key=lambda r: r.figures[sort_key].value, reverse=sort.startswith("-"))
    return present + missing, sort


def _league_row(child: OrgUnit, keys: list[str], indicators, values: dict[str, IndicatorValue]) -> LeagueRow:
    """A child's row from its values over the period (``child.computed``: see ``league_children``)."""
    row = LeagueRow(child)
    for key in keys:
        value = values.get(key)
        if value is None and child.computed:  # no row: as the rollup did not store it
            row.figures[key] = Figure.unstored(key, indicators[key])
        else:
            row.figures[key] = Figure.of(key, indicators[key], value)
    row.ordered = [row.figures[key] for key in keys]
    return row


def league_children(unit: OrgUnit, period: Period) -> list[OrgUnit]:
    """The units one level down in tree order, each with ``computed``: whether it has a row of the
    period (``periods.is_computed``). One query."""
    return list(OrgUnit.objects.filter(parent=unit).annotate(
        computed=is_computed(period.first, period.last)).order_by("lft"))


def league(unit: OrgUnit, period: Period, keys: list[str], sort: str = "", *, at: datetime.date | None = None,
           medians: dict | None = None, children: list[OrgUnit] | None = None) -> League:
    """The units one level down with their values over ``period`` (0 where a child computed for it
    has no row of a count: ``periods.complete``).

    A month is one query; a period of several months two (the children, their monthly rows of the
    period; one when the ``children`` are given, read by ``league_children``), with
    stocks read at ``at`` (the unit's own last month with values) and the medians given
    (``periods.medians``).
    """
    indicators = indicator_map()
    keys = [key for key in keys if key in indicators]
    if period.is_month:
        rows = _month_league(unit, period.first, keys, indicators)
    else:
        if children is None:
            children = league_children(unit, period)
        found: dict = {}
        for value in IndicatorValue.objects.filter(org_unit__parent=unit, key__in=keys, period__gte=period.first,
                                                   period__lte=period.last):
            found.setdefault(value.org_unit_id, []).append(value)
        medians = medians or {}
        rows = [_league_row(child, keys, indicators, {
            **combine(found.get(child.pk, []), period, indicators, at or period.last, fill=False),
            **medians.get((child.pk, period), {})}) for child in children]
    rows, sort = _sorted(rows, sort, keys)
    return League(keys, [indicators[key] for key in keys], rows, sort)


def _month_league(unit: OrgUnit, period: datetime.date, keys: list[str], indicators) -> list[LeagueRow]:
    """The children with their values of the month in one grouped query: a column per key and part
    of a figure (``MAX(CASE ...)``), and whether the child's month was computed (``computed``).

    Written in SQL: the ORM took longer to build its 57 filtered aggregates (a province's nineteen
    columns) than PostgreSQL took to run them, and two plain queries would pass the page's budget.
    """
    quote = connection.ops.quote_name
    units, values, key = quote(OrgUnit._meta.db_table), quote(IndicatorValue._meta.db_table), quote("key")
    month = connection.ops.adapt_datefield_value(period)
    columns = [f"EXISTS (SELECT 1 FROM {values} c WHERE c.org_unit_id = u.id AND c.period = %s) AS computed"]
    params: list = [month]
    for i, wanted in enumerate(keys):
        for part in LEAGUE_PARTS:
            columns.append(f"MAX(CASE WHEN v.{key} = %s THEN v.{part} END) AS {part}_{i}")
            params.append(wanted)
    of_keys = f"v.{key} IN ({', '.join('%s' for _key in keys)})" if keys else "1 = 0"
    sql = (f"SELECT u.*, {', '.join(columns)} FROM {units} u "
           f"LEFT JOIN {values} v ON v.org_unit_id = u.id AND v.period = %s AND {of_keys} "
           f"WHERE u.parent_id = %s GROUP BY u.id ORDER BY u.lft")
    rows = []
    for child in OrgUnit.objects.raw(sql, [*params, month, *keys, unit.pk]):
        row = LeagueRow(child)
        for i, wanted in enumerate(keys):
            value, numerator, denominator = (_stored(getattr(child, f"{part}_{i}")) for part in LEAGUE_PARTS)
            if value is None and numerator is None and child.computed:  # no row: as the rollup did not store it
                row.figures[wanted] = Figure.unstored(wanted, indicators[wanted])
            else:
                row.figures[wanted] = Figure(wanted, indicators[wanted], value, numerator, denominator)
        row.ordered = [row.figures[wanted] for wanted in keys]
        rows.append(row)
    return rows


LEAGUE_PARTS = ("value", "numerator", "denominator")


def _stored(number) -> Decimal | None:
    """A stored number as the ORM would give it: SQLite answers a raw query with ints and floats."""
    return number if number is None or isinstance(number, Decimal) else Decimal(str(number))
