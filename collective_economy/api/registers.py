"""API of the clean-up registers (清化收) under /api/v1/ledger/:

- ``contracts/``: contracts with their payment schedule nested (read: each scheduled payment with what it
  received and still owes and its case; written with the contract through ``contract_save`` and
  ``instalments_set``);
- ``instalments/``: the scheduled payments (``?overdue=true``: those past due, not paid in full); POST
  ``instalments/<id>/case/`` opens the case that chases an overdue one (``instalment_case_open``: asked
  again, the same case, 200 instead of 201);
- ``contract-payments/``: payments received, recorded through ``contract_payment_record``;
- ``debts/`` and ``debt-settlements/``: receivables and debts, and their collections and resolutions
  (``debt_record_save``, ``debt_settle``).

A private counterparty is a resident's id (never a typed name); his name is shown only to the roles that
see personal data. Amounts are text in yuan to the fen ("1234.50").
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from collective_economy.api.common import MONEY_SCHEMA, LedgerViewSet, MoneyField, user_name
from collective_economy.models import (
    Asset,
    Contract,
    ContractInstalment,
    ContractKind,
    ContractPayment,
    ContractStatus,
    CounterpartyKind,
    DebtKind,
    DebtRecord,
    DebtSettlement,
    Decision,
    ProblemType,
    Resource,
    SettlementWay,
    SubjectKind,
    Voucher,
)
from collective_economy.selectors.cleanup import (
    contracts_overdue,
    contracts_with_figures,
    debts_with_figures,
    instalments_with_received,
    overdue_instalments,
)
from collective_economy.services import registers as services
from collective_economy.services.common import money
from governance.filters import IdFilter, _described, subtree_filter
from governance.masking import can_view_personal_data
from governance.models import OrgUnit, Resident
from governance.portal.api import ScopedIdField, ScopedRelatedField, router, run_write

CASE_PERMS = ["collective_economy.change_contractinstalment", "grid.add_case"]


def choice(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field whose values the schema lists in place (the apps' enums share field names such as
    ``kind`` and ``status``; inline, they never collide)."""
    field = serializers.ChoiceField(choices=choices, **kwargs)
    values = [value for value, _label in choices]
    return extend_schema_field({"type": "string", "enum": values})(field)


def _amount(value, *, positive=True):
    """Text in yuan as a Decimal to the fen; the field's own message when it is not one."""
    try:
        amount = money(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None
    if positive and amount <= 0:
        raise serializers.ValidationError(_("Enter an amount above zero."))
    if amount < 0:
        raise serializers.ValidationError(_("Enter an amount of zero or more."))
    return amount


def shown_counterparty(obj, request) -> str:
    if obj.counterparty_kind == CounterpartyKind.RESIDENT and can_view_personal_data(getattr(request, "user", None)):
        return obj.counterparty_resident.name
    return obj.counterparty_public


class CounterpartySerializer(serializers.ModelSerializer):
    """A firm by name (and credit code), or a resident by id: a private person's name is never written here."""

    counterparty_kind = choice(CounterpartyKind.choices, required=False, default=CounterpartyKind.FIRM)
    counterparty_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100,
                                              help_text=_("A firm's name; empty for a private person."))
    counterparty_credit_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=18)
    counterparty_resident = ScopedIdField(model=Resident, required=False, allow_null=True, default=None,
                                          help_text=_("A private person: the resident's id (never a typed name)."))
    counterparty = serializers.SerializerMethodField(
        help_text=_("Who it is as you may see it: a firm's name; a private person's name only for roles that see "
                    "personal data."))

    def get_counterparty(self, obj) -> str:
        return shown_counterparty(obj, self.context.get("request"))


# --- Contracts -------------------------------------------------------------------------------------


class InstalmentSerializer(serializers.ModelSerializer):
    """A scheduled payment: its date and amount; read with what it received, still owes, and its case."""

    id = serializers.IntegerField(read_only=True)
    contract = serializers.IntegerField(source="contract_id", read_only=True)
    amount = MoneyField(help_text=_("Yuan, as text: \"6000.00\"."))
    received = MoneyField(read_only=True)
    outstanding = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField(help_text=_("Past due and not paid in full (contract in force)."))
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True,
                                    help_text=_("The case chasing it (id), if one was opened."))
    case_number = serializers.CharField(source="case.number", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ContractInstalment
        fields = ["id", "contract", "due_on", "amount", "received", "outstanding", "overdue", "case", "case_number"]

    @extend_schema_field(MONEY_SCHEMA)
    def get_outstanding(self, obj) -> str:
        return f"{obj.amount - getattr(obj, 'received', 0):.2f}"

    def get_overdue(self, obj) -> bool:
        return (obj.due_on < timezone.localdate() and obj.amount > getattr(obj, "received", 0)
                and obj.contract.status == ContractStatus.IN_FORCE)

    def validate_amount(self, value):
        return _amount(value)


class ContractSerializer(CounterpartySerializer):
    """A contract with its payment schedule. ``schedule`` written replaces the schedule (a payment that
    received money or has a case stays); left out, the schedule is kept."""

    village = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the village."))
    village_name = serializers.CharField(source="village.display_name", read_only=True)
    kind = choice(ContractKind.choices)
    subject_kind = choice(SubjectKind.choices)
    status = choice(ContractStatus.choices, required=False, default=ContractStatus.IN_FORCE)
    problem = choice(ProblemType.choices, required=False, allow_blank=True, default="")
    resource = ScopedIdField(model=Resource, required=False, allow_null=True, default=None)
    asset = ScopedIdField(model=Asset, required=False, allow_null=True, default=None)
    decision = ScopedIdField(model=Decision, required=False, allow_null=True, default=None,
                             help_text=_("The village decision that approved it (id)."))
    amount = MoneyField(help_text=_("Contract amount in yuan, as text."))
    arrears = MoneyField(required=False, default="0", help_text=_("Arrears found at the clean-up, yuan."))
    scheduled = MoneyField(read_only=True, help_text=_("The schedule's total."))
    received = MoneyField(read_only=True, help_text=_("Payments received in total."))
    overdue_amount = MoneyField(read_only=True, help_text=_("Still owed on payments past due."))
    schedule = InstalmentSerializer(source="instalments", many=True, required=False)

    class Meta:
        model = Contract
        fields = ["id", "village", "village_name", "number", "title", "kind", "counterparty_kind", "counterparty_name",
                  "counterparty_credit_code", "counterparty_resident", "counterparty", "subject_kind", "subject",
                  "area", "location", "resource", "asset", "amount", "signed_on", "starts_on", "ends_on", "status",
                  "decision", "is_regular", "problem", "cleaned_up_on", "arrears", "scheduled", "received",
                  "overdue_amount", "schedule", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # the service checks the number (unique per village) in its words

    def validate_amount(self, value):
        return _amount(value, positive=False)

    def validate_arrears(self, value):
        return _amount(value, positive=False)

    def _write(self, validated_data, contract=None):
        schedule = validated_data.pop("instalments", None)
        user = self.context["request"].user

        @transaction.atomic
        def write():
            saved = services.contract_save(user=user, contract=contract, **validated_data)
            if schedule is not None:
                services.instalments_set(contract=saved, schedule=[(row["due_on"], row["amount"])
                                                                   for row in schedule])
            return saved

        return run_write(write)

    def create(self, validated_data):
        return self._write(validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("village", None)  # a contract stays in its village
        return self._write(validated_data, contract=instance)


class ContractFilterSet(filters.FilterSet):
    unit = subtree_filter("village", _("Contracts of the villages below this unit (code or id)."))
    kind = filters.ChoiceFilter(choices=ContractKind.choices)
    status = filters.ChoiceFilter(choices=ContractStatus.choices)
    is_regular = filters.BooleanFilter(help_text=_("false: the irregular contracts found at the clean-up."))
    cleaned_up = filters.BooleanFilter(field_name="cleaned_up_on", lookup_expr="isnull", exclude=True,
                                       help_text=_("true: irregular contracts already cleaned up."))
    overdue = filters.BooleanFilter(method="filter_overdue", help_text=_("true: contracts with an overdue payment."))

    class Meta:
        model = Contract
        fields = ["unit", "kind", "status", "is_regular", "cleaned_up", "overdue"]

    def filter_overdue(self, queryset, name, value):
        overdue = contracts_overdue(queryset)
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


def _instalments():
    return instalments_with_received(ContractInstalment.objects.select_related("case", "contract"))


class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, LedgerViewSet):
    """Contracts of the villages in your scope, each with its payment schedule, payments received and overdue."""

    model = Contract
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    search_fields = ["number", "title", "counterparty_name", "subject", "location"]
    ordering_fields = ["number", "signed_on", "ends_on", "amount", "created_at"]

    def optimise(self, queryset):
        return contracts_with_figures(queryset.select_related("village", "counterparty_resident").prefetch_related(
            Prefetch("instalments", queryset=_instalments().order_by("due_on"))))

    def _fresh(self, contract, status=200):
        fresh = self.get_queryset().get(pk=contract.pk)
        return Response(self.get_serializer(fresh).data, status=status)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._fresh(serializer.save(), status=201)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        return self._fresh(serializer.save())


# --- Scheduled payments and payments received ------------------------------------------------------


class InstalmentFilterSet(filters.FilterSet):
    contract = _described(IdFilter(queryset=lambda request: Contract.objects.visible_to(request.user),
                                   field_name="contract"), _("The contract (id)."))
    unit = subtree_filter("contract__village", _("Scheduled payments of the villages below this unit."))
    overdue = filters.BooleanFilter(method="filter_overdue", help_text=_("true: past due and not paid in full."))

    class Meta:
        model = ContractInstalment
        fields = ["contract", "unit", "overdue"]

    def filter_overdue(self, queryset, name, value):
        overdue = overdue_instalments(queryset)
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class CaseOpenedSerializer(serializers.Serializer):
    case = serializers.IntegerField(help_text=_("The case's id (grid/cases/<id>/)."))
    number = serializers.CharField()
    created = serializers.BooleanField(help_text=_("false: the case was already open; no second one is made."))


class InstalmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, LedgerViewSet):
    """The contracts' scheduled payments with what they received; they are written with their contract."""

    model = ContractInstalment
    serializer_class = InstalmentSerializer
    filterset_class = InstalmentFilterSet
    ordering_fields = ["due_on", "amount"]
    action_permissions = {"case": CASE_PERMS}

    def optimise(self, queryset):
        return instalments_with_received(queryset.select_related("case", "contract"))

    @extend_schema(request=None, responses={200: CaseOpenedSerializer, 201: CaseOpenedSerializer},
                   description=_("立案催收: open a case in the closed loop to chase an overdue payment; asked again, "
                                 "the case already open (200). A payment not overdue: 400."))
    @action(detail=True, methods=["post"])
    def case(self, request, pk=None, **kwargs):
        instalment = self.get_object()
        had_case = instalment.case_id is not None
        case = run_write(services.instalment_case_open, instalment=instalment, user=request.user)
        return Response({"case": case.pk, "number": case.number, "created": not had_case},
                        status=200 if had_case else 201)


class PaymentSerializer(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="contract_id", read_only=True)
    instalment = ScopedIdField(model=ContractInstalment, help_text=_("The scheduled payment it pays (id)."))
    amount = MoneyField(help_text=_("Yuan, as text; at most what is still due on the scheduled payment."))
    voucher = ScopedIdField(model=Voucher, required=False, allow_null=True, default=None,
                            help_text=_("The posted voucher that booked it (id)."))
    voucher_number = serializers.CharField(source="voucher.display_number", read_only=True, allow_null=True,
                                           default=None)
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = ContractPayment
        fields = ["id", "contract", "instalment", "received_on", "amount", "voucher", "voucher_number",
                  "recorded_by_name", "recorded_at"]
        read_only_fields = ["recorded_at"]

    def get_recorded_by_name(self, payment) -> str | None:
        return user_name(payment.recorded_by)

    def validate_amount(self, value):
        return _amount(value)

    def create(self, validated_data):
        return run_write(services.contract_payment_record, user=self.context["request"].user, **validated_data)


class PaymentFilterSet(filters.FilterSet):
    contract = _described(IdFilter(queryset=lambda request: Contract.objects.visible_to(request.user),
                                   field_name="contract"), _("The contract (id)."))
    unit = subtree_filter("contract__village", _("Payments of the villages below this unit."))

    class Meta:
        model = ContractPayment
        fields = ["contract", "unit"]


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, LedgerViewSet):
    """Payments received under the contracts, each against a scheduled payment and with its voucher."""

    model = ContractPayment
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilterSet
    ordering_fields = ["received_on", "amount"]

    def optimise(self, queryset):
        return queryset.select_related("voucher", "recorded_by")


# --- Receivables and debts --------------------------------------------------------------------------


class DebtRecordSerializer(CounterpartySerializer):
    village = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the village."))
    village_name = serializers.CharField(source="village.display_name", read_only=True)
    kind = choice(DebtKind.choices)
    opening_amount = MoneyField(help_text=_("Owed when the clean-up registered it, yuan."))
    contract = ScopedIdField(model=Contract, required=False, allow_null=True, default=None)
    settled = MoneyField(read_only=True, help_text=_("Collected (a receivable) or resolved (a debt) so far."))
    outstanding = MoneyField(read_only=True)

    class Meta:
        model = DebtRecord
        fields = ["id", "village", "village_name", "kind", "number", "counterparty_kind", "counterparty_name",
                  "counterparty_credit_code", "counterparty_resident", "counterparty", "origin", "arisen_on",
                  "opening_amount", "registered_on", "contract", "settled", "outstanding", "created_at"]
        read_only_fields = ["created_at"]
        validators = []

    def validate_opening_amount(self, value):
        return _amount(value)

    def create(self, validated_data):
        return run_write(services.debt_record_save, user=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("village", None)
        return run_write(services.debt_record_save, user=self.context["request"].user, record=instance,
                         **validated_data)


class DebtFilterSet(filters.FilterSet):
    unit = subtree_filter("village", _("Receivables and debts of the villages below this unit."))
    kind = filters.ChoiceFilter(choices=DebtKind.choices)
    outstanding = filters.BooleanFilter(method="filter_outstanding", help_text=_("true: not yet settled in full."))

    class Meta:
        model = DebtRecord
        fields = ["unit", "kind", "outstanding"]

    def filter_outstanding(self, queryset, name, value):
        return queryset.filter(outstanding__gt=0) if value else queryset.filter(outstanding__lte=0)


class DebtRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin, LedgerViewSet):
    """Receivables (债权) and debts (债务) of the villages in your scope, with what is collected or resolved."""

    model = DebtRecord
    serializer_class = DebtRecordSerializer
    filterset_class = DebtFilterSet
    search_fields = ["number", "origin", "counterparty_name"]
    ordering_fields = ["number", "registered_on", "opening_amount"]

    def optimise(self, queryset):
        return debts_with_figures(queryset.select_related("village", "counterparty_resident"))

    def _fresh(self, record, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data, status=status)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._fresh(serializer.save(), status=201)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        return self._fresh(serializer.save())


class SettlementSerializer(serializers.ModelSerializer):
    record = ScopedIdField(model=DebtRecord, help_text=_("The receivable or debt (id)."))
    amount = MoneyField(help_text=_("Yuan, as text; at most what is still outstanding."))
    way = choice(SettlementWay.choices, required=False, default=SettlementWay.CASH)
    voucher = ScopedIdField(model=Voucher, required=False, allow_null=True, default=None,
                            help_text=_("The posted voucher that booked it (id)."))
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = DebtSettlement
        fields = ["id", "record", "settled_on", "amount", "way", "voucher", "recorded_by_name", "recorded_at"]
        read_only_fields = ["recorded_at"]

    def get_recorded_by_name(self, settlement) -> str | None:
        return user_name(settlement.recorded_by)

    def validate_amount(self, value):
        return _amount(value)

    def create(self, validated_data):
        return run_write(services.debt_settle, user=self.context["request"].user, **validated_data)


class SettlementFilterSet(filters.FilterSet):
    record = _described(IdFilter(queryset=lambda request: DebtRecord.objects.visible_to(request.user),
                                 field_name="record"), _("The receivable or debt (id)."))
    unit = subtree_filter("record__village", _("Of the villages below this unit."))

    class Meta:
        model = DebtSettlement
        fields = ["record", "unit"]


class SettlementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, LedgerViewSet):
    """Collections of receivables (收回) and resolutions of debts (化解)."""

    model = DebtSettlement
    serializer_class = SettlementSerializer
    filterset_class = SettlementFilterSet
    ordering_fields = ["settled_on", "amount"]

    def optimise(self, queryset):
        return queryset.select_related("voucher", "recorded_by")


router.register("ledger/contracts", ContractViewSet, basename="ledger-contract")
router.register("ledger/instalments", InstalmentViewSet, basename="ledger-instalment")
router.register("ledger/contract-payments", PaymentViewSet, basename="ledger-contract-payment")
router.register("ledger/debts", DebtRecordViewSet, basename="ledger-debt")
router.register("ledger/debt-settlements", SettlementViewSet, basename="ledger-debt-settlement")
