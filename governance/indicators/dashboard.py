"""Read side of the dashboards (统计分析): selectors over ``IndicatorValue`` only.

The dashboards never aggregate raw rows at request time: every number on them is a row
the monthly rollup wrote. Each selector costs one query whatever the size of the tree
(the league table is one grouped join of the children with their values of the month),
so a page stays within a fixed query budget at city scale.

What the page shows is declared here as plain lists of indicator keys (headline cards,
trend lines, league columns). A key that no app registered is left out, and every
registered indicator appears in the page's full table, so an app that registers a new
indicator shows up without a change here. Targets (red/yellow/green) have defaults below
and may be overridden per key by ``settings.DASHBOARD_TARGETS``.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Exists, FilteredRelation, Max, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.indicators.months import month_last_day, month_start, shift_month
from governance.indicators.registry import MEDIAN, RATIO, Indicator, all_indicators, all_panels
from governance.models import LEVEL_ORDER, IndicatorValue, OrgUnit, RollupRun
from governance.portal.forms import FILTER_LEVELS

# Headline cards, trend lines and league columns, in the order the page shows them.
KPI_KEYS = [
    "households", "residents", "grid.cases_raised", "grid.cases_closed", "grid.closure_rate",
    "grid.on_time_rate", "grid.cases_overdue", "grid.median_hours_to_resolve", "grid.satisfaction_rate",
    "grid.worker_party_share", "partybuild.members", "partybuild.wishes_completed", "partybuild.volunteer_hours",
]
TREND_KEYS = ["grid.cases_raised", "grid.cases_closed", "grid.cases_overdue", "grid.closure_rate"]
LEAGUE_KEYS = [
    "households", "residents", "grid.cases_raised", "grid.cases_closed", "grid.closure_rate", "grid.on_time_rate",
    "grid.cases_overdue", "grid.median_hours_to_resolve", "grid.worker_party_share", "partybuild.members",
    "partybuild.wishes_completed", "partybuild.volunteer_hours",
]
# Case counts by category, once the grid registers them (one key per category code).
CATEGORY_PREFIX = "grid.cases_category."

# Green at or above ``green``, yellow at or above ``yellow``, else red; ``lower`` reverses it
# (fewer overdue cases is better). Override or add keys in settings.DASHBOARD_TARGETS.
DEFAULT_TARGETS = {
    "grid.closure_rate": {"green": 0.95, "yellow": 0.85},
    "grid.on_time_rate": {"green": 0.9, "yellow": 0.8},
    "grid.satisfaction_rate": {"green": 0.9, "yellow": 0.8},
    "grid.cases_overdue": {"green": 0, "yellow": 2, "lower": True},
}
# Which way is better, for the colour of a change (keys not named here change in grey).
BETTER_UP = {"grid.closure_rate", "grid.on_time_rate", "grid.satisfaction_rate", "partybuild.wishes_completed",
             "partybuild.volunteer_hours", "partybuild.volunteer_services", "grid.worker_party_share"}
BETTER_DOWN = {"grid.cases_overdue", "grid.median_hours_to_resolve", "grid.cases_red"}

RATING_WORDS = {
    "green": gettext_lazy("On target"),
    "yellow": gettext_lazy("Near target"),
    "red": gettext_lazy("Below target"),
}

# Numbers that link to the records behind them: indicator key → (URL name, extra query).
# Only where the list's own filters reproduce the indicator exactly: the case list filters by
# unit (township/village/grid pickers) and by report date, so "cases raised" (reported in the
# month) and its colour split match; cases accepted/resolved/closed in the month, overdue at
# month end, or the median have no such filter and get no link.
RECORD_LINKS = {
    "grid.cases_raised": ("grid:case-list", {}),
    "grid.cases_red": ("grid:case-list", {"colour": "red"}),
    "grid.cases_yellow": ("grid:case-list", {"colour": "yellow"}),
    "grid.cases_green": ("grid:case-list", {"colour": "green"}),
}


def targets() -> dict:
    return {**DEFAULT_TARGETS, **getattr(settings, "DASHBOARD_TARGETS", {})}


def rating(key: str, value) -> str | None:
    """"green", "yellow", "red", or None when the key has no target or there is no value."""
    target = targets().get(key)
    if target is None or value is None:
        return None
    value = float(value)
    if target.get("lower"):
        return "green" if value <= target["green"] else "yellow" if value <= target["yellow"] else "red"
    return "green" if value >= target["green"] else "yellow" if value >= target["yellow"] else "red"


def default_period(unit: OrgUnit, today: datetime.date | None = None) -> datetime.date:
    """The last month that has values for ``unit``, else the previous calendar month."""
    latest = IndicatorValue.objects.filter(org_unit=unit).aggregate(latest=Max("period"))["latest"]
    if latest is not None:
        return latest
    today = today or datetime.date.today()
    return shift_month(month_start(today), -1)


# --- Scope --------------------------------------------------------------------------------


def scope_top(user) -> OrgUnit | None:
    """Where the user's dashboard starts: his home unit, or the first top unit for the operator."""
    if user.home_unit_id is not None:
        return user.home_unit
    return OrgUnit.objects.visible_to(user).filter(parent__isnull=True).order_by("tree_id").first()


def visible_unit(user, code: str) -> OrgUnit:
    """The unit ``code`` inside the user's subtree (raises OrgUnit.DoesNotExist otherwise)."""
    return OrgUnit.objects.visible_to(user).get(code=code)


def rollup_runs(user):
    """The rollup runs the user may follow: those of his subtree, and the runs of the whole tree
    (no scope) when his own scope is the whole tree (no home unit, or a top unit)."""
    runs = RollupRun.objects.visible_to(user)
    if user.home_unit_id is None:
        return runs
    whole = RollupRun.objects.filter(org_unit__isnull=True).filter(
        Exists(OrgUnit.objects.filter(pk=user.home_unit_id, parent__isnull=True)))
    return RollupRun.objects.filter(Q(pk__in=runs.values("pk")) | Q(pk__in=whole.values("pk")))


def breadcrumb(user, unit: OrgUnit) -> list[OrgUnit]:
    """The units from the top of the user's scope down to ``unit`` (nothing above his scope)."""
    return list(unit.get_ancestors(include_self=True).visible_to(user).order_by("lft"))


# --- Numbers ------------------------------------------------------------------------------


def indicator_map() -> dict[str, Indicator]:
    return {indicator.key: indicator for indicator in all_indicators()}


def _number(value) -> float | int | None:
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def is_percent(indicator: Indicator | None) -> bool:
    """A ratio measured in % (closure rate) shows as a percentage; others (households per grid) as is."""
    return indicator is not None and indicator.kind == RATIO and str(indicator.unit) == "%"


def format_number(indicator: Indicator | None, value) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    if is_percent(indicator):
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
        return _number(self.value)

    @property
    def text(self) -> str:
        return format_number(self.indicator, self.value)

    @property
    def fraction(self) -> str:
        if not self.is_ratio or self.numerator is None:
            return ""
        return f"{_number(self.numerator):,} / {_number(self.denominator or 0):,}"

    @property
    def rating(self) -> str | None:
        return rating(self.key, self.value)

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
        if is_percent(self.indicator):
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
        if self.direction == "flat" or self.key not in BETTER_UP | BETTER_DOWN:
            return "neutral"
        return "good" if (self.direction == "up") == (self.key in BETTER_UP) else "bad"


def _change(key, indicator, current: Figure, earlier: Figure) -> Change:
    delta = None
    if current.value is not None and earlier.value is not None:
        delta = Decimal(current.value) - Decimal(earlier.value)
    return Change(key, indicator, earlier, delta)


@dataclass
class Row:
    """An indicator of the unit: this month, and its change against last month and last year."""

    key: str
    indicator: Indicator | None
    current: Figure
    last_month: Change
    last_year: Change

    @property
    def label(self) -> str:
        return str(self.indicator.label) if self.indicator else self.key

    @property
    def unit(self) -> str:
        return str(self.indicator.unit) if self.indicator else ""


def unit_values(unit: OrgUnit, period: datetime.date) -> dict[str, IndicatorValue]:
    """{key: IndicatorValue} of one unit and month (one query)."""
    return {row.key: row for row in IndicatorValue.objects.filter(org_unit=unit, period=month_start(period))}


def unit_rows(unit: OrgUnit, period: datetime.date) -> tuple[list[Row], dict[str, IndicatorValue]]:
    """Every indicator of ``unit`` with its changes (one query for the three months).

    Returns the rows (registered indicators in registry order, then any unregistered key that
    has a value) and the month's raw values ({key: IndicatorValue}, categories included).
    """
    period = month_start(period)
    previous, year_ago = shift_month(period, -1), shift_month(period, -12)
    by_period: dict = {period: {}, previous: {}, year_ago: {}}
    for row in IndicatorValue.objects.filter(org_unit=unit, period__in=list(by_period)):
        by_period[row.period][row.key] = row
    indicators = indicator_map()
    keys = [key for key in indicators if not key.startswith(CATEGORY_PREFIX)]
    keys += sorted(key for key in by_period[period] if key not in indicators and not key.startswith(CATEGORY_PREFIX))
    rows = []
    for key in keys:
        indicator = indicators.get(key)
        current = Figure.of(key, indicator, by_period[period].get(key))
        rows.append(Row(
            key, indicator, current,
            _change(key, indicator, current, Figure.of(key, indicator, by_period[previous].get(key))),
            _change(key, indicator, current, Figure.of(key, indicator, by_period[year_ago].get(key))),
        ))
    return rows, by_period[period]


def kpi_rows(rows: list[Row]) -> list[Row]:
    """The headline cards among ``rows``: the KPI keys that are registered, in KPI order."""
    by_key = {row.key: row for row in rows if row.indicator is not None}
    return [by_key[key] for key in KPI_KEYS if key in by_key]


def trend(unit: OrgUnit, keys: list[str], end_period: datetime.date, months: int = 12) -> dict:
    """The chart's shape: {"periods": ["2025-01", ...], "series": [{key, label, values}]} (one query)."""
    indicators = indicator_map()
    keys = [key for key in keys if key in indicators]
    end_period = month_start(end_period)
    periods = [shift_month(end_period, offset) for offset in range(1 - months, 1)]
    found = {
        (period, key): value
        for period, key, value in IndicatorValue.objects.filter(
            org_unit=unit, key__in=keys, period__gte=periods[0], period__lte=end_period
        ).values_list("period", "key", "value")
    }
    return {
        "periods": [f"{period:%Y-%m}" for period in periods],
        "series": [
            {"key": key, "label": str(indicators[key].label),
             "values": [_number(found.get((period, key))) for period in periods]}
            for key in keys
        ],
    }


def categories(values: dict[str, IndicatorValue]) -> dict:
    """Case counts by category from the month's values of keys ``grid.cases_category.<code>``."""
    indicators = indicator_map()
    items = sorted(
        ((key, row) for key, row in values.items() if key.startswith(CATEGORY_PREFIX)),
        key=lambda item: -(item[1].numerator or 0),
    )
    return {
        "labels": [str(indicators[key].label) if key in indicators else key[len(CATEGORY_PREFIX):]
                   for key, _row in items],
        "values": [int(row.numerator or 0) for _key, row in items],
    }


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
    """The league's columns: the registered LEAGUE_KEYS, plus the sort key if it is another indicator."""
    indicators = indicator_map()
    keys = [key for key in LEAGUE_KEYS if key in indicators]
    sort_key = sort.lstrip("-")
    if sort_key in indicators and sort_key not in keys:
        keys.append(sort_key)
    return keys


def league(unit: OrgUnit, period: datetime.date, keys: list[str], sort: str = "") -> League:
    """The units one level down with their values of the month (one grouped query).

    ``sort`` is an indicator key (ascending) or ``-key`` (descending); units without a value
    sort last either way, and ties keep the tree order.
    """
    period = month_start(period)
    indicators = indicator_map()
    keys = [key for key in keys if key in indicators]
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
            value = getattr(child, f"v{i}")
            numerator = getattr(child, f"n{i}")
            row.figures[key] = Figure(key, indicators[key], value, numerator, getattr(child, f"d{i}"))
        row.ordered = [row.figures[key] for key in keys]
        rows.append(row)
    sort_key = sort.lstrip("-")
    if sort_key in keys:
        descending = sort.startswith("-")
        present = [r for r in rows if r.figures[sort_key].value is not None]
        missing = [r for r in rows if r.figures[sort_key].value is None]
        present.sort(key=lambda r: r.figures[sort_key].value, reverse=descending)
        rows = present + missing
    else:
        sort = ""
    return League(keys, [indicators[key] for key in keys], rows, sort)


# --- Links to the records behind a number -------------------------------------------------


def record_link(key: str, unit: OrgUnit, chain: list[OrgUnit], period: datetime.date, user) -> str:
    """The list URL whose count equals ``unit``'s value of ``key`` for the month, or "".

    ``chain`` is the unit's ancestors from the user's scope top down to the unit itself. The
    scoped filter bars pick township → village → grid below the user's home unit; the home
    unit itself needs no picker (the list already shows exactly its subtree). Anything else
    (a county seen by an operator with no home unit, a micro-grid) cannot be reproduced.
    """
    link = RECORD_LINKS.get(key)
    if link is None:
        return ""
    name, extra = link
    home_id = user.home_unit_id
    query: dict[str, str] = {}
    if unit.pk != home_id:
        if unit.level not in FILTER_LEVELS:
            return ""
        # The chain starts at the home unit when there is one: no need to load it again.
        home = next((u for u in chain if u.pk == home_id), None) or (user.home_unit if home_id else None)
        home_depth = LEVEL_ORDER.index(home.level) if home else -1
        for ancestor in chain:
            if ancestor.level in FILTER_LEVELS and LEVEL_ORDER.index(ancestor.level) > home_depth:
                query[ancestor.level] = ancestor.code
        if query.get(unit.level) != unit.code:
            return ""
    query.update(extra)
    query["reported_from"] = f"{period:%Y-%m-%d}"
    query["reported_to"] = f"{month_last_day(period):%Y-%m-%d}"
    try:
        return f"{reverse(name)}?{urlencode(query)}"
    except NoReverseMatch:
        return ""


def panels(unit: OrgUnit, period: datetime.date, values: dict) -> list[dict]:
    """Every registered panel, rendered for the unit and month."""
    return [
        {"key": panel.key, "title": panel.title,
         "html": render_to_string(panel.template, panel.context(unit, period, values))}
        for panel in sorted(all_panels(), key=lambda panel: (panel.order, panel.key))
    ]
