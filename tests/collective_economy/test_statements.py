"""The statements' figures, worked out by hand for small books under both charts: trial balance, ledgers,
balance sheet, income statement, operating income and the township side by side."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from collective_economy.models import Period
from collective_economy.selectors import ledgers
from collective_economy.selectors import overview as ov
from collective_economy.selectors import statements as st
from collective_economy.services.books import Balance, opening_balances_set, sub_account_create
from collective_economy.services.periods import period_close, year_close
from collective_economy.services.vouchers import voucher_post, voucher_reverse, voucher_review, voucher_submit
from governance.models import Level
from governance.services import orgunit_create
from tests.helpers.ledger import accounts, new_book, post

D = Decimal


def d(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def day(month, number=10, year=2025):
    return datetime.date(year, month, number)


@pytest.fixture
def small_book(book, village_a, clerk_a):
    """Township A's village, 2025, 2023 rules: opening cash 1,000, bank 50,000, a receivable of 5,000 from
    李四, capital 56,000; January operating income 120,000 to the bank; February operating expense 30,000
    from the bank and a subsidy of 2,000 in cash; March management expense 500 in cash."""
    chart = accounts(book)
    li = sub_account_create(book=book, account=chart["112"], code="112001", name="李四")
    opening_balances_set(book_year=book.years.get(), balances=[
        Balance(chart["101"], D("1000.00")), Balance(chart["102"], D("50000.00")),
        Balance(chart["112"], D("5000.00"), li), Balance(chart["301"], D("-56000.00"))])
    post(book, day(1), [("102", "120000.00", "0", "收经营收入"), ("501", "0", "120000.00", "收经营收入")],
         preparer=village_a, reviewer=clerk_a)
    post(book, day(2, 5), [("511", "30000.00", "0", "付经营支出"), ("102", "0", "30000.00", "付经营支出")],
         preparer=village_a, reviewer=clerk_a)
    post(book, day(2, 20), [("101", "2000.00", "0", "收补助"), ("503", "0", "2000.00", "收补助")],
         preparer=village_a, reviewer=clerk_a)
    post(book, day(3, 3), [("513", "500.00", "0", "办公费"), ("101", "0", "500.00", "办公费")],
         preparer=village_a, reviewer=clerk_a)
    return book


def scope_of(user, unit, year=2025, chart=""):
    return st.statement_scope(user, unit, year, chart)


def row_of(trial, code):
    return next(row for row in trial.rows if row.code == code)


def test_trial_balance_of_a_period_by_hand(small_book, county, admin_user):
    trial = st.trial_balance(scope_of(admin_user, county.villages[0]), month_from=2, month=3, sub_accounts=True)
    cash = st.trial_row_columns(row_of(trial, "101").figures)
    assert (cash["opening_debit"], cash["start_debit"], cash["period_debit"], cash["period_credit"],
            cash["closing_debit"]) == (d(1000), d(1000), d(2000), d(500), d(2500))
    bank = st.trial_row_columns(row_of(trial, "102").figures)
    assert (bank["start_debit"], bank["period_credit"], bank["ytd_debit"], bank["ytd_credit"],
            bank["closing_debit"]) == (d(170000), d(30000), d(120000), d(30000), d(140000))
    income = st.trial_row_columns(row_of(trial, "501").figures)
    assert (income["start_credit"], income["period_credit"], income["ytd_credit"], income["closing_credit"]) == (
        d(120000), d(0), d(120000), d(120000))
    assert [row.code for row in trial.rows] == ["101", "102", "112", "112001", "301", "501", "503", "511", "513"]
    assert row_of(trial, "112001").level == 2 and row_of(trial, "112001").name == "李四"
    assert trial.totals["closing_debit"] == trial.totals["closing_credit"] == d(178000)
    assert trial.totals["opening_debit"] == trial.totals["opening_credit"] == d(56000)
    assert trial.totals["period_debit"] == trial.totals["period_credit"] == d(32500)
    assert trial.balanced


def test_balance_sheet_balances_in_the_middle_of_the_year(small_book, county, admin_user):
    sheet = st.balance_sheet(scope_of(admin_user, county.villages[0]), month=3)
    by_label = {line.label: line.values for line in sheet.lines}
    assert by_label["货币资金"] == (d(51000), d(142500))
    assert by_label["应收款项"] == (d(5000), d(5000))
    assert by_label["资产总计"] == (d(56000), d(147500))
    assert by_label["未分配收益"] == (d(0), d(91500))
    assert by_label["负债和所有者权益总计"] == (d(56000), d(147500))
    assert sheet.balanced


def test_income_statement_of_a_month_and_the_year_to_date(small_book, county, admin_user):
    result = st.income_statement(scope_of(admin_user, county.villages[0]), month_from=3, month=3)
    by_label = {line.label: line.values for line in result.lines}
    assert by_label["一、经营收入"] == (d(0), d(120000))
    assert by_label["减：经营支出"] == (d(0), d(30000))
    assert by_label["管理费用"] == (d(500), d(500))
    assert by_label["二、经营收益"] == (d(-500), d(89500))
    assert by_label["加：补助收入"] == (d(0), d(2000))
    assert by_label["四、净收益（本年收益）"] == (d(-500), d(91500))
    assert result.operating_income.year_to_date == d(120000)
    assert result.operating_income.period == d(0)
    assert result.operating_income.definition == "经营收入（501） ＋ 投资收益（502）"


def test_ledgers_of_the_bank_account(small_book, county, admin_user):
    scope = scope_of(admin_user, county.villages[0])
    account, sub = ledgers.find_account(scope, "102")
    general = ledgers.general_ledger(scope, account, month=3)
    assert [(line.kind, line.month, line.debit, line.credit, line.balance) for line in general.lines] == [
        ("opening", 1, d(0), d(0), d(50000)),
        ("month", 1, d(120000), d(0), d(170000)), ("year", 1, d(120000), d(0), d(170000)),
        ("month", 2, d(0), d(30000), d(140000)), ("year", 2, d(120000), d(30000), d(140000)),
    ]
    detail = ledgers.detail_ledger(scope, account, month_from=2, month=3)
    assert [(line.kind, line.summary, line.balance) for line in detail.lines] == [
        ("opening", "", d(170000)), ("line", "付经营支出", d(140000)), ("total", "", d(140000))]
    assert detail.lines[1].voucher == "记-1" and detail.lines[1].side == "debit"


def test_detail_ledger_of_a_sub_account_and_a_running_balance(small_book, county, admin_user, village_a, clerk_a):
    post(small_book, day(4), [("102", "3000.00", "0", "李四还款"), ("112", "0", "3000.00", "李四还款")],
         preparer=village_a, reviewer=clerk_a)
    scope = scope_of(admin_user, county.villages[0])
    account, sub = ledgers.find_account(scope, "112")
    detail = ledgers.detail_ledger(scope, account, month=4)
    assert [line.balance for line in detail.lines] == [d(5000), d(2000), d(2000)]
    cash = ledgers.detail_ledger(scope, *ledgers.find_account(scope, "101"), month=12)
    assert [line.balance for line in cash.lines] == [d(1000), d(3000), d(2500), d(2500)]
    with pytest.raises(ValidationError) as caught:
        ledgers.find_account(scope, "999")
    assert "999" in caught.value.message_dict["account"][0]


def test_a_reversal_restores_every_balance(small_book, county, admin_user, village_a, clerk_a):
    scope = scope_of(admin_user, county.villages[0])
    before = st.trial_balance(scope, month=12)
    wrong = post(small_book, day(4), [("101", "800.00", "0", "错账"), ("504", "0", "800.00", "错账")],
                 preparer=village_a, reviewer=clerk_a)
    assert st.trial_balance(scope, month=12).totals != before.totals
    reversal = voucher_reverse(voucher=wrong, user=village_a, date=day(4, 12))
    voucher_submit(voucher=reversal, user=village_a)
    voucher_review(voucher=reversal, user=clerk_a)
    voucher_post(voucher=reversal, user=village_a)
    after = st.trial_balance(scope, month=12)
    closing = {row.code: row.figures.closing for row in after.rows}
    assert closing == {row.code: row.figures.closing for row in before.rows} | {"504": d(0)}
    assert st.balance_sheet(scope, month=12).lines == st.balance_sheet(scope, month=12).lines
    assert {line.label: line.values for line in st.balance_sheet(scope, month=12).lines}["资产总计"] == (
        d(56000), d(147500))


def test_the_year_close_keeps_the_statements(small_book, county, admin_user, clerk_a):
    scope = scope_of(admin_user, county.villages[0])
    income_before = st.income_statement(scope, month=12)
    for month in range(1, 12):
        period_close(period=Period.objects.get(book_year__book=small_book, month=month), user=clerk_a)
    year_close(book_year=small_book.years.get(year=2025), user=clerk_a)
    sheet = st.balance_sheet(scope, month=12)
    assert sheet.balanced
    by_label = {line.label: line.values for line in sheet.lines}
    assert by_label["未分配收益"] == (d(0), d(91500))
    assert st.income_statement(scope, month=12).lines == income_before.lines
    trial = st.trial_balance(scope, month=12)
    assert row_of(trial, "322").figures.closing == d(-91500)
    assert "501" not in [row.code for row in trial.rows if row.figures.closing] and trial.balanced


def test_a_2004_book_by_hand(county, admin_user, village_a, clerk_a):
    book = new_book(county.villages[0], year=2023, chart="2004", bookkeepers=[village_a])
    chart = accounts(book)
    opening_balances_set(book_year=book.years.get(), balances=[Balance(chart["101"], D("800.00")),
                                                               Balance(chart["301"], D("-800.00"))])
    post(book, day(1, year=2023), [("102", "10000.00", "0"), ("511", "0", "10000.00")],
         preparer=village_a, reviewer=clerk_a)
    post(book, day(1, 20, 2023), [("541", "300.00", "0"), ("101", "0", "300.00")],
         preparer=village_a, reviewer=clerk_a)
    scope = scope_of(admin_user, county.villages[0], 2023)
    result = st.income_statement(scope, month=1)
    by_label = {line.label: line.values[1] for line in result.lines}
    assert by_label["加：发包及上交收入"] == d(10000)
    assert by_label["二、经营收益"] == d(9700)
    assert by_label["三、本年收益"] == d(9700)
    assert result.operating_income.year_to_date == d(10000)
    assert result.operating_income.definition == "经营收入（501） ＋ 发包及上交收入（511） ＋ 投资收益（561）"
    sheet = st.balance_sheet(scope, month=1)
    assert {line.label: line.values for line in sheet.lines}["资产总计"] == (d(800), d(10500))
    assert sheet.balanced
    assert st.trial_balance(scope, month=1).totals["closing_debit"] == d(10800)  # 101 500 + 102 10,000 + 541 300


@pytest.fixture
def second_village(county):
    return orgunit_create(code=f"{county.township_a.code[:9]}202", name="德A二村村民委员会", short_name="德A二村",
                          level=Level.VILLAGE, kind="village", parent=county.township_a)


def test_a_township_sums_its_books_of_one_chart(small_book, second_village, county, clerk_a, village_a, clerk_b):
    other = new_book(second_village, bookkeepers=[village_a])
    post(other, day(1, 15), [("101", "700.00", "0"), ("502", "0", "700.00")], preparer=village_a, reviewer=clerk_a)
    scope = scope_of(clerk_a, county.township_a)
    assert scope.books == 2
    trial = st.trial_balance(scope, month=3)
    assert row_of(trial, "101").figures.closing == d(2500) + d(700)
    assert trial.totals["closing_debit"] == d(178700) and trial.balanced
    income = st.income_statement(scope, month=3)
    assert income.operating_income.year_to_date == d(120700)
    assert st.balance_sheet(scope, month=3).balanced
    # The county sees the same sum; township B sees no book of A's.
    assert st.statement_scope(clerk_b, county.township_b, 2025).is_empty
    assert st.statement_scope(clerk_b, county.township_a, 2025).is_empty
    overview = ov.township_overview(clerk_a, county.township_a, 2025, month=3)
    assert [(row.village.pk, row.operating_income_ytd, row.balanced) for row in overview.rows] == [
        (county.villages[0].pk, d(120000), True), (second_village.pk, d(700), True)]
    assert overview.totals.operating_income_ytd == d(120700)
    assert overview.totals.income_ytd == d(122700)
    assert overview.rows[0].unposted == 0


def test_two_charts_under_a_township_are_not_added(small_book, second_village, county, clerk_a, village_a):
    new_book(second_village, chart="2004", bookkeepers=[village_a])
    scope = scope_of(clerk_a, county.township_a)
    assert [chart.code for chart in scope.charts] == ["2004", "2023"]
    assert scope.chart.code == "2023" and scope.books == 1
    assert scope_of(clerk_a, county.township_a, chart="2004").books == 1
    with pytest.raises(ValidationError) as caught:
        scope_of(clerk_a, county.township_a, chart="1999")
    assert "chart" in caught.value.message_dict


def test_the_overview_lists_a_village_without_books(county, admin_user):
    overview = ov.township_overview(admin_user, county.county, 2025)
    assert [row.book_year for row in overview.rows] == [None, None] and overview.totals is None


def test_the_statements_cost_the_same_queries_however_many_lines(small_book, county, admin_user, village_a, clerk_a,
                                                                 django_assert_max_num_queries):
    scope = scope_of(admin_user, county.villages[0])

    def all_statements():
        st.trial_balance(scope, month=12, sub_accounts=True)
        st.balance_sheet(scope, month=12)
        st.income_statement(scope, month=12)
        ledgers.general_ledger(scope, ledgers.find_account(scope, "102")[0], month=12)
        ledgers.detail_ledger(scope, ledgers.find_account(scope, "102")[0], month=12)
        ov.township_overview(admin_user, county.county, 2025)

    with django_assert_max_num_queries(30) as few:
        all_statements()
    for n in range(5):
        post(small_book, day(5 + n), [("101", "10.00", "0"), ("504", "0", "10.00")], preparer=village_a,
             reviewer=clerk_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        all_statements()


def test_a_bad_period_is_refused(small_book, county, admin_user):
    with pytest.raises(ValidationError) as caught:
        st.trial_balance(scope_of(admin_user, county.villages[0]), month_from=5, month=3)
    assert "month_from" in caught.value.message_dict


def test_the_definition_is_the_charts_own(county):
    from collective_economy.models import Chart

    new_book(county.villages[0])  # loads the charts
    for chart in Chart.objects.all():
        assert st.operating_income_definition(chart) == chart.operating_income_definition()
    assert st.operating_income_definition(None) == ""
