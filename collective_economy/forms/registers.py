"""Forms of the registers' pages: contracts (their payment schedule typed as rows, like a voucher's lines),
a payment received, receivables and debts and their collection, and the lists' filters.

The forms check what a field can say (a date, an amount to the fen, a choice among the user's scope);
the rules (a private person by reference, a resource of the same village, a payment above what is due)
are the services', whose refusals the view puts back on the form (``add_service_error``).
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collective_economy.models import (
    Asset,
    Contract,
    ContractKind,
    ContractStatus,
    CounterpartyKind,
    DebtKind,
    DebtRecord,
    Decision,
    Resource,
    SettlementWay,
    Voucher,
    VoucherStatus,
)
from governance.masking import can_view_personal_data, mask_id_number, mask_name
from governance.models import Level, OrgUnit, Resident
from governance.portal.forms import DateInput, PortalFormMixin, ScopedFilterForm, SearchSelect, style_widget

FEN = Decimal("0.01")
# Rows the schedule shows at least (a clerk expects a few empty rows ready to type into).
MIN_ROWS = 3
MAX_ROWS = 120
NOT_YUAN = _("Enter an amount in yuan with at most two decimals, such as 12,000.00.")
NOT_POSITIVE = _("Enter an amount above zero.")


def resident_label(resident: Resident, full_view: bool) -> str:
    if full_view:
        return f"{resident.name} {mask_id_number(resident.id_number)}"
    return f"{mask_name(resident.name)} {mask_id_number(resident.id_number)}"


def voucher_label(voucher: Voucher) -> str:
    return f"{voucher.date:%Y-%m-%d} {voucher.display_number} {voucher.summary} {voucher.debit_total:,.2f}"


def parse_amount(text: str) -> Decimal:
    """What a clerk typed as yuan ("12,000.5", "￥3000") as a Decimal to the fen; ValidationError if it is not."""
    cleaned = re.sub(r"[,，\s¥￥]", "", text or "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(NOT_YUAN) from None
    if not amount.is_finite() or amount != amount.quantize(FEN) or abs(amount) >= Decimal("1e14"):
        raise ValidationError(NOT_YUAN)
    return amount.quantize(FEN)


class YuanField(forms.CharField):
    """An amount in yuan as clerks type it (thousands separators allowed), to the fen."""

    def __init__(self, *, positive: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.positive = positive
        self.widget.attrs.update({"inputmode": "decimal", "class": "money", "maxlength": "24"})

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        amount = parse_amount(value[:40])
        if self.positive and amount <= 0:
            raise ValidationError(NOT_POSITIVE)
        if amount < 0:
            raise ValidationError(NOT_YUAN)
        return amount


class VillageField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(label=_("Village/community"), queryset=OrgUnit.objects.none(),
                         empty_label=_("— choose —"), **kwargs)

    def label_from_instance(self, obj):
        return obj.display_name


class ResidentField(forms.ModelChoiceField):
    full_view = False

    def label_from_instance(self, obj):
        return resident_label(obj, self.full_view)


class VoucherField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return voucher_label(obj)


def scoped_villages(user):
    return OrgUnit.objects.visible_to(user).filter(level=Level.VILLAGE, is_active=True).order_by("tree_id", "lft")


def posted_vouchers(user):
    return Voucher.objects.visible_to(user).filter(status=VoucherStatus.POSTED)


def picker(what: str, placeholder, *, village: OrgUnit | None = None) -> SearchSelect:
    """A type-ahead of the registers' picker (``what``: resident, voucher, contract, resource, asset, decision),
    searching the chosen village (the form's ``village`` field, or ``village`` when it is fixed)."""
    params = {"what": what}
    if village is not None:
        params["village"] = village.pk
    return SearchSelect(search_url="collective_economy:register-picker", placeholder=placeholder,
                        include="" if village is not None else "[name='village']", params=params)


def choose_first(form, *names) -> None:
    """A required choice starts blank as "— choose —" (not Django's dashes)."""
    for name in names:
        field = form.fields[name]
        field.choices = [("", _("— choose —")), *[choice for choice in field.choices if choice[0]]]


# --- Filters ----------------------------------------------------------------------------------


class RegisterFilterForm(ScopedFilterForm):
    """The unit pickers of the registers' lists (no tags)."""

    unit_path = "village"
    with_tags = False
    lowest_level = Level.VILLAGE


CLEANUP_STATES = [
    ("", _("All")),
    ("regular", pgettext_lazy("register", "Regular")),
    ("irregular", pgettext_lazy("register", "Irregular")),
    ("pending", _("Irregular, not yet cleaned up")),
    ("cleaned", pgettext_lazy("register", "Cleaned up")),
]


class ContractFilterForm(RegisterFilterForm):
    kind = forms.ChoiceField(label=_("Contract type"), required=False,
                             choices=[("", _("All types")), *ContractKind.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *ContractStatus.choices])
    cleanup = forms.ChoiceField(label=_("Clean-up"), required=False, choices=CLEANUP_STATES)
    overdue = forms.ChoiceField(label=_("Payments"), required=False,
                                choices=[("", _("All contracts")), ("1", _("With overdue payments"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Number, title, firm, subject or location")
        self.order_fields([*self.unit_fields, "kind", "status", "cleanup", "overdue", "q"])

    def search(self, queryset, text):
        return queryset.filter(Q(number__icontains=text) | Q(title__icontains=text)
                               | Q(counterparty_name__icontains=text) | Q(subject__icontains=text)
                               | Q(location__icontains=text))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.is_bound:
            return queryset
        data = self.cleaned_data
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        cleanup = data.get("cleanup")
        if cleanup == "regular":
            queryset = queryset.filter(is_regular=True)
        elif cleanup == "irregular":
            queryset = queryset.filter(is_regular=False)
        elif cleanup == "pending":
            queryset = queryset.filter(is_regular=False, cleaned_up_on__isnull=True)
        elif cleanup == "cleaned":
            queryset = queryset.filter(is_regular=False, cleaned_up_on__isnull=False)
        return queryset

    @property
    def wants_overdue(self) -> bool:
        return self.is_bound and self.cleaned_data.get("overdue") == "1"


class DebtFilterForm(RegisterFilterForm):
    kind = forms.ChoiceField(label=pgettext_lazy("register", "Kind"), required=False,
                             choices=[("", _("Receivables and debts")), *DebtKind.choices])
    state = forms.ChoiceField(label=pgettext_lazy("register", "Outstanding"), required=False, choices=[
        ("", _("All")), ("open", _("Still outstanding")), ("settled", _("Settled in full"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Number, origin or firm")
        self.order_fields([*self.unit_fields, "kind", "state", "q"])

    def search(self, queryset, text):
        return queryset.filter(Q(number__icontains=text) | Q(origin__icontains=text)
                               | Q(counterparty_name__icontains=text))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.is_bound and self.cleaned_data.get("kind"):
            queryset = queryset.filter(kind=self.cleaned_data["kind"])
        return queryset

    def filter_state(self, queryset):
        """After the figures are annotated: still outstanding, or settled in full."""
        state = self.cleaned_data.get("state") if self.is_bound else ""
        if state == "open":
            return queryset.filter(outstanding__gt=0)
        if state == "settled":
            return queryset.filter(outstanding__lte=0)
        return queryset


class CleanupFilterForm(RegisterFilterForm):
    """The clean-up page narrows by township or village only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["q"]


# --- Counterparty ------------------------------------------------------------------------------


class CounterpartyFormMixin:
    """A firm by name and credit code, or a resident picked among the village's (never a typed name).

    What the other kind's fields still hold (typed before the kind was switched) is dropped, so a private
    person's name typed into the firm's box is never kept.
    """

    def counterparty_fields(self, user, village: OrgUnit | None):
        self.fields["counterparty_kind"].widget = forms.RadioSelect(choices=CounterpartyKind.choices)
        self.fields["counterparty_kind"].choices = CounterpartyKind.choices
        resident = ResidentField(label=pgettext_lazy("register", "Resident"), required=False,
                                 queryset=Resident.objects.visible_to(user).filter(is_active=True),
                                 widget=picker("resident", _("Type a name or ID number"), village=village),
                                 help_text=_("A private person is chosen among the village's residents."))
        resident.full_view = can_view_personal_data(user)
        style_widget(resident.widget)
        self.fields["counterparty_resident"] = resident

    def clean_counterparty(self, cleaned):
        if cleaned.get("counterparty_kind") == CounterpartyKind.RESIDENT:
            cleaned["counterparty_name"] = ""
            cleaned["counterparty_credit_code"] = ""
        else:
            cleaned["counterparty_resident"] = None
        return cleaned


# --- Contracts ---------------------------------------------------------------------------------


@dataclass
class ScheduleRow:
    """A scheduled payment as typed (strings), kept as typed when the form shows again."""

    due_on: str = ""
    amount: str = ""
    errors: list = field(default_factory=list)

    @property
    def is_blank(self) -> bool:
        return not (self.due_on.strip() or self.amount.strip())


CONTRACT_FIELDS = ["village", "number", "title", "kind", "counterparty_kind", "counterparty_name",
                   "counterparty_credit_code", "counterparty_resident", "subject_kind", "subject", "area", "location",
                   "resource", "asset", "amount", "signed_on", "starts_on", "ends_on", "status", "decision",
                   "is_regular", "problem", "cleaned_up_on", "arrears"]


class ServiceModelForm(PortalFormMixin, forms.ModelForm):
    """A ModelForm whose model rules are the service's: the form checks its fields only, then the view calls the
    service, which checks the rest in its own words (a constraint's bare name never reaches the user)."""

    def _post_clean(self):
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class ContractForm(CounterpartyFormMixin, ServiceModelForm):
    """A contract: who, what, how much, how long, its clean-up; and its payment schedule as rows
    (``schedule-due_on``, ``schedule-amount`` repeated)."""

    amount = YuanField(label=_("Contract amount (yuan)"), positive=False)
    arrears = YuanField(label=_("Arrears found at the clean-up (yuan)"), positive=False, required=False)
    # The schedule's errors (the service's "schedule" field) are shown above its table.
    schedule = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Contract
        fields = CONTRACT_FIELDS
        widgets = {"signed_on": DateInput(), "starts_on": DateInput(), "ends_on": DateInput(),
                   "cleaned_up_on": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        village = self.instance.village if editing else None
        self.fields["village"] = VillageField(disabled=editing)
        self.fields["village"].queryset = scoped_villages(user) if not editing else OrgUnit.objects.filter(
            pk=self.instance.village_id)
        if not editing:
            choices = list(self.fields["village"].queryset[:2])
            if len(choices) == 1:
                self.fields["village"].initial = choices[0].pk
                village = choices[0]
        self.counterparty_fields(user, village)
        for name, model, what, placeholder in (
                ("resource", Resource, "resource", _("Type a resource's number or name")),
                ("asset", Asset, "asset", _("Type an asset's number or name")),
                ("decision", Decision, "decision", _("Type a decision's number or matter"))):
            self.fields[name].queryset = model.objects.visible_to(user)
            self.fields[name].widget = picker(what, placeholder, village=village)
            self.fields[name].label_from_instance = str
        self.fields["problem"].choices = [("", _("— none —")), *[c for c in self.fields["problem"].choices if c[0]]]
        for name in ("village", "resource", "asset", "decision"):
            style_widget(self.fields[name].widget)
        choose_first(self, "kind", "subject_kind")
        self.fields["arrears"].initial = Decimal("0.00") if not editing else None
        self.order_fields(CONTRACT_FIELDS)
        self.rows = self._rows_from_data() if self.is_bound else self._rows_from_contract()
        while len(self.rows) < MIN_ROWS:
            self.rows.append(ScheduleRow())
        self.schedule_input: list[tuple[datetime.date, Decimal]] = []

    def _rows_from_contract(self) -> list[ScheduleRow]:
        if self.instance.pk is None:
            return []
        return [ScheduleRow(due_on=i.due_on.isoformat(), amount=f"{i.amount:.2f}")
                for i in self.instance.instalments.order_by("due_on")]

    def _rows_from_data(self) -> list[ScheduleRow]:
        dates, amounts = self.data.getlist("schedule-due_on"), self.data.getlist("schedule-amount")
        count = min(max(len(dates), len(amounts)), MAX_ROWS)
        return [ScheduleRow(due_on=(dates[i] if i < len(dates) else "")[:20],
                            amount=(amounts[i] if i < len(amounts) else "")[:24]) for i in range(count)]

    def clean(self):
        cleaned = self.clean_counterparty(super().clean())
        if cleaned.get("arrears") is None:
            cleaned["arrears"] = Decimal("0.00")
        if cleaned.get("is_regular"):
            cleaned["problem"], cleaned["cleaned_up_on"] = "", None
        errors = []
        for n, row in enumerate((r for r in self.rows if not r.is_blank), start=1):
            try:
                due_on = datetime.date.fromisoformat(row.due_on.strip())
            except ValueError:
                errors.append(ValidationError(_("Payment %(n)s: enter the date it is due."), params={"n": n}))
                row.errors.append("due_on")
                continue
            try:
                amount = parse_amount(row.amount)
                if amount <= 0:
                    raise ValidationError(NOT_POSITIVE)
            except ValidationError as error:
                errors.append(ValidationError(_("Payment %(n)s: %(error)s"),
                                              params={"n": n, "error": error.messages[0]}))
                row.errors.append("amount")
                continue
            self.schedule_input.append((due_on, amount))
        if errors:
            raise ValidationError({"schedule": errors})
        return cleaned

    def service_fields(self) -> dict:
        fields = super().service_fields()
        if self.instance.pk is not None:
            fields.pop("village", None)
        return fields

    def schedule_total(self) -> Decimal:
        total = Decimal("0.00")
        for row in self.rows:
            try:
                total += parse_amount(row.amount) if row.amount.strip() else 0
            except ValidationError:
                continue
        return total


class PaymentForm(PortalFormMixin, forms.Form):
    """A payment received against one of the contract's scheduled payments, with the voucher that posted it."""

    instalment = forms.ModelChoiceField(label=_("Scheduled payment"), queryset=None, empty_label=_("— choose —"))
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    amount = YuanField(label=_("Amount received (yuan)"))
    voucher = VoucherField(label=pgettext_lazy("register", "Voucher"), queryset=Voucher.objects.none(), required=False,
                           help_text=_("The posted voucher that booked the payment."))

    def __init__(self, *args, user, contract: Contract, schedule, **kwargs):
        super().__init__(*args, **kwargs)
        open_rows = [row for row in schedule if row.outstanding > 0]
        self.fields["instalment"].queryset = contract.instalments.filter(pk__in=[row.pk for row in open_rows])
        labels = {row.pk: _("Due %(due_on)s · %(left)s yuan outstanding") % {
            "due_on": row.due_on.isoformat(), "left": f"{row.outstanding:,.2f}"} for row in open_rows}
        self.fields["instalment"].label_from_instance = lambda obj: labels.get(obj.pk, str(obj))
        if open_rows:
            self.fields["instalment"].initial = open_rows[0].pk
        self.fields["voucher"].queryset = posted_vouchers(user).filter(book__village=contract.village_id)
        self.fields["voucher"].widget = picker("voucher", _("Type a voucher's number, summary or amount"),
                                               village=contract.village)
        style_widget(self.fields["voucher"].widget)


# --- Receivables and debts ---------------------------------------------------------------------


DEBT_FIELDS = ["village", "kind", "number", "counterparty_kind", "counterparty_name", "counterparty_credit_code",
               "counterparty_resident", "origin", "arisen_on", "opening_amount", "registered_on", "contract"]


class DebtRecordForm(CounterpartyFormMixin, ServiceModelForm):
    opening_amount = YuanField(label=_("Opening amount (yuan)"))

    class Meta:
        model = DebtRecord
        fields = DEBT_FIELDS
        widgets = {"arisen_on": DateInput(), "registered_on": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        village = self.instance.village if editing else None
        self.fields["village"] = VillageField(disabled=editing)
        self.fields["village"].queryset = scoped_villages(user) if not editing else OrgUnit.objects.filter(
            pk=self.instance.village_id)
        if not editing:
            choices = list(self.fields["village"].queryset[:2])
            if len(choices) == 1:
                self.fields["village"].initial = choices[0].pk
                village = choices[0]
        self.counterparty_fields(user, village)
        self.fields["contract"].queryset = Contract.objects.visible_to(user)
        self.fields["contract"].widget = picker("contract", _("Type a contract's number or title"), village=village)
        self.fields["contract"].label_from_instance = str
        for name in ("village", "contract"):
            style_widget(self.fields[name].widget)
        choose_first(self, "kind")
        self.order_fields(DEBT_FIELDS)

    def clean(self):
        return self.clean_counterparty(super().clean())

    def service_fields(self) -> dict:
        fields = super().service_fields()
        if self.instance.pk is not None:
            fields.pop("village", None)
        return fields


class SettleForm(PortalFormMixin, forms.Form):
    """收回 a part of a receivable, or 化解 a part of a debt."""

    settled_on = forms.DateField(label=_("Date"), widget=DateInput())
    amount = YuanField(label=_("Amount (yuan)"))
    way = forms.ChoiceField(label=pgettext_lazy("settlement", "How"), choices=SettlementWay.choices,
                            initial=SettlementWay.CASH)
    voucher = VoucherField(label=pgettext_lazy("register", "Voucher"), queryset=Voucher.objects.none(), required=False,
                           help_text=_("The posted voucher that booked it, if any."))

    def __init__(self, *args, user, record: DebtRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["voucher"].queryset = posted_vouchers(user).filter(book__village=record.village_id)
        self.fields["voucher"].widget = picker("voucher", _("Type a voucher's number, summary or amount"),
                                               village=record.village)
        style_widget(self.fields["voucher"].widget)
