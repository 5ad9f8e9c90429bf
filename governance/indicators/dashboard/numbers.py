"""The dashboards' numbers: a unit's indicators over a period (a month, a quarter ...) with their
changes, the trend, a breakdown and the league of the units one level down, each read from the
stored values in one or two queries whatever the size of the tree (added up over several months
by ``periods``), and formatted as the page shows them.

How a number is shown is what its indicator declares (``registry.Indicator``): whether it is
a percentage, its target and which way is better; this module names no app's indicator. A
declared target may be overridden per key by ``settings.DASHBOARD_TARGETS``.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import FilteredRelation, Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.indicators.dashboard.periods import combine, stock_month
from governance.indicators.months import Period, format_period, month_start, shift_month, this_month
from governance.indicators.registry import (
    HIGHER,
    LOWER,
    MEDIAN,
    RATIO,
    Indicator,
    all_breakdowns,
    all_indicators,
)
from governance.models import IndicatorValue, OrgUnit

TREND_MONTHS = 12  # the trend chart's months, the last one the page's

RATING_WORDS = {
    "green": gettext_lazy("On target"),
    "yellow": gettext_lazy("Near target"),
    "red": gettext_lazy("Below target"),
}


def rating(key: str, indicator: Indicator | None, value) -> str | None:
    """"green", "yellow", "red", or None when the indicator has no target or there is no value.

    ``settings.DASHBOARD_TARGETS`` maps a key to ``{"green": .., "yellow": .., "lower": bool}``
    and overrides the indicator's declared target (or gives a key one); without "lower", the
    indicator's ``better`` says which way is better.
    """
    if value is None:
        return None
    lower = indicator is not None and indicator.better == LOWER
    override = getattr(settings, "DASHBOARD_TARGETS", {}).get(key)
    if override is not None:
        green, yellow, lower = override["green"], override["yellow"], override.get("lower", lower)
    elif indicator is not None and indicator.target is not None:
        green, yellow = indicator.target.green, indicator.target.yellow
    else:
        return None
    value = float(value)
    if lower:
        return "green" if value <= green else "yellow" if value <= yellow else "red"
    return "green" if value >= green else "yellow" if value >= yellow else "red"


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
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.1f}"


@dataclass
class Figure:
    """One indicator's value for one unit and month (all None when nothing was counted)."""

    key: str
    indicator: Indicator | None
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    href: str = ""

    @classmethod
    def of(cls, key, indicator, row: IndicatorValue | None):
        if row is None:
            return cls(key, indicator)
        return cls(key, indicator, row.value, row.numerator, row.denominator)

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
        return rating(self.key, self.indicator, self.value)

    @property
    def rating_word(self) -> str:
        return str(RATING_WORDS[self.rating]) if self.rating else ""


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

    @property
    def label(self) -> str:
        return self.name or (str(self.indicator.label) if self.indicator else self.key)

    @property
    def unit(self) -> str:
        return str(self.indicator.unit) if self.indicator else ""


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
          found: list[IndicatorValue] | None = None) -> dict:
    """The chart's shape: {"periods": ["2025-01", ...], "series": [{key, label, percent, values}]}.

    One query, or none given ``found`` (the unit's values, holding at least these months and keys).
    """
    indicators = indicator_map()
    keys = [key for key in keys if key in indicators]
    end_period = month_start(end_period)
    periods = trend_periods(end_period, months)
    if found is None:
        found = IndicatorValue.objects.filter(org_unit=unit, key__in=keys, period__gte=periods[0],
                                              period__lte=end_period)
    found = {(row.period, row.key): row.value for row in found}
    return {
        "periods": [format_period(period) for period in periods],
        "series": [
            {"key": key, "label": str(indicators[key].label), "percent": indicators[key].percent,
             "values": [plain_number(found.get((period, key))) for period in periods]}
            for key in keys
        ],
    }


def breakdown(values: dict[str, IndicatorValue], name: str, names=None) -> dict:
    """The period's counts of the indicators that make up the breakdown ``name``, biggest first,
    labelled with the county's own ``names`` of their terms."""
    members = {indicator.key: indicator for indicator in all_indicators() if indicator.breakdown == name}
    items = sorted(
        ((key, row) for key, row in values.items() if key in members),
        key=lambda item: -(item[1].numerator or 0),
    )
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
            "value_heading": str(declared.value_heading), "empty": str(declared.empty), **bars,
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
    row = LeagueRow(child)
    for key in keys:
        row.figures[key] = Figure.of(key, indicators[key], values.get(key))
    row.ordered = [row.figures[key] for key in keys]
    return row


def league(unit: OrgUnit, period: Period, keys: list[str], sort: str = "", *, at: datetime.date | None = None,
           medians: dict | None = None, children: list[OrgUnit] | None = None) -> League:
    """The units one level down with their values over ``period``.

    A month is one grouped query; a period of several months two (the children, their monthly
    rows of the period; one when the ``children`` are given), with stocks read at ``at`` (the unit's
    own last month with values) and the medians given (``periods.medians``).
    """
    indicators = indicator_map()
    keys = [key for key in keys if key in indicators]
    if period.is_month:
        rows = _month_league(unit, period.first, keys, indicators)
    else:
        if children is None:
            children = list(OrgUnit.objects.filter(parent=unit).order_by("lft"))
        found: dict = {}
        for value in IndicatorValue.objects.filter(org_unit__parent=unit, key__in=keys, period__gte=period.first,
                                                   period__lte=period.last):
            found.setdefault(value.org_unit_id, []).append(value)
        medians = medians or {}
        rows = [_league_row(child, keys, indicators, {
            **combine(found.get(child.pk, []), period, indicators, at or period.last),
            **medians.get((child.pk, period), {})}) for child in children]
    rows, sort = _sorted(rows, sort, keys)
    return League(keys, [indicators[key] for key in keys], rows, sort)


def _month_league(unit: OrgUnit, period: datetime.date, keys: list[str], indicators) -> list[LeagueRow]:
    """The children with their values of the month: one grouped join."""
    annotations = {}
    for i, key in enumerate(keys):
        of_key = Q(month_values__key=key)
        annotations[f"v{i}"] = Max("month_values__value", filter=of_key)
        annotations[f"n{i}"] = Max("month_values__numerator", filter=of_key)
        annotations[f"d{i}"] = Max("month_values__denominator", filter=of_key)
    children = (
        OrgUnit.objects.filter(parent=unit)
        .annotate(month_values=FilteredRelation(
            "indicator_values",
            condition=Q(indicator_values__period=period, indicator_values__key__in=keys)))
        .annotate(**annotations)
        .order_by("lft")
    )
    rows = []
    for child in children:
        row = LeagueRow(child)
        for i, key in enumerate(keys):
            row.figures[key] = Figure(key, indicators[key], getattr(child, f"v{i}"), getattr(child, f"n{i}"),
                                      getattr(child, f"d{i}"))
        row.ordered = [row.figures[key] for key in keys]
        rows.append(row)
    return rows
