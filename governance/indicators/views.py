"""The dashboards (统计分析): ``/dashboard/`` and the drill-down ``/dashboard/<org code>/``.

A page reads only ``IndicatorValue`` through ``governance.indicators.dashboard``, at a fixed number of
queries. A unit outside the user's subtree answers 404, so a township user's dashboard
starts at his township and cannot go up or sideways.
"""

import io
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.indicators import dashboard
from governance.indicators.approval import can_approve_months, month_approve, month_reopen
from governance.indicators.months import parse_period, shift_month
from governance.indicators.runs import can_start_rollup
from governance.indicators.runs import rollup_start as run_start
from governance.models import MonthApproval, OrgUnit, RollupRun
from governance.portal.views import is_htmx, safe_next
from governance.rosters.xlsx import XlsxWriter, xlsx_response


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


def _posted_period(request):
    period = parse_period(request.POST.get("period"))
    if period is None:
        messages.error(request, _("Choose a month as YYYY-MM."))
    return period


@login_required
@require_POST
def rollup_start(request):
    """Start computing a month's indicators (admins), then follow the run's progress."""
    back = safe_next(request, reverse("dashboard"))
    period = _posted_period(request)
    if period is None:
        return redirect(back)
    try:
        run = run_start(period=period, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    return redirect(f"{reverse('dashboard-run', args=[run.pk])}?{urlencode({'next': back})}")


def _run_progress(run: RollupRun) -> dict:
    """The run's parts in tree order with their units' names, and how far it has come (one query)."""
    names = dict(OrgUnit.objects.filter(code__in=run.parts).values_list("code", "name"))
    parts = [{"name": names.get(code) or (_("County and city levels") if code == "upper" else code),
              "code": "" if code == "upper" else code, **part}
             for code, part in run.parts.items()]
    done = sum(1 for part in parts if part["status"] != "pending")
    total = len(parts) or 1
    return {"parts": parts, "done": done, "total": len(parts), "percent": round(100 * done / total)}


@login_required
@require_GET
def rollup_run(request, pk: int):
    """A run's progress, part by part; the page asks again every two seconds until the run ends."""
    if not can_start_rollup(request.user):
        raise PermissionDenied
    run = get_object_or_404(dashboard.rollup_runs(request.user).select_related("org_unit"), pk=pk)
    context = {"run": run, "next": safe_next(request, f"{reverse('dashboard')}?period={run.period:%Y-%m}"),
               **_run_progress(run)}
    template = "governance/_rollup_progress.html" if is_htmx(request) else "governance/rollup_run.html"
    return render(request, template, context)


@login_required
@require_POST
def month_approval(request):
    """Approve (lock) a month after review, or re-open it for a correction."""
    back = safe_next(request, reverse("dashboard"))
    period = _posted_period(request)
    if period is None:
        return redirect(back)
    action = request.POST.get("action")
    if action not in ("approve", "reopen"):
        messages.error(request, _("Unknown action."))
        return redirect(back)
    change = month_approve if action == "approve" else month_reopen
    try:
        change(period=period, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        month = _month_label(period)
        messages.success(request, _("%(month)s is approved and locked.") % {"month": month} if action == "approve"
                         else _("%(month)s is re-opened: compute it again to take in the corrections.")
                         % {"month": month})
    return redirect(back)


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
    period = parse_period(request.GET.get("period")) or dashboard.default_period(
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
        "previous_period": _month_label(shift_month(period, -1)),
        "next_period": _month_label(shift_month(period, 1)),
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
        "can_run_rollup": can_start_rollup(user),
        "can_approve": can_approve_months(user),
        # The month's last run in the user's area, for those who can start one (one query).
        "last_run": (dashboard.rollup_runs(user).filter(period=period).select_related("org_unit").first()
                     if can_start_rollup(user) else None),
        "month_is_over": period < timezone.localdate().replace(day=1),
        # Approved months are marked, and so is a late correction found since (one query).
        "approval": MonthApproval.objects.filter(period=period, locked=True).first(),
        "panels": dashboard.panels(unit, period, values),
    }
    return render(request, "governance/dashboard.html", context)
