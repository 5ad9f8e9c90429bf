"""My work (我的待办), and the dispute mediation pages (矛盾纠纷): the disputes with their mediation
records, a new mediation record, and the daily/weekly/monthly summaries (日分析、周综述、月报告).

Every read goes through ``visible_to(request.user)`` (in ``grid.selectors.work``): a case outside
the user's subtree is a 404 and counts nowhere. Exports are logged in ExportLog like the rosters'.
"""

import io

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.generic import FormView, TemplateView

from governance.models import ExportLog, Level
from governance.portal.views import ExportMixin, ScopedListView, safe_next, sees_above_township
from governance.rosters import export_filters
from governance.rosters.xlsx import XlsxWriter, xlsx_response
from governance.selectors import unit_for_level_display
from grid.forms.work import MediationFilterForm, MediationForm, SummaryForm
from grid.models import Case, MediationOutcome
from grid.selectors import work as selectors
from grid.services.work import mediation_record

# --- My work -----------------------------------------------------------------------------------

# What each section of My work is called, its icon, what it says when empty, and a link to the
# case list with the nearest filters (wider than the section: the list has no "on my account" filter).
SECTIONS = {
    "overdue": (gettext_lazy("Overdue"), "bi-alarm", gettext_lazy("Nothing is overdue."),
                ("overdue=1", gettext_lazy("All overdue cases of my area"))),
    "due_soon": (gettext_lazy("Due within 24 hours"), "bi-hourglass-split",
                 gettext_lazy("Nothing falls due in the next 24 hours."), None),
    "assigned": (gettext_lazy("Assigned to me"), "bi-person-check", gettext_lazy("No case is assigned to you."),
                 ("mine=1", gettext_lazy("Every case assigned to me"))),
    "unit": (gettext_lazy("Dispatched to my unit"), "bi-people",
             gettext_lazy("No case waits for someone of your unit to take it."), None),
    "intake": (gettext_lazy("To accept or dispatch"), "bi-inbox",
               gettext_lazy("No new case waits for your unit."), None),
    "check": (gettext_lazy("Waiting for my check"), "bi-clipboard-check",
              gettext_lazy("No resolved case waits for your check."), None),
}


class MyWorkView(LoginRequiredMixin, TemplateView):
    """我的待办: the cases waiting for the user or his unit, the most urgent first."""

    template_name = "grid/work_mine.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case_list = reverse("grid:case-list")
        sections = []
        for section in selectors.my_work(fetched_by=self.request.user):
            title, icon, empty, link = SECTIONS[section.key]
            sections.append({
                "key": section.key, "title": title, "icon": icon, "empty": empty, "count": section.count,
                "rows": section.rows, "more": section.count > len(section.rows),
                "all_url": f"{case_list}?{link[0]}" if link else "",
                "all_label": link[1] if link else "",
            })
        context["sections"] = sections
        context["case_list_url"] = case_list
        context["row_limit"] = selectors.WORK_ROWS
        return context


class MediationCreateView(PermissionRequiredMixin, FormView):
    """新增调解记录 of one dispute case in the user's area (another case, or not a dispute: 404)."""

    permission_required = "grid.add_mediation"
    form_class = MediationForm
    template_name = "grid/mediation_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.case = get_object_or_404(
                selectors.dispute_cases(fetched_by=request.user).select_related("category", "grid"), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"held_on": timezone.localdate()}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "rooms": selectors.mediation_rooms(fetched_by=self.request.user)}

    def back_url(self) -> str:
        return safe_next(self.request, reverse("grid:case-detail", args=[self.case.pk]))

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            mediation_record(case=self.case, user=self.request.user, held_on=data["held_on"],
                             mediator=data["mediator"], room=data["room"], outcome=data["outcome"],
                             notes=data["notes"])
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Mediation of case %(number)s recorded: %(outcome)s.")
                         % {"number": self.case.number, "outcome": MediationOutcome(data["outcome"]).label})
        return redirect(self.back_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["case"] = self.case
        context["back_url"] = self.back_url()
        context["next"] = safe_next(self.request, "")
        context["mediations"] = list(self.case.mediations.order_by("-held_on", "-id"))
        return context


# --- Excel --------------------------------------------------------------------------------------


def _case_headers() -> list[str]:
    return [_("Case number"), _("Title"), _("Category"), _("Township"), _("Village/community"), _("Grid"),
            _("State"), _("Reported at"), _("Sessions"), _("Last mediation"), _("Mediator"), _("Mediation room"),
            _("Outcome")]


CASE_WIDTHS = [18, 30, 14, 14, 16, 18, 10, 17, 8, 12, 20, 22, 14]


def _case_row(case: Case) -> list:
    mediations = list(case.mediations.all())  # prefetched, newest first
    last = mediations[0] if mediations else None
    village = unit_for_level_display(case.grid, Level.VILLAGE)
    township = unit_for_level_display(case.grid, Level.TOWNSHIP)
    grid = unit_for_level_display(case.grid, Level.GRID)
    return [
        case.number, case.title, case.category.name, township.display_name if township else "",
        village.display_name if village else "", grid.display_name if grid else "", case.get_state_display(),
        timezone.localtime(case.reported_at).strftime("%Y-%m-%d %H:%M"), len(mediations),
        last.held_on if last else None, last.mediator if last else "", last.room if last else "",
        last.get_outcome_display() if last else "",
    ]


def _log_export(request, kind: str, rows: int) -> None:
    ExportLog.objects.create(user=request.user, kind=kind, rows=rows, with_personal_data=False,
                             filters=export_filters(request))


class MediationListView(ExportMixin, ScopedListView):
    """矛盾纠纷调解: the dispute cases of the user's area with their mediation sessions."""

    model = Case
    filter_form_class = MediationFilterForm
    template_name = "grid/mediation_list.html"
    sort_fields = {"number": "number", "reported": "reported_at", "state": "state", "grid": "grid__code"}
    default_sort = "-reported"
    export_kind = "mediations"

    def list_queryset(self, queryset):
        return selectors.mediation_list_queryset(queryset.filter(selectors.dispute_q()))

    def export(self) -> HttpResponse:
        buffer = io.BytesIO()
        writer = XlsxWriter(buffer)
        with writer.sheet(_("Dispute mediation"), _case_headers(), CASE_WIDTHS) as sheet:
            for case in self.get_queryset().iterator(chunk_size=2000):
                sheet.append(_case_row(case))
        writer.close()
        _log_export(self.request, self.export_kind, sheet.rows)
        return xlsx_response(buffer.getvalue(), f"{self.export_kind}-{timezone.localdate():%Y%m%d}.xlsx")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["show_township"] = sees_above_township(self.request.user)
        context["tab"] = "list"
        return context


# --- Summaries ----------------------------------------------------------------------------------

PERIOD_TITLES = {
    "day": gettext_lazy("Daily analysis"),
    "week": gettext_lazy("Weekly review"),
    "month": gettext_lazy("Monthly report"),
}
PERIOD_WORDS = {
    "day": gettext_lazy("Previous day"),
    "week": gettext_lazy("Previous week"),
    "month": gettext_lazy("Previous month"),
}
PERIOD_NEXT = {
    "day": gettext_lazy("Next day"),
    "week": gettext_lazy("Next week"),
    "month": gettext_lazy("Next month"),
}
PERIOD_SUBTITLES = {
    "day": gettext_lazy("Disputes of your area on this day, compared with the day before."),
    "week": gettext_lazy("Disputes of your area in this week (Monday to Sunday), compared with the week before."),
    "month": gettext_lazy("Disputes of your area in this month, compared with the month before."),
}
# The metrics of a summary, in the order of its cards and columns; "good" says which way is better.
METRIC_LABELS = {
    "raised": (gettext_lazy("Disputes raised"), "down"),
    "mediated": (gettext_lazy("Disputes mediated"), "up"),
    "sessions": (gettext_lazy("Mediation sessions"), "up"),
    "agreed": (gettext_lazy("Agreements reached"), "up"),
    "open": (gettext_lazy("Still open at the end"), "down"),
    "overdue": (gettext_lazy("Overdue"), "down"),
}
RAISED_ROWS = 100  # disputes the page lists (the export has them all)
UNIT_HEADINGS = {
    Level.COUNTY: gettext_lazy("By county"),
    Level.TOWNSHIP: gettext_lazy("By township"),
    Level.VILLAGE: gettext_lazy("By village/community"),
    Level.GRID: gettext_lazy("By grid"),
    Level.MICRO_GRID: gettext_lazy("By micro-grid"),
}


def _cards(summary) -> list[dict]:
    cards = []
    for key, (label, good) in METRIC_LABELS.items():
        current, previous = summary.total.current[key], summary.total.previous[key]
        delta = current - previous
        better = (delta < 0) if good == "down" else (delta > 0)
        cards.append({"key": key, "label": label, "value": current, "previous": previous, "delta": delta,
                      "abs_delta": abs(delta), "better": better if delta else None})
    return cards


class MediationSummaryView(LoginRequiredMixin, TemplateView):
    """日分析、周综述、月报告: the disputes of a day, week or month in the user's area, against the period before."""

    template_name = "grid/mediation_summary.html"

    def get(self, request, *args, **kwargs):
        self.form = SummaryForm(request.GET or None)
        kind, day = self.form.choice()
        self.period = selectors.period_of(kind, day)
        self.summary = selectors.dispute_summary(fetched_by=request.user, period=self.period)
        if request.GET.get("export") == "xlsx":
            return self.export()
        return super().get(request, *args, **kwargs)

    def _query(self, period) -> str:
        return f"?period={period.kind}&date={period.start:%Y-%m-%d}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        period, summary = self.period, self.summary
        today = timezone.localdate()
        cases = list(selectors.summary_cases(fetched_by=self.request.user, period=period)[:RAISED_ROWS])
        context.update({
            "form": self.form,
            "period": period,
            "summary": summary,
            "title": PERIOD_TITLES[period.kind],
            "previous_word": PERIOD_WORDS[period.kind],
            "subtitle": PERIOD_SUBTITLES[period.kind],
            "next_word": PERIOD_NEXT[period.kind],
            "kinds": [(kind, PERIOD_TITLES[kind], f"?period={kind}&date={period.start:%Y-%m-%d}")
                      for kind in selectors.PERIOD_KINDS],
            "previous_query": self._query(period.previous()),
            "next_query": self._query(period.next()) if period.end <= today else "",
            "today_query": self._query(selectors.period_of(period.kind, today)),
            "cards": _cards(summary),
            "metrics": [(key, label) for key, (label, _good) in METRIC_LABELS.items()],
            "unit_heading": UNIT_HEADINGS.get(summary.unit_level, ""),
            "cases": cases,
            "cases_more": summary.total.current["raised"] > len(cases),
            "tab": "summary",
        })
        return context

    def export(self) -> HttpResponse:
        period, summary = self.period, self.summary
        this, before = period.label(), summary.previous_period.label()
        buffer = io.BytesIO()
        writer = XlsxWriter(buffer)
        with writer.sheet(str(PERIOD_TITLES[period.kind]), [_("Item"), this, before, pgettext("indicator", "Change")],
                          [22, 24, 24, 10]) as sheet:
            for card in _cards(summary):
                sheet.append([str(card["label"]), card["value"], card["previous"], card["delta"]])
        metric_headers = [str(label) for label, _good in METRIC_LABELS.values()]
        with writer.sheet(_("By category"), [_("Category"), *metric_headers, _("Raised in the previous period")],
                          [18, 10, 10, 10, 10, 10, 10, 14]) as sheet:
            for row in summary.categories:
                sheet.append([row.label, *(row.current[key] for key in METRIC_LABELS), row.previous["raised"]])
        if summary.units:
            with writer.sheet(str(UNIT_HEADINGS.get(summary.unit_level, _("By unit"))),
                              [_("Unit"), *metric_headers, _("Raised in the previous period")],
                              [22, 10, 10, 10, 10, 10, 10, 14]) as sheet:
                for row in [*summary.units, *([summary.outside_units] if summary.outside_units else [])]:
                    label = row.label or _("Elsewhere in my area")
                    sheet.append([label, *(row.current[key] for key in METRIC_LABELS), row.previous["raised"]])
        with writer.sheet(_("Disputes raised"), _case_headers(), CASE_WIDTHS) as cases_sheet:
            for case in selectors.summary_cases(fetched_by=self.request.user, period=period).iterator(chunk_size=2000):
                cases_sheet.append(_case_row(case))
        writer.close()
        _log_export(self.request, f"dispute_summary_{period.kind}", cases_sheet.rows)
        return xlsx_response(buffer.getvalue(), f"disputes-{period.kind}-{period.start:%Y%m%d}.xlsx")
