"""The ledgers of a scope's account (``statements.Scope``): the general ledger (总账: opening,
each month's totals, the year to date) and the detail ledger (明细账: every posted line with its
running balance), read as grouped queries and one windowed query.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F, Q, Sum, Value, Window
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    ChartAccount,
    OpeningBalance,
    SubAccount,
    VoucherLine,
    VoucherStatus,
)
from collective_economy.selectors.statements import MONEY_FIELD, ZERO, Scope, check_months, side_of, sum_of

UNKNOWN_ACCOUNT = _("The chart %(chart)s has no account %(code)s.")


# --- 总账 and 明细账 ---------------------------------------------------------------------------------


def find_account(scope: Scope, code: str) -> tuple[ChartAccount, SubAccount | None]:
    """The first-level account ``code`` of the scope's chart, or a sub-account code of its one book."""
    code = (code or "").strip()
    account = ChartAccount.objects.filter(chart=scope.chart, code=code).first() if scope.chart else None
    if account is not None:
        return account, None
    if scope.single_book and code:
        sub = (SubAccount.objects.filter(book__years__pk=scope.book_years[0], code=code, account__chart=scope.chart)
               .select_related("account").first())
        if sub is not None:
            return sub.account, sub
    raise ValidationError({"account": ValidationError(UNKNOWN_ACCOUNT, params={
        "chart": str(scope.chart or ""), "code": code})})


@dataclass
class LedgerLine:
    kind: str  # opening, month, year (总账: 期初, 本月合计, 本年累计) or line / total (明细账)
    month: int | None
    debit: Decimal
    credit: Decimal
    balance: Decimal  # debit-positive
    date: object = None
    voucher: str = ""
    voucher_id: int | None = None
    summary: str = ""
    village: str = ""

    @property
    def side(self) -> str:
        return side_of(self.balance)

    @property
    def amount(self) -> Decimal:
        return abs(self.balance)


@dataclass
class Ledger:
    scope: Scope
    account: ChartAccount
    sub_account: SubAccount | None
    month_from: int
    month: int
    lines: list[LedgerLine]
    start: Decimal = ZERO
    total_lines: int = 0


def _opening_of(scope: Scope, account: ChartAccount, sub: SubAccount | None) -> Decimal:
    rows = OpeningBalance.objects.filter(book_year__in=scope.book_years, account=account)
    if sub is not None:
        rows = rows.filter(sub_account=sub)
    return rows.aggregate(amount=Sum(F("debit") - F("credit"), output_field=MONEY_FIELD))["amount"] or ZERO


def _lines_of(scope: Scope, account: ChartAccount, sub: SubAccount | None):
    lines = VoucherLine.objects.filter(voucher__book_year__in=scope.book_years, voucher__status=VoucherStatus.POSTED,
                                       account=account)
    return lines.filter(sub_account=sub) if sub is not None else lines


def general_ledger(scope: Scope, account: ChartAccount, *, month_from: int = 1, month: int = 12) -> Ledger:
    """总账: the opening line, then per month with movement 本月合计 and 本年累计 with the balance.

    Two queries: the opening balance, and the lines grouped by month.
    """
    check_months(month_from, month)
    opening = _opening_of(scope, account, None)
    months = {row["voucher__month"]: row for row in _lines_of(scope, account, None).filter(voucher__month__lte=month)
              .values("voucher__month").annotate(d=Sum("debit"), c=Sum("credit")).order_by()}
    balance, debit_ytd, credit_ytd = opening, ZERO, ZERO
    for number in range(1, month_from):
        if number in months:
            debit_ytd += months[number]["d"] or ZERO
            credit_ytd += months[number]["c"] or ZERO
    balance += debit_ytd - credit_ytd
    start = balance
    lines = [LedgerLine("opening", month_from, ZERO, ZERO, balance)]
    for number in range(month_from, month + 1):
        if number not in months:
            continue
        debit, credit = months[number]["d"] or ZERO, months[number]["c"] or ZERO
        balance += debit - credit
        debit_ytd += debit
        credit_ytd += credit
        lines.append(LedgerLine("month", number, debit, credit, balance))
        lines.append(LedgerLine("year", number, debit_ytd, credit_ytd, balance))
    return Ledger(scope, account, None, month_from, month, lines, start=start)


def detail_ledger(scope: Scope, account: ChartAccount, sub: SubAccount | None = None, *, month_from: int = 1,
                  month: int = 12, offset: int = 0, limit: int | None = None) -> Ledger:
    """明细账: every posted line of the account (or sub-account) in date and number order, with the running balance.

    The running balance is a window sum in the ordered query (one query for the lines, however many),
    started from the balance at the start of the period (two aggregates); ``offset``/``limit`` page it.
    """
    check_months(month_from, month)
    opening = _opening_of(scope, account, sub)
    lines = _lines_of(scope, account, sub)
    totals = lines.aggregate(
        before=Coalesce(Sum(F("debit") - F("credit"), filter=Q(voucher__month__lt=month_from),
                            output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD),
        period_debit=sum_of("debit", Q(voucher__month__gte=month_from, voucher__month__lte=month)),
        period_credit=sum_of("credit", Q(voucher__month__gte=month_from, voucher__month__lte=month)),
        count=Sum(Value(1), filter=Q(voucher__month__gte=month_from, voucher__month__lte=month)),
    )
    start = opening + totals["before"]
    order = ["voucher__date", "voucher__month", "voucher__number", "voucher__book_id", "position", "pk"]
    period = (lines.filter(voucher__month__gte=month_from, voucher__month__lte=month)
              .annotate(running=Window(Sum(F("debit") - F("credit"), output_field=MONEY_FIELD), order_by=[
                  F(name).asc() for name in order]))
              .values("pk", "debit", "credit", "summary", "running", "voucher_id", "voucher__date",
                      "voucher__number", "voucher__month", "voucher__book__village__short_name",
                      "voucher__book__village__name")
              .order_by(*order))
    if limit is not None:
        period = period[offset:offset + limit]
    result = [LedgerLine("opening", month_from, ZERO, ZERO, start)] if offset == 0 else []
    for row in period:
        result.append(LedgerLine(
            "line", row["voucher__month"], row["debit"], row["credit"], start + (row["running"] or ZERO),
            date=row["voucher__date"], voucher=str(_("J-%(number)s") % {"number": row["voucher__number"]}),
            voucher_id=row["voucher_id"], summary=row["summary"],
            village=row["voucher__book__village__short_name"] or row["voucher__book__village__name"]))
    count = totals["count"] or 0
    if limit is None or offset + limit >= count:
        end = start + totals["period_debit"] - totals["period_credit"]
        result.append(LedgerLine("total", month, totals["period_debit"], totals["period_credit"], end))
    return Ledger(scope, account, sub, month_from, month, result, start=start, total_lines=int(count))
