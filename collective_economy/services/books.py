"""Books, their years and months, sub-accounts and opening balances.

A book year is kept under one chart; opening one creates its twelve months (open). A year's
opening balances come from the closed year before it (``year_close``) or from an import.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from collective_economy.models import Book, BookYear, Chart, ChartAccount, OpeningBalance, Period, SubAccount
from collective_economy.services.common import invalid, money
from governance.models import Level, OrgUnit

NOT_A_VILLAGE = _("Books are kept for a village or community.")
YEAR_EXISTS = _("The book already has the year %(year)s.")
YEAR_CLOSED = _("The year %(year)s of this book is closed.")
WRONG_CHART = _("Account %(account)s is not in the chart %(chart)s this year is kept under.")
SUB_WRONG_ACCOUNT = _("Sub-account %(sub)s does not belong to account %(account)s.")
OTHER_VILLAGE_ORGANISATION = _("The economic organisation is not that of %(village)s.")
CHART_NOT_USED = _("The book keeps no year under the chart of account %(account)s.")
NOT_FIRST_LEVEL_PREFIX = _("A sub-account's code starts with its account's code %(code)s.")


@transaction.atomic
def book_create(*, village: OrgUnit, name: str = "", chart: Chart, year: int, organisation=None,
                bookkeepers=(), separate_review: bool = True) -> Book:
    """A village's book with its first year (kept under ``chart``) and that year's twelve open months."""
    if village.level != Level.VILLAGE:
        raise invalid("village", NOT_A_VILLAGE)
    if organisation is not None and organisation.village_id != village.pk:
        raise invalid("organisation", OTHER_VILLAGE_ORGANISATION, village=village.display_name)
    book = Book(village=village, organisation=organisation, separate_review=separate_review,
                name=name or (organisation.name if organisation else f"{village.display_name}集体经济组织"))
    book.full_clean()
    book.save()
    book.bookkeepers.set(bookkeepers)
    book_year_open(book=book, year=year, chart=chart)
    return book


def book_year_open(*, book: Book, year: int, chart: Chart) -> BookYear:
    """Open ``year`` of ``book`` under ``chart``: the year row and its twelve open months."""
    if BookYear.objects.filter(book=book, year=year).exists():
        raise invalid("year", YEAR_EXISTS, year=year)
    book_year = BookYear.objects.create(book=book, year=year, chart=chart)
    Period.objects.bulk_create(Period(book_year=book_year, month=month) for month in range(1, 13))
    return book_year


def sub_account_create(*, book: Book, account: ChartAccount, code: str, name: str) -> SubAccount:
    """A detail account of ``book`` under the first-level ``account``."""
    code = (code or "").strip()
    if not BookYear.objects.filter(book=book, chart_id=account.chart_id).exists():
        raise invalid("account", CHART_NOT_USED, account=str(account))
    if not code.startswith(account.code) or len(code) <= len(account.code):
        raise invalid("code", NOT_FIRST_LEVEL_PREFIX, code=account.code)
    sub = SubAccount(book=book, account=account, code=code, name=(name or "").strip())
    sub.full_clean()
    sub.save()
    return sub


@dataclass(frozen=True)
class Balance:
    """An account's (or sub-account's) balance: positive on the debit side, negative on the credit side."""

    account: ChartAccount
    amount: Decimal
    sub_account: SubAccount | None = None


def check_account(book_year: BookYear, account: ChartAccount, sub_account: SubAccount | None, field: str) -> None:
    """Refuse an account of another chart, or a sub-account of another book or account."""
    if account.chart_id != book_year.chart_id:
        raise invalid(field, WRONG_CHART, account=str(account), chart=str(book_year.chart))
    if sub_account is not None and (sub_account.account_id != account.pk or sub_account.book_id != book_year.book_id):
        raise invalid(field, SUB_WRONG_ACCOUNT, sub=str(sub_account), account=str(account))


@transaction.atomic
def opening_balances_set(*, book_year: BookYear, balances: list[Balance]) -> int:
    """Replace the year's opening balances (debit positive); refused once a voucher is posted in the year.

    The balances must balance (debits = credits), as any trial balance does.
    """
    book_year = BookYear.objects.select_for_update().get(pk=book_year.pk)
    if book_year.closed:
        raise ValidationError(YEAR_CLOSED, params={"year": book_year.year})
    if book_year.vouchers.filter(status="posted").exists():
        raise ValidationError(_("Vouchers are already posted in %(year)s: its opening balances are fixed.")
                              % {"year": book_year.year})
    for balance in balances:
        check_account(book_year, balance.account, balance.sub_account, "account")
    total = sum((money(b.amount) for b in balances), Decimal("0.00"))
    if total != 0:
        raise ValidationError(_("The opening balances do not balance: debits exceed credits by %(diff)s yuan.")
                              % {"diff": f"{total:,.2f}"})
    OpeningBalance.objects.filter(book_year=book_year).delete()
    rows = [OpeningBalance(book_year=book_year, account=b.account, sub_account=b.sub_account,
                           debit=max(money(b.amount), Decimal("0.00")), credit=max(-money(b.amount), Decimal("0.00")))
            for b in balances if money(b.amount) != 0]
    OpeningBalance.objects.bulk_create(rows)
    return len(rows)


def year_of(book: Book, date: datetime.date) -> BookYear:
    """The book's year that holds ``date``, or a clear error."""
    book_year = BookYear.objects.filter(book=book, year=date.year).select_related("chart").first()
    if book_year is None:
        raise invalid("date", _("The book has no year %(year)s: open it first."), year=date.year)
    return book_year
