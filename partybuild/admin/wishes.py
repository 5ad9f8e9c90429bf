"""Admin of the micro-wishes. A wish's state is never edited: each step (派单 … 晒单) has its own small
page, reached from the wish, and verify / publish also run as bulk actions, all through the
services as the admin's user; the wish's page shows its history (who did each step, when)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from governance.portal.admin import (
    ReadOnlyInline,
    RuleCheckedForm,
    ScopedAdminMixin,
    TownshipFilter,
    VillageFilter,
    add_rule_errors,
)
from partybuild.admin.common import PartyWriteAdminMixin, changed_fields, run_each
from partybuild.models import Wish, WishAction, WishEvent
from partybuild.selectors import wish_eligible_members
from partybuild.services.wishes import (
    OPEN_STATES,
    WISH_FIELDS,
    WISH_RULES,
    WISH_STEPS,
    wish_check,
    wish_next_step,
    wish_post,
    wish_update,
)


class WishForm(RuleCheckedForm):
    def check_rules(self):
        if self.instance.pk is None:
            wish_check(wish=self.instance)


class WishStepForm(forms.Form):
    """The one input a step needs: the member (派单, 接单), what was done (消单), or nothing (核单, 晒单)."""

    def __init__(self, *args, step: str, wish: Wish, user, **kwargs):
        super().__init__(*args, **kwargs)
        if step in ("dispatch", "take"):
            members = wish_eligible_members(community=wish.community, fetched_by=user).order_by("resident__name")
            if step == "take" and wish.dispatched_to_id:
                members = members.filter(pk=wish.dispatched_to_id)
            self.fields["member"] = forms.ModelChoiceField(
                label=_("party member"), queryset=members, required=step == "take",
                initial=wish.dispatched_to_id,
                empty_label=_("Anyone eligible may take it") if step == "dispatch" else "---------",
                help_text=_("Members registered with the community or belonging to its party organisations."),
            )
        if step == "complete":
            self.fields["result"] = forms.CharField(label=_("result"), widget=forms.Textarea(attrs={"rows": 4}),
                                                    max_length=Wish._meta.get_field("result").max_length)


class WishEventInline(ReadOnlyInline):
    """The wish's history: read only, written by the steps alone."""

    model = WishEvent
    fields = ("at", "action", "from_state", "to_state", "actor", "member", "comment")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "member__resident")


# The steps the change list runs on many wishes at once.
BULK_STEPS = {"verify_selected": WishAction.VERIFY, "publish_selected": WishAction.PUBLISH}


@admin.register(Wish)
class WishAdmin(PartyWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Micro-wishes. The state moves only through the steps (the link on the wish, or the bulk actions)."""

    form = WishForm
    list_display = ("title", "community", "household", "category", "state", "dispatched_to", "taken_by", "posted_at")
    list_select_related = ("community", "household", "dispatched_to__resident", "taken_by__resident")
    list_filter = ("state", "category", TownshipFilter, VillageFilter)
    search_fields = ("title", "household__number")
    autocomplete_fields = ("community", "household", "resident")
    date_hierarchy = "posted_at"
    actions = list(BULK_STEPS)
    step_actions = {name: WISH_RULES[step] for name, step in BULK_STEPS.items()}
    readonly_fields = (
        "next_step", "state", "dispatched_to", "taken_by", "result", "posted_at", "dispatched_at", "taken_at",
        "done_at", "verified_at", "published_at",
    )

    def get_inlines(self, request, obj):
        return [WishEventInline] if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("community", "household", "resident", "title", "content", "category")
        return ("next_step", "title", "content", "category", "community", "household", "resident",
                *self.readonly_fields[1:])

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ["community", "household", "resident"]
        if obj.state not in OPEN_STATES:
            fixed += ["title", "content", "category"]
        return (*self.readonly_fields, *fixed)

    @admin.display(description=_("next step"))
    def next_step(self, obj):
        step = wish_next_step(obj.state)
        if step is None or obj.pk is None:
            return gettext("None: the wish is published.")
        url = reverse(f"{self.admin_site.name}:partybuild_wish_step", args=[obj.pk, step])
        return format_html('<a class="button" href="{}">{}</a>', url, WISH_RULES[step].label)

    def save_model(self, request, obj, form, change):
        if change:
            changed = changed_fields(obj, form, WISH_FIELDS)
            saved = wish_update(wish=obj, user=request.user, **changed) if changed else obj
        else:
            saved = wish_post(
                user=request.user, community=obj.community, title=obj.title, content=obj.content,
                category=obj.category, household=obj.household, resident=obj.resident,
            )
        self.became(obj, saved)

    # --- Steps -------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/step/<str:step>/",
                self.admin_site.admin_view(self.step_view),
                name="partybuild_wish_step",
            ),
            *super().get_urls(),
        ]

    def step_view(self, request, object_id, step):
        """One step of one wish, with the input it needs; the service decides whether it may happen now."""
        wish = self.get_object(request, object_id)
        if wish is None or step not in WISH_STEPS:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_change_permission(request, wish):
            raise PermissionDenied
        title = WISH_RULES[step].label
        change_url = reverse(f"{self.admin_site.name}:partybuild_wish_change", args=[wish.pk])
        data = request.POST if request.method == "POST" else None  # verify/publish post nothing but the token
        form = WishStepForm(data, step=step, wish=wish, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                WISH_STEPS[step](wish=wish, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_rule_errors(form, exc)
            else:
                self.message_user(request, gettext("Done: %(step)s.") % {"step": title}, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {wish.title}",
            "opts": self.model._meta,
            "wish": wish,
            "form": form,
            "step": step,
            "step_title": title,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/partybuild/wish/step.html", context)

    def _bulk_step(self, request, queryset, step):
        run_each(
            self, request, queryset,
            lambda wish: WISH_STEPS[step](wish=wish, user=request.user),
            lambda n: ngettext("%(n)d wish: %(step)s.", "%(n)d wishes: %(step)s.", n)
            % {"n": n, "step": WISH_RULES[step].label},
        )

    @admin.action(description=_("Verify the selected wishes (核单)"), permissions=["change"])
    def verify_selected(self, request, queryset):
        self._bulk_step(request, queryset, WishAction.VERIFY)

    @admin.action(description=_("Publish the selected wishes (晒单)"), permissions=["change"])
    def publish_selected(self, request, queryset):
        self._bulk_step(request, queryset, WishAction.PUBLISH)
