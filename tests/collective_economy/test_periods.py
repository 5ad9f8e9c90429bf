"""Month end and year end: closing in order, re-opening with a reason, the carry-forward, and a book that
crosses from the 2004 rules to the 2023 rules at the year boundary."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from collective_economy.models import BookYear, OpeningBalance, Period, PeriodEvent, Voucher, VoucherKind
from collective_economy.selectors.balances import balances
from collective_economy.services.periods import period_close, period_reopen, year_close
from collective_economy.services.vouchers import LineInput, voucher_save
from tests.helpers.ledger import accounts, new_book, post


def month(book, number, year=2025):
    return Period.objects.get(book_year__book=book, book_year__year=year, month=number)


def close_through(book, last, user, year=2025):
    for number in range(1, last + 1):
        period_close(period=month(book, number, year), user=user)


def test_months_close_in_order_and_reopen_from_the_last_with_a_reason(book, clerk_a):
    with pytest.raises(ValidationError, match="2025-01"):
        period_close(period=month(book, 2), user=clerk_a)
    close_through(book, 2, clerk_a)
    with pytest.raises(ValidationError, match="2025-02"):
        period_reopen(period=month(book, 1), user=clerk_a, reason="补录凭证")
    with pytest.raises(ValidationError, match="原因"):
        period_reopen(period=month(book, 2), user=clerk_a, reason="  ")
    period_reopen(period=month(book, 2), user=clerk_a, reason="补录2月凭证")
    assert not month(book, 2).closed
    events = list(PeriodEvent.objects.filter(period__book_year__book=book).order_by("pk")
                  .values_list("period__month", "action", "reason", "user__username"))
    assert events == [(1, "close", "", "township_a"), (2, "close", "", "township_a"),
                      (2, "reopen", "补录2月凭证", "township_a")]


def test_nothing_is_entered_into_a_closed_month(book, village_a, clerk_a):
    close_through(book, 1, clerk_a)
    chart_accounts = accounts(book)
    with pytest.raises(ValidationError, match="已结账"):
        voucher_save(book=book, date=datetime.date(2025, 1, 31), user=village_a, lines=[
            LineInput(chart_accounts["101"], "提现", debit="10.00"),
            LineInput(chart_accounts["102"], "提现", credit="10.00")])


def _a_year(book, village_a, clerk_a, year):
    """A year of a village under the 2004 rules: contracting income, a subsidy, wages, a distribution."""
    def entry(day, rows):
        return post(book, day, rows, preparer=village_a, reviewer=clerk_a)

    entry(datetime.date(year, 3, 1), [("102", "150000.00", "0", "收土地发包款"),
                                      ("511", "0", "150000.00", "收土地发包款")])
    entry(datetime.date(year, 4, 1), [("102", "20000.00", "0", "收上级补助"), ("522", "0", "20000.00", "收上级补助")])
    entry(datetime.date(year, 5, 1), [("541", "30000.50", "0", "付村干部误工补贴"), ("102", "0", "30000.50", "付")])
    entry(datetime.date(year, 6, 1), [("561", "5000.00", "0", "投资亏损"), ("141", "0", "5000.00", "投资亏损")])
    entry(datetime.date(year, 7, 1), [("151", "80000.00", "0", "购置办公用房"), ("202", "0", "80000.00", "欠款")])


def test_year_end_carries_income_and_expense_and_opens_the_next_year(county, village_a, clerk_a):
    book = new_book(county.villages[0], year=2022, chart="2004")
    _a_year(book, village_a, clerk_a, 2022)
    close_through(book, 11, clerk_a, year=2022)
    next_year = year_close(book_year=book.years.get(year=2022), user=clerk_a)

    closing = list(Voucher.objects.filter(book=book, kind=VoucherKind.CLOSING).order_by("number"))
    assert [voucher.display_number for voucher in closing] == ["记-1", "记-2"]  # December had no voucher
    codes = accounts(book.years.get(year=2022))
    left = {code: amount for (account_id, _sub), amount in balances([book.years.get(year=2022).pk]).items()
            for code, account in codes.items() if account.pk == account_id}
    # Income and expense are empty; 本年收益 carried on: 150,000 + 20,000 − 30,000.50 − 5,000 = 134,999.50.
    assert set(left) == {"102", "141", "151", "202", "322"}
    assert left["322"] == Decimal("-134999.50")
    assert book.years.get(year=2022).closed and month(book, 12, 2022).closed
    assert (next_year.year, next_year.chart.code) == (2023, "2004")
    opening = {row.account.code: row.debit - row.credit for row in OpeningBalance.objects.filter(book_year=next_year)}
    assert opening == left


def test_a_book_crossing_2023_to_2024_maps_its_balances_onto_the_new_chart(county, village_a, clerk_a):
    book = new_book(county.villages[0], year=2023, chart="2004")
    _a_year(book, village_a, clerk_a, 2023)
    close_through(book, 11, clerk_a, year=2023)
    next_year = year_close(book_year=book.years.get(year=2023), user=clerk_a)

    assert (next_year.year, next_year.chart.code) == (2024, "2023")  # the chart in force on 2024-01-01
    opening = {(row.account.code, row.account.name): row.debit - row.credit
               for row in OpeningBalance.objects.filter(book_year=next_year).select_related("account")}
    # 202 应付款 becomes 211 应付款 under the 2023 rules; 141 and 151 keep their codes; 322 carries the profit.
    assert opening == {("102", "银行存款"): Decimal("139999.50"), ("141", "长期投资"): Decimal("-5000.00"),
                       ("151", "固定资产"): Decimal("80000.00"), ("211", "应付款"): Decimal("-80000.00"),
                       ("322", "收益分配"): Decimal("-134999.50")}
    assert sum(opening.values()) == 0
    # The new year takes vouchers under the new chart only.
    new_accounts = accounts(next_year)
    post(book, datetime.date(2024, 1, 5), [("101", "100.00", "0"), ("102", "0", "100.00")], preparer=village_a,
         reviewer=clerk_a)
    assert balances([next_year.pk])[(new_accounts["101"].pk, None)] == Decimal("100.00")
    old_account = accounts(book.years.get(year=2023))["202"]
    with pytest.raises(ValidationError, match="不属于"):
        voucher_save(book=book, date=datetime.date(2024, 1, 6), user=village_a, lines=[
            LineInput(old_account, "错用旧科目", debit="1.00"), LineInput(new_accounts["102"], "x", credit="1.00")])


def test_a_year_is_not_closed_with_months_open_or_vouchers_waiting(book, village_a, clerk_a):
    book_year = BookYear.objects.get(book=book, year=2025)
    with pytest.raises(ValidationError, match="2025-01"):
        year_close(book_year=book_year, user=clerk_a)
    close_through(book, 11, clerk_a)
    chart_accounts = accounts(book)
    voucher_save(book=book, date=datetime.date(2025, 12, 30), user=village_a, lines=[
        LineInput(chart_accounts["101"], "提现", debit="10.00"),
        LineInput(chart_accounts["102"], "提现", credit="10.00")])
    with pytest.raises(ValidationError, match="尚未记账"):
        year_close(book_year=book_year, user=clerk_a)
    assert not BookYear.objects.get(pk=book_year.pk).closed
