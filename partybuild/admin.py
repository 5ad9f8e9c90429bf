"""Admin of the party-building rosters, scoped like the org chain's admin and writing through the services.

Every form runs the service's own check (``*_check`` in ``partybuild.services``) after the
model's validation, so a broken rule shows on its field; the service checks again under its
locks when saving, and a race lost there comes back as a message. A wish's state is never
edited: each step (派单 … 晒单) has its own small page, reached from the wish, and verify /
publish also run as bulk actions — all through the services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import OuterRef
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTAdminForm, MPTTModelAdmin

from governance.masking import can_view_personal_data, mask_id_number, mask_phone
from governance.portal.admin import GridFilter, ScopedAdminMixin, TownshipFilter, VillageFilter
from governance.rosters.admin import RosterAdminMixin
from governance.selectors import count_subquery
from partybuild import services
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    PartyMember,
    PartyOrganization,
    RegistrationStatus,
    ServicePost,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishState,
)
from partybuild.selectors import wish_eligible_members

# --- Shared pieces -------------------------------------------------------------------------


def add_rule_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service rule's errors on the form: on their field when it is shown, above the form if not."""
    for field, field_errors in exc.update_error_dict({}).items():
        form.add_error(field if field in form.fields and field != NON_FIELD_ERRORS else None, field_errors)


class RuleCheckedForm(forms.ModelForm):
    """Runs ``check_rules`` (a service's check) once the fields and the model's own rules passed."""

    def check_rules(self):
        pass

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                self.check_rules()
            except ValidationError as exc:
                add_rule_errors(self, exc)


class ServiceWriteAdminMixin:
    """Saves through a service (``save_model``); a rule refused there after the form passed becomes a message."""

    def get_actions(self, request):
        # Bulk deletion would skip the rules (and, for the tree, its lock); rows are deleted one at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _became(self, obj, saved):
        """The admin goes on with ``obj`` (log entry, redirect): make it the saved row."""
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False


class _ScopePathMixin:
    """A unit list filter over another path than the model's (whose scope has two paths)."""

    scope_path = ""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.path = self.scope_path


class BranchTownshipFilter(_ScopePathMixin, TownshipFilter):
    title = _("township of the organisation")
    scope_path = "organization__org_unit"


class BranchVillageFilter(_ScopePathMixin, VillageFilter):
    title = _("village/community of the organisation")
    scope_path = "organization__org_unit"


class ServiceBranchTownshipFilter(_ScopePathMixin, TownshipFilter):
    """Services of the members whose organisation lies in a township (the branch's side of 双积分)."""

    title = _("township of the member's organisation")
    parameter_name = "branch_in_township"
    child_parameters = ()
    scope_path = "member__organization__org_unit"


class CommunityTownshipFilter(_ScopePathMixin, TownshipFilter):
    scope_path = "community"


class CommunityVillageFilter(_ScopePathMixin, VillageFilter):
    scope_path = "community"


def _run_each(admin_, request, queryset, function, done_message):
    """Run a service on every selected row; report how many went through and why the others did not."""
    done, refused = 0, []
    for obj in queryset:
        try:
            function(obj)
            done += 1
        except ValidationError as exc:
            refused.append(f"{obj}: {' '.join(exc.messages)}")
    if done:
        admin_.message_user(request, done_message(done), messages.SUCCESS)
    for line in refused:
        admin_.message_user(request, line, messages.ERROR)


# --- Party organisations -------------------------------------------------------------------


class PartyOrganizationForm(MPTTAdminForm, RuleCheckedForm):
    def check_rules(self):
        services.party_organization_check(organization=self.instance)


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, MPTTModelAdmin):
    """The organisation tree, indented: 党委 → 党总支/党支部 → 网格党支部 → 党小组."""

    roster_kind = "party_organizations"
    form = PartyOrganizationForm
    list_display = ("name", "kind", "org_unit", "work_unit", "members_count", "is_active")
    list_select_related = ("org_unit",)
    mptt_indent_field = "name"
    mptt_level_indent = 20
    list_filter = ("kind", "is_active", TownshipFilter, VillageFilter)
    search_fields = ("name", "work_unit")
    autocomplete_fields = ("parent", "org_unit")
    fields = ("name", "kind", "parent", "org_unit", "work_unit", "is_active")
    list_per_page = 200

    def get_queryset(self, request):
        members = PartyMember.objects.filter(organization=OuterRef("pk"), is_active=True)
        return super().get_queryset(request).annotate(n_members=count_subquery(members))

    @admin.display(description=_("members"), ordering="n_members")
    def members_count(self, obj):
        return obj.n_members

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in services.ORGANIZATION_FIELDS}
            saved = services.party_organization_update(organization=obj, **changed)
        else:
            saved = services.party_organization_create(**{name: getattr(obj, name) for name in self.fields})
        self._became(obj, saved)


# --- Party members -------------------------------------------------------------------------


class PartyMemberForm(RuleCheckedForm):
    def check_rules(self):
        services.party_member_check(member=self.instance)


@admin.register(PartyMember)
class PartyMemberAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    roster_kind = "party_members"
    form = PartyMemberForm
    # The default columns are the masked ones; get_list_display unmasks for those allowed.
    list_display = (
        "name", "id_number_masked", "organization", "status", "joined_on", "in_service", "work_unit", "is_mobile",
        "is_active",
    )
    list_filter = ("status", "in_service", "is_mobile", "is_active", BranchTownshipFilter, BranchVillageFilter)
    # An ID number matches only whole: a partial match would reveal masked digits.
    search_fields = ("resident__name", "=resident__id_number", "work_unit")
    autocomplete_fields = ("resident", "organization")
    fields = ("resident", "organization", "status", "joined_on", "in_service", "work_unit", "is_mobile", "is_active")

    def get_queryset(self, request):
        # The member's name is his resident's: also what autocompletes elsewhere show.
        return super().get_queryset(request).select_related("resident", "organization")

    @admin.display(description=_("name"), ordering="resident__name")
    def name(self, obj):
        return obj.resident.name

    @admin.display(description=_("ID number"))
    def id_number_masked(self, obj):
        return mask_id_number(obj.resident.id_number)

    @admin.display(description=_("ID number"))
    def id_number(self, obj):
        return obj.resident.id_number

    def get_list_display(self, request):
        if can_view_personal_data(request.user):
            return [{"id_number_masked": "id_number"}.get(name, name) for name in self.list_display]
        return self.list_display

    def get_readonly_fields(self, request, obj=None):
        # A member record belongs to one person for good.
        return ("resident",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in services.MEMBER_FIELDS}
            saved = services.party_member_update(member=obj, **changed)
        else:
            fields = [name for name in self.fields if name != "is_active"]
            saved = services.party_member_create(**{name: getattr(obj, name) for name in fields})
            if not obj.is_active:
                saved = services.party_member_update(member=saved, is_active=False)
        self._became(obj, saved)


class CentralHouseholdForm(RuleCheckedForm):
    def check_rules(self):
        services.central_household_check(household=self.instance.household, member=self.instance.member)


@admin.register(CentralHousehold)
class CentralHouseholdAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    roster_kind = "central_households"
    form = CentralHouseholdForm
    list_display = ("household", "address", "member", "since")
    list_select_related = ("household", "member__resident")
    list_filter = (TownshipFilter, VillageFilter, GridFilter)
    search_fields = ("household__number", "household__address", "member__resident__name")
    autocomplete_fields = ("household", "member")
    fields = ("household", "member", "since")

    @admin.display(description=_("address"))
    def address(self, obj):
        return obj.household.address

    def get_readonly_fields(self, request, obj=None):
        return ("household",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        saved = services.central_household_set(household=obj.household, member=obj.member, since=obj.since)
        self._became(obj, saved)

    def delete_model(self, request, obj):
        services.central_household_clear(household=obj.household)


# --- Double report: units ------------------------------------------------------------------


class UnitOfferInline(ScopedAdminMixin, admin.TabularInline):
    """The unit's resource, need and project lists (资源清单/需求清单/项目清单)."""

    model = UnitOffer
    fields = ("kind", "description")
    extra = 1


class UnitRegistrationForm(RuleCheckedForm):
    def check_rules(self):
        services.unit_registration_check(registration=self.instance)


@admin.register(UnitRegistration)
class UnitRegistrationAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    roster_kind = "unit_registrations"
    form = UnitRegistrationForm
    list_display = (
        "unit_name", "party_organization", "community", "registered_on", "contact_name", "contact_phone_masked",
        "status",
    )
    list_select_related = ("community",)
    list_filter = ("status", "offers__kind", CommunityTownshipFilter, CommunityVillageFilter)
    search_fields = ("unit_name", "party_organization", "contact_name")
    autocomplete_fields = ("community",)
    fields = ("unit_name", "party_organization", "community", "registered_on", "contact_name", "contact_phone",
              "status")
    readonly_fields = ("status",)
    inlines = [UnitOfferInline]
    actions = ["end_registrations"]
    date_hierarchy = "registered_on"

    @admin.display(description=_("contact phone"))
    def contact_phone_masked(self, obj):
        return mask_phone(obj.contact_phone)

    def get_list_display(self, request):
        if can_view_personal_data(request.user):
            return [{"contact_phone_masked": "contact_phone"}.get(name, name) for name in self.list_display]
        return self.list_display

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None or can_view_personal_data(request.user):
            return fields
        return [{"contact_phone": "contact_phone_masked"}.get(name, name) for name in fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not can_view_personal_data(request.user):
            readonly.append("contact_phone_masked")
        return readonly

    def save_model(self, request, obj, form, change):
        names = services.UNIT_REGISTRATION_FIELDS
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in names}
            saved = services.unit_registration_update(registration=obj, **changed)
        else:
            saved = services.unit_registration_create(**{name: getattr(obj, name) for name in names})
        self._became(obj, saved)

    @admin.action(description=_("End the selected registrations"), permissions=["change"])
    def end_registrations(self, request, queryset):
        _run_each(
            self, request, queryset,
            lambda registration: services.unit_registration_end(registration=registration),
            lambda n: ngettext("%(n)d registration ended.", "%(n)d registrations ended.", n) % {"n": n},
        )


# --- Double report: in-service members -----------------------------------------------------


class MemberRegistrationForm(RuleCheckedForm):
    posts = forms.MultipleChoiceField(
        label=_("service posts"), choices=ServicePost.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Claimed on the day they are ticked (on registering: the registration date)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["posts"].initial = list(self.instance.claims.values_list("post", flat=True))

    def check_rules(self):
        if self.instance.pk is None:
            services.member_registration_check(member=self.instance.member, community=self.instance.community)
        elif self.instance.status != RegistrationStatus.ACTIVE and self.has_changed():
            raise ValidationError(services.REGISTRATION_ENDED)


@admin.register(MemberRegistration)
class MemberRegistrationAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    roster_kind = "member_registrations"
    form = MemberRegistrationForm
    list_display = ("member", "community", "registered_on", "posts_claimed", "status", "ended_on")
    list_select_related = ("member__resident", "community")
    list_filter = ("status", "claims__post", CommunityTownshipFilter, CommunityVillageFilter)
    search_fields = ("member__resident__name", "=member__resident__id_number")
    autocomplete_fields = ("member", "community")
    fields = ("member", "community", "registered_on", "posts", "claims_claimed", "status", "ended_on")
    actions = ["end_registrations"]
    date_hierarchy = "registered_on"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("claims")

    @admin.display(description=_("service posts"))
    def posts_claimed(self, obj):
        return ", ".join(claim.get_post_display() for claim in obj.claims.all())

    @admin.display(description=_("claimed on"))
    def claims_claimed(self, obj):
        return ", ".join(f"{claim.get_post_display()} ({claim.claimed_on.isoformat()})" for claim in obj.claims.all())

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("claims_claimed", "status", "ended_on")
        # Who registered where and when is history; end it and register anew to change it.
        return ("member", "community", "registered_on", "claims_claimed", "status", "ended_on")

    def save_model(self, request, obj, form, change):
        posts = form.cleaned_data.get("posts", [])
        if not change:
            saved = services.member_registration_create(
                member=obj.member, community=obj.community, registered_on=obj.registered_on, posts=posts
            )
            self._became(obj, saved)
            return
        claims = {claim.post: claim for claim in obj.claims.all()}
        today = timezone.localdate()
        for post in posts:
            if post not in claims:
                services.post_claim_add(registration=obj, post=post, claimed_on=max(today, obj.registered_on))
        for post, claim in claims.items():
            if post not in posts:
                services.post_claim_remove(claim=claim)

    @admin.action(description=_("End the selected registrations (today)"), permissions=["change"])
    def end_registrations(self, request, queryset):
        today = timezone.localdate()
        _run_each(
            self, request, queryset,
            lambda registration: services.member_registration_end(registration=registration, ended_on=today),
            lambda n: ngettext("%(n)d registration ended.", "%(n)d registrations ended.", n) % {"n": n},
        )


# --- Micro-wishes --------------------------------------------------------------------------


class WishForm(RuleCheckedForm):
    def check_rules(self):
        if self.instance.pk is None:
            services.wish_check(wish=self.instance)


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
            self.fields["result"] = forms.CharField(label=_("result"), widget=forms.Textarea(attrs={"rows": 4}))


STEP_TITLES = {
    "dispatch": _("Dispatch"),
    "take": _("Take"),
    "complete": _("Complete"),
    "verify": _("Verify"),
    "publish": _("Publish"),
}
# The step a wish in each state may take next.
NEXT_STEP = {state: step for step, (_function, state) in services.WISH_STEPS.items()}


@admin.register(Wish)
class WishAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Micro-wishes. The state moves only through the steps (the link on the wish, or the bulk actions)."""

    form = WishForm
    list_display = ("title", "community", "household", "category", "state", "dispatched_to", "taken_by", "posted_at")
    list_select_related = ("community", "household", "dispatched_to__resident", "taken_by__resident")
    list_filter = ("state", "category", TownshipFilter, VillageFilter)
    search_fields = ("title", "household__number")
    autocomplete_fields = ("community", "household", "resident")
    date_hierarchy = "posted_at"
    actions = ["verify_selected", "publish_selected"]
    readonly_fields = (
        "next_step", "state", "dispatched_to", "taken_by", "result", "posted_at", "dispatched_at", "taken_at",
        "done_at", "verified_at", "published_at",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("community", "household", "resident", "title", "content", "category")
        return ("next_step", "title", "content", "category", "community", "household", "resident",
                *self.readonly_fields[1:])

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ["community", "household", "resident"]
        if obj.state not in (WishState.POSTED, WishState.DISPATCHED, WishState.TAKEN):
            fixed += ["title", "content", "category"]
        return (*self.readonly_fields, *fixed)

    @admin.display(description=_("next step"))
    def next_step(self, obj):
        step = NEXT_STEP.get(obj.state)
        if step is None or obj.pk is None:
            return gettext("None: the wish is published.")
        url = reverse(f"{self.admin_site.name}:partybuild_wish_step", args=[obj.pk, step])
        return format_html('<a class="button" href="{}">{}</a>', url, STEP_TITLES[step])

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in services.WISH_FIELDS}
            saved = services.wish_update(wish=obj, **changed) if changed else obj
        else:
            saved = services.wish_post(
                community=obj.community, title=obj.title, content=obj.content, category=obj.category,
                household=obj.household, resident=obj.resident,
            )
        self._became(obj, saved)

    # --- Steps -----------------------------------------------------------------------------

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
        if wish is None or step not in services.WISH_STEPS:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_change_permission(request, wish):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:partybuild_wish_change", args=[wish.pk])
        data = request.POST if request.method == "POST" else None  # verify/publish post nothing but the token
        form = WishStepForm(data, step=step, wish=wish, user=request.user)
        if request.method == "POST" and form.is_valid():
            function, _state = services.WISH_STEPS[step]
            try:
                function(wish=wish, **form.cleaned_data)
            except ValidationError as exc:
                add_rule_errors(form, exc)
            else:
                self.message_user(request, gettext("Done: %(step)s.") % {"step": STEP_TITLES[step]}, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{STEP_TITLES[step]}: {wish.title}",
            "opts": self.model._meta,
            "wish": wish,
            "form": form,
            "step": step,
            "step_title": STEP_TITLES[step],
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/partybuild/wish/step.html", context)

    def _bulk_step(self, request, queryset, step):
        function, _state = services.WISH_STEPS[step]
        _run_each(
            self, request, queryset,
            lambda wish: function(wish=wish),
            lambda n: ngettext("%(n)d wish: %(step)s.", "%(n)d wishes: %(step)s.", n)
            % {"n": n, "step": STEP_TITLES[step]},
        )

    @admin.action(description=_("Verify the selected wishes (核单)"), permissions=["change"])
    def verify_selected(self, request, queryset):
        self._bulk_step(request, queryset, "verify")

    @admin.action(description=_("Publish the selected wishes (晒单)"), permissions=["change"])
    def publish_selected(self, request, queryset):
        self._bulk_step(request, queryset, "publish")


# --- Service records -----------------------------------------------------------------------


class ServiceRecordForm(RuleCheckedForm):
    def check_rules(self):
        services.service_record_check(record=self.instance)


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    """Volunteer services: hours and points are computed; seen by the community and the member's branch."""

    roster_kind = "service_records"
    form = ServiceRecordForm
    list_display = ("member", "community", "date", "start_time", "end_time", "hours", "points", "kind", "wish")
    list_select_related = ("member__resident", "community", "wish")
    list_filter = ("kind", CommunityTownshipFilter, CommunityVillageFilter, ServiceBranchTownshipFilter)
    search_fields = ("member__resident__name", "=member__resident__id_number", "description")
    autocomplete_fields = ("member", "community", "wish")
    fields = ("member", "community", "date", "start_time", "end_time", "kind", "wish", "description", "hours",
              "points")
    readonly_fields = ("hours", "points")
    date_hierarchy = "date"

    def get_readonly_fields(self, request, obj=None):
        return ("member", *self.readonly_fields) if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        names = services.SERVICE_RECORD_FIELDS
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in names}
            saved = services.service_record_update(record=obj, **changed)
        else:
            saved = services.service_record_create(member=obj.member, **{name: getattr(obj, name) for name in names})
        self._became(obj, saved)
