"""The dashboard page (``/dashboard/``) as data: ``dashboard_page`` builds everything the template
shows, ``dashboard_figures`` the numbers its Excel export holds. The view parses the request
and renders; it assembles nothing.

Cards, trend lines and league columns are the indicators that declare a place there, the
numbers link to the records an indicator declares, and the charts' data says which series
are percentages: the page names no app's indicator.
"""

from dataclasses import dataclass, field, fields
from urllib.parse import urlencode

from django.db.models import Q
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.indicators.approval import can_approve_months, can_start_rollup
from governance.indicators.dashboard.league import League, apply_goals, league, league_children, league_keys
from governance.indicators.dashboard.numbers import (
    TREND_MONTHS,
    Figure,
    Row,
    breakdowns,
    compared_periods,
    default_period,
    indicator_map,
    kpi_rows,
    read_targets,
    shown_unit,
    trend,
    trend_keys,
    trend_periods,
    unit_rows,
)
from governance.indicators.dashboard.periods import by_month, computed_marks, medians, stock_month
from governance.indicators.dashboard.scope import breadcrumb, rollup_runs
from governance.indicators.months import (
    HALF,
    MAX_PERIOD_MONTHS,
    MONTH,
    QUARTER,
    YEAR,
    Period,
    month_last_day,
    parse_period,
    this_month,
)
from governance.indicators.registry import FLOW, Indicator, adding_up, all_breakdowns, all_panels, definition_line
from governance.models import LEVEL_ORDER, IndicatorValue, MonthApproval, OrgUnit, RollupRun
from governance.portal.forms import FILTER_LEVELS
from governance.terms import local_names

# --- Links to the records behind a number -------------------------------------------------


def record_link(indicator: Indicator | None, unit: OrgUnit, chain: list[OrgUnit], period: Period, user) -> str:
    """The URL of the list the indicator declares (``records``) whose count equals ``unit``'s number
    (its value, or a rate's denominator: ``RecordLink.counts``), or "".

    Over several months only a flow's count is the list's (a stock is its last month's, a median
    is taken over the period's own records).

    ``chain`` is the unit's ancestors from the user's scope top down to the unit itself. The
    scoped filter bars pick township → village → grid below the user's home unit; the home
    unit itself needs no picker (the list already shows exactly its subtree). Anything else
    (a county seen by an operator with no home unit, a micro-grid) cannot be reproduced.
    """
    link = indicator.records if indicator is not None else None
    if link is None or (not period.is_month and indicator.over != FLOW):
        return ""
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
    query.update(link.query)
    if link.first_day:
        query[link.first_day] = f"{period.first:%Y-%m-%d}"
    if link.last_day:
        query[link.last_day] = f"{month_last_day(period.last):%Y-%m-%d}"
    try:
        return f"{reverse(link.url_name)}?{urlencode(query)}"
    except NoReverseMatch:
        return ""


def panels(unit: OrgUnit, period: Period, values: dict) -> list[dict]:
    """Every registered panel, rendered for the unit and period."""
    return [
        {"key": panel.key, "title": panel.title,
         "html": render_to_string(panel.template, panel.context(unit, period, values))}
        for panel in sorted(all_panels(), key=lambda panel: (panel.order, panel.key))
    ]


# --- The page -----------------------------------------------------------------------------


@dataclass
class Figures:
    """A unit's numbers over a period: what the page shows and its Excel export holds."""

    unit: OrgUnit
    period: Period
    rows: list[Row]  # every indicator, with or without a value
    values: dict[str, IndicatorValue]  # the period's values by key, breakdowns included
    league: League
    trend: dict
    breakdowns: list[dict]  # every declared breakdown chart with its bars
    level_name: str = ""  # the unit's level as its county calls it
    monthly: dict = field(default_factory=dict)  # the unit's monthly rows read: {(month, key): IndicatorValue}


def dashboard_figures(*, unit: OrgUnit, period: Period | None = None, sort: str = "") -> Figures:
    """The numbers of ``unit`` over ``period`` (default: its last month with values), each with the
    target in force (``IndicatorTarget``, else the declared one) and the league coloured by it.

    A month costs four queries at most; a period of several months six (the league's children and
    rows apart, and the stored medians).
    """
    period = period or Period.month(default_period(unit))
    lines = trend_keys()
    months = trend_periods(period.last, min(max(TREND_MONTHS, period.length), MAX_PERIOD_MONTHS))
    # The compared periods and the trend's months, in one read of the unit's values.
    # A row of each of the trend's months computed for the unit, too: a month without a row of a
    # trend line is then 0 where it was computed and no point where it was not.
    wanted = Q(key__in=lines, period__gte=months[0], period__lte=months[-1]) | computed_marks(
        [unit.pk], months[0], months[-1])
    for compared in compared_periods(period):
        wanted |= Q(period__gte=compared.first, period__lte=compared.last)
    found = list(IndicatorValue.objects.filter(org_unit=unit).filter(wanted))
    at = stock_month(found, period)
    found_medians, children = {}, None
    if not period.is_month:
        # ``unit`` was read in this request: its tree range is current, as the medians need.
        children = league_children(unit, period)
        found_medians = medians([unit, *children], compared_periods(period), indicator_map())
    names = local_names(unit)  # the county's own words for its terms: one query
    rows, values = unit_rows(unit, period, found, found_medians, names)
    table = league(unit, period, league_keys(sort), sort, at=at, medians=found_medians, children=children)
    apply_goals(rows, table, read_targets(unit), period)  # the county's targets: one query
    monthly = by_month(found, lines, indicator_map())
    return Figures(
        unit=unit, period=period, rows=rows, values=values, league=table,
        trend=trend(unit, lines, period.last, len(months), monthly=monthly),
        breakdowns=breakdowns(values, names),
        level_name=names.level(unit.level),
        monthly=monthly,
    )


@dataclass
class DashboardPage:
    """Everything ``/dashboard/`` shows of one unit and period; its fields are the template's context."""

    unit: OrgUnit
    level_name: str  # the unit's level in its county's own words
    chain: list[OrgUnit]
    period: Period
    period_label: str  # as written in URLs: 2025-05, 2025-Q2, 2025-H1, 2025, 2025-01..2025-06
    period_name: str  # as the page names it: 2025年第二季度
    is_month: bool
    period_choices: list[dict]  # the picker's month, quarter, half-year, year and year so far
    previous_period: str
    next_period: str
    has_values: bool
    kpis: list[Row]
    rows: list[Row]  # the full table: the indicators with a value in the period or the one before
    league: League
    sort_links: list[dict]
    trend: dict
    trend_rows: list[dict]  # each: period, cells (a Figure per trend line, linked to its records)
    trend_heads: list[dict]  # the trend table's column heads: label, unit (where the label lacks it), definition
    breakdowns: list[dict]  # each: key, title, headings, empty text, labels, values, rows, definition
    charts: dict  # the data of the page's charts (dashboard-charts.js)
    export_href: str
    can_run_rollup: bool
    can_approve: bool
    last_run: RollupRun | None
    month_is_over: bool
    approval: MonthApproval | None
    panels: list[dict]
    definitions: list[dict]  # what the figures shown mean (``Indicator.definition``): labels, text, keys

    def context(self) -> dict:
        """The fields by name, as the template (and the tests, through ``response.context``) read them."""
        return {item.name: getattr(self, item.name) for item in fields(self)}


def _link_figures(figures: Figures, chain: list[OrgUnit], user) -> None:
    """Give every number that has a value the link to the records behind it (no query): the unit's
    figures (cards and the full table) and each league cell."""
    for row in figures.rows:
        if row.current.value is not None:
            row.current.href = record_link(row.indicator, figures.unit, chain, figures.period, user)
    for league_row in figures.league.rows:
        for figure in league_row.figures.values():
            if figure.value is not None:
                figure.href = record_link(figure.indicator, league_row.unit, [*chain, league_row.unit],
                                          figures.period, user)


def _trend_rows(figures: Figures, chain: list[OrgUnit], user, indicators: dict[str, Indicator]) -> list[dict]:
    """The trend's table: a row per month, each number a ``Figure`` linked to its month's records."""
    rows = []
    for month in figures.trend["periods"]:
        first = parse_period(month)
        cells = []
        for series in figures.trend["series"]:
            key = series["key"]
            cell = Figure.of(key, indicators.get(key), figures.monthly.get((first, key)))
            if cell.value is not None:
                cell.href = record_link(cell.indicator, figures.unit, chain, Period.month(first), user)
            cells.append(cell)
        rows.append({"period": month, "cells": cells})
    return rows


def _sort_links(league: League, params: QueryDict) -> list[dict]:
    """The league's column heads: each sorts by its indicator, descending first, then ascending, and
    says what it means, its unit (where its label lacks it), its target and how it is coloured."""
    query = params.copy()
    query.pop("export", None)
    links = []
    for indicator in league.indicators:
        key = indicator.key
        active = league.sort.lstrip("-") == key
        descending = active and league.sort.startswith("-")
        query["sort"] = key if descending else f"-{key}"
        label = str(indicator.label)
        links.append({"indicator": indicator, "href": f"?{query.urlencode()}", "active": active,
                      "descending": descending, "label": label, "unit": shown_unit(indicator, label),
                      "definition": definition_line(indicator), "goal": league.goals.get(key),
                      "note": league.notes.get(key, ""),
                      "ranked": any(row.figures[key].rank for row in league.rows)})
    return links


def _charts(figures: Figures) -> dict:
    """The charts' data: each series says whether it is a percentage, so the script never guesses.

    The league's bars are drawn in two charts, its counts and its rates: a count and a rate never
    share a bar axis.
    """
    league = figures.league
    trending = set(trend_keys())
    series = [
        {"key": key, "label": str(indicator.label), "percent": indicator.percent,
         "values": [row.figures[key].number for row in league.rows]}
        for key, indicator in zip(league.keys, league.indicators, strict=True)
        if key in trending  # the league charts compare the columns that are also trend lines
    ]
    return {
        "trend": figures.trend,
        "breakdowns": {chart["key"]: {"label": chart["value_heading"], "labels": chart["labels"],
                                      "values": chart["values"]} for chart in figures.breakdowns},
        "league": {
            "labels": [row.unit.display_name for row in league.rows],
            "counts": [line for line in series if not line["percent"]],
            "rates": [line for line in series if line["percent"]],
        },
    }


def period_choices(period: Period, params: QueryDict) -> list[dict]:
    """The picker's ways to read the figures around ``period``'s last month: that month, its quarter,
    half-year, year, and its year so far; the one shown is active."""
    month = period.last
    choices = [
        (MONTH, pgettext_lazy("period picker", "Month"), Period.month(month)),
        (QUARTER, _("Quarter"), Period.quarter(month.year, (month.month + 2) // 3)),
        (HALF, _("Half-year"), Period.half(month.year, 1 if month.month <= 6 else 2)),
        (YEAR, _("Year"), Period.year(month.year)),
        ("ytd", _("Year to date"), Period.year_to_date(month)),
    ]
    query = params.copy()
    query.pop("export", None)
    links, active_seen = [], False
    for kind, label, choice in choices:
        query["period"] = str(choice)
        active = choice == period and not active_seen
        active_seen = active_seen or active
        links.append({"kind": kind, "label": label, "period": str(choice), "href": f"?{query.urlencode()}",
                      "active": active})
    return links


def dashboard_page(*, user, unit: OrgUnit, period: Period | None = None, sort: str = "",
                   params: QueryDict | None = None, chain: list[OrgUnit] | None = None) -> DashboardPage:
    """The dashboard of ``unit`` (inside the user's scope) over ``period`` (default: its last month with values).

    ``sort`` orders the league (an indicator key, ``-key`` descending); ``params`` are the page's
    query parameters, kept in its sort and export links; ``chain`` is the breadcrumb when the
    caller read it with the unit (``scope.unit_chain``). At most seven queries for a month, ten
    for a period of several months (panels add none), one less with the ``chain``.
    """
    params = params if params is not None else QueryDict()
    figures = dashboard_figures(unit=unit, period=period, sort=sort)
    period = figures.period
    chain = chain if chain is not None else breadcrumb(user, unit)
    _link_figures(figures, chain, user)
    indicators = indicator_map()
    trend_data = figures.trend
    export_query = params.copy()
    export_query["export"] = "xlsx"
    can_run_rollup = can_start_rollup(user) and period.is_month
    rows = [row for row in figures.rows
            if row.current.value is not None or row.last_month.earlier.value is not None]
    return DashboardPage(
        unit=unit,
        level_name=figures.level_name,
        chain=chain,
        period=period,
        period_label=str(period),
        period_name=period.label,
        is_month=period.is_month,
        period_choices=period_choices(period, params),
        previous_period=str(period.previous),
        next_period=str(period.following),
        has_values=bool(figures.values),
        kpis=kpi_rows(figures.rows),
        rows=rows,
        league=figures.league,
        sort_links=_sort_links(figures.league, params),
        trend=trend_data,
        trend_rows=_trend_rows(figures, chain, user, indicators),
        trend_heads=[{"key": series["key"], "label": series["label"],
                      "unit": shown_unit(indicators.get(series["key"]), series["label"]),
                      "definition": definition_line(indicators[series["key"]]) if series["key"] in indicators else ""}
                     for series in trend_data["series"]],
        breakdowns=figures.breakdowns,
        charts=_charts(figures),
        export_href=f"?{export_query.urlencode()}",
        can_run_rollup=can_run_rollup,
        can_approve=can_approve_months(user) and period.is_month,
        # The month's last run in the user's area, for those who can start one (one query).
        last_run=(rollup_runs(user).filter(period=period.first).select_related("org_unit").first()
                  if can_run_rollup else None),
        month_is_over=period.last < this_month(),
        # Approved months are marked, and so is a late correction found since (one query, months only).
        approval=(MonthApproval.objects.filter(period=period.first, locked=True).first()
                  if period.is_month else None),
        panels=panels(unit, period, figures.values),
        definitions=_definitions(rows, figures, period),
    )


def _definitions(rows: list[Row], figures: Figures, period: Period) -> list[dict]:
    """What the figures shown mean, from their declarations (``registry.definition_line``): one
    entry per definition, the figures that share one (the six worker types) said once, then each
    breakdown chart's. Each entry: labels, text, keys, and the targets in force ("目标 ≥ 95%")."""
    by_key = {row.key: row for row in figures.rows}
    # The full table's rows, then what the cards, the league and the trend show without a value yet.
    shown = [*(row.key for row in rows), *(row.key for row in kpi_rows(figures.rows)), *figures.league.keys,
             *(series["key"] for series in figures.trend["series"])]
    grouped: dict[str, dict] = {}
    for key in dict.fromkeys(shown):
        row = by_key.get(key)
        if row is None or row.indicator is None:
            continue
        text = definition_line(row.indicator)
        if not period.is_month:
            text = f"{text} {adding_up(row.indicator)}"
        entry = grouped.setdefault(text, {"labels": [], "keys": [], "targets": []})
        entry["labels"].append(row.label)
        entry["keys"].append(key)
        goal = row.current.target
        if goal is not None:
            entry["targets"].append(goal.text)
    entries = [{"text": text, **entry} for text, entry in grouped.items()]
    for chart in all_breakdowns():
        if chart.definition:
            entries.append({"text": str(chart.definition), "labels": [str(chart.title)], "keys": [chart.key],
                            "targets": []})
    return entries
