"""The dashboards (统计分析): ``/dashboard/`` and the drill-down ``/dashboard/<org code>/``.

A page reads only ``IndicatorValue`` through ``governance.dashboard``, at a fixed number of
queries. A unit outside the user's subtree answers 404, so a township user's dashboard
starts at his township and cannot go up or sideways.
"""

import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import dashboard
from governance.models import MonthApproval, OrgUnit, Role
from governance.rosters import xlsx_response
from governance.tabular import XlsxWriter


def _month_label(period) -> str:
    return f"{period:%Y-%m}"


def _export(unit, period, rows, trend, league, categories) -> HttpResponse:
    buffer = io.BytesIO()
    writer = XlsxWriter(buffer)
    title = f"{unit.display_name} {_month_label(period)}"
    with writer.sheet(_("Indicators"), [
        _("Indicator"), _("Unit of measure"), title, _("Numerator"), _("Denominator"),
        _("Last month"), _("Change vs last month"), _("Same month last year"), _("Change vs last year"),
    ], widths=[28, 10, 16, 12, 12, 12, 14, 16, 14]) as sheet:
        for row in rows:
            sheet.append([
                row.label, row.unit, row.current.number, dashboard._number(row.current.numerator),
                dashboard._number(row.current.denominator), row.last_month.earlier.number,
                dashboard._number(row.last_month.delta), row.last_year.earlier.number,
                dashboard._number(row.last_year.delta),
            ])
    with writer.sheet(_("Trend"), [_("Month"), *[series["label"] for series in trend["series"]]],
                      widths=[10, *[16] * len(trend["series"])]) as sheet:
        for i, month in enumerate(trend["periods"]):
            sheet.append([month, *[series["values"][i] for series in trend["series"]]])
    with writer.sheet(_("Units"), [_("Unit"), _("Code"), *[str(i.label) for i in league.indicators]],
                      widths=[20, 14, *[14] * len(league.keys)]) as sheet:
        for league_row in league.rows:
            sheet.append([league_row.unit.display_name, league_row.unit.code,
                          *[figure.number for figure in league_row.cells(league.keys)]])
    with writer.sheet(_("Case categories"), [_("Category"), _("Cases")], widths=[24, 10]) as sheet:
        for label, value in zip(categories["labels"], categories["values"], strict=True):
            sheet.append([label, value])
    writer.close()
    return xlsx_response(buffer.getvalue(), f"dashboard-{unit.code}-{period:%Y%m}.xlsx")


@login_required
def dashboard_page(request, code: str | None = None):
    user = request.user
    if code is None:
        unit = dashboard.scope_top(user)
        if unit is None:
            return render(request, "governance/dashboard.html", {"no_unit": True})
    else:
        try:
            unit = dashboard.visible_unit(user, code)
        except OrgUnit.DoesNotExist:
            raise Http404(_("No such unit in your area.")) from None
    period = dashboard.parse_period(request.GET.get("period")) or dashboard.default_period(
        unit, timezone.localdate())
    chain = dashboard.breadcrumb(user, unit)
    rows, values = dashboard.unit_rows(unit, period)
    sort = request.GET.get("sort", "")
    league = dashboard.league(unit, period, dashboard.league_keys(sort), sort)
    trend = dashboard.trend(unit, dashboard.TREND_KEYS, period)
    categories = dashboard.categories(values)

    if request.GET.get("export") == "xlsx":
        return _export(unit, period, rows, trend, league, categories)

    for row in rows:
        if row.current.value is not None:
            row.current.href = dashboard.record_link(row.key, unit, chain, period, user)
    for league_row in league.rows:
        for figure in league_row.figures.values():
            if figure.value is not None:
                figure.href = dashboard.record_link(figure.key, league_row.unit, [*chain, league_row.unit],
                                                    period, user)

    query = request.GET.copy()
    query.pop("export", None)
    sort_links = []
    for indicator in league.indicators:
        active = league.sort.lstrip("-") == indicator.key
        descending = active and league.sort.startswith("-")
        query["sort"] = indicator.key if descending else f"-{indicator.key}"
        sort_links.append({"indicator": indicator, "href": f"?{query.urlencode()}", "active": active,
                           "descending": descending})
    export_query = request.GET.copy()
    export_query["export"] = "xlsx"

    context = {
        "unit": unit,
        "chain": chain,
        "period": period,
        "period_label": _month_label(period),
        "previous_period": _month_label(dashboard.shift_month(period, -1)),
        "next_period": _month_label(dashboard.shift_month(period, 1)),
        "has_values": bool(values),
        "kpis": dashboard.kpi_rows(rows),
        "rows": [row for row in rows if row.current.value is not None or row.last_month.earlier.value is not None],
        "league": league,
        "sort_links": sort_links,
        "trend": trend,
        "trend_rows": [
            {"period": month, "cells": [
                dashboard.format_number(dashboard.indicator_map().get(series["key"]), series["values"][i])
                for series in trend["series"]]}
            for i, month in enumerate(trend["periods"])
        ],
        "categories": categories,
        "category_rows": list(zip(categories["labels"], categories["values"], strict=True)),
        "charts": {
            "trend": trend,
            "categories": categories,
            "league": {
                "labels": [row.unit.display_name for row in league.rows],
                "series": [
                    {"key": key, "label": str(indicator.label),
                     "values": [row.figures[key].number for row in league.rows]}
                    for key, indicator in zip(league.keys, league.indicators, strict=True)
                    if key in dashboard.TREND_KEYS
                ],
            },
        },
        "export_href": f"?{export_query.urlencode()}",
        "can_run_rollup": user.is_superuser or user.role == Role.ADMIN,
        # Approved months are marked, and so is a late correction found since (one query).
        "approval": MonthApproval.objects.filter(period=period, locked=True).first(),
        "panels": dashboard.panels(unit, period, values),
    }
    return render(request, "governance/dashboard.html", context)
