"""Read side of the dashboards (统计分析): selectors over the values the rollup stored.

The dashboards never aggregate raw rows at request time: every number on them is a row the
monthly rollup wrote (``IndicatorValue``, ``PeriodValue``), or, over several months, those
rows added up as each indicator declares (``periods``). Each selector costs one query whatever
the size of the tree, so a page stays within a fixed query budget at city scale. The one
exception is the median of a run of months the rollup does not store, taken from its samples.
The rollup stores no row whose numerator is 0 and whose denominator is 0 or NULL: in a month
computed for a unit (it has a row of it), a missing row reads as ``Indicator.unstored`` says (a
count 0, a ratio "0 of 0", a median no value), filled in by ``periods.complete`` (rows) and
``numbers.Figure.unstored`` (the league's figures); a month never computed stays empty.

``scope`` (where a user's dashboards start and reach), ``periods`` (values over several
months), ``numbers`` (a unit's figures, trend and breakdown, formatted), ``league`` (the units one level
down, sorted and coloured), ``page`` (the
whole page as data). What they show is what each indicator declares (``registry.Indicator``):
they name no app's indicator.
"""

from governance.indicators.dashboard.league import League, LeagueRow, league, league_keys
from governance.indicators.dashboard.numbers import (
    TREND_MONTHS,
    Change,
    Figure,
    Goal,
    Row,
    breakdown,
    breakdowns,
    declared_goal,
    default_period,
    format_number,
    indicator_map,
    kpi_rows,
    placed,
    plain_number,
    rating,
    read_targets,
    trend,
    trend_keys,
    unit_rows,
)
from governance.indicators.dashboard.page import (
    DashboardPage,
    Figures,
    dashboard_figures,
    dashboard_page,
    panels,
    record_link,
)
from governance.indicators.dashboard.periods import combine, medians, series_over, values_over
from governance.indicators.dashboard.scope import (
    breadcrumb,
    rollup_progress,
    rollup_runs,
    scope_top,
    unit_chain,
    visible_unit,
)

__all__ = [
    "TREND_MONTHS", "Change", "combine", "medians", "series_over", "values_over",
    "DashboardPage", "Figure", "Figures", "Goal", "League", "LeagueRow", "Row", "breadcrumb", "declared_goal",
    "read_targets",
    "breakdown", "breakdowns", "dashboard_figures", "dashboard_page", "default_period", "format_number",
    "indicator_map", "kpi_rows", "league", "league_keys", "panels", "placed", "plain_number", "rating", "record_link",
    "rollup_progress", "rollup_runs", "scope_top", "trend", "trend_keys", "unit_chain", "unit_rows", "visible_unit",
]
