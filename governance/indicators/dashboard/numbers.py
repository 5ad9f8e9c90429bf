"""The dashboards' numbers: a unit's indicators over a period (a month, a quarter ...) with their
changes, the trend and a breakdown (the league of the units one level down is ``league``), each read from the
stored values in one or two queries whatever the size of the tree (added up over several months
by ``periods``), and formatted as the page shows them.

How a number is shown is what its indicator declares (``registry.Indicator``): whether it is
a percentage, its target and which way is better; this module names no app's indicator. A
declared target may be overridden per key by ``settings.DASHBOARD_TARGETS``.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.indicators.dashboard.periods import (
    by_month,
    combine,
    computed_marks,
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


def as_decimal(number) -> Decimal:
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
        value = as_decimal(value)
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
    green, yellow = as_decimal(green), as_decimal(yellow)
    return Goal(green, abs(green - yellow), lower, percent)


def own_goal(indicator: Indicator, target) -> Goal | None:
    """A county's target (an ``IndicatorTarget``) for ``indicator``, in the indicator's stored terms.

    None for an indicator that does not say which way is better (a target needs it).
    """
    if indicator.better is None:
        return None
    scale = Decimal(100) if indicator.percent else Decimal(1)
    value = as_decimal(target.value) / scale
    if target.near is not None:
        near = as_decimal(target.near) / scale
    elif indicator.target is not None:
        near = abs(as_decimal(indicator.target.green) - as_decimal(indicator.target.yellow))
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
