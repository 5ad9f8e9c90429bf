"""Declaring monthly indicators and dashboard panels: what every app's ``indicators.py`` calls.

An app declares its indicators with ``register(Indicator(...))`` and its dashboard cards
with ``register_panel(Panel(...))``; both registries import the apps' ``indicators`` modules
on first use (as the admin imports ``admin.py``), so ``governance`` never imports an app
above it. The org chain's own indicators are declared in ``governance.indicators.org``.

A count or ratio indicator names a *leaf* function ``(start, end, units) -> QuerySet``: a
set-based query over the app's rows of the month, grouped by the org unit each row hangs
on (``.values(node=F("grid")).annotate(...)``), limited to ``units``. Indicators that
share a leaf function form a family, computed together by the engine (``engine``).

An indicator with ``cumulative=False`` counts something about the unit itself (the units
one level below it): its leaf rows are joined to the unit by id, not summed over the subtree.

A median cannot be summed up the tree: its ``samples`` function returns
``(tree_id, lft, value)`` rows of the month, and each unit's median is taken over the
samples inside its own range.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from governance.registry import Registry

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
    # False: the leaf row of a unit is its value (not summed over its subtree).
    cumulative: bool = True
    # For ``rollup_indicators --verify``: (start, end, units of a subtree) -> the count by a plain
    # ORM query, written independently of the leaf query it checks.
    check: Callable[[datetime.datetime, datetime.datetime, QuerySet], int] | None = None

    def __post_init__(self):
        if self.kind not in (COUNT, RATIO, MEDIAN):
            raise ValueError(f"indicator {self.key}: unknown kind {self.kind!r}")
        if self.kind == MEDIAN and self.samples is None:
            raise ValueError(f"median indicator {self.key} needs samples")
        if self.kind != MEDIAN and self.leaf is None:
            raise ValueError(f"indicator {self.key} needs a leaf function")
        if self.kind == RATIO and not self.denominator:
            raise ValueError(f"ratio indicator {self.key} needs a denominator column")


_registry = Registry("indicators", core="governance.indicators.org")  # the org chain's, then each app's


def register(indicator: Indicator) -> Indicator:
    return _registry.add(indicator.key, indicator)


def unregister(key: str) -> None:
    _registry.remove(key)


def all_indicators() -> list[Indicator]:
    return _registry.all()


def get_indicator(key: str) -> Indicator:
    return _registry.get(key)


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
