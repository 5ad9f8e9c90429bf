"""Admin of the clean-up registers: contracts (with their payment schedule, edited as rows, and the payments
received) and receivables and debts (with their collections and resolutions), in the user's scope with
township and village filters.

Every write goes through ``collective_economy.services.registers``: a contract through ``contract_save`` and its
schedule through ``instalments_set`` (a payment that received money or has a case stays); a collection or
resolution added under its record through ``debt_settle`` (never more than is outstanding). Payments received
and settlements already recorded are read-only here. A private counterparty is picked among the residents in
scope; his name is masked for roles that do not see personal data.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from collective_economy.admin.books import ReadOnlyAdminMixin
from collective_economy.forms.registers import resident_label
from collective_economy.models import (
    Contract,
    ContractInstalment,
    ContractPayment,
    DebtRecord,
    DebtSettlement,
    VoucherStatus,
)
from collective_economy.services import registers as services
from governance.masking import can_view_personal_data
from governance.models import Resident
from governance.portal.admin import (
    ReadOnlyInline,
    ScopedAdminMixin,
    ServiceWriteAdminMixin,
    TownshipFilter,
    VillageFilter,
    add_rule_errors,
)
from governance.rosters.admin import RosterAdminMixin

COUNTERPARTY = ("counterparty_kind", "counterparty_name", "counterparty_credit_code", "counterparty_resident")


class CounterpartyAdminForm(forms.ModelForm):
    """The counterparty's rule (a firm by name, or a resident by reference) checked in the service's words before
    the model's constraint would name itself."""

    def clean(self):
        cleaned = super().clean()
        village = cleaned.get("village") or getattr(self.instance, "village", None)
        if village is None:
            return cleaned
        probe = self._meta.model(village=village, **{name: cleaned.get(name) for name in COUNTERPARTY
                                                      if name in cleaned})
        probe.counterparty_name = probe.counterparty_name or ""
        probe.counterparty_credit_code = probe.counterparty_credit_code or ""
        try:
            services.counterparty_check(probe)
        except ValidationError as exc:
            add_rule_errors(self, exc)
        return cleaned


class CounterpartyAdminMixin:
    """Residents in scope, labelled masked for roles that do not see personal data; a reader without the change
    permission sees the counterparty as it may be shown."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "counterparty_resident":
            kwargs["queryset"] = Resident.objects.visible_to(request.user).filter(is_active=True)
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            full_view = can_view_personal_data(request.user)
            field.label_from_instance = lambda resident: resident_label(resident, full_view)
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj) or can_view_personal_data(request.user):
            return fieldsets
        return [(name, {**options, "fields": tuple("counterparty_shown" if f == "counterparty_resident" else f
                                                   for f in options["fields"])})
                for name, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "counterparty_shown")

    @admin.display(description=_("counterparty"))
    def counterparty_shown(self, obj):
        return obj.counterparty_public


def _nothing_saved_by_the_formset(formset) -> None:
    """The service wrote the rows: the admin's change message reads what the formset itself saved (nothing)."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- Contracts ---------------------------------------------------------------------------------------


class InstalmentInline(ScopedAdminMixin, admin.TabularInline):
    """The payment schedule: rows typed here replace it through ``instalments_set``."""

    model = ContractInstalment
    fields = ("due_on", "amount", "case")
    readonly_fields = ("case",)
    extra = 1


class PaymentInline(ReadOnlyInline):
    model = ContractPayment
    fields = ("received_on", "amount", "instalment", "voucher", "recorded_by", "recorded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("instalment", "voucher", "recorded_by")


class ContractAdminForm(CounterpartyAdminForm):
    class Meta:
        model = Contract
        fields = ["village", "number", "title", "kind", "status", "decision", *COUNTERPARTY, "subject_kind", "subject",
                  "area", "location", "resource", "asset", "amount", "signed_on", "starts_on", "ends_on", "is_regular",
                  "problem", "cleaned_up_on", "arrears"]


@admin.register(Contract)
class ContractAdmin(ServiceWriteAdminMixin, CounterpartyAdminMixin, ScopedAdminMixin, RosterAdminMixin,
                    admin.ModelAdmin):
    """Contracts (经济合同) and their clean-up; saved through ``contract_save``, the schedule through
    ``instalments_set``."""

    roster_kind = "contracts"

    form = ContractAdminForm
    bulk_delete = False
    inlines = [InstalmentInline, PaymentInline]
    list_display = ("number", "title", "village", "kind", "counterparty_shown", "amount", "ends_on", "status",
                    "is_regular", "cleaned_up_on")
    list_select_related = ("village",)
    list_filter = ("kind", "status", "is_regular", "problem", TownshipFilter, VillageFilter)
    search_fields = ("number", "title", "counterparty_name", "subject", "location")
    date_hierarchy = "signed_on"
    autocomplete_fields = ("village",)
    fieldsets = (
        (None, {"fields": ("village", "number", "title", "kind", "status", "decision")}),
        (_("counterparty"), {"fields": COUNTERPARTY}),
        (_("subject"), {"fields": ("subject_kind", "subject", "area", "location", "resource", "asset")}),
        (_("amount and term"), {"fields": ("amount", "signed_on", "starts_on", "ends_on")}),
        (_("clean-up"), {"fields": ("is_regular", "problem", "cleaned_up_on", "arrears")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "village") if obj is not None else readonly

    def has_delete_permission(self, request, obj=None):
        # A contract that received money or is chased by a case is kept (its payments name their vouchers).
        if obj is not None and (obj.payments.exists() or obj.instalments.filter(case__isnull=False).exists()):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        fields = {name: value for name, value in form.cleaned_data.items() if name in {
            f.name for f in Contract._meta.fields}}
        if change:
            fields.pop("village", None)
        saved = services.contract_save(user=request.user, contract=obj if change else None, **fields)
        self.became(obj, saved)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ContractInstalment:
            return super().save_formset(request, form, formset, change)
        schedule = [(row.cleaned_data["due_on"], row.cleaned_data["amount"]) for row in formset.forms
                    if row.cleaned_data and not row.cleaned_data.get("DELETE") and row.cleaned_data.get("due_on")]
        services.instalments_set(contract=form.instance, schedule=schedule)
        _nothing_saved_by_the_formset(formset)


# --- Receivables and debts -----------------------------------------------------------------------


class SettlementInline(ScopedAdminMixin, admin.TabularInline):
    """Collections and resolutions: a new row is recorded through ``debt_settle``; recorded ones stay as they are."""

    model = DebtSettlement
    fields = ("settled_on", "amount", "way", "voucher", "recorded_by", "recorded_at")
    readonly_fields = ("recorded_by", "recorded_at")
    raw_id_fields = ("voucher",)
    extra = 1
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "voucher":
            kwargs["queryset"] = DebtSettlement._meta.get_field("voucher").related_model.objects.visible_to(
                request.user).filter(status=VoucherStatus.POSTED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DebtRecordAdminForm(CounterpartyAdminForm):
    class Meta:
        model = DebtRecord
        fields = ["village", "kind", "number", "origin", "arisen_on", "opening_amount", "registered_on", "contract",
                  *COUNTERPARTY]


@admin.register(DebtRecord)
class DebtRecordAdmin(ServiceWriteAdminMixin, CounterpartyAdminMixin, ScopedAdminMixin, RosterAdminMixin,
                      admin.ModelAdmin):
    """Receivables (债权) and debts (债务) registered at the clean-up; saved through ``debt_record_save``."""

    roster_kind = "debt_records"

    form = DebtRecordAdminForm
    bulk_delete = False
    inlines = [SettlementInline]
    list_display = ("number", "kind", "village", "counterparty_shown", "origin", "opening_amount", "registered_on")
    list_select_related = ("village",)
    list_filter = ("kind", TownshipFilter, VillageFilter)
    search_fields = ("number", "origin", "counterparty_name")
    autocomplete_fields = ("village",)
    raw_id_fields = ("contract",)
    fieldsets = (
        (None, {"fields": ("village", "kind", "number", "origin", "arisen_on", "opening_amount", "registered_on",
                           "contract")}),
        (_("counterparty"), {"fields": COUNTERPARTY}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "village") if obj is not None else readonly

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.settlements.exists():
            return False  # what was collected or resolved is kept
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        fields = {name: value for name, value in form.cleaned_data.items() if name in {
            f.name for f in DebtRecord._meta.fields}}
        if change:
            fields.pop("village", None)
        self.became(obj, services.debt_record_save(user=request.user, record=obj if change else None, **fields))

    def save_formset(self, request, form, formset, change):
        for row in formset.forms:
            data = row.cleaned_data
            if row.instance.pk is not None or not data or not data.get("amount"):
                continue
            services.debt_settle(record=form.instance, settled_on=data["settled_on"], amount=data["amount"],
                                 way=data.get("way") or "cash", voucher=data.get("voucher"), user=request.user)
        _nothing_saved_by_the_formset(formset)


@admin.register(ContractInstalment)
class ContractInstalmentAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    """The contracts' payments due, one row each: read here, changed on the contract, imported from Excel
    (下载模板 / 导入: contract number, due date, amount)."""

    roster_kind = "contract_instalments"

    def may_import_roster(self, request) -> bool:
        # Rows are never added one by one here (the contract's page keeps its schedule); the import adds them.
        return request.user.has_perms(("collective_economy.add_contractinstalment",
                                       "collective_economy.change_contractinstalment"))
    list_display = ["contract", "due_on", "amount", "case"]
    list_filter = [TownshipFilter, VillageFilter]
    list_select_related = ["contract", "case"]
    search_fields = ["contract__number", "contract__title"]
    date_hierarchy = "due_on"
