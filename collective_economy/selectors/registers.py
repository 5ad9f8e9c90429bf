"""The registers' figures for the monthly rollup: set-based leaf queries grouped by the village a row belongs to
(``collective_economy.indicators`` declares the indicators on them), and the plain ORM counts that check them.

Each figure is read at the end of the month (``end``, exclusive): what had happened by then by the rows' own
dates, so a month computed again later gives the same figure.

- the clean-up of contracts (清理): irregular contracts signed by the month's end, and those among them with
  a clean-up date before it;
- receivables collected and debts resolved: the opening amounts of the records registered by the month's end,
  and what was collected or resolved against them by then;
- decisions published: the decisions whose resolution was published (决议公开) in the month, and by its end;
- projects: the projects of the library registered by the month's end, at their lead village; and their income
  this year so far, read from the books — credits less debits of the posted vouchers on the detail accounts the
  projects' income is posted on (never the year-end carry-forward), at the village whose book it is.
"""

import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from collective_economy.models import (
    Contract,
    DebtKind,
    DebtRecord,
    DebtSettlement,
    DecisionRecord,
    Project,
    Step,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=20, decimal_places=2)
COUNTED_KINDS = (VoucherKind.NORMAL, VoucherKind.REVERSAL)  # never the year-end carry-forward


def _money(expression, **extra):
    return Coalesce(Sum(expression, output_field=MONEY, **extra), Value(ZERO, output_field=MONEY), output_field=MONEY)


# --- Contracts ----------------------------------------------------------------------------------


def _irregular(end: datetime.datetime, units):
    return Contract.objects.filter(village__in=units, is_regular=False, signed_on__lt=end.date())


def contract_cleanup(start: datetime.datetime, end: datetime.datetime, units):
    """Per village: its irregular contracts (``irregular``) and those cleaned up (``cleaned``) by the month's end."""
    return (_irregular(end, units).values(node=F("village"))
            .annotate(irregular=Count("pk"), cleaned=Count("pk", filter=Q(cleaned_up_on__lt=end.date()))))


def check_irregular(start, end, units) -> int:
    return _irregular(end, units).count()


def check_cleaned(start, end, units) -> int:
    return _irregular(end, units).filter(cleaned_up_on__lt=end.date()).count()


# --- Receivables and debts ----------------------------------------------------------------------


def debt_clearance(start: datetime.datetime, end: datetime.datetime, units):
    """Per village: the opening amounts of its receivables (``receivable_opening``) and debts (``debt_opening``)
    registered by the month's end, and what was collected (``collected``) or resolved (``resolved``) by then."""
    day = end.date()
    settled = (DebtSettlement.objects.filter(record=OuterRef("pk"), settled_on__lt=day).order_by()
               .values("record").annotate(total=Sum("amount")).values("total"))
    receivable, debt = Q(kind=DebtKind.RECEIVABLE), Q(kind=DebtKind.DEBT)
    return (DebtRecord.objects.filter(village__in=units, registered_on__lt=day)
            .annotate(settled=Coalesce(Subquery(settled, output_field=MONEY), Value(ZERO, output_field=MONEY),
                                       output_field=MONEY))
            .values(node=F("village"))
            .annotate(receivable_opening=_money("opening_amount", filter=receivable),
                      collected=_money("settled", filter=receivable),
                      debt_opening=_money("opening_amount", filter=debt),
                      resolved=_money("settled", filter=debt)))


def check_settled(kind: str):
    """What was collected (receivables) or resolved (debts) by the month's end, by a plain sum."""
    def check(start, end, units) -> Decimal:
        day = end.date()
        total = DebtSettlement.objects.filter(record__village__in=units, record__kind=kind,
                                              record__registered_on__lt=day,
                                              settled_on__lt=day).aggregate(total=Sum("amount"))["total"]
        return total or ZERO
    return check


# --- Decisions ----------------------------------------------------------------------------------


def _publications(end: datetime.datetime, units):
    return DecisionRecord.objects.filter(step=Step.PUBLICATION, decision__village__in=units, held_on__lt=end.date())


def decisions_published(start: datetime.datetime, end: datetime.datetime, units):
    """Per village: its decisions published in the month (``published``) and by the month's end
    (``published_to_date``), by the date the resolution was published."""
    return (_publications(end, units).values(node=F("decision__village"))
            .annotate(published=Count("pk", filter=Q(held_on__gte=start.date())), published_to_date=Count("pk")))


def check_published(start, end, units) -> int:
    return _publications(end, units).filter(held_on__gte=start.date()).count()


def check_published_to_date(start, end, units) -> int:
    return _publications(end, units).count()


# --- Projects -----------------------------------------------------------------------------------


def project_counts(start: datetime.datetime, end: datetime.datetime, units):
    """Per lead village: its projects registered by the month's end."""
    return (Project.objects.filter(village__in=units, created_at__lt=end).values(node=F("village"))
            .annotate(projects=Count("pk")))


def check_projects(start, end, units) -> int:
    return Project.objects.filter(village__in=units, created_at__lt=end).count()


def _project_lines(units):
    """Posted lines on a detail account that some project's income is posted on (each line once)."""
    accounts = Project.income_accounts.through.objects.filter(subaccount_id=OuterRef("sub_account_id"))
    return (VoucherLine.objects.filter(voucher__status=VoucherStatus.POSTED, voucher__kind__in=COUNTED_KINDS,
                                       voucher__book__village__in=units)
            .filter(Exists(accounts)))


def project_income(start: datetime.datetime, end: datetime.datetime, units):
    """Per village whose book it is: the projects' income from January to the month (the book year's months)."""
    return (_project_lines(units).filter(voucher__book_year__year=start.year, voucher__month__lte=start.month)
            .values(node=F("voucher__book__village"))
            .annotate(project_income=_money(F("credit") - F("debit"))))


def check_project_income(start, end, units) -> Decimal:
    """The same by the vouchers' dates: 1 January to the month's end."""
    totals = (_project_lines(units).filter(voucher__date__gte=datetime.date(start.year, 1, 1),
                                           voucher__date__lt=end.date())
              .aggregate(credit=Sum("credit"), debit=Sum("debit")))
    return (totals["credit"] or ZERO) - (totals["debit"] or ZERO)
