"""Admin of the party organisations (an indented tree), the party members and the party-member households."""

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTAdminForm, MPTTModelAdmin

from governance.masking import mask_id_number
from governance.portal.admin import (
    GridFilter,
    PersonalDataMixin,
    RuleCheckedForm,
    ScopedAdminMixin,
    TownshipFilter,
    VillageFilter,
)
from governance.rosters.admin import RosterAdminMixin
from governance.selectors import count_subquery
from partybuild.admin.common import (
    BranchTownshipFilter,
    BranchVillageFilter,
    PartyWriteAdminMixin,
    changed_fields,
)
from partybuild.models import CentralHousehold, PartyMember, PartyOrganization, PartyOrganizationKind, kind_choices
from partybuild.services.organizations import (
    MEMBER_FIELDS,
    ORGANIZATION_FIELDS,
    central_household_check,
    central_household_clear,
    central_household_set,
    party_member_check,
    party_member_create,
    party_member_update,
    party_organization_check,
    party_organization_create,
    party_organization_update,
)

# --- Party organisations ---------------------------------------------------------------------


class PartyOrganizationForm(MPTTAdminForm, RuleCheckedForm):
    # The kinds are rows (kept in their own admin), read each time the form is shown.
    kind = forms.ChoiceField(label=_("kind"), choices=lambda: [("", "---------"), *kind_choices()])

    def check_rules(self):
        party_organization_check(organization=self.instance)


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return kind_choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(PartyWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, MPTTModelAdmin):
    """The organisation tree, indented: 党委 → 党总支/党支部 → 网格党支部 → 党小组."""

    roster_kind = "party_organizations"
    form = PartyOrganizationForm
    list_display = ("name", "kind_name", "org_unit", "work_unit", "members_count", "is_active")
    list_select_related = ("org_unit",)
    mptt_indent_field = "name"
    mptt_level_indent = 20
    list_filter = (KindFilter, "is_active", TownshipFilter, VillageFilter)
    search_fields = ("name", "work_unit")
    autocomplete_fields = ("parent", "org_unit")
    fields = ("name", "kind", "parent", "org_unit", "work_unit", "is_active")
    list_per_page = 200

    def get_queryset(self, request):
        members = PartyMember.objects.filter(organization=OuterRef("pk"), is_active=True)
        names = PartyOrganizationKind.objects.filter(code=OuterRef("kind")).values("name")[:1]
        return super().get_queryset(request).annotate(n_members=count_subquery(members), kind_label=Subquery(names))

    @admin.display(description=_("members"), ordering="n_members")
    def members_count(self, obj):
        return obj.n_members

    @admin.display(description=_("kind"), ordering="kind")
    def kind_name(self, obj):
        return obj.kind_label or obj.kind

    def save_model(self, request, obj, form, change):
        if change:
            saved = party_organization_update(organization=obj, **changed_fields(obj, form, ORGANIZATION_FIELDS))
        else:
            saved = party_organization_create(**{name: getattr(obj, name) for name in self.fields})
        self.became(obj, saved)


# --- Party members --------------------------------------------------------------------------


class PartyMemberForm(RuleCheckedForm):
    def check_rules(self):
        party_member_check(member=self.instance)


@admin.register(PartyMember)
class PartyMemberAdmin(PartyWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, PersonalDataMixin,
                       admin.ModelAdmin):
    roster_kind = "party_members"
    form = PartyMemberForm
    # The default columns are the masked ones; get_list_display unmasks for those allowed.
    personal_fields = {"id_number": "id_number_masked"}
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

    def get_readonly_fields(self, request, obj=None):
        # A member record belongs to one person for good.
        return ("resident",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            saved = party_member_update(member=obj, **changed_fields(obj, form, MEMBER_FIELDS))
        else:
            fields = [name for name in self.fields if name != "is_active"]
            saved = party_member_create(**{name: getattr(obj, name) for name in fields})
            if not obj.is_active:
                saved = party_member_update(member=saved, is_active=False)
        self.became(obj, saved)


class CentralHouseholdForm(RuleCheckedForm):
    def check_rules(self):
        central_household_check(household=self.instance.household, member=self.instance.member)


@admin.register(CentralHousehold)
class CentralHouseholdAdmin(PartyWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
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
        saved = central_household_set(household=obj.household, member=obj.member, since=obj.since)
        self.became(obj, saved)

    def delete_model(self, request, obj):
        central_household_clear(household=obj.household)
