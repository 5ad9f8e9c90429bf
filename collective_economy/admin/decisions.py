"""Admin of the village decisions and their rules, in the user's scope.

- Decisions (村级重大事项) are read here with their steps as held; the steps themselves are recorded on the
  decision's web page (linked from each), never here. A matter is registered through ``decision_create`` and,
  while nothing is recorded, corrected through ``decision_update``; it is never deleted (vouchers cite it).
- A county's rules (``DecisionRules``): the payment threshold and, as rows under it, its own quorum per voting
  step (``StepQuorum``); a step without a row keeps the law's default.
- Each village's procedure (``VillageDecisionSetting``): four steps, or six (动议 and 民议 added). Set by the
  township; a matter keeps the procedure it was registered under.
"""

from django import forms
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    DEFAULT_QUORUMS,
    Decision,
    DecisionRecord,
    DecisionRules,
    DecisionState,
    Quorum,
    Step,
    StepQuorum,
    VillageDecisionSetting,
)
from collective_economy.services import decisions as services
from governance.portal.admin import (
    ReadOnlyInline,
    ScopedAdminMixin,
    ServiceWriteAdminMixin,
    TownshipFilter,
    VillageFilter,
)

EDITABLE = ("title", "description", "amount")

# --- Decisions ------------------------------------------------------------------------------


class DecisionRecordInline(ReadOnlyInline):
    model = DecisionRecord
    fields = ("step", "held_on", "expected", "attended", "votes_for", "votes_against", "abstentions", "passed",
              "recorded_by", "recorded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


class DecisionAdminForm(forms.ModelForm):
    """A matter registered (numbered by the service when no number is given) or corrected."""

    class Meta:
        model = Decision
        fields = ["village", "number", "title", "description", "amount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "number" in self.fields:
            self.fields["number"].required = False
            self.fields["number"].help_text = _("Left blank: the next number of the year, such as JC2026-001.")


@admin.register(Decision)
class DecisionAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Village decisions, read with their steps; registered and corrected (while registered) through the
    services; the steps are recorded on the decision's web page."""

    bulk_delete = False
    form = DecisionAdminForm
    list_display = ("number", "title", "village", "amount", "six_step", "state", "steps_done", "created_at")
    list_select_related = ("village",)
    list_filter = ("state", "six_step", TownshipFilter, VillageFilter)
    search_fields = ("number", "title", "village__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("village",)
    shown = ("web_page", "village", "number", "title", "description", "amount", "six_step", "state",
             "result_summary", "signatures_count", "created_by", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("records")

    @admin.display(description=_("Steps done"))
    def steps_done(self, decision):
        done = sum(1 for record in decision.records.all() if record.passed)
        return f"{done}/{len(decision.steps)}"

    @admin.display(description=_("Households signed"))
    def signatures_count(self, decision):
        if not decision.six_step:
            return "—"
        signed, total = services.consultation_progress(decision)
        return f"{signed} / {total}"

    @admin.display(description=pgettext_lazy("decision", "web page"))
    def web_page(self, decision):
        try:
            url = reverse("collective_economy:decision-detail", args=[decision.pk])
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}">{}</a>', url, gettext("Open the decision to record its steps"))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("village", "number", "title", "description", "amount")
        return self.shown

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return tuple(name for name in self.shown if name not in EDITABLE)

    def get_inlines(self, request, obj):
        return [DecisionRecordInline] if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # Once a step is recorded the matter is as it was decided: shown, never changed.
        if obj is not None and obj.state != DecisionState.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # vouchers, projects and contracts cite it; a rejected one stays as the record of the vote

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.decision_update(decision=obj, title=data["title"], description=data["description"],
                                             amount=data.get("amount"), user=request.user)
        else:
            saved = services.decision_create(village=data["village"], number=data.get("number") or "",
                                             title=data["title"], description=data["description"],
                                             amount=data.get("amount"), user=request.user)
        self.became(obj, saved)


# --- The county's rules ---------------------------------------------------------------------


class StepQuorumInline(ScopedAdminMixin, admin.TabularInline):
    model = StepQuorum
    extra = 0
    fields = ("step", "attendance", "approval", "default")
    readonly_fields = ("default",)

    @admin.display(description=_("the law's default"))
    def default(self, quorum):
        if quorum.step not in DEFAULT_QUORUMS:
            return "—"
        attendance, approval = DEFAULT_QUORUMS[quorum.step]
        return f"{Quorum(attendance).label} / {Quorum(approval).label}"


@admin.register(DecisionRules)
class DecisionRulesAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A county's rules for village decisions: the payment threshold, and its own quorum per voting step."""

    list_display = ("county", "payment_threshold", "quorums_set")
    list_select_related = ("county",)
    search_fields = ("county__name",)
    inlines = [StepQuorumInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("quorums")

    @admin.display(description=_("quorums"))
    def quorums_set(self, rules):
        quorums = {quorum.step: quorum for quorum in rules.quorums.all()}
        words = []
        for step in (Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.RESOLUTION):
            quorum = quorums.get(step)
            attendance, approval = ((quorum.attendance, quorum.approval) if quorum is not None
                                    else DEFAULT_QUORUMS[step])
            words.append(f"{Step(step).label}: {Quorum(attendance).label} / {Quorum(approval).label}")
        return "；".join(words)

    def get_readonly_fields(self, request, obj=None):
        return ("county",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # the county's threshold is changed, never removed (the default would take over silently)


# --- Each village's procedure ---------------------------------------------------------------


@admin.register(VillageDecisionSetting)
class VillageDecisionSettingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Which villages decide in six steps (六议两公开); the others in four. A matter keeps the procedure it was
    registered under."""

    list_display = ("village", "six_step")
    list_select_related = ("village",)
    list_editable = ("six_step",)
    list_filter = ("six_step", TownshipFilter, VillageFilter)
    search_fields = ("village__name", "village__code")
    autocomplete_fields = ("village",)

    def get_readonly_fields(self, request, obj=None):
        return ("village",) if obj is not None else ()

