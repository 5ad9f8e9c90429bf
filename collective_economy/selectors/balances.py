"""Balances of a book year, set-based: opening balances plus the posted lines, grouped in the database.

Every statement starts here. A balance is one signed Decimal, positive on the debit side;
the statements turn it to an account's normal side.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce

from collective_economy.models import OpeningBalance, VoucherKind, VoucherLine, VoucherStatus

ZERO = Decimal("0.00")


def posted_lines(book_years, *, through_month: int = 12, from_month: int = 1, closing: bool = True):
    """The posted lines of ``book_years`` (a queryset or list of ids) dated in months from..through."""
    lines = VoucherLine.objects.filter(voucher__book_year__in=book_years, voucher__status=VoucherStatus.POSTED,
                                       voucher__month__gte=from_month, voucher__month__lte=through_month)
    if not closing:
        lines = lines.exclude(voucher__kind=VoucherKind.CLOSING)
    return lines


def balances(book_years, *, through_month: int = 12, by_sub_account: bool = True) -> dict[tuple, Decimal]:
    """{(account id, sub-account id or None): debit-positive balance} at the end of ``through_month``.

    Two grouped queries (opening balances, posted lines), however many accounts: summed per
    key in Python, which adds two numbers per key and loops over no query.
    """
    keys = ("account_id", "sub_account_id") if by_sub_account else ("account_id",)
    total: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    opening = (OpeningBalance.objects.filter(book_year__in=book_years).values(*keys)
               .annotate(amount=Sum(F("debit") - F("credit"))).order_by())
    moved = (posted_lines(book_years, through_month=through_month).values(*keys)
             .annotate(amount=Coalesce(Sum("debit"), Value(ZERO)) - Coalesce(Sum("credit"), Value(ZERO))).order_by())
    for row in (*opening, *moved):
        key = (row["account_id"], row.get("sub_account_id"))
        total[key] += row["amount"] or ZERO
    return {key: amount for key, amount in total.items() if amount}


def unposted_q() -> Q:
    return ~Q(status=VoucherStatus.POSTED)
