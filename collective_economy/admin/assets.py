"""Admin of the three assets (三资) and the project library (4+N): assets, resources (with their contracts in
force), projects and the project categories.

Assets, resources and projects are in the user's scope (``ScopedAdminMixin``) and saved through
``collective_economy.services.registers``: an asset's detail account is one of its village's fixed-asset
accounts, a project's income accounts are the involved villages' income accounts — the choices offer
only those, and the services refuse the rest. A project's income is read from the books and shown,
never typed. Categories: the four shipped ones (no county) are read-only except for the system's
administrator; a county's officers keep their county's own. A category's scope is its county, above
a township's subtree, so its list is the four and the user's county's (``categories_visible``), not
the subtree rule.
"""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from collective_economy.forms.books import yuan
from collective_economy.models import (
    AccountClass,
    AccountRole,
    Asset,
    Contract,
    Decision,
    Project,
    ProjectCategory,
    Resource,
    SubAccount,
)
from collective_economy.selectors.assets import categories_visible, with_income
from collective_economy.selectors.projects import project_income
from collective_economy.services import registers as services
from collective_economy.services.decisions import county_of
from governance.models import Level, OrgUnit
from governance.portal.admin import (
    ReadOnlyInline,
    ScopedAdminMixin,
    ServiceWriteAdminMixin,
    TownshipFilter,
    VillageFilter,
)
from governance.rosters.admin import RosterAdminMixin


def _villages(request):
    return OrgUnit.objects.visible_to(request.user).filter(level=Level.VILLAGE)


def _sub_accounts(request, **conditions):
    return SubAccount.objects.visible_to(request.user).filter(**conditions).select_related("book__village", "account")


class RegisterAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """A register saved by its service: ``save`` gets the form's fields and the row being changed (or None)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "village":
            kwargs["queryset"] = _villages(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save(self, request, obj, fields):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        fields = {name: value for name, value in form.cleaned_data.items() if name in form.base_fields}
        self.became(obj, self.save(request, obj if change else None, fields))


# --- Assets ---------------------------------------------------------------------------------------


@admin.register(Asset)
class AssetAdmin(RosterAdminMixin, RegisterAdmin):
    """The assets (资产), each on a fixed-asset detail account of its village's books (``asset_save``)."""

    roster_kind = "assets"

    list_display = ("code", "name", "village", "kind", "value", "status", "sub_account", "acquired_on")
    list_select_related = ("village", "sub_account")
    list_filter = ("kind", "status", "is_public_welfare", TownshipFilter, VillageFilter)
    search_fields = ("code", "name", "location")
    fields = ("village", "code", "name", "kind", "status", "value", "acquired_on", "quantity", "location",
              "sub_account", "is_public_welfare")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "sub_account":
            kwargs["queryset"] = _sub_accounts(request, account__role=AccountRole.FIXED_ASSETS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save(self, request, asset, fields):
        return services.asset_save(user=request.user, asset=asset, **fields)


# --- Resources ------------------------------------------------------------------------------------


class ContractInForceInline(ReadOnlyInline):
    """A resource's contracts in force (the contract itself is kept on the contracts' pages)."""

    model = Contract
    fk_name = "resource"
    verbose_name = _("contract in force")
    verbose_name_plural = _("contracts in force")
    fields = ("number", "title", "kind", "amount", "starts_on", "ends_on")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status="in_force")


@admin.register(Resource)
class ResourceAdmin(RosterAdminMixin, RegisterAdmin):
    """The resources (资源: land, forest, water) with their area; those contracted out show their contract."""

    roster_kind = "resources"

    list_display = ("code", "name", "village", "kind", "area", "location")
    list_select_related = ("village",)
    list_filter = ("kind", TownshipFilter, VillageFilter)
    search_fields = ("code", "name", "location")
    fields = ("village", "code", "name", "kind", "area", "location", "boundaries")
    inlines = [ContractInForceInline]

    def save(self, request, resource, fields):
        return services.resource_save(user=request.user, resource=resource, **fields)


# --- Projects -------------------------------------------------------------------------------------


@admin.register(Project)
class ProjectAdmin(RegisterAdmin):
    """The project library (4+N); its income to the collective is read from the books (``project_income``)."""

    list_display = ("name", "category", "village", "status", "investment", "started_on")
    list_select_related = ("village", "category")
    list_filter = ("category", "status", TownshipFilter, VillageFilter)
    search_fields = ("name", "description")
    fields = ("village", "villages", "category", "name", "description", "investment", "started_on", "status",
              "decision", "income_accounts", "income")
    readonly_fields = ("income",)
    filter_horizontal = ("villages", "income_accounts")

    @admin.display(description=_("income to the collective (yuan, from the books)"))
    def income(self, project):
        if project.pk is None:
            return "—"
        return yuan(with_income([project], project_income)[0].income)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "category":
            kwargs["queryset"] = categories_visible(request.user).filter(is_active=True)
        elif db_field.name == "decision":
            kwargs["queryset"] = Decision.objects.visible_to(request.user).select_related("village")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "villages":
            kwargs["queryset"] = _villages(request)
        elif db_field.name == "income_accounts":
            kwargs["queryset"] = _sub_accounts(request, account__account_class=AccountClass.INCOME)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save(self, request, project, fields):
        villages, income_accounts = fields.pop("villages", ()), fields.pop("income_accounts", ())
        return services.project_save(user=request.user, project=project, villages=list(villages),
                                     income_accounts=list(income_accounts), **fields)

    def save_related(self, request, form, formsets, change):
        # The service set the villages (the lead one with them) and the income accounts already.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- Categories -----------------------------------------------------------------------------------


def _county(user) -> OrgUnit | None:
    home = getattr(user, "home_unit", None)
    return county_of(home) if home is not None and home.level == Level.COUNTY else None


class ProjectCategoryForm(forms.ModelForm):
    """A category's name is its county's once, and none of the four shipped ones (the county is not on the
    form of a county officer, so the database's own rule would only fail on saving)."""

    county_for_new = None

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("name")
        county = cleaned.get("county") if "county" in self.fields else (self.instance.county
                                                                         if self.instance.pk else self.county_for_new)
        same = ProjectCategory.objects.filter(Q(county=county) | Q(county__isnull=True), name=name)
        if name and same.exclude(pk=self.instance.pk).exists():
            self.add_error("name", _("There is already a category “%(name)s”.") % {"name": name})
        return cleaned


@admin.register(ProjectCategory)
class ProjectCategoryAdmin(admin.ModelAdmin):
    """The four categories every county has (read-only but for the system's administrator) and the counties'
    own: a county officer adds and changes his county's."""

    list_display = ("name", "code", "county", "sort_order", "is_active")
    list_select_related = ("county",)
    list_filter = ("is_active",)
    search_fields = ("name", "code")
    form = ProjectCategoryForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.county_for_new = _county(request.user)
        return form

    def get_queryset(self, request):
        return categories_visible(request.user).select_related("county")

    def get_fields(self, request, obj=None):
        return ("name", "code", "county", "sort_order", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return () if request.user.is_superuser else ("county",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "county":
            kwargs["queryset"] = OrgUnit.objects.visible_to(request.user).filter(level=Level.COUNTY)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _may_edit(self, request, obj) -> bool:
        if request.user.is_superuser:
            return True
        county = _county(request.user)
        return county is not None and (obj is None or obj.county_id == county.pk)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._may_edit(request, None)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.county = _county(request.user)
        super().save_model(request, obj, form, change)
