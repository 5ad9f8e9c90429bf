"""Village decisions (四议两公开 / 六议两公开): the list, registering a matter, and its page, where the
village records the procedure one step after the other.

The page shows the procedure as a tracker (four or six 议 and the two publications: done, next,
not yet), every step as held (date, attendance, votes, minutes, files), and the form of the NEXT
step only, with the quorum it must meet. A six-step village's consultation (民议) is a signature
sheet of the village's households. Reads are limited to the user's area (out of it: 404); writes
need ``record_decision`` and go through ``collective_economy.services.decisions``, whose refusals
come back as messages on the form, never as an error page.
"""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collective_economy.forms.books import yuan
from collective_economy.forms.decisions import DecisionFilterForm, DecisionForm, FileAddForm, SignForm, StepForm
from collective_economy.models import (
    Decision,
    DecisionFile,
    DecisionRecord,
    DecisionSignature,
    DecisionState,
    Quorum,
    Step,
)
from collective_economy.services import decisions as services
from governance.masking import can_view_personal_data
from governance.models import Relation, Resident
from governance.portal.guard import parse_number
from governance.portal.views import ExportMixin, ScopedListView, require_perm
from governance.rosters.xlsx import XlsxWriter, xlsx_response

P = "collective_economy."
RECORD = P + "record_decision"
MAX_ID = 2**63 - 1
# Households the signature sheet shows a page (a village has a few hundred).
SHEET_SIZE = 100

# The steps by the words villagers use for them (the tracker's labels).
SHORT = {
    Step.MOTION: pgettext_lazy("decision step short", "Motion"),
    Step.PROPOSAL: pgettext_lazy("decision step short", "Proposal"),
    Step.DISCUSSION: pgettext_lazy("decision step short", "Discussion"),
    Step.REVIEW: pgettext_lazy("decision step short", "Review"),
    Step.CONSULTATION: pgettext_lazy("decision step short", "Consultation"),
    Step.RESOLUTION: pgettext_lazy("decision step short", "Resolution"),
    Step.PUBLICATION: pgettext_lazy("decision step short", "Resolution published"),
    Step.RESULT: pgettext_lazy("decision step short", "Results published"),
}
TRACK_WORDS = {
    "done": pgettext_lazy("decision step", "Done"),
    "failed": pgettext_lazy("decision step", "Not passed"),
    "next": pgettext_lazy("decision step", "Next"),
    "locked": pgettext_lazy("decision step", "Not yet"),
    "ended": pgettext_lazy("decision step", "Ended"),
}
PROCEDURE = {False: gettext_lazy("Four deliberations, two publications"),
             True: gettext_lazy("Six deliberations, two publications")}


def _scoped(queryset, pk: int):
    if pk > MAX_ID:
        raise Http404
    return get_object_or_404(queryset, pk=pk)


def scoped_decision(user, pk: int) -> Decision:
    return _scoped(Decision.objects.visible_to(user).select_related("village__parent", "created_by"), pk)


def _refused(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def procedure_name(decision: Decision) -> str:
    return str(PROCEDURE[decision.six_step])


# --- The list ----------------------------------------------------------------------------------


class DecisionListView(ExportMixin, ScopedListView):
    """The decisions of the user's area, newest first; ``?export=xlsx`` answers the filtered list."""

    model = Decision
    filter_form_class = DecisionFilterForm
    template_name = "collective_economy/decisions/decision_list.html"
    sort_fields = {"registered": "created_at", "number": "number", "title": "title", "amount": "amount",
                   "state": "state", "village": "village__code"}
    default_sort = "-registered"

    def list_queryset(self, queryset):
        return (queryset.select_related("village__parent")
                .annotate(steps_done=Count("records", filter=Q(records__passed=True))))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for decision in context["object_list"]:
            decision.amount_shown = yuan(decision.amount)
            decision.step_count = len(decision.steps)
        context["may_record"] = self.request.user.has_perm(RECORD)
        return context

    def export(self):
        buffer = io.BytesIO()
        writer = XlsxWriter(buffer)
        headers = [pgettext("decision", "Number"), _("Matter"), _("Township"), _("Village/community"),
                   _("Amount involved (yuan)"), _("Procedure"), _("State"), _("Steps done"), _("Registered on")]
        with writer.sheet(_("Village decisions"), headers, widths=[14, 36, 14, 16, 16, 16, 12, 10, 12]) as sheet:
            for decision in self.get_queryset().iterator(chunk_size=2000):
                village = decision.village
                sheet.append([decision.number, decision.title, village.parent.display_name if village.parent else "",
                              village.display_name, decision.amount, procedure_name(decision),
                              decision.get_state_display(), f"{decision.steps_done}/{len(decision.steps)}",
                              decision.created_at.date()])
        writer.close()
        return xlsx_response(buffer.getvalue(), "decisions.xlsx")


# --- Registering a matter ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def decision_create(request):
    require_perm(request, RECORD)
    form = DecisionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            decision = services.decision_create(village=data["village"], title=data["title"],
                                                description=data["description"], amount=data["amount"],
                                                number=data["number"], user=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("%(number)s is registered: record its first step when it is held.")
                             % {"number": decision.number})
            return redirect("collective_economy:decision-detail", pk=decision.pk)
    return render(request, "collective_economy/decisions/decision_form.html", {"form": form, "decision": None})


@login_required
@require_http_methods(["GET", "POST"])
def decision_edit(request, pk: int):
    decision = scoped_decision(request.user, pk)
    require_perm(request, RECORD)
    if decision.state != DecisionState.DRAFT:
        messages.error(request, _("Only a matter whose first step is not yet recorded is corrected."))
        return redirect("collective_economy:decision-detail", pk=decision.pk)
    form = DecisionForm(request.POST or None, user=request.user, decision=decision)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.decision_update(decision=decision, title=data["title"], description=data["description"],
                                     amount=data["amount"], user=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The matter is saved."))
            return redirect("collective_economy:decision-detail", pk=decision.pk)
    return render(request, "collective_economy/decisions/decision_form.html", {"form": form, "decision": decision})


# --- A decision's page -------------------------------------------------------------------------


def tracker(decision: Decision, records: dict) -> list[dict]:
    """Each step of the procedure: done (or not passed), the next one, or not yet (ended once rejected)."""
    upcoming = services.next_step(decision)
    items = []
    for n, step in enumerate(decision.steps, start=1):
        record = records.get(step)
        if record is not None:
            status = "done" if record.passed else "failed"
        elif step == upcoming:
            status = "next"
        else:
            status = "ended" if decision.state == DecisionState.REJECTED else "locked"
        items.append({"n": n, "step": step, "short": SHORT[step], "label": Step(step).label, "status": status,
                      "word": TRACK_WORDS[status], "record": record})
    return items


def _count(value) -> int | None:
    return parse_number(value)


def quorum_rule(decision: Decision, step: str, expected: int | None, attended: int | None) -> dict:
    """The quorum the step must meet, in words, and what it means for the counts typed so far."""
    attendance, approval = services.quorum_for(decision.village, step)
    return {"attendance": attendance, "approval": approval,
            "attendance_label": Quorum(attendance).label, "approval_label": Quorum(approval).label,
            "needed": services.needed(attendance, expected) if expected else None,
            "votes_needed": services.needed(approval, attended) if attended else None}


def _expected_hint(decision: Decision, step: str) -> int | None:
    """How many were expected at the same meeting of the village's last decision (the body rarely changes)."""
    return (DecisionRecord.objects.filter(decision__village=decision.village_id, step=step, expected__isnull=False)
            .order_by("-held_on", "-pk").values_list("expected", flat=True).first())


def signature_sheet(request, decision: Decision) -> dict:
    """The village's households, a page of them, each signed or not; head's names for roles that may see them."""
    households = services.village_households(decision.village).select_related("grid").order_by("number")
    page = Paginator(households, SHEET_SIZE).get_page(request.GET.get("households"))
    rows = list(page.object_list)
    ids = [household.pk for household in rows]
    signed = {s.household_id: s for s in DecisionSignature.objects.filter(decision=decision, household__in=ids)}
    heads = {}
    if can_view_personal_data(request.user):
        for resident in Resident.objects.filter(household__in=ids, relation=Relation.HEAD).order_by("pk"):
            heads.setdefault(resident.household_id, resident.name)
    for household in rows:
        household.signature = signed.get(household.pk)
        household.head_name = heads.get(household.pk, "")
    done, total = services.consultation_progress(decision)
    return {"page": page, "rows": rows, "signed": done, "total": total, "complete": total > 0 and done >= total,
            "percent": round(done * 100 / total) if total else 0}


def detail_page(request, decision: Decision, *, step_form: StepForm | None = None, status: int = 200):
    user = request.user
    records = list(decision.records.select_related("recorded_by")
                   .prefetch_related(Prefetch("files", queryset=DecisionFile.objects.order_by("pk"))))
    by_step = {record.step: record for record in records}
    upcoming = services.next_step(decision)
    may_record = user.has_perm(RECORD)
    context = {
        "decision": decision, "records": records, "tracker": tracker(decision, by_step), "upcoming": upcoming,
        "upcoming_label": Step(upcoming).label if upcoming else "", "procedure": procedure_name(decision),
        "amount_shown": yuan(decision.amount), "may_record": may_record,
        "may_edit": may_record and decision.state == DecisionState.DRAFT,
        "vouchers": list(decision.vouchers.visible_to(user).select_related("book").order_by("date", "pk")),
        "projects": list(decision.projects.visible_to(user).select_related("category").order_by("name")),
        "contracts": list(decision.contracts.visible_to(user).order_by("number")),
        "file_form": FileAddForm() if may_record else None,
    }
    for voucher in context["vouchers"]:
        voucher.amount_shown = yuan(voucher.debit_total)
    if upcoming is not None and may_record:
        if step_form is None:
            step_form = StepForm(step=upcoming, expected_hint=_expected_hint(decision, upcoming)
                                 if upcoming in services.VOTING_STEPS else None)
        context["step_form"] = step_form
        if step_form.is_voting:
            context["quorum"] = quorum_rule(decision, upcoming, _count(step_form["expected"].value()),
                                            _count(step_form["attended"].value()))
    if decision.six_step:
        consulting = upcoming == Step.CONSULTATION
        context["sheet"] = signature_sheet(request, decision) if consulting else None
        context["consulting"] = consulting
        if consulting and may_record:
            context["sign_form"] = SignForm(households=services.village_households(decision.village))
        elif not consulting:
            context["consultation"] = services.consultation_progress(decision)
    return render(request, "collective_economy/decisions/decision_detail.html", context, status=status)


@login_required
@require_GET
def decision_detail(request, pk: int):
    return detail_page(request, scoped_decision(request.user, pk))


@login_required
@require_POST
def decision_step(request, pk: int):
    """Record the next step; a refusal shows the page again with what was typed and the reason."""
    decision = scoped_decision(request.user, pk)
    require_perm(request, RECORD)
    upcoming = services.next_step(decision)
    posted = request.POST.get("step", "")
    if upcoming is None or posted != upcoming:
        # Another clerk recorded a step since the page was shown (or the decision ended).
        if upcoming is None:
            messages.error(request, _("Every step of this decision is recorded, or it ended."))
        else:
            messages.error(request, _("The next step is now “%(step)s”: check it and record it below.")
                           % {"step": Step(upcoming).label})
        return redirect("collective_economy:decision-detail", pk=decision.pk)
    form = StepForm(request.POST, request.FILES, step=upcoming)
    if form.is_valid():
        try:
            record = services.decision_record_step(decision=decision, user=request.user, **form.service_arguments())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            if record.passed:
                messages.success(request, _("“%(step)s” is recorded.") % {"step": Step(record.step).label})
            else:
                messages.warning(request, _("“%(step)s” did not pass: the decision is rejected and ends here.")
                                 % {"step": Step(record.step).label})
            return redirect("collective_economy:decision-detail", pk=decision.pk)
    return detail_page(request, decision, step_form=form)


@login_required
@require_POST
def decision_sign(request, pk: int):
    """The ticked households (or every one not yet signed) signed the consultation (民议)."""
    decision = scoped_decision(request.user, pk)
    require_perm(request, RECORD)
    form = SignForm(request.POST, households=services.village_households(decision.village))
    url = reverse("collective_economy:decision-detail", args=[decision.pk]) + "#signatures"
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(url)
    try:
        added = services.decision_sign(decision=decision, households=form.chosen(), user=request.user,
                                       signed_on=form.cleaned_data["signed_on"], agrees=form.cleaned_data["agrees"])
    except ValidationError as error:
        _refused(request, error)
        return redirect(url)
    signed, total = services.consultation_progress(decision)
    messages.success(request, _("%(added)s households signed; %(signed)s of %(total)s have signed.")
                     % {"added": added, "signed": signed, "total": total})
    return redirect(url)


@login_required
@require_POST
def decision_file_add(request, pk: int):
    """More files of a step already recorded."""
    record = _scoped(DecisionRecord.objects.visible_to(request.user).select_related("decision"), pk)
    require_perm(request, RECORD)
    form = FileAddForm(request.POST, request.FILES)
    url = reverse("collective_economy:decision-detail", args=[record.decision_id]) + f"#record-{record.pk}"
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(url)
    try:
        with transaction.atomic():
            for upload in form.cleaned_data["attachments"]:
                services.decision_file_add(record=record, upload=upload, user=request.user)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The files are added to “%(step)s”.") % {"step": record.get_step_display()})
    return redirect(url)


@login_required
@require_GET
def decision_file(request, pk: int):
    """Stream a step's file to a user who sees its decision (404 otherwise); images inline, PDF to download."""
    found = _scoped(DecisionFile.objects.visible_to(request.user), pk)
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    inline = found.content_type.startswith("image/") and request.GET.get("download") != "1"
    response = FileResponse(handle, content_type=found.content_type, as_attachment=not inline, filename=found.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


urlpatterns = [
    path("decisions/", DecisionListView.as_view(), name="decision-list"),
    path("decisions/new/", decision_create, name="decision-create"),
    path("decisions/<int:pk>/", decision_detail, name="decision-detail"),
    path("decisions/<int:pk>/edit/", decision_edit, name="decision-edit"),
    path("decisions/<int:pk>/step/", decision_step, name="decision-step"),
    path("decisions/<int:pk>/sign/", decision_sign, name="decision-sign"),
    path("decisions/steps/<int:pk>/files/", decision_file_add, name="decision-file-add"),
    path("decisions/files/<int:pk>/", decision_file, name="decision-file"),
]
