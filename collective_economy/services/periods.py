"""Month end and year end: closing a month (结账), re-opening it, closing the year.

A month is closed by the township's economic officer once every voucher of it is posted
and the trial balance balances; nothing more posts into it (the database refuses it too).
Re-opening is an audited act with a reason. At year end the income and expense accounts
are carried to 本年收益 and 本年收益 to 收益分配 (two posted carry-forward vouchers), the
year is closed, and the next year opens with the balances, mapped onto the chart in force
then when the rules change (the old→new account table, data).
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    AccountClass,
    AccountRole,
    BookYear,
    Chart,
    ChartAccount,
    ChartMapping,
    OpeningBalance,
    Period,
    PeriodEvent,
    SubAccount,
    Voucher,
    VoucherKind,
    VoucherStatus,
)
from collective_economy.selectors.balances import balances
from collective_economy.services.books import book_year_open
from collective_economy.services.vouchers import LineInput, voucher_post_system, voucher_save

ZERO = Decimal("0.00")
ALREADY_CLOSED = _("%(period)s is already closed.")
NOT_CLOSED = _("%(period)s is open.")
EARLIER_OPEN = _("Close %(period)s first: months are closed in order.")
LATER_CLOSED = _("Re-open %(period)s first: months are re-opened from the last.")
UNPOSTED = _("%(period)s still has %(n)s vouchers that are not posted: post them or delete them first.")
TRIAL_UNBALANCED = _("The trial balance of %(period)s does not balance (difference %(diff)s yuan).")
REASON_NEEDED = _("Say why the month is re-opened.")
YEAR_CLOSED = _("The year %(year)s is closed.")
NO_CHART_ROLE = _("The chart %(chart)s names no account for %(role)s: set it in the admin.")
NO_MAPPING = _("The account %(account)s of %(old)s has a balance but no line in the table mapping it to %(new)s.")


def _label(period: Period) -> str:
    return f"{period.book_year.year}-{period.month:02d}"


def _locked_period(period: Period) -> Period:
    return Period.objects.select_for_update().select_related("book_year").get(pk=period.pk)


def trial_difference(book_year: BookYear, month: int) -> Decimal:
    """Debits minus credits of the opening balances and of every posted line up to ``month`` (0.00 when it
    balances)."""
    opening = OpeningBalance.objects.filter(book_year=book_year).aggregate(d=Sum("debit"), c=Sum("credit"))
    posted = (Voucher.objects.filter(book_year=book_year, status=VoucherStatus.POSTED, month__lte=month)
              .aggregate(d=Sum("debit_total"), c=Sum("credit_total")))
    debits = (opening["d"] or ZERO) + (posted["d"] or ZERO)
    return debits - (opening["c"] or ZERO) - (posted["c"] or ZERO)


@transaction.atomic
def period_close(*, period: Period, user) -> Period:
    """Close a month (结账): every voucher of it posted, earlier months closed, the trial balance balanced."""
    period = _locked_period(period)
    if period.closed:
        raise ValidationError(ALREADY_CLOSED, params={"period": _label(period)})
    earlier = Period.objects.filter(book_year=period.book_year, month__lt=period.month, closed=False).first()
    if earlier is not None:
        raise ValidationError(EARLIER_OPEN, params={"period": _label(earlier)})
    waiting = Voucher.objects.filter(book_year=period.book_year, month=period.month).exclude(
        status=VoucherStatus.POSTED).count()
    if waiting:
        raise ValidationError(UNPOSTED, params={"period": _label(period), "n": waiting})
    difference = trial_difference(period.book_year, period.month)
    if difference:
        raise ValidationError(TRIAL_UNBALANCED, params={"period": _label(period), "diff": f"{difference:,.2f}"})
    period.closed, period.closed_at, period.closed_by = True, timezone.now(), user
    period.save(update_fields=["closed", "closed_at", "closed_by"])
    PeriodEvent.objects.create(period=period, action=PeriodEvent.Action.CLOSE, user=user)
    return period


@transaction.atomic
def period_reopen(*, period: Period, user, reason: str) -> Period:
    """Re-open a closed month (反结账): an audited act with its reason, from the last closed month back."""
    period = _locked_period(period)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_NEEDED})
    if period.book_year.closed:
        raise ValidationError(YEAR_CLOSED, params={"year": period.book_year.year})
    if not period.closed:
        raise ValidationError(NOT_CLOSED, params={"period": _label(period)})
    later = Period.objects.filter(book_year=period.book_year, month__gt=period.month, closed=True).last()
    if later is not None:
        raise ValidationError(LATER_CLOSED, params={"period": _label(later)})
    period.closed, period.closed_at, period.closed_by = False, None, None
    period.save(update_fields=["closed", "closed_at", "closed_by"])
    PeriodEvent.objects.create(period=period, action=PeriodEvent.Action.REOPEN, user=user, reason=reason[:200])
    return period


def _role_account(chart: Chart, role: str) -> ChartAccount:
    account = ChartAccount.objects.filter(chart=chart, role=role).first()
    if account is None:
        raise ValidationError(NO_CHART_ROLE, params={"chart": str(chart), "role": AccountRole(role).label})
    return account


def _carry_forward(book_year: BookYear, user) -> list[Voucher]:
    """The two year-end carry-forward vouchers (结转), posted: income and expense → 本年收益 → 收益分配."""
    chart = book_year.chart
    profit = _role_account(chart, AccountRole.CURRENT_YEAR_PROFIT)
    distribution = _role_account(chart, AccountRole.PROFIT_DISTRIBUTION)
    accounts = {a.pk: a for a in ChartAccount.objects.filter(
        chart=chart, account_class__in=(AccountClass.INCOME, AccountClass.EXPENSE))}
    subs = {s.pk: s for s in SubAccount.objects.filter(book=book_year.book, account__in=accounts.values())}
    date = datetime.date(book_year.year, 12, 31)
    carried, result = [], ZERO
    for (account_id, sub_id), amount in sorted(balances([book_year.pk]).items(), key=lambda item: str(item[0])):
        if account_id not in accounts:
            continue
        # A debit balance is closed by a credit of the same amount, and the other way round.
        carried.append(LineInput(account=accounts[account_id], sub_account=subs.get(sub_id),
                                 summary=str(_("Carry to current year's profit")),
                                 debit=-amount if amount < 0 else ZERO, credit=amount if amount > 0 else ZERO))
        result += amount
    vouchers = []
    if carried:
        # ``result`` is debit-positive: a profit leaves a credit to 本年收益.
        carried.append(LineInput(account=profit, summary=str(_("Carry to current year's profit")),
                                 debit=result if result > 0 else ZERO, credit=-result if result < 0 else ZERO))
        carried = [line for line in carried if money_nonzero(line)]
        vouchers.append(voucher_save(book=book_year.book, date=date, lines=carried, user=user,
                                     kind=VoucherKind.CLOSING, summary=str(_("Year-end: carry income and expense"))))
        vouchers[-1] = voucher_post_system(voucher=vouchers[-1], user=user)
    profit_balance = sum((amount for (account_id, _sub), amount in balances([book_year.pk]).items()
                          if account_id == profit.pk), ZERO)
    if profit_balance:
        lines = [
            LineInput(account=profit, summary=str(_("Carry to profit distribution")),
                      debit=-profit_balance if profit_balance < 0 else ZERO,
                      credit=profit_balance if profit_balance > 0 else ZERO),
            LineInput(account=distribution, summary=str(_("Carry to profit distribution")),
                      debit=profit_balance if profit_balance > 0 else ZERO,
                      credit=-profit_balance if profit_balance < 0 else ZERO),
        ]
        voucher = voucher_save(book=book_year.book, date=date, lines=lines, user=user, kind=VoucherKind.CLOSING,
                               summary=str(_("Year-end: carry current year's profit to distribution")))
        vouchers.append(voucher_post_system(voucher=voucher, user=user))
    return vouchers


def money_nonzero(line: LineInput) -> bool:
    return bool(Decimal(line.debit or 0) or Decimal(line.credit or 0))


def chart_in_force(on: datetime.date) -> Chart:
    """The chart whose rules are in force on ``on`` (the latest that started on or before it)."""
    chart = (Chart.objects.filter(Q(in_force_from__lte=on) | Q(in_force_from__isnull=True))
             .order_by("-in_force_from").first())
    if chart is None:
        raise ValidationError(_("No chart of accounts is in force on %(date)s.") % {"date": on.isoformat()})
    return chart


def _opening_from(book_year: BookYear, next_year: BookYear) -> list[OpeningBalance]:
    """The next year's opening balances: this year's closing ones, mapped onto the new chart if it changed."""
    old_chart, new_chart = book_year.chart, next_year.chart
    accounts = {a.pk: a for a in ChartAccount.objects.filter(chart=old_chart)}
    subs = {s.pk: s for s in SubAccount.objects.filter(book=book_year.book)}
    mapping = {}
    if old_chart.pk != new_chart.pk:
        mapping = {m.source_id: m.target for m in ChartMapping.objects.filter(
            source__chart=old_chart, target__chart=new_chart).select_related("target")}
    merged: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for (account_id, sub_id), amount in balances([book_year.pk]).items():
        account = accounts[account_id]
        if old_chart.pk != new_chart.pk:
            if account_id not in mapping:
                raise ValidationError(NO_MAPPING, params={"account": str(account), "old": str(old_chart),
                                                          "new": str(new_chart)})
            target = mapping[account_id]
            sub = subs.get(sub_id)
            new_sub = None
            if sub is not None:
                # The detail account moves with its balance: same name, the new account's code in front.
                new_sub, _created = SubAccount.objects.get_or_create(
                    book=book_year.book, account=target, code=target.code + sub.code[len(account.code):],
                    defaults={"name": sub.name})
            merged[(target, new_sub)] += amount
        else:
            merged[(account, subs.get(sub_id))] += amount
    return [OpeningBalance(book_year=next_year, account=account, sub_account=sub,
                           debit=amount if amount > 0 else ZERO, credit=-amount if amount < 0 else ZERO)
            for (account, sub), amount in merged.items() if amount]


@transaction.atomic
def year_close(*, book_year: BookYear, user, next_chart: Chart | None = None) -> BookYear:
    """Close the year: carry income and expense forward, close December and the year, open the next.

    January to November must be closed and every voucher of the year posted. The next year is
    kept under ``next_chart``, by default the chart in force on its 1 January; returns it.
    """
    book_year = BookYear.objects.select_for_update().select_related("chart", "book").get(pk=book_year.pk)
    if book_year.closed:
        raise ValidationError(YEAR_CLOSED, params={"year": book_year.year})
    open_before = Period.objects.filter(book_year=book_year, month__lt=12, closed=False).first()
    if open_before is not None:
        raise ValidationError(EARLIER_OPEN, params={"period": _label(open_before)})
    waiting = Voucher.objects.filter(book_year=book_year).exclude(status=VoucherStatus.POSTED).count()
    if waiting:
        raise ValidationError(UNPOSTED, params={"period": str(book_year.year), "n": waiting})
    _carry_forward(book_year, user)
    december = Period.objects.get(book_year=book_year, month=12)
    if not december.closed:
        period_close(period=december, user=user)
    book_year.closed, book_year.closed_at, book_year.closed_by = True, timezone.now(), user
    book_year.save(update_fields=["closed", "closed_at", "closed_by"])
    next_chart = next_chart or chart_in_force(datetime.date(book_year.year + 1, 1, 1))
    next_year = BookYear.objects.filter(book=book_year.book, year=book_year.year + 1).first()
    if next_year is None:
        next_year = book_year_open(book=book_year.book, year=book_year.year + 1, chart=next_chart)
    elif next_year.vouchers.filter(status=VoucherStatus.POSTED).exists():
        raise ValidationError(_("Vouchers are already posted in %(year)s: its opening balances are fixed.")
                              % {"year": next_year.year})
    OpeningBalance.objects.filter(book_year=next_year).delete()
    OpeningBalance.objects.bulk_create(_opening_from(book_year, next_year))
    return next_year
