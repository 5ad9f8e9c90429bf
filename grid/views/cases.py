"""Case pages (事件/诉求): the list, a new case, a case with its timeline and next steps, the
printable dispatch sheet (交办单), attachments, and the small htmx helpers of these forms.

Every read goes through ``visible_to(request.user)``: a case, attachment or grid outside the
user's subtree is a 404. Every write calls ``grid.services.cases``; a step the service refuses
(wrong state, wrong user, bad input) comes back as a message on the page, never as an error page.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView

from governance.audit.reveal import full_view, record_full_view
from governance.masking import can_view_personal_data
from governance.models import OrgUnit
from governance.portal.guard import parse_id
from governance.portal.views import (
    ExportMixin,
    RosterListMixin,
    ScopedDetailView,
    ScopedListView,
    is_htmx,
    require_perm,
)
from governance.selectors import unit_chain
from governance.services import record_unmasked_view
from governance.terms import LocalNameBook
from grid.forms.cases import ACTION_FORMS, CaseFilterForm, CaseForm, action_form, looks_like_id, person_label
from grid.models import Case, CaseAction, CaseAttachment, CaseCategory, CaseState, Triage
from grid.rosters.terms import CASE_CATEGORIES
from grid.selectors import cases as selectors
from grid.services import cases as services

SERVICES = {
    CaseAction.ACCEPT: services.case_accept,
    CaseAction.REJECT: services.case_reject,
    CaseAction.DISPATCH: services.case_dispatch,
    CaseAction.RECALL: services.case_recall,
    CaseAction.TAKE: services.case_take,
    CaseAction.START: services.case_start,
    CaseAction.RESOLVE: services.case_resolve,
    CaseAction.VERIFY: services.case_verify,
    CaseAction.RETURN: services.case_return,
    CaseAction.RATE: services.case_rate,
    CaseAction.CLOSE: services.case_close,
    CaseAction.ESCALATE: services.case_escalate,
}
# The label of each step's button (the imperative; CaseAction's labels are past tense).
ACTION_BUTTONS = {
    CaseAction.ACCEPT: (gettext_lazy("Accept"), "bi-check2-circle"),
    CaseAction.REJECT: (gettext_lazy("Reject"), "bi-x-circle"),
    CaseAction.DISPATCH: (gettext_lazy("Dispatch"), "bi-send"),
    CaseAction.RECALL: (gettext_lazy("Recall"), "bi-arrow-return-left"),
    CaseAction.TAKE: (gettext_lazy("Take"), "bi-hand-index"),
    CaseAction.START: (gettext_lazy("Start work"), "bi-play-circle"),
    CaseAction.RESOLVE: (gettext_lazy("Resolve"), "bi-check2-square"),
    CaseAction.VERIFY: (pgettext_lazy("case", "Verify"), "bi-patch-check"),
    CaseAction.RETURN: (gettext_lazy("Return"), "bi-arrow-counterclockwise"),
    CaseAction.RATE: (gettext_lazy("Record the rating"), "bi-star"),
    CaseAction.CLOSE: (gettext_lazy("Close the case"), "bi-archive"),
    CaseAction.ESCALATE: (gettext_lazy("Escalate"), "bi-arrow-up-circle"),
}
# Steps that warn before they go (they cannot be undone by the same user).
DANGER_ACTIONS = {CaseAction.REJECT, CaseAction.RETURN, CaseAction.ESCALATE, CaseAction.RECALL}
# What the one who records the rating must do first: call the reporter back (the phone shows in full).
CALL_BACK_ACTIONS = {CaseAction.RATE}
CASE_JOINS = ("category", "category__parent", "grid", "household", "reporter", "handling_unit", "assignee",
              "dispatcher", "dispatcher_unit", "created_by")
PICKER_SIZE = 30


def _button(action: str) -> tuple[str, str]:
    label, icon = ACTION_BUTTONS[action]
    return str(label), icon


def name_categories(cases) -> None:
    """Each case's category as its county calls it (``category_label``, ``category_parent_label`` and
    ``category_path``), from one query for all of them."""
    book = LocalNameBook.for_places(case.grid.code for case in cases)
    for case in cases:
        names = book.at(case.grid)
        category, parent = case.category, case.category.parent
        case.category_label = names.label(CASE_CATEGORIES, category.code, category.name)
        case.category_parent_label = names.label(CASE_CATEGORIES, parent.code, parent.name) if parent else ""
        case.category_path = (f"{case.category_parent_label} / {case.category_label}" if parent
                              else case.category_label)


# --- List ----------------------------------------------------------------------------------

# The filters a dashboard figure opens the list with (not offered in the filter bar): what each says.
FIGURE_FILTERS = {
    "accepted_from": gettext_lazy("accepted from %(day)s"), "accepted_to": gettext_lazy("accepted until %(day)s"),
    "resolved_from": gettext_lazy("resolved from %(day)s"), "resolved_to": gettext_lazy("resolved until %(day)s"),
    "closed_from": gettext_lazy("closed from %(day)s"), "closed_to": gettext_lazy("closed until %(day)s"),
    "overdue_on": gettext_lazy("overdue at the end of %(day)s"),
    "rated_from": gettext_lazy("rated from %(day)s"), "rated_to": gettext_lazy("rated until %(day)s"),
    "rated": gettext_lazy("with a rating"),
}


def figure_filter_labels(filters: dict) -> list[str]:
    """What the dashboard's filters in force say, so the user sees why the list is narrowed."""
    labels = []
    for name, text in FIGURE_FILTERS.items():
        value = filters.get(name)
        if value:
            labels.append(str(text) % {"day": value.isoformat()} if hasattr(value, "isoformat") else str(text))
    return labels



class CaseListView(ExportMixin, RosterListMixin, ScopedListView):
    model = Case
    personal_data = False  # its rows show no ID number or phone
    filter_form_class = CaseFilterForm
    template_name = "grid/case_list.html"
    export_kind = "cases"
    sort_fields = {"number": "number", "reported": "reported_at", "due": "due_at", "state": "state"}
    default_sort = "-reported"

    def get_queryset(self):
        user = self.request.user
        self.filter_form = self.filter_form_class(self.request.GET or None, user=user)
        self.filters = self.filter_form.filters
        return selectors.case_list(fetched_by=user, filters=self.filters).order_by(*self.get_ordering())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        counts = selectors.state_counts(fetched_by=user, filters=self.filters)
        current = self.filters.get("state", "")
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("export", None)
        tabs = []
        for value, label in [("", _("All")), *CaseState.choices]:
            query["state"] = value
            if not value:
                query.pop("state")
            tabs.append({
                "value": value, "label": label, "active": value == current,
                "count": sum(counts.values()) if not value else counts.get(value, 0),
                "href": f"?{query.urlencode()}" if query else "?",
            })
        context["state_tabs"] = tabs
        context["figure_filters"] = figure_filter_labels(self.filters)
        if context["figure_filters"]:
            kept = self.request.GET.copy()
            for name in FIGURE_FILTERS:
                kept.pop(name, None)
            kept.pop("page", None)
            context["figure_filters_clear"] = f"?{kept.urlencode()}"
        name_categories(context["object_list"])
        return context


# --- New case ------------------------------------------------------------------------------


class CaseCreateView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    permission_required = "grid.add_case"
    form_class = CaseForm
    template_name = "grid/case_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        initial = {"token": uuid.uuid4()}
        for name in ("grid", "category"):
            value = self.request.GET.get(name, "")
            if (pk := parse_id(value)) is not None:
                initial[name] = pk
        return initial

    def form_valid(self, form):
        user = self.request.user
        data = form.cleaned_data
        token = data["token"]
        # The same form sent again (double click, reload after a slow answer): the case it created.
        existing = Case.objects.visible_to(user).filter(token=token).first()
        if existing is not None:
            messages.info(self.request, _("Case %(number)s was already created from this form.")
                          % {"number": existing.number})
            return redirect("grid:case-detail", pk=existing.pk)
        if not data.get("confirm"):
            form.duplicates = selectors.case_duplicates(
                fetched_by=user, grid=data["grid"], category=data["category"], exclude_token=token
            )
            if form.duplicates:
                form.had_files = bool(data.get("attachments"))
                return self.render_to_response(self.get_context_data(form=form))
        try:
            case = services.case_create(user=user, token=token, attachments=data.get("attachments") or (),
                                        **form.case_fields())
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Case %(number)s reported: %(title)s") % {"number": case.number,
                                                                                   "title": case.title})
        return redirect("grid:case-detail", pk=case.pk)


@login_required
@require_GET
def duplicates_fragment(request):
    """The new-case form's warning: open cases of this category in this grid in the last 7 days."""
    user = request.user
    grid = category = None
    grid_id, category_id = request.GET.get("grid", ""), request.GET.get("category", "")
    if looks_like_id(grid_id):
        grid = OrgUnit.objects.visible_to(user).filter(pk=grid_id, level__in=selectors.CASE_GRID_LEVELS).first()
    if looks_like_id(category_id):
        category = CaseCategory.objects.filter(pk=category_id).first()
    token = None
    try:
        token = uuid.UUID(request.GET.get("token", ""))
    except ValueError:
        pass
    duplicates = selectors.case_duplicates(fetched_by=user, grid=grid, category=category, exclude_token=token)
    return render(request, "grid/_case_duplicates.html", {"duplicates": duplicates, "confirmable": False})


@login_required
@require_GET
def grid_search(request):
    """Type-ahead of the grids and micro-grids in the user's area: <option>s for htmx, else JSON."""
    units = selectors.grid_choices(fetched_by=request.user, text=request.GET.get("q", ""), limit=PICKER_SIZE)

    def label(unit):
        return f"{unit.display_name}（{unit.parent.display_name}）" if unit.parent_id else unit.display_name

    if not is_htmx(request) and (request.GET.get("format") == "json"
                                  or "application/json" in request.headers.get("Accept", "")):
        return JsonResponse({"results": [
            {"id": unit.pk, "code": unit.code, "name": unit.display_name, "level": unit.level, "label": label(unit)}
            for unit in units
        ]})
    if not units:
        return HttpResponse(format_html('<option value="">{}</option>', _("Nothing found")))
    head = format_html('<option value="">{}</option>', _("%(count)s found, choose one") % {"count": len(units)})
    return HttpResponse(head + format_html_join("", '<option value="{}">{}</option>',
                                                ((unit.pk, label(unit)) for unit in units)))


# --- Detail and steps ----------------------------------------------------------------------


MAX_ID = 2**63 - 1


def _scoped_case(request, pk):
    if pk > MAX_ID:
        raise Http404
    return get_object_or_404(Case.objects.visible_to(request.user).select_related(*CASE_JOINS), pk=pk)


class CaseDetailView(ScopedDetailView):
    model = Case
    template_name = "grid/case_detail.html"
    context_object_name = "case"

    def get_queryset(self):
        return super().get_queryset().select_related(*CASE_JOINS)

    def get_object(self, queryset=None):
        if self.kwargs["pk"] > MAX_ID:
            raise Http404
        return super().get_object(queryset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.object
        user = self.request.user
        events = list(case.events.select_related("actor", "unit"))
        attachments = list(case.attachments.all())
        by_event: dict[int, list] = {}
        for attachment in attachments:
            by_event.setdefault(attachment.event_id, []).append(attachment)
        for event in events:
            event.step_attachments = by_event.get(event.pk, [])
        context["chain"] = unit_chain(unit=case.grid, fetched_by=user)
        name_categories([case])
        context["events"] = events
        context["attachments"] = attachments
        context["overdue"] = case.is_past_due
        context["full_view"] = full_view(self.request, obj=case, detail="reporter_phone") if case.reporter_phone \
            else can_view_personal_data(user)
        allowed = services.case_allowed_actions(case=case, user=user) if user.has_perm("grid.change_case") else []
        context["next_step"] = case.next_step
        # The one who must call the reporter back for the rating sees the phone in full; each showing is logged.
        context["call_back"] = bool(case.reporter_phone) and bool(CALL_BACK_ACTIONS.intersection(allowed))
        if context["call_back"] and not context["full_view"]:
            record_unmasked_view(user=user, kind="case-reporter-phone", reference={"case": case.number})
            record_full_view(self.request, obj=case, detail="reporter_phone (call back)")
        context["actions"] = [
            {"action": action, "form": action_form(action, case=case, user=user), "button": _button(action),
             "danger": action in DANGER_ACTIONS}
            for action in allowed
        ]
        if case.category.is_dispute:
            context["mediations"] = list(case.mediations.all())
            context["may_mediate"] = user.has_perm("grid.add_mediation")
        return context


@login_required
@require_POST
def case_action(request, pk, action):
    """One step of the loop: the service decides; its refusal comes back as a message."""
    if action not in ACTION_FORMS:
        raise Http404
    case = _scoped_case(request, pk)
    require_perm(request, "grid.change_case")
    rule = services.RULES[action]
    back = reverse("grid:case-detail", args=[case.pk])
    if case.state not in rule.states:
        # A stale page: someone else moved the case since it was shown.
        messages.error(request, services.WRONG_STATE % {"current": CaseState(case.state).label,
                                                        "action": rule.verb})
        return redirect(back)
    form = action_form(action, case=case, user=request.user, data=request.POST, files=request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(back)
    try:
        case = SERVICES[action](case=case, user=request.user, **form.arguments())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Case %(number)s is now “%(state)s”.")
                         % {"number": case.number, "state": case.get_state_display()})
    return redirect(back)


@login_required
@require_GET
def case_assignees(request, pk):
    """The dispatch form's person picker: <option>s of the staff of the unit chosen."""
    case = _scoped_case(request, pk)
    unit_id = request.GET.get("dispatch-unit") or request.GET.get("unit") or ""
    people = []
    if looks_like_id(unit_id):
        levels = services.DISPATCH_LEVELS.get(case.triage, ())
        unit = next((u for u in selectors.dispatch_units(fetched_by=request.user, case=case, levels=levels)
                     if u.pk == int(unit_id)), None)
        if unit is not None:
            people = list(selectors.unit_staff(fetched_by=request.user, unit=unit)[:100])
    head = format_html('<option value="">{}</option>', _("Anyone of the unit"))
    return HttpResponse(head + format_html_join("", '<option value="{}">{}</option>',
                                                ((person.pk, person_label(person)) for person in people)))


@login_required
@require_GET
def case_sheet(request, pk):
    """The printable dispatch sheet (交办单)."""
    case = _scoped_case(request, pk)
    dispatch = case.events.filter(action=CaseAction.DISPATCH).select_related("actor", "unit").order_by("-at").first()
    name_categories([case])
    return render(request, "grid/case_sheet.html", {
        "case": case,
        "chain": unit_chain(unit=case.grid, fetched_by=request.user),
        "dispatch": dispatch,
        "overdue": case.is_past_due,
        "printed_at": timezone.now(),
        "is_private": case.triage == Triage.PRIVATE,
    })


@login_required
@require_GET
def case_attachment(request, pk):
    """Stream an attachment to a user who sees its case (404 otherwise); images inline, others as downloads."""
    if pk > MAX_ID:
        raise Http404
    attachment = get_object_or_404(CaseAttachment.objects.visible_to(request.user), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    inline = attachment.content_type.startswith("image/") and request.GET.get("download") != "1"
    response = FileResponse(handle, content_type=attachment.content_type, as_attachment=not inline,
                            filename=attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
