"""Contracts, receivables and debts: the registers of the clean-up (清化收: 清理合同、化解债务、收缴欠款).

A contract (发包, 租赁, 承包, 合作) has a counterparty that is a firm (by its credit code) or a
resident (by reference, so the name is never typed twice and never published), a subject
(land, a building, forest, water … with its area and location, or a resource or asset of
the register), a payment schedule and the payments received, each linked to the voucher
that posted it. Receivables (债权) and debts (债务) are one register with a kind: an opening
amount when the clean-up started, and the collections or resolutions against it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Level, OrgUnit, Resident
from governance.scope import ScopedQuerySet
from governance.validators import validate_credit_code

MONEY = {"max_digits": 16, "decimal_places": 2}
AREA = {"max_digits": 12, "decimal_places": 2}


class CounterpartyKind(models.TextChoices):
    FIRM = "firm", _("Firm or organisation")
    RESIDENT = "resident", _("Private person")


class Counterparty(models.Model):
    """Who the collective deals with: a firm by name and credit code, or a resident by reference.

    A private person's name lives only in the resident roster: the register holds the reference,
    so nothing published from it can name him.
    """

    counterparty_kind = models.CharField(_("counterparty type"), max_length=10, choices=CounterpartyKind.choices,
                                         default=CounterpartyKind.FIRM)
    counterparty_name = models.CharField(_("counterparty (firm)"), max_length=100, blank=True)
    counterparty_credit_code = models.CharField(_("counterparty's credit code"), max_length=18, blank=True,
                                                validators=[validate_credit_code])
    counterparty_resident = models.ForeignKey(Resident, verbose_name=_("counterparty (resident)"),
                                              on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        abstract = True

    @classmethod
    def counterparty_constraint(cls, name: str) -> models.CheckConstraint:
        firm = Q(counterparty_kind="firm", counterparty_resident__isnull=True) & ~Q(counterparty_name="")
        person = Q(counterparty_kind="resident", counterparty_resident__isnull=False, counterparty_name="",
                   counterparty_credit_code="")
        return models.CheckConstraint(condition=firm | person, name=name)

    @property
    def counterparty_public(self) -> str:
        """What may be shown to anyone: a firm's name; never a private person's."""
        if self.counterparty_kind == CounterpartyKind.FIRM:
            return self.counterparty_name
        return str(_("Private person (not named)"))


class ContractKind(models.TextChoices):
    LETTING = "letting", _("Letting out (发包)")
    LEASE = "lease", _("Lease (租赁)")
    CONTRACTING = "contracting", _("Contracting (承包)")
    COOPERATION = "cooperation", _("Cooperation (合作)")


class SubjectKind(models.TextChoices):
    LAND = "land", _("Land")
    BUILDING = "building", _("Building")
    FOREST = "forest", _("Forest")
    WATER = "water", _("Water surface")
    EQUIPMENT = "equipment", _("Equipment")
    OTHER = "other", pgettext_lazy("subject kind", "Other")


class ContractStatus(models.TextChoices):
    IN_FORCE = "in_force", _("In force")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class ProblemType(models.TextChoices):
    NONE = "", _("—")
    NO_WRITTEN = "no_written", _("No written contract")
    LOW_PRICE = "low_price", _("Price clearly too low")
    LONG_TERM = "long_term", _("Term too long")
    NO_PROCEDURE = "no_procedure", _("Not passed by the village's democratic procedure")
    ARREARS = "arrears", _("Fees in arrears")
    OTHER = "other", pgettext_lazy("problem type", "Other")


class Contract(Counterparty):
    """A contract of the collective (经济合同): letting, lease, contracting or cooperation."""

    org_scope_field = "village"

    village = models.ForeignKey(OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT,
                                related_name="contracts", limit_choices_to={"level": Level.VILLAGE})
    number = models.CharField(_("contract number"), max_length=40)
    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("contract type"), max_length=12, choices=ContractKind.choices)
    subject_kind = models.CharField(_("subject"), max_length=10, choices=SubjectKind.choices)
    subject = models.CharField(_("subject description"), max_length=200, blank=True)
    area = models.DecimalField(_("area (mu)"), null=True, blank=True, **AREA)
    location = models.CharField(_("location"), max_length=200, blank=True)
    resource = models.ForeignKey("collective_economy.Resource", verbose_name=_("resource"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="contracts")
    asset = models.ForeignKey("collective_economy.Asset", verbose_name=_("asset"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="contracts")
    amount = models.DecimalField(_("contract amount (yuan)"), **MONEY)
    signed_on = models.DateField(_("signed on"))
    starts_on = models.DateField(_("term starts"))
    ends_on = models.DateField(_("term ends"))
    status = models.CharField(_("status"), max_length=12, choices=ContractStatus.choices,
                              default=ContractStatus.IN_FORCE)
    decision = models.ForeignKey("collective_economy.Decision", verbose_name=_("village decision"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="contracts")
    # The clean-up (清理): irregular contracts found, their problem, when they were put right.
    is_regular = models.BooleanField(_("regular"), default=True)
    problem = models.CharField(_("problem"), max_length=14, choices=ProblemType.choices, blank=True)
    cleaned_up_on = models.DateField(_("cleaned up on"), null=True, blank=True)
    arrears = models.DecimalField(_("arrears found at the clean-up (yuan)"), default=0, **MONEY)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["village__tree_id", "village__lft", "number"]
        constraints = [
            models.UniqueConstraint(fields=["village", "number"], name="ce_contract_number_unique"),
            Counterparty.counterparty_constraint("ce_contract_counterparty"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="ce_contract_term"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(arrears__gte=0), name="ce_contract_amounts"),
            # Only an irregular contract has a problem or is cleaned up.
            models.CheckConstraint(condition=Q(is_regular=False) | (Q(problem="") & Q(cleaned_up_on__isnull=True)),
                                   name="ce_contract_cleanup_irregular"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"


class ContractInstalment(models.Model):
    """A payment the contract schedules (应收): its date and amount; overdue while not paid in full after it."""

    org_scope_field = "contract__village"

    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="instalments")
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount due (yuan)"), **MONEY)
    # The case opened to chase it when overdue: one case per instalment, ever.
    case = models.OneToOneField("grid.Case", verbose_name=_("case"), on_delete=models.PROTECT, null=True, blank=True,
                                related_name="contract_instalment")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("scheduled payment")
        verbose_name_plural = _("payment schedule")
        ordering = ["contract", "due_on"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "due_on"], name="ce_instalment_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ce_instalment_amount"),
        ]

    def __str__(self):
        return f"{self.contract.number} {self.due_on}"


class ContractPayment(models.Model):
    """A payment received under a contract (实收), against a scheduled payment, with its posting voucher."""

    org_scope_field = "contract__village"

    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="payments")
    instalment = models.ForeignKey(ContractInstalment, verbose_name=_("scheduled payment"), on_delete=models.PROTECT,
                                   related_name="payments")
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount received (yuan)"), **MONEY)
    voucher = models.ForeignKey("collective_economy.Voucher", verbose_name=_("voucher"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="contract_payments")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment received")
        verbose_name_plural = _("payments received")
        ordering = ["contract", "received_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ce_payment_amount")]

    def __str__(self):
        return f"{self.contract.number} {self.received_on} {self.amount}"


class DebtKind(models.TextChoices):
    RECEIVABLE = "receivable", _("Receivable (债权)")
    DEBT = "debt", _("Debt (债务)")


class DebtRecord(Counterparty):
    """A receivable owed to the collective or a debt it owes, registered at the clean-up with its opening amount."""

    org_scope_field = "village"

    village = models.ForeignKey(OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT,
                                related_name="debt_records", limit_choices_to={"level": Level.VILLAGE})
    kind = models.CharField(_("kind"), max_length=10, choices=DebtKind.choices)
    number = models.CharField(pgettext_lazy("receivable or debt", "number"), max_length=40)
    origin = models.CharField(_("origin"), max_length=200, help_text=_("How it arose, e.g. unpaid contract fees."))
    arisen_on = models.DateField(_("arisen on"), null=True, blank=True)
    opening_amount = models.DecimalField(_("opening amount (yuan)"), **MONEY)
    registered_on = models.DateField(_("registered on"))
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="debt_records")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("receivable or debt")
        verbose_name_plural = _("receivables and debts")
        ordering = ["village__tree_id", "village__lft", "kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["village", "kind", "number"], name="ce_debt_number_unique"),
            Counterparty.counterparty_constraint("ce_debt_counterparty"),
            models.CheckConstraint(condition=Q(opening_amount__gt=0), name="ce_debt_opening_amount"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class SettlementWay(models.TextChoices):
    CASH = "cash", _("Paid in money")
    OFFSET = "offset", _("Offset against a debt")
    IN_KIND = "in_kind", _("Settled in kind")
    WRITTEN_OFF = "written_off", _("Written off with approval")


class DebtSettlement(models.Model):
    """An amount of a receivable collected (收回) or of a debt resolved (化解), on a date, with its voucher."""

    org_scope_field = "record__village"

    record = models.ForeignKey(DebtRecord, verbose_name=_("receivable or debt"), on_delete=models.CASCADE,
                               related_name="settlements")
    settled_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    way = models.CharField(_("how"), max_length=12, choices=SettlementWay.choices, default=SettlementWay.CASH)
    voucher = models.ForeignKey("collective_economy.Voucher", verbose_name=_("voucher"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="debt_settlements")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection or resolution")
        verbose_name_plural = _("collections and resolutions")
        ordering = ["record", "settled_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ce_settlement_amount")]

    def __str__(self):
        return f"{self.record} {self.settled_on} {self.amount}"
