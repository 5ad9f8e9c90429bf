"""Declaring monthly indicators and dashboard panels: what every app's ``indicators.py`` calls.

An app declares its indicators with ``register(Indicator(...))`` and its dashboard cards
with ``register_panel(Panel(...))``; both registries import the apps' ``indicators`` modules
on first use (as the admin imports ``admin.py``), so ``governance`` never imports an app
above it. The org chain's own indicators are declared in ``governance.indicators.org``.

A count or ratio indicator names a *leaf* function ``(start, end, units) -> QuerySet``: a
set-based query over the app's rows of the month, grouped by the org unit each row hangs
on (``.values(node=F("grid")).annotate(...)``), limited to ``units``; or a ``Tally`` of the
rows when one set of rows is counted many ways. Indicators that
share a leaf function form a family, computed together by the engine (``engine``).

An indicator with ``cumulative=False`` counts something about the unit itself (the units
one level below it): its leaf rows are joined to the unit by id, not summed over the subtree.

A median cannot be summed up the tree: its ``samples`` function returns
``(tree_id, lft, value)`` rows of the month, and each unit's median is taken over the
samples inside its own range.

How the dashboards show an indicator is declared with it too (``governance.indicators.dashboard``
names no app's key): its place among the headline cards, trend lines and league columns, its
target, which way is better, the record list its number opens, whether it is a percentage, and
the breakdown chart it is one bar of. An indicator that declares none of them is still a row of
the dashboard's full table. Apps declare their breakdown charts (``register_breakdown``) and
dashboard panels (``register_panel``) the same way.
"""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from governance.registry import Registry

ZERO = Decimal(0)

COUNT = "count"
RATIO = "ratio"
MEDIAN = "median"

# How an indicator adds up over a period of several months (``Indicator.over``): a flow is
# summed month by month (cases raised; a ratio sums its numerators and its denominators, never
# its rates), a stock is read at the period's last month (households, open at period end).
# A median takes the period's own samples instead.
FLOW = "flow"
STOCK = "stock"

# Which way is better (``Indicator.better``): it colours a change and turns a target around.
HIGHER = "higher"
LOWER = "lower"

@dataclass(frozen=True)
class Target:
    """Green at ``green`` or better, yellow at ``yellow`` or better, else red.

    "Better" is the indicator's ``better``: at or above for HIGHER, at or below for LOWER.
    ``settings.DASHBOARD_TARGETS`` overrides it per key.
    """

    green: float
    yellow: float


# Which number of a figure the records list counts (``RecordLink.counts``): a count's value, a
# rate's denominator (the cases it is a share of) or its numerator.
VALUE = "value"
NUMERATOR = "numerator"
DENOMINATOR = "denominator"


@dataclass(frozen=True)
class RecordLink:
    """The record list whose own filters reproduce an indicator's number exactly.

    The dashboard links to ``url_name`` with the unit's filter pickers (``portal.forms.FILTER_LEVELS``),
    the period's first and last days as the inclusive dates ``first_day`` and ``last_day`` (the
    list's own parameter names; "" leaves one out: a stock "at the end of the month" names only
    its last day), and ``query``. ``counts`` says which number the list's count equals: the value
    of a count, the denominator of a rate (the list of the cases it is a share of), or its
    numerator. Declare one only where the list's count equals that number.
    """

    url_name: str
    first_day: str = ""
    last_day: str = ""
    query: Mapping[str, str] = field(default_factory=dict, hash=False)
    counts: str = VALUE

    def __post_init__(self):
        if self.counts not in (VALUE, NUMERATOR, DENOMINATOR):
            raise ValueError(f"record link {self.url_name}: counts is value, numerator or denominator")

    @property
    def parameters(self) -> list[str]:
        """The list's query parameters this link fills in (the unit pickers apart)."""
        return [name for name in (self.first_day, self.last_day, *self.query) if name]


@dataclass(frozen=True)
class Tally:
    """A leaf that counts rows by conditions, each tested once per row: what a leaf function may
    return instead of a grouped queryset when it counts one set of rows many ways.

    ``rows`` is a ``values()`` queryset of the rows, one per record, with ``node`` (the unit it
    hangs on) and the names the conditions test (booleans annotated from the record's dates, a
    category's code ...). ``counts`` maps each column to its conditions, name → value, all of
    which must hold: ``{"red": {"raised": True, "colour": "red"}}``. The engine projects the names
    once per row and counts every column over them (``engine._tally_sql``); the same counts as
    filtered ``Count`` annotations evaluate each date comparison again for every column (the
    case family's 26 columns took three times as long).
    """

    rows: QuerySet
    counts: Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class Indicator:
    """A monthly indicator: ``numerator``/``denominator`` name columns of the leaf query.

    The fields after ``check`` say how the dashboards show it (a unit of "%" makes it a
    percentage, see ``percent``); the places are sort keys
    (smaller first, ties in registry order) shared by every app, so an app puts its card
    between others' without touching them.
    """

    key: str
    label: str
    unit: str
    kind: str = COUNT
    leaf: Callable[[datetime.datetime, datetime.datetime, QuerySet], QuerySet] | None = None
    numerator: str = "n"
    denominator: str | None = None
    # MEDIAN only: (start, end, units) -> iterable of (tree_id, lft, value) rows.
    samples: Callable | None = None
    # False: the leaf row of a unit is its value (not summed over its subtree).
    cumulative: bool = True
    # For ``rollup_indicators --verify``: (start, end, units of a subtree) -> the count by a plain
    # ORM query, written independently of the leaf query it checks.
    check: Callable[[datetime.datetime, datetime.datetime, QuerySet], int] | None = None
    # Its place among the dashboard's headline cards, trend lines (last 12 months, and the league
    # chart's bars) and league table columns; None: not there.
    headline: int | None = None
    trend: int | None = None
    league: int | None = None
    # The red/yellow/green thresholds (needs ``better``); settings.DASHBOARD_TARGETS overrides them.
    target: Target | None = None
    # HIGHER or LOWER is better (a change is coloured good or bad); None: a change is neutral.
    better: str | None = None
    # The list whose count equals the value, or None (no link).
    records: RecordLink | None = None
    # The key of the breakdown chart (``Breakdown``) this count is one bar of, or "": a row of the full table.
    breakdown: str = ""
    # FLOW or STOCK: how the months of a period add up (required but for a median).
    over: str | None = None
    # What it means, in a sentence the dashboard shows beside it (two rates that sound alike
    # must say how they differ).
    definition: str = ""
    # A figure "as of today" about a month (of the cases raised in it, those closed by now) keeps
    # changing after the month. ``changes(marker)`` returns the months whose figures may have
    # changed since ``marker`` (None: never asked) and the marker to ask with next time; the
    # refresh task (``tasks.refresh_to_date``) recomputes those months' families. None: final
    # once its month is over.
    changes: Callable[[int | None], tuple[set[datetime.date], int | None]] | None = None
    # (term list, code) when the label is the name of a term a county may call its own way
    # (``governance.terms``: a case category, a grid-worker type): the county's dashboard shows its name.
    term: tuple[str, str] | None = None
    # Decimals the figure is always written with (2 for yuan to the fen); None: a whole number as
    # such, any other with one decimal.
    decimals: int | None = None

    def __post_init__(self):
        if self.kind not in (COUNT, RATIO, MEDIAN):
            raise ValueError(f"indicator {self.key}: unknown kind {self.kind!r}")
        if self.kind == MEDIAN and self.samples is None:
            raise ValueError(f"median indicator {self.key} needs samples")
        if self.kind != MEDIAN and self.leaf is None:
            raise ValueError(f"indicator {self.key} needs a leaf function")
        if self.kind == RATIO and not self.denominator:
            raise ValueError(f"ratio indicator {self.key} needs a denominator column")
        if self.kind == MEDIAN and self.over is not None:
            raise ValueError(f"median indicator {self.key}: a median takes its period's samples, it has no 'over'")
        if self.kind != MEDIAN and self.over not in (FLOW, STOCK):
            raise ValueError(f"indicator {self.key}: say how it adds up over months: over=FLOW or over=STOCK")
        if self.better not in (None, HIGHER, LOWER):
            raise ValueError(f"indicator {self.key}: better is HIGHER, LOWER or None, not {self.better!r}")
        if self.target is not None and self.better is None:
            raise ValueError(f"indicator {self.key}: a target needs better=HIGHER or LOWER")
        if self.kind != RATIO and isinstance(self.unit, str) and self.unit == "%":  # a lazy unit is never "%"
            raise ValueError(f"indicator {self.key}: only a ratio (a fraction) is measured in %")

    @cached_property
    def percent(self) -> bool:
        """Shown as a percentage: a ratio declared in "%" (its value is a fraction, 0.171 → 17.1%).

        The one place that decides it: the page formats with it and hands it to the charts. Worked
        out once: a province's dashboard asks it of a thousand figures, and a lazy unit is
        translated each time it is made a string.
        """
        return self.kind == RATIO and str(self.unit) == "%"

    @property
    def unstored(self) -> tuple[Decimal, Decimal | None, Decimal | None] | None:
        """What the month of a unit means by having no row of this indicator, once the month was
        computed for the unit: (numerator, denominator, value), or None for "no value".

        The rollup stores no row whose numerator is 0 and whose denominator is 0 or NULL: most
        units count nothing of most things in a month. So a missing count is 0, a missing ratio is
        "0 of 0" (no rate), and a missing median had no samples (no value). The one place that says
        it: every reader (the dashboards, the API, the Excel export) completes a computed month's
        values with it (rows: ``dashboard.periods.complete``; figures: ``dashboard.numbers.Figure.unstored``).
        """
        if self.kind == MEDIAN:
            return None
        if self.kind == RATIO:
            return ZERO, ZERO, None
        return ZERO, None, ZERO


_registry = Registry("indicators", core="governance.indicators.org")  # the org chain's, then each app's


def register(indicator: Indicator) -> Indicator:
    return _registry.add(indicator.key, indicator)


def unregister(key: str) -> None:
    _registry.remove(key)


def all_indicators() -> list[Indicator]:
    return _registry.all()


def get_indicator(key: str) -> Indicator:
    return _registry.get(key)


# --- What an indicator means, in one line ------------------------------------------------------


def definition_line(indicator: Indicator) -> str:
    """The indicator's definition in one line, as the dashboard's tooltips and its "what the figures
    mean" card show it: the sentence it declares (``definition``), or, for one that declares none,
    what its declaration says (a count of the month, at its end, a share, a median)."""
    if indicator.definition:
        return str(indicator.definition)
    label = str(indicator.label)
    if indicator.kind == MEDIAN:
        return _("%(label)s: the median over the month's own records.") % {"label": label}
    if indicator.kind == RATIO:
        return _("%(label)s: a share, its numerator over its denominator.") % {"label": label}
    if indicator.over == STOCK:
        return _("%(label)s at the end of the month.") % {"label": label}
    return _("%(label)s, counted over the month.") % {"label": label}


def adding_up(indicator: Indicator) -> str:
    """How the indicator adds up over several months (``over``), in one short sentence."""
    if indicator.kind == MEDIAN:
        return _("Over several months: the median over the period's own records.")
    if indicator.over == STOCK:
        return _("Over several months: the last month's.")
    if indicator.kind == RATIO:
        return _("Over several months: the months' numerators over their denominators.")
    return _("Over several months: the months added up.")


def without_definition() -> list[str]:
    """The keys of the indicators a dashboard shows that declare no definition of their own.

    Every indicator but a breakdown's bars is a row of the dashboard's full table; a bar is
    defined by its chart (``Breakdown.definition``). The test suite holds this list empty.
    """
    charts = {chart.key: chart for chart in _breakdowns.all()}
    missing = []
    for indicator in all_indicators():
        if indicator.breakdown:
            chart = charts.get(indicator.breakdown)
            if chart is None or not chart.definition:
                missing.append(indicator.key)
        elif not indicator.definition:
            missing.append(indicator.key)
    return missing


# --- Dashboard panels that apps add ---------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """A card an app adds to every dashboard, declared in its ``indicators.py`` with ``register_panel``.

    ``context(unit, period, values)`` gets the unit's IndicatorValue rows of the month by key (already
    read: a panel adds no query) and returns the context of ``template``.
    """

    key: str
    title: str
    template: str
    context: Callable[..., dict]  # (unit, period, values) -> the template's context
    order: int = 100


_panels = Registry("indicators", core="governance.indicators.org")  # declared next to the apps' indicators


def register_panel(panel: Panel) -> Panel:
    return _panels.add(panel.key, panel)


def unregister_panel(key: str) -> None:
    _panels.remove(key)


def all_panels() -> list[Panel]:
    return _panels.all()


# --- Breakdown charts that apps add ------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    """A chart of counts that belong together (cases by category), declared by the app whose counts
    they are with ``register_breakdown``; its bars are the indicators that name its ``key`` in
    ``Indicator.breakdown``, biggest first, and its table has the two headings given here."""

    key: str
    title: str
    label_heading: str  # the bars' column (a category)
    value_heading: str  # the counts' column (cases)
    empty: str  # said when the month has no count yet
    order: int = 100
    definition: str = ""  # what its bars count, in a sentence (the bars share it)


_breakdowns = Registry("indicators", core="governance.indicators.org")  # declared next to the apps' indicators


def register_breakdown(breakdown: Breakdown) -> Breakdown:
    return _breakdowns.add(breakdown.key, breakdown)


def all_breakdowns() -> list[Breakdown]:
    return sorted(_breakdowns.all(), key=lambda breakdown: (breakdown.order, breakdown.key))

