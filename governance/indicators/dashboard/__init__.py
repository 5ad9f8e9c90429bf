"""Read side of the dashboards (统计分析): selectors over ``IndicatorValue`` only.

The dashboards never aggregate raw rows at request time: every number on them is a row
the monthly rollup wrote. Each selector costs one query whatever the size of the tree
(the league table is one grouped join of the children with their values of the month),
so a page stays within a fixed query budget at city scale.

``scope`` (where a user's dashboards start and reach), ``numbers`` (a unit's figures, trend,
breakdown and league, formatted), ``page`` (the whole page as data). What they show is what
each indicator declares (``registry.Indicator``): they name no app's indicator.
"""

from governance.indicators.dashboard.numbers import (
    TREND_MONTHS,
    Change,
    Figure,
    League,
    LeagueRow,
    Row,
    breakdown,
    breakdowns,
    default_period,
    format_number,
    indicator_map,
    kpi_rows,
    league,
    league_keys,
    placed,
    plain_number,
    rating,
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
    visible_unit,
)

__all__ = [
    "TREND_MONTHS", "Change", "combine", "medians", "series_over", "values_over",
    "DashboardPage", "Figure", "Figures", "League", "LeagueRow", "Row", "breadcrumb",
    "breakdown", "breakdowns", "dashboard_figures", "dashboard_page", "default_period", "format_number",
    "indicator_map", "kpi_rows", "league", "league_keys", "panels", "placed", "plain_number", "rating", "record_link",
    "rollup_progress", "rollup_runs", "scope_top", "trend", "trend_keys", "unit_rows", "visible_unit",
]
