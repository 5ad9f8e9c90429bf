"""Collective operating income (集体经营性收入) for the monthly rollup: set-based leaf queries, grouped by
the village of the book, and the plain ORM sums that check them.

Which income counts is data: the accounts flagged ``ChartAccount.operating_income`` in the chart a
year is kept under (2004 rules: 501 + 511 + 561; 2023 rules: 501 + 502). Income is the credit
minus the debit of the posted lines, leaving out the year-end carry-forward (``kind=closing``),
which empties the income accounts into 本年收益. A red-letter reversal swaps debit and credit, so
it takes the reversed income back out.

Bands of this year's operating income so far, counted at the village (1 or 0 per village whose
book keeps the year) and summed up the tree: below 100,000 yuan (weak, 薄弱村), 100,000 to
499,999.99, 500,000 to 999,999.99, 1,000,000 and above. A village at exactly 100,000.00 is in
the 100,000 band.
"""

import datetime
from decimal import Decimal

from django.db.models import Case, DecimalField, F, FilteredRelation, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from collective_economy.models import AccountClass, BookYear, VoucherKind, VoucherLine, VoucherStatus

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=20, decimal_places=2)
# The bands' lower bounds in yuan: (column, lower bound, upper bound or None).
WEAK_BELOW = Decimal("100000.00")
BANDS = (
    ("band_weak", None, Decimal("100000.00")),
    ("band_100k", Decimal("100000.00"), Decimal("500000.00")),
    ("band_500k", Decimal("500000.00"), Decimal("1000000.00")),
    ("band_1m", Decimal("1000000.00"), None),
)
AT_LEAST = (("at_least_100k", Decimal("100000.00")), ("at_least_500k", Decimal("500000.00")))
COUNTED_KINDS = (VoucherKind.NORMAL, VoucherKind.REVERSAL)  # never the year-end carry-forward


def operating_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}account__operating_income": True})


def income_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}account__account_class": AccountClass.INCOME})


def _net():
    """Credit minus debit: income on its normal side."""
    return F("credit") - F("debit")


def _counted_lines():
    return VoucherLine.objects.filter(voucher__status=VoucherStatus.POSTED, voucher__kind__in=COUNTED_KINDS)


def _income_lines(year: int, first_month: int, last_month: int, units):
    """Operating and total income of the months at the village of each book: one GROUP BY over the income
    lines of those months (a village without any has no row, which the rollup reads as 0.00)."""
    return (_counted_lines()
            .filter(voucher__book__village__in=units, voucher__book_year__year=year,
                    voucher__month__gte=first_month, voucher__month__lte=last_month)
            .filter(income_q())
            .values(node=F("voucher__book__village"))
            .annotate(operating=Coalesce(Sum(_net(), filter=operating_q(), output_field=MONEY), Value(ZERO),
                                         output_field=MONEY),
                      total=Coalesce(Sum(_net(), output_field=MONEY), Value(ZERO), output_field=MONEY)))


def month_income(start: datetime.datetime, end: datetime.datetime, units):
    """The month's operating and total income at the village of each book (books' year and month)."""
    return _income_lines(start.year, start.month, start.month, units)


def _one_if(condition: Q):
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _income_by_village(year: int, through_month: int, units):
    """Per village of ``units`` whose book keeps ``year``: its operating (``operating``) and total (``total``)
    income, January to ``through_month``, 0.00 without any.

    One grouped pass over the year's posted lines: the book years LEFT JOIN their counted vouchers of
    those months (the join's own condition, so a book with none still gives its village a row of 0.00)
    and their lines, read through the (book_year, status, month) index. (Two correlated sums per
    village read every book of the year for each village: 10× a plain GROUP BY, bench/ledger.py.)
    """
    counted = FilteredRelation("vouchers", condition=Q(
        vouchers__status=VoucherStatus.POSTED, vouchers__kind__in=COUNTED_KINDS, vouchers__month__lte=through_month))
    net = F("counted__lines__credit") - F("counted__lines__debit")
    return (BookYear.objects.filter(year=year, book__village__in=units)
            .annotate(counted=counted)
            .values(node=F("book__village"))
            .annotate(operating=Coalesce(Sum(net, filter=Q(counted__lines__account__operating_income=True),
                                             output_field=MONEY), Value(ZERO), output_field=MONEY),
                      total=Coalesce(Sum(net, filter=Q(counted__lines__account__account_class=AccountClass.INCOME),
                                         output_field=MONEY), Value(ZERO), output_field=MONEY)))


def year_to_date(start: datetime.datetime, end: datetime.datetime, units):
    """Per village with a book this year: operating and total income January to the month, a 1 in the
    band its operating income falls in (and in the cumulative "at least" columns), and 1 village."""
    bands = {}
    for column, low, high in BANDS:
        condition = Q()
        if low is not None:
            condition &= Q(operating__gte=low)
        if high is not None:
            condition &= Q(operating__lt=high)
        bands[column] = _one_if(condition)
    bands.update({column: _one_if(Q(operating__gte=low)) for column, low in AT_LEAST})
    return (_income_by_village(start.year, start.month, units)
            .annotate(villages=Value(1, output_field=IntegerField()), **bands)
            .annotate(operating_ytd=F("operating"), total_ytd=F("total")))


def last_year(start: datetime.datetime, end: datetime.datetime, units):
    """Per village with income last year: its operating and total income over the whole previous year (no
    band here, so no row of 0.00 is needed for a village without income: the plain grouped pass)."""
    return _income_lines(start.year - 1, 1, 12, units).annotate(operating_last=F("operating"),
                                                                total_last=F("total"))


# --- Plain ORM sums for ``rollup_indicators --verify`` ----------------------------------------


def _lines_dated(units, first: datetime.date, last_exclusive: datetime.date):
    """Posted lines by the vouchers' dates (not their book month), of books of villages in ``units``."""
    return (VoucherLine.objects.filter(voucher__status=VoucherStatus.POSTED, voucher__book__village__in=units,
                                       voucher__date__gte=first, voucher__date__lt=last_exclusive)
            .exclude(voucher__kind=VoucherKind.CLOSING))


def income_between(units, first: datetime.date, last_exclusive: datetime.date, *, operating: bool = True) -> Decimal:
    """Income (credit − debit) dated ``first`` ≤ date < ``last_exclusive`` in the books of ``units``' villages."""
    lines = _lines_dated(units, first, last_exclusive)
    lines = lines.filter(account__operating_income=True) if operating else lines.filter(
        account__account_class=AccountClass.INCOME)
    totals = lines.aggregate(credit=Sum("credit"), debit=Sum("debit"))
    return (totals["credit"] or ZERO) - (totals["debit"] or ZERO)


def check_flow(*, operating: bool):
    def check(start, end, units) -> Decimal:
        return income_between(units, start.date(), end.date(), operating=operating)
    return check


def check_year_to_date(*, operating: bool):
    def check(start, end, units) -> Decimal:
        return income_between(units, datetime.date(start.year, 1, 1), end.date(), operating=operating)
    return check


def check_last_year(*, operating: bool):
    def check(start, end, units) -> Decimal:
        return income_between(units, datetime.date(start.year - 1, 1, 1), datetime.date(start.year, 1, 1),
                              operating=operating)
    return check


def village_incomes(year: int, through: datetime.date, units) -> dict[int, Decimal]:
    """{village id: operating income dated 1 January of ``year`` to before ``through``} of every village of
    ``units`` with a book keeping ``year`` (0.00 without income)."""
    villages = set(BookYear.objects.filter(year=year, book__village__in=units).values_list("book__village", flat=True))
    found = dict(_lines_dated(units, datetime.date(year, 1, 1), through).filter(account__operating_income=True)
                 .values_list("voucher__book__village").annotate(amount=Sum("credit") - Sum("debit")).order_by())
    return {village: found.get(village) or ZERO for village in villages}


def check_band(low: Decimal | None, high: Decimal | None):
    """Villages whose operating income this year so far is at least ``low`` and below ``high``."""
    def check(start, end, units) -> int:
        incomes = village_incomes(start.year, end.date(), units)
        return sum(1 for amount in incomes.values()
                   if (low is None or amount >= low) and (high is None or amount < high))
    return check


def check_villages(start, end, units) -> int:
    return len(village_incomes(start.year, end.date(), units))
