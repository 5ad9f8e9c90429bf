"""Books for tests: a village's book under a chart, vouchers entered and posted through the services.

Transactional tests (a live server, threads) empty every table when they end; on SQLite that
is a DELETE, which the ledger's triggers refuse for posted vouchers, so ``unguarded_flush``
lifts the triggers for that moment only (PostgreSQL empties tables by TRUNCATE, which row
triggers do not see).
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal

from collective_economy.models import Book, Chart, EconomicOrganisation, Period, Voucher, VoucherLine
from collective_economy.services.books import Balance, book_create, opening_balances_set, sub_account_create
from collective_economy.services.charts import charts_load_shipped
from collective_economy.services.periods import period_close
from collective_economy.services.vouchers import (
    LineInput,
    voucher_post,
    voucher_review,
    voucher_save,
    voucher_submit,
)
from collective_economy.triggers import install, uninstall
from governance.validators import credit_check_char


def charts() -> dict[str, Chart]:
    """The shipped charts by code (loaded again if a transactional test emptied them)."""
    if not Chart.objects.filter(code__in=("2004", "2023")).count() == 2:
        charts_load_shipped()
    return {chart.code: chart for chart in Chart.objects.all()}


def credit_code(village_code: str, serial: int = 1) -> str:
    """A valid unified social credit code of a village collective (N2 + the village's area code)."""
    first17 = f"N2{village_code[:6]}{serial:09d}"
    return first17 + credit_check_char(first17)


def accounts(book_or_year) -> dict:
    chart = book_or_year.chart if hasattr(book_or_year, "chart") else book_or_year.years.order_by("-year")[0].chart
    return {account.code: account for account in chart.accounts.all()}


def new_book(village, *, year: int = 2025, chart: str = "2023", bookkeepers=(), separate_review=True) -> Book:
    organisation = EconomicOrganisation.objects.filter(village=village).first() or EconomicOrganisation.objects.create(
        village=village, name=f"{village.short_name or village.name}股份经济合作社",
        credit_code=credit_code(village.code, int(village.code[6:12])), legal_representative="张三")
    return book_create(village=village, chart=charts()[chart], year=year, organisation=organisation,
                       bookkeepers=bookkeepers, separate_review=separate_review)


def post(book, date: datetime.date, lines, *, preparer, reviewer, poster=None, attachments=1) -> Voucher:
    """Enter, send, review and post a voucher; ``lines`` are (account code, debit, credit[, summary])."""
    chart_accounts = accounts(book.years.get(year=date.year))
    inputs = [LineInput(account=chart_accounts[code], debit=Decimal(debit), credit=Decimal(credit),
                        summary=rest[0] if rest else "摘要") for code, debit, credit, *rest in lines]
    voucher = voucher_save(book=book, date=date, lines=inputs, user=preparer, attachments=attachments)
    voucher_submit(voucher=voucher, user=preparer)
    voucher_review(voucher=voucher, user=reviewer)
    return voucher_post(voucher=voucher, user=poster or preparer)


def add_books(villages, *, preparer, reviewer) -> list[Book]:
    """One book per village, with a sub-account, a posted voucher and a closed January (for the scope walk)."""
    books = []
    for village in villages:
        book = new_book(village)
        receivable = sub_account_create(book=book, account=accounts(book)["112"], code="112001", name="李四")
        chart_accounts = accounts(book)
        opening_balances_set(book_year=book.years.get(), balances=[
            Balance(chart_accounts["112"], Decimal("5000.00"), receivable),
            Balance(chart_accounts["301"], Decimal("-5000.00"))])
        post(book, datetime.date(2025, 1, 10), [("102", "120000.00", "0"), ("501", "0", "120000.00")],
             preparer=preparer, reviewer=reviewer)
        period_close(period=Period.objects.get(book_year__book=book, month=1), user=reviewer)
        books.append(book)
    return books


@contextmanager
def unguarded(connection):
    """The ledger's triggers lifted for the block (SQLite only needs it, to empty the tables)."""
    uninstall(connection)
    try:
        yield
    finally:
        install(connection)


def unguarded_flush(connection) -> None:
    """Delete every voucher, posted ones too, with the triggers lifted (before a SQLite flush)."""
    if connection.vendor != "sqlite":
        return
    with unguarded(connection):
        VoucherLine.objects.all().delete()
        Voucher.objects.filter(reverses__isnull=False).delete()
        Voucher.objects.all().delete()


def post_on(book, date, sub, amount, *, preparer, reviewer, side="credit"):
    """A voucher of ``amount`` on the sub-account ``sub`` (income: a credit), against the bank."""
    chart = accounts(book)
    amount = Decimal(amount)
    income = LineInput(account=sub.account, sub_account=sub, summary="项目收入",
                       **({"credit": amount} if side == "credit" else {"debit": amount}))
    bank = LineInput(account=chart["102"], summary="项目收入",
                     **({"debit": amount} if side == "credit" else {"credit": amount}))
    voucher = voucher_save(book=book, date=date, lines=[bank, income], user=preparer, attachments=1)
    voucher_submit(voucher=voucher, user=preparer)
    voucher_review(voucher=voucher, user=reviewer)
    return voucher_post(voucher=voucher, user=preparer)
