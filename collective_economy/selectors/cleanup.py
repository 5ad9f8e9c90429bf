"""Reads of the clean-up (清化收): the contracts, receivables and debts registers as a township officer follows
them, per village and rolled up, and the lists of contracts and of receivables and debts with their figures.

Every figure comes from a few grouped queries over the user's scope (contracts by village; receivables and debts
by village and kind; their collections likewise; overdue payments by village), so the page costs the same
whether the township has three villages or thirty. Python only adds the grouped rows up.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from collective_economy.models import (
    Contract,
    ContractInstalment,
    ContractPayment,
    ContractStatus,
    DebtKind,
    DebtRecord,
    DebtSettlement,
)
from governance.models import Level, OrgUnit
from governance.selectors import subtree_q

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
TENTH = Decimal("0.1")


def _money(subquery) -> Coalesce:
    return Coalesce(Subquery(subquery, output_field=MONEY_FIELD), Value(ZERO, output_field=MONEY_FIELD))


def instalments_with_received(queryset=None) -> QuerySet:
    """Scheduled payments with ``received`` (the sum of their payments) annotated, in the same query."""
    received = (ContractPayment.objects.filter(instalment=OuterRef("pk")).order_by().values("instalment")
                .annotate(total=Sum("amount")).values("total"))
    queryset = ContractInstalment.objects.all() if queryset is None else queryset
    return queryset.annotate(received=_money(received))


def overdue_instalments(queryset=None, *, today: datetime.date | None = None) -> QuerySet:
    """Scheduled payments of contracts in force, due before ``today`` and not paid in full."""
    today = today or timezone.localdate()
    return (instalments_with_received(queryset).filter(due_on__lt=today, contract__status=ContractStatus.IN_FORCE)
            .filter(received__lt=F("amount")))


def share(part, whole) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal (None when there is nothing to divide by)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """The clean-up's figures of one village, or added up for a township or the whole scope."""

    contracts: int = 0
    irregular: int = 0
    cleaned_up: int = 0
    receivable_opening: Decimal = ZERO
    receivable_collected: Decimal = ZERO
    debt_opening: Decimal = ZERO
    debt_resolved: Decimal = ZERO
    overdue: int = 0
    overdue_amount: Decimal = ZERO

    @property
    def share_cleaned_up(self) -> Decimal | None:
        """Irregular contracts put right, in percent of the irregular ones found (清理率)."""
        return share(self.cleaned_up, self.irregular)

    @property
    def receivable_outstanding(self) -> Decimal:
        return self.receivable_opening - self.receivable_collected

    @property
    def debt_outstanding(self) -> Decimal:
        return self.debt_opening - self.debt_resolved

    @property
    def share_collected(self) -> Decimal | None:
        return share(self.receivable_collected, self.receivable_opening)

    @property
    def share_resolved(self) -> Decimal | None:
        return share(self.debt_resolved, self.debt_opening)

    @property
    def is_empty(self) -> bool:
        return not (self.contracts or self.receivable_opening or self.debt_opening or self.overdue)

    def add(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class CleanupRow:
    """A line of the clean-up table: a village, a township's subtotal or the total of the scope."""

    unit: OrgUnit | None
    figures: Figures
    kind: str = "village"  # "village", "township" (a subtotal) or "total"


@dataclass
class Cleanup:
    rows: list[CleanupRow] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    villages: int = 0


def _in(queryset: QuerySet, within: OrgUnit | None, path: str) -> QuerySet:
    return queryset.filter(subtree_q(within, path)) if within is not None else queryset


def cleanup_figures(*, fetched_by, within: OrgUnit | None = None, today: datetime.date | None = None) -> Cleanup:
    """The clean-up per village of the user's scope (or of ``within``), each township's subtotal when the scope
    spans several, and the total: five queries, whatever the number of villages."""
    today = today or timezone.localdate()
    figures: dict[int, Figures] = defaultdict(Figures)

    contracts = (_in(Contract.objects.visible_to(fetched_by), within, "village").order_by().values("village")
                 .annotate(n=Count("pk"), irregular=Count("pk", filter=Q(is_regular=False)),
                           cleaned=Count("pk", filter=Q(is_regular=False, cleaned_up_on__isnull=False))))
    for row in contracts:
        entry = figures[row["village"]]
        entry.contracts, entry.irregular, entry.cleaned_up = row["n"], row["irregular"], row["cleaned"]

    openings = (_in(DebtRecord.objects.visible_to(fetched_by), within, "village").order_by()
                .values("village", "kind").annotate(total=Sum("opening_amount")))
    for row in openings:
        name = "receivable_opening" if row["kind"] == DebtKind.RECEIVABLE else "debt_opening"
        setattr(figures[row["village"]], name, row["total"] or ZERO)

    settled = (_in(DebtSettlement.objects.visible_to(fetched_by), within, "record__village").order_by()
               .values("record__village", "record__kind").annotate(total=Sum("amount")))
    for row in settled:
        name = "receivable_collected" if row["record__kind"] == DebtKind.RECEIVABLE else "debt_resolved"
        setattr(figures[row["record__village"]], name, row["total"] or ZERO)

    overdue = (overdue_instalments(_in(ContractInstalment.objects.visible_to(fetched_by), within,
                                       "contract__village"), today=today)
               .order_by().values("contract__village")
               .annotate(n=Count("pk"), left=Sum(F("amount") - F("received"), output_field=MONEY_FIELD)))
    for row in overdue:
        entry = figures[row["contract__village"]]
        entry.overdue, entry.overdue_amount = row["n"], row["left"] or ZERO

    villages = (_in(OrgUnit.objects.visible_to(fetched_by), within, "").filter(level=Level.VILLAGE)
                .select_related("parent").order_by("tree_id", "lft"))
    result = Cleanup()
    by_township: dict[int | None, list[CleanupRow]] = defaultdict(list)
    townships: dict[int | None, OrgUnit | None] = {}
    for village in villages:
        entry = figures.get(village.pk) or Figures()
        if not village.is_active and entry.is_empty:
            continue
        by_township[village.parent_id].append(CleanupRow(village, entry))
        townships[village.parent_id] = village.parent
        result.total.add(entry)
        result.villages += 1
    several = len(by_township) > 1
    for township_id, rows in by_township.items():
        result.rows += rows
        if several:
            subtotal = Figures()
            for row in rows:
                subtotal.add(row.figures)
            result.rows.append(CleanupRow(townships[township_id], subtotal, kind="township"))
    return result


def overdue_payments(*, fetched_by, within: OrgUnit | None = None, today: datetime.date | None = None) -> QuerySet:
    """Every overdue scheduled payment of the user's scope (or of ``within``), oldest first, with ``received``,
    its contract, village and case: one query a page."""
    queryset = _in(ContractInstalment.objects.visible_to(fetched_by), within, "contract__village")
    return (overdue_instalments(queryset, today=today)
            .select_related("contract__village__parent", "case")
            .order_by("due_on", "contract__village__lft", "contract__number", "pk"))


# --- The registers' lists ------------------------------------------------------------------------


def contracts_with_figures(queryset: QuerySet, *, today: datetime.date | None = None) -> QuerySet:
    """Contracts with ``scheduled`` (their schedule's total), ``received`` (payments) and ``overdue_amount``
    (still owed on payments past due) annotated, in the same query as the contracts."""
    today = today or timezone.localdate()
    scheduled = (ContractInstalment.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
                 .annotate(total=Sum("amount")).values("total"))
    received = (ContractPayment.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
                .annotate(total=Sum("amount")).values("total"))
    # A scheduled payment never receives more than its amount (the service refuses it), so what is still
    # owed on the payments past due is their amount less what they received.
    late = (ContractInstalment.objects.filter(contract=OuterRef("pk"), due_on__lt=today).order_by()
            .values("contract").annotate(total=Sum(F("amount") - _received_of_instalment(), output_field=MONEY_FIELD))
            .values("total"))
    overdue_amount = Case(When(status=ContractStatus.IN_FORCE, then=_money(late)),
                          default=Value(ZERO, output_field=MONEY_FIELD), output_field=MONEY_FIELD)
    return queryset.annotate(scheduled=_money(scheduled), received=_money(received), overdue_amount=overdue_amount)


def _received_of_instalment():
    received = (ContractPayment.objects.filter(instalment=OuterRef("pk")).order_by().values("instalment")
                .annotate(total=Sum("amount")).values("total"))
    return _money(received)


def contracts_overdue(queryset: QuerySet, *, today: datetime.date | None = None) -> QuerySet:
    """The contracts of ``queryset`` with a payment past due and not paid in full."""
    overdue = overdue_instalments(ContractInstalment.objects.filter(contract=OuterRef("pk")), today=today)
    return queryset.filter(Exists(overdue), status=ContractStatus.IN_FORCE)


def schedule_of(contract: Contract, *, today: datetime.date | None = None) -> list[ContractInstalment]:
    """A contract's scheduled payments with ``received``, ``outstanding``, ``days_overdue`` (0 if not overdue)
    and their case: one query."""
    today = today or timezone.localdate()
    rows = list(instalments_with_received(contract.instalments.select_related("case")).order_by("due_on"))
    for row in rows:
        row.outstanding = row.amount - row.received
        late = row.outstanding > 0 and row.due_on < today and contract.status == ContractStatus.IN_FORCE
        row.days_overdue = (today - row.due_on).days if late else 0
    return rows


def debts_with_figures(queryset: QuerySet) -> QuerySet:
    """Receivables and debts with ``settled`` (collected or resolved) and ``outstanding`` annotated."""
    settled = (DebtSettlement.objects.filter(record=OuterRef("pk")).order_by().values("record")
               .annotate(total=Sum("amount")).values("total"))
    return queryset.annotate(settled=_money(settled)).annotate(
        outstanding=F("opening_amount") - F("settled"))
