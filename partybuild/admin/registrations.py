"""Admin of the double report (双报到): work units with their lists, in-service members with their claimed posts.

Registering and ending go through the services as the admin's user; ending runs row by row
(an action), each refusal reported with its reason.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from governance.masking import mask_phone
from governance.portal.admin import PersonalDataMixin, RuleCheckedForm, ScopedAdminMixin
from governance.rosters.admin import RosterAdminMixin
from partybuild.admin.common import (
    CommunityTownshipFilter,
    CommunityVillageFilter,
    PartyWriteAdminMixin,
    changed_fields,
    run_each,
)
from partybuild.models import MemberRegistration, RegistrationStatus, ServicePost, UnitOffer, UnitRegistration
from partybuild.services.registrations import (
    END,
    REGISTRATION_ENDED,
    REGISTRATION_RULES,
    UNIT_REGISTRATION_FIELDS,
    member_registration_check,
    member_registration_create,
    member_registration_end,
    post_claim_add,
    post_claim_remove,
    unit_registration_check,
    unit_registration_create,
    unit_registration_end,
    unit_registration_update,
)

# --- Double report: units --------------------------------------------------------------------


class UnitOfferInline(ScopedAdminMixin, admin.TabularInline):
    """The unit's resource, need and project lists (资源清单/需求清单/项目清单)."""

    model = UnitOffer
    fields = ("kind", "description")
    extra = 1


class UnitRegistrationForm(RuleCheckedForm):
    def check_rules(self):
        unit_registration_check(registration=self.instance)


@admin.register(UnitRegistration)
class UnitRegistrationAdmin(PartyWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, PersonalDataMixin,
                            admin.ModelAdmin):
    roster_kind = "unit_registrations"
    form = UnitRegistrationForm
    personal_fields = {"contact_phone": "contact_phone_masked"}
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
    step_actions = {"end_registrations": REGISTRATION_RULES[END]}
    date_hierarchy = "registered_on"

    @admin.display(description=_("contact phone"))
    def contact_phone_masked(self, obj):
        return mask_phone(obj.contact_phone)

    def save_model(self, request, obj, form, change):
        names = UNIT_REGISTRATION_FIELDS
        if change:
            saved = unit_registration_update(registration=obj, **changed_fields(obj, form, names))
        else:
            saved = unit_registration_create(user=request.user, **{name: getattr(obj, name) for name in names})
        self.became(obj, saved)

    @admin.action(description=_("End the selected registrations"), permissions=["change"])
    def end_registrations(self, request, queryset):
        run_each(
            self, request, queryset,
            lambda registration: unit_registration_end(registration=registration, user=request.user),
            lambda n: ngettext("%(n)d registration ended.", "%(n)d registrations ended.", n) % {"n": n},
        )


# --- Double report: in-service members ------------------------------------------------------


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
            member_registration_check(member=self.instance.member, community=self.instance.community)
        elif self.instance.status != RegistrationStatus.ACTIVE and self.has_changed():
            raise ValidationError(REGISTRATION_ENDED)


@admin.register(MemberRegistration)
class MemberRegistrationAdmin(PartyWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    roster_kind = "member_registrations"
    form = MemberRegistrationForm
    list_display = ("member", "community", "registered_on", "posts_claimed", "status", "ended_on")
    list_select_related = ("member__resident", "community")
    list_filter = ("status", "claims__post", CommunityTownshipFilter, CommunityVillageFilter)
    search_fields = ("member__resident__name", "=member__resident__id_number")
    autocomplete_fields = ("member", "community")
    fields = ("member", "community", "registered_on", "posts", "claims_claimed", "status", "ended_on")
    actions = ["end_registrations"]
    step_actions = {"end_registrations": REGISTRATION_RULES[END]}
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
            saved = member_registration_create(
                user=request.user, member=obj.member, community=obj.community, registered_on=obj.registered_on,
                posts=posts,
            )
            self.became(obj, saved)
            return
        claims = {claim.post: claim for claim in obj.claims.all()}
        today = timezone.localdate()
        for post in posts:
            if post not in claims:
                post_claim_add(registration=obj, post=post, claimed_on=max(today, obj.registered_on))
        for post, claim in claims.items():
            if post not in posts:
                post_claim_remove(claim=claim)

    @admin.action(description=_("End the selected registrations (today)"), permissions=["change"])
    def end_registrations(self, request, queryset):
        today = timezone.localdate()
        run_each(
            self, request, queryset,
            lambda registration: member_registration_end(registration=registration, user=request.user, ended_on=today),
            lambda n: ngettext("%(n)d registration ended.", "%(n)d registrations ended.", n) % {"n": n},
        )
