"""The dashboards' numbers: a unit's indicators over a period (a month, a quarter ...) with their
changes, the trend, a breakdown and the league of the units one level down, each read from the
stored values in one or two queries whatever the size of the tree (added up over several months
by ``periods``), and formatted as the page shows them.

How a number is shown is what its indicator declares (``registry.Indicator``): whether it is
a percentage, its target and which way is better; this module names no app's indicator. A
declared target may be overridden per key by ``settings.DASHBOARD_TARGETS``.
"""

import datetime
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import connection
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.indicators.dashboard.periods import (
    by_month,
    combine,
    computed_marks,
    is_computed,
    stock_month,
)
from governance.indicators.months import Period, format_period, month_start, shift_month, this_month
from governance.indicators.registry import (
    DENOMINATOR,
    HIGHER,
    LOWER,
    MEDIAN,
    NUMERATOR,
    RATIO,
    VALUE,
    Indicator,
    all_breakdowns,
    all_indicators,
    definition_line,
)
from governance.models import IndicatorTarget, IndicatorValue, OrgUnit

TREND_MONTHS = 12  # the trend chart's months, the last one the page's

RATING_WORDS = {
    "green": gettext_lazy("On target"),
    "yellow": gettext_lazy("Near target"),
    "red": gettext_lazy("Below target"),
}
# A league column without a target is coloured by rank: its best and its worst quarter.
RANK_WORDS = {
    "top": gettext_lazy("Top quarter"),
    "bottom": gettext_lazy("Bottom quarter"),
}
# A county's target without its own "near" distance: a rate is near within 5 points, a count within a tenth.
NEAR_RATE = Decimal("0.05")
NEAR_COUNT_SHARE = Decimal("0.1")


def _decimal(number) -> Decimal:
    return number if isinstance(number, Decimal) else Decimal(str(number))


@dataclass(frozen=True)
class Goal:
    """The target in force for one indicator at one unit: met at ``value`` or better (at or above it
    when higher is better, at or below it when lower is), near within ``near`` of it, else far.

    ``value`` and ``near`` are in the indicator's stored terms (a rate as a fraction); ``own`` is
    True for a target the county set (``IndicatorTarget``), False for the declared default.
    """

    value: Decimal
    near: Decimal
    lower: bool
    percent: bool = False
    own: bool = False

    def rating(self, value) -> str | None:
        """"green" (met), "yellow" (near), "red" (far), or None without a value."""
        if value is None:
            return None
        gap = self.gap(value)
        return "green" if gap <= 0 else "yellow" if gap <= self.near else "red"

    def gap(self, value) -> Decimal:
        """How far ``value`` falls short of the target (0 or less: met)."""
        value = _decimal(value)
        return value - self.value if self.lower else self.value - value

    def _number(self, number: Decimal) -> str:
        if self.percent:
            return f"{(number * 100).normalize():f}%"
        return f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:,.1f}"

    @property
    def text(self) -> str:
        """The target as the page writes it beside a figure: "≥ 95%", "≤ 0"."""
        return f"{'≤' if self.lower else '≥'} {self._number(self.value)}"

    def shortfall(self, value) -> str:
        """How far a figure is from the target, in words ("" when it meets it or has no value)."""
        if value is None or self.gap(value) <= 0:
            return ""
        gap = self.gap(value)
        if self.percent:
            return _("%(n)s points from the target") % {"n": f"{gap * 100:.1f}"}
        return _("%(n)s from the target") % {"n": format_number(None, gap)}


def declared_goal(key: str, indicator: Indicator | None) -> Goal | None:
    """The target an indicator declares (``Indicator.target``), or ``settings.DASHBOARD_TARGETS``'
    override of it: ``{"green": .., "yellow": .., "lower": bool}`` (without "lower", the
    indicator's ``better`` says which way is better). None without either."""
    lower = indicator is not None and indicator.better == LOWER
    percent = indicator is not None and indicator.percent
    override = getattr(settings, "DASHBOARD_TARGETS", {}).get(key)
    if override is not None:
        green, yellow, lower = override["green"], override["yellow"], override.get("lower", lower)
    elif indicator is not None and indicator.target is not None:
        green, yellow = indicator.target.green, indicator.target.yellow
    else:
        return None
    green, yellow = _decimal(green), _decimal(yellow)
    return Goal(green, abs(green - yellow), lower, percent)


def own_goal(indicator: Indicator, target) -> Goal | None:
    """A county's target (an ``IndicatorTarget``) for ``indicator``, in the indicator's stored terms.

    None for an indicator that does not say which way is better (a target needs it).
    """
    if indicator.better is None:
        return None
    scale = Decimal(100) if indicator.percent else Decimal(1)
    value = _decimal(target.value) / scale
    if target.near is not None:
        near = _decimal(target.near) / scale
    elif indicator.target is not None:
        near = abs(_decimal(indicator.target.green) - _decimal(indicator.target.yellow))
    else:
        near = NEAR_RATE if indicator.percent else abs(value) * NEAR_COUNT_SHARE
    return Goal(value, near, indicator.better == LOWER, indicator.percent, own=True)


def rating(key: str, indicator: Indicator | None, value, goal: Goal | None = None) -> str | None:
    """"green", "yellow", "red", or None when there is no target or no value.

    ``goal`` is the target in force (a county's own); without it, the declared one
    (``declared_goal``: the indicator's, or ``settings.DASHBOARD_TARGETS``' override).
    """
    goal = goal if goal is not None else declared_goal(key, indicator)
    return goal.rating(value) if goal is not None else None


class Targets:
    """The targets in force at a unit: the ``IndicatorTarget`` rows of its ancestors and itself, the
    nearest one winning (a township's own over its county's), read by ``read_targets``.

    A league is judged by one standard: the units one level down are coloured by the targets in
    force at the unit whose league it is, not by their own.
    """

    def __init__(self, rows=()):
        self._rows: dict[str, object] = {}
        for row in rows:  # in tree order: a deeper unit's target wins
            self._rows[row.key] = row

    def goals(self, period: Period) -> dict[str, Goal]:
        """{key: goal} over ``period``: the unit's (or its county's) own target where it holds by the
        period's last month, else the declared one."""
        goals = {}
        for key, indicator in indicator_map().items():
            row = self._rows.get(key)
            goal = None
            if row is not None and (row.valid_from is None or row.valid_from <= period.last):
                goal = own_goal(indicator, row)
            goal = goal or declared_goal(key, indicator)
            if goal is not None:
                goals[key] = goal
        return goals


def read_targets(unit: OrgUnit) -> Targets:
    """The targets set for ``unit`` and the units above it: one query (``unit`` was read in this
    request, so its tree range is current)."""
    rows = (IndicatorTarget.objects
            .filter(unit__tree_id=unit.tree_id, unit__lft__lte=unit.lft, unit__rght__gte=unit.rght)
            .order_by("unit__lft"))
    return Targets(rows)


def default_period(unit: OrgUnit) -> datetime.date:
    """The last month that has values for ``unit``, else the month before this one."""
    latest = IndicatorValue.objects.filter(org_unit=unit).aggregate(latest=Max("period"))["latest"]
    if latest is not None:
        return latest
    return shift_month(this_month(), -1)


def indicator_map() -> dict[str, Indicator]:
    return {indicator.key: indicator for indicator in all_indicators()}


def placed(place: str) -> list[Indicator]:
    """The indicators that declare a place among ``place`` ("headline", "trend" or "league"), in its order."""
    return sorted((i for i in all_indicators() if getattr(i, place) is not None), key=lambda i: getattr(i, place))


def plain_number(value) -> float | int | None:
    """A stored Decimal as JSON and spreadsheets take it: an int when it is whole."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def format_number(indicator: Indicator | None, value) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    if indicator is not None and indicator.percent:
        return f"{value * 100:.1f}%"
    if indicator is not None and indicator.kind in (MEDIAN, RATIO):
        return f"{value:,.1f}"
    if indicator is not None and indicator.decimals is not None:
        return f"{value:,.{indicator.decimals}f}"
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.1f}"


@dataclass
class Figure:
    """One indicator's value for one unit and month (all None when nothing was counted).

    The page gives it the target in force (``goal``: a county's own, or the declared one), the link
    to the records behind it (``href``) and, in a league column without a target, its rank
    (``rank``: "top" or "bottom" quarter).
    """

    key: str
    indicator: Indicator | None
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    href: str = ""
    goal: Goal | None = None
    has_goal: bool = False  # ``goal`` was given (by the page): else the declared target holds
    rank: str = ""
    by_rank: bool = False  # its league column is coloured by rank, not by its target

    @classmethod
    def of(cls, key, indicator, row: IndicatorValue | None):
        if row is None:
            return cls(key, indicator)
        return cls(key, indicator, row.value, row.numerator, row.denominator)

    @classmethod
    def unstored(cls, key, indicator: Indicator):
        """The figure of a month (or period) computed for its unit without a row of ``indicator``:
        what ``Indicator.unstored`` says (a count 0, a ratio "0 of 0", a median nothing)."""
        unstored = indicator.unstored
        if unstored is None:
            return cls(key, indicator)
        numerator, denominator, value = unstored
        return cls(key, indicator, value, numerator, denominator)

    def set_goal(self, goal: Goal | None) -> None:
        self.goal, self.has_goal = goal, True

    @property
    def target(self) -> Goal | None:
        """The target in force: the one the page gave, else the declared one."""
        return self.goal if self.has_goal else declared_goal(self.key, self.indicator)

    @property
    def is_ratio(self) -> bool:
        return self.indicator is not None and self.indicator.kind == RATIO

    @property
    def number(self):
        """The value as JSON and spreadsheets take it (a ratio as a fraction)."""
        return plain_number(self.value)

    @property
    def text(self) -> str:
        return format_number(self.indicator, self.value)

    @property
    def fraction(self) -> str:
        if not self.is_ratio or self.numerator is None:
            return ""
        return f"{plain_number(self.numerator):,} / {plain_number(self.denominator or 0):,}"

    @property
    def rating(self) -> str | None:
        goal = self.target
        return goal.rating(self.value) if goal is not None else None

    @property
    def rating_word(self) -> str:
        return str(RATING_WORDS[self.rating]) if self.rating else ""

    @property
    def shortfall(self) -> str:
        goal = self.target
        return goal.shortfall(self.value) if goal is not None else ""

    @property
    def mark(self) -> str:
        """The cell's colour class: "rating-green|yellow|red" against a target, "rank-top|bottom" by rank."""
        if self.rank or self.by_rank:
            return f"rank-{self.rank}" if self.rank else ""
        return f"rating-{self.rating}" if self.rating else ""

    @property
    def mark_word(self) -> str:
        return str(RANK_WORDS[self.rank]) if self.rank else self.rating_word

    @property
    def records_count(self):
        """The number the list behind ``href`` counts (``RecordLink.counts``): the value, or a rate's
        denominator or numerator."""
        link = self.indicator.records if self.indicator is not None else None
        counts = link.counts if link is not None else VALUE
        return plain_number({NUMERATOR: self.numerator, DENOMINATOR: self.denominator}.get(counts, self.value))

    @property
    def link_title(self) -> str:
        """What the link opens, in words (its list's count)."""
        link = self.indicator.records if self.indicator is not None else None
        if not self.href or link is None:
            return ""
        count = f"{self.records_count or 0:,}"
        if link.counts == DENOMINATOR:
            return _("Open the %(count)s records it is a share of") % {"count": count}
        if link.counts == NUMERATOR:
            return _("Open the %(count)s records it is taken over") % {"count": count}
        return _("Open the %(count)s records it counts") % {"count": count}


@dataclass
class Change:
    """The change of a figure against an earlier month."""

    key: str
    indicator: Indicator | None
    earlier: Figure
    delta: Decimal | None

    @property
    def text(self) -> str:
        if self.delta is None:
            return "—"
        if self.indicator is not None and self.indicator.percent:
            return _("%(sign)s%(n)s pp") % {"sign": "+" if self.delta > 0 else "", "n": f"{self.delta * 100:.1f}"}
        return f"{'+' if self.delta > 0 else ''}{format_number(self.indicator, self.delta)}"

    @property
    def direction(self) -> str:
        if self.delta is None or self.delta == 0:
            return "flat"
        return "up" if self.delta > 0 else "down"

    @property
    def tone(self) -> str:
        """"good", "bad" or "neutral": the colour of the arrow."""
        better = self.indicator.better if self.indicator is not None else None
        if self.direction == "flat" or better is None:
            return "neutral"
        return "good" if (self.direction == "up") == (better == HIGHER) else "bad"


def _change(key, indicator, current: Figure, earlier: Figure) -> Change:
    delta = None
    if current.value is not None and earlier.value is not None:
        delta = Decimal(current.value) - Decimal(earlier.value)
    return Change(key, indicator, earlier, delta)


def term_label(indicator: Indicator, names=None) -> str:
    """The indicator's label, or the county's own name of the term it counts (``Indicator.term``)."""
    if indicator.term is not None and names is not None:
        return names.label(*indicator.term, str(indicator.label))
    return str(indicator.label)


@dataclass
class Row:
    """An indicator of the unit over the period, and its change against the period before and a year before."""

    key: str
    indicator: Indicator | None
    current: Figure
    last_month: Change
    last_year: Change
    name: str = ""  # the county's own name of the term it counts, if any

    # Worked out once: the page shows a row's words several times, and a lazy label or unit is
    # translated each time it is made a string.
    @cached_property
    def label(self) -> str:
        return self.name or (str(self.indicator.label) if self.indicator else self.key)

    @cached_property
    def unit(self) -> str:
        return str(self.indicator.unit) if self.indicator else ""

    @cached_property
    def unit_shown(self) -> str:
        """The unit written beside the value: not a rate's "%" (the value has it), nor a unit the
        label already says ("办结用时中位数（小时）" is not followed by "小时" again)."""
        return shown_unit(self.indicator, self.label)

    @cached_property
    def definition(self) -> str:
        return definition_line(self.indicator) if self.indicator is not None else ""


def shown_unit(indicator: Indicator | None, heading: str) -> str:
    """``indicator``'s unit where ``heading`` (its label, a column's heading) does not already say it."""
    if indicator is None or indicator.percent:
        return ""
    unit = str(indicator.unit)
    return "" if not unit or unit in str(heading) else unit


def compared_periods(period: Period) -> list[Period]:
    """The period, the period of the same length before it, and the same period a year before."""
    return [period, period.previous, period.year_ago]


def trend_periods(end_period: datetime.date, months: int) -> list[datetime.date]:
    return [shift_month(end_period, offset) for offset in range(1 - months, 1)]


def unit_rows(unit: OrgUnit, period: Period, found: list[IndicatorValue],
              medians: dict | None = None, names=None) -> tuple[list[Row], dict[str, IndicatorValue]]:
    """Every indicator of ``unit`` over ``period`` with its changes, from its monthly rows ``found``
    (holding at least the months of the compared periods) and, for a period of several months, the
    medians read by ``periods.medians`` ({(unit id, period): {key: value}}), and labelled with the
    county's own ``names`` (``governance.terms.local_names``). No query.

    Returns the rows (registered indicators in registry order, then, for a month, any unregistered
    key that has a value; the bars of a breakdown are not rows) and the period's values
    ({key: IndicatorValue}, breakdowns included).
    """
    indicators = indicator_map()
    medians = medians or {}
    at = stock_month(found, period)
    current, previous, year_ago = (
        {**combine(found, compared, indicators, at if compared == period else None),
         **medians.get((unit.pk, compared), {})}
        for compared in compared_periods(period))
    keys = [key for key, indicator in indicators.items() if not indicator.breakdown]
    keys += sorted(key for key in current if key not in indicators)
    rows = []
    for key in keys:
        indicator = indicators.get(key)
        figure = Figure.of(key, indicator, current.get(key))
        rows.append(Row(
            key, indicator, figure,
            _change(key, indicator, figure, Figure.of(key, indicator, previous.get(key))),
            _change(key, indicator, figure, Figure.of(key, indicator, year_ago.get(key))),
            term_label(indicator, names) if indicator is not None and indicator.term else "",
        ))
    return rows, current


def kpi_rows(rows: list[Row]) -> list[Row]:
    """The headline cards among ``rows``: the indicators placed among them, in their order."""
    by_key = {row.key: row for row in rows if row.indicator is not None}
    return [by_key[indicator.key] for indicator in placed("headline") if indicator.key in by_key]


def trend_keys() -> list[str]:
    return [indicator.key for indicator in placed("trend")]


def trend(unit: OrgUnit, keys: list[str], end_period: datetime.date, months: int = TREND_MONTHS,
          monthly: dict | None = None) -> dict:
    """The chart's shape: {"periods": ["2025-01", ...], "series": [{key, label, percent, values}]}.

    A month computed for the unit has a point (0 where the rollup stored no row), one never
    computed none. One query, or none given ``monthly`` (``periods.by_month`` of the unit's values,
    holding at least these months and keys).
    """
    indicators = indicator_map()
    keys = [key for key in keys if key in indicators]
    end_period = month_start(end_period)
    periods = trend_periods(end_period, months)
    if monthly is None:
        monthly = by_month(list(IndicatorValue.objects.filter(
            org_unit=unit, period__gte=periods[0], period__lte=end_period).filter(
            Q(key__in=keys) | computed_marks([unit.pk], periods[0], end_period))), keys, indicators)
    return {
        "periods": [format_period(period) for period in periods],
        "series": [
            {"key": key, "label": str(indicators[key].label), "percent": indicators[key].percent,
             "values": [plain_number(getattr(monthly.get((period, key)), "value", None)) for period in periods]}
            for key in keys
        ],
    }


def breakdown(values: dict[str, IndicatorValue], name: str, names=None) -> dict:
    """The period's counts of the indicators that make up the breakdown ``name``, biggest first,
    labelled with the county's own ``names`` of their terms; no bar when they are all 0."""
    members = {indicator.key: indicator for indicator in all_indicators() if indicator.breakdown == name}
    items = sorted(
        ((key, values[key]) for key in members if key in values),  # ties in registry order
        key=lambda item: -(item[1].numerator or 0),
    )
    if not any(row.numerator for _key, row in items):
        items = []  # a month that counted nothing of them: the chart's empty text, not a row of zeros
    return {
        "labels": [term_label(members[key], names) for key, _row in items],
        "values": [int(row.numerator or 0) for _key, row in items],
    }


def breakdowns(values: dict[str, IndicatorValue], names=None) -> list[dict]:
    """Every declared breakdown chart with its period's bars (no query: ``values`` are already read)."""
    charts = []
    for declared in all_breakdowns():
        bars = breakdown(values, declared.key, names)
        charts.append({
            "key": declared.key, "title": str(declared.title), "label_heading": str(declared.label_heading),
            "value_heading": str(declared.value_heading), "empty": str(declared.empty),
            "definition": str(declared.definition), **bars,
            "rows": list(zip(bars["labels"], bars["values"], strict=True)),
        })
    return charts


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
    values = [_decimal(figure.value) for figure in figures]
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
