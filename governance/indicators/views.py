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
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from governance.indicators import dashboard
from governance.indicators.approval import can_start_rollup, month_approve, month_reopen
from governance.indicators.months import Period, format_period, parse_period, parse_period_text
from governance.indicators.runs import may_restart, rollup_restart
from governance.indicators.runs import rollup_start as run_start
from governance.models import OrgUnit
from governance.portal.views import is_htmx, safe_next
from governance.rosters.xlsx import XlsxWriter, xlsx_response


def _export(figures: dashboard.Figures) -> HttpResponse:
    """The page's numbers as a workbook: every indicator with its target in force, the trend, the league
    and each breakdown."""
    unit, period, trend, league = figures.unit, figures.period, figures.trend, figures.league
    number = dashboard.plain_number
    buffer = io.BytesIO()
    writer = XlsxWriter(buffer)
    title = f"{unit.display_name} {period.label}"
    with writer.sheet(_("Indicators"), [
        _("Indicator"), _("Unit of measure"), title, _("Numerator"), _("Denominator"),
        _("Period before"), _("Change vs period before"), _("Same period last year"), _("Change vs last year"),
        pgettext("indicator", "Target"),
    ], widths=[28, 10, 16, 12, 12, 12, 14, 16, 14, 10]) as sheet:
        for row in figures.rows:
            target = row.current.target
            sheet.append([
                row.label, row.unit, row.current.number, number(row.current.numerator),
                number(row.current.denominator), row.last_month.earlier.number, number(row.last_month.delta),
                row.last_year.earlier.number, number(row.last_year.delta), target.text if target else "",
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
    for chart in figures.breakdowns:
        with writer.sheet(chart["title"], [chart["label_heading"], chart["value_heading"]], widths=[24, 10]) as sheet:
            for label, value in chart["rows"]:
                sheet.append([label, value])
    writer.close()
    return xlsx_response(buffer.getvalue(), f"dashboard-{unit.code}-{str(period).replace('..', '-')}.xlsx")


def requested_period(params) -> Period | None:
    """The period asked for: ``period`` (2025-05, 2025-Q2, 2025-H1, 2025, 2025-01..2025-06), or the
    custom range's two months ``from`` and ``to``; None (the default period) for anything else."""
    if params.get("from") and params.get("to"):
        return parse_period_text(f"{params['from']}..{params['to']}")
    return parse_period_text(params.get("period"))


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


@login_required
@require_GET
def rollup_run(request, pk: int):
    """A run's progress, part by part; the page asks again every two seconds until the run ends."""
    if not can_start_rollup(request.user):
        raise PermissionDenied
    run = get_object_or_404(dashboard.rollup_runs(request.user).select_related("org_unit"), pk=pk)
    context = {"run": run, "next": safe_next(request, f"{reverse('dashboard')}?period={format_period(run.period)}"),
               "may_restart": may_restart(run, request.user), **dashboard.rollup_progress(run)}
    template = "governance/_rollup_progress.html" if is_htmx(request) else "governance/rollup_run.html"
    return render(request, template, context)


@login_required
@require_POST
def rollup_run_restart(request, pk: int):
    """Restart a stuck or unfinished run: a new run computes its unfinished parts; follow that one."""
    if not can_start_rollup(request.user):
        raise PermissionDenied
    run = get_object_or_404(dashboard.rollup_runs(request.user).select_related("org_unit"), pk=pk)
    back = safe_next(request, f"{reverse('dashboard')}?period={format_period(run.period)}")
    try:
        resumed = rollup_restart(run=run, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{reverse('dashboard-run', args=[run.pk])}?{urlencode({'next': back})}")
    messages.success(request, _("The unfinished parts of %(month)s are being computed again; the finished "
                                "parts are kept.") % {"month": format_period(run.period)})
    return redirect(f"{reverse('dashboard-run', args=[resumed.pk])}?{urlencode({'next': back})}")


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
        month = format_period(period)
        messages.success(request, _("%(month)s is approved and locked.") % {"month": month} if action == "approve"
                         else _("%(month)s is re-opened: compute it again to take in the corrections.")
                         % {"month": month})
    return redirect(back)


@login_required
def dashboard_page(request, code: str | None = None):
    """The dashboard of the user's top unit, or of the unit ``code`` inside his scope (else 404)."""
    user = request.user
    if code is None:
        unit = dashboard.scope_top(user)
        if unit is None:
            return render(request, "governance/dashboard.html", {"no_unit": True})
        chain = None
    else:
        try:
            chain = dashboard.unit_chain(user, code)  # the unit and its breadcrumb, in one query
        except OrgUnit.DoesNotExist:
            raise Http404(_("No such unit in your area.")) from None
        unit = chain[-1]
    period = requested_period(request.GET)
    sort = request.GET.get("sort", "")
    if request.GET.get("export") == "xlsx":
        return _export(dashboard.dashboard_figures(unit=unit, period=period, sort=sort))
    page = dashboard.dashboard_page(user=user, unit=unit, period=period, sort=sort, params=request.GET, chain=chain)
    return render(request, "governance/dashboard.html", page.context())
