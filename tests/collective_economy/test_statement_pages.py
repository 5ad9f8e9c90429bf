"""The statement pages: what a bookkeeper, a township officer and the county see, print and export."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from collective_economy.services.books import Balance, opening_balances_set
from governance.models import ExportLog
from tests.helpers.ledger import accounts, new_book, post

PAGES = ["trial-balance", "balance-sheet", "income-statement", "general-ledger", "detail-ledger",
         "township-overview"]


@pytest.fixture
def posted_book(book, village_a, clerk_a):
    chart = accounts(book)
    opening_balances_set(book_year=book.years.get(), balances=[
        Balance(chart["102"], "50000.00"),
        Balance(chart["301"], "-50000.00")])
    post(book, datetime.date(2025, 1, 10), [("102", "120000.00", "0", "收经营收入"), ("501", "0", "120000.00")],
         preparer=village_a, reviewer=clerk_a)
    post(book, datetime.date(2025, 2, 5), [("513", "1234.56", "0", "办公费"), ("102", "0", "1234.56", "办公费")],
         preparer=village_a, reviewer=clerk_a)
    return book


def url(name, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse(f"collective_economy:{name}") + (f"?{query}" if query else "")


@pytest.mark.parametrize("name", PAGES)
def test_every_page_shows_the_village_book(name, posted_book, county, village_a, staff):
    client = staff(village_a)
    response = client.get(url(name, unit=county.villages[0].pk, year=2025, month=2))
    assert response.status_code == 200
    page = response.content.decode()
    assert "德A村" in page
    assert 'id="print-link"' in page and 'id="export-link"' in page


def test_the_trial_balance_page_by_hand(posted_book, county, village_a, staff):
    page = staff(village_a).get(url("trial-balance", unit=county.villages[0].pk, year=2025, month=2,
                                    month_from=1)).content.decode()
    assert "科目余额表" in page
    assert "168,765.44" in page  # the bank at the end of February: 50,000 + 120,000 − 1,234.56
    assert "121,234.56" in page  # the debit turnover of the year to date: 120,000 + 1,234.56
    assert "170,000.00" in page  # the closing totals, debit and credit
    assert 'id="balance-check"' in page and "平衡" in page


def test_the_income_statement_shows_the_operating_income_with_its_definition(posted_book, county, clerk_a, staff):
    page = staff(clerk_a).get(url("income-statement", unit=county.villages[0].pk, year=2025, month=2,
                                  month_from=1)).content.decode()
    assert "收益及收益分配表" in page
    assert 'id="operating-income-ytd">120,000.00<' in page
    assert "经营收入（501） ＋ 投资收益（502）" in page
    assert "118,765.44" in page  # 经营收益: 120,000 − 1,234.56


def test_the_balance_sheet_balances_on_the_page(posted_book, county, county_official, staff):
    page = staff(county_official).get(url("balance-sheet", unit=county.villages[0].pk, year=2025,
                                          month=2)).content.decode()
    assert "资产负债表" in page and "168,765.44" in page and "平衡" in page


def test_the_print_page_is_a_clean_a4_page(posted_book, county, village_a, staff):
    page = staff(village_a).get(url("balance-sheet", unit=county.villages[0].pk, year=2025, month=2,
                                    print=1)).content.decode()
    organisation = posted_book.organisation
    assert organisation.name in page and organisation.credit_code in page
    assert "单位：元" in page and "制表人" in page and "审核人" in page
    assert "ledger-print.css" in page
    assert "portal-sidebar" not in page and "portal-topbar" not in page


def test_the_excel_file_holds_the_figures_as_numbers(posted_book, county, village_a, staff):
    response = staff(village_a).get(url("trial-balance", unit=county.villages[0].pk, year=2025, month=2,
                                        month_from=1, export="xlsx"))
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "科目余额表"
    assert any(organisation_line and posted_book.organisation.credit_code in str(organisation_line)
               for organisation_line in (row[0] for row in rows[:4]))
    bank = next(row for row in rows if row[0] == "102")
    assert float(bank[-2]) == 168765.44
    cell = next(c for c in next(r for r in sheet.iter_rows() if r[0].value == "102") if c.column == len(bank) - 1)
    assert cell.number_format == "#,##0.00"
    total = next(row for row in rows if row[1] == "合计")
    assert float(total[-2]) == float(total[-1]) == 170000.00
    assert ExportLog.objects.filter(user=village_a, kind="ledger-trial-balance", with_personal_data=False).exists()


def test_the_detail_ledger_exports_every_line(posted_book, county, village_a, staff):
    response = staff(village_a).get(url("detail-ledger", unit=county.villages[0].pk, year=2025, month=2,
                                        account="102", export="xlsx"))
    rows = [[cell.value for cell in row] for row in openpyxl.load_workbook(io.BytesIO(response.content)).active
            .iter_rows()]
    assert [row[2] for row in rows if row[1] == "记-1"] == ["收经营收入", "办公费"]


def test_township_b_gets_404_for_township_a(posted_book, county, clerk_b, staff):
    client = staff(clerk_b)
    for name in PAGES:
        assert client.get(url(name, unit=county.villages[0].pk, year=2025)).status_code == 404
        assert client.get(url(name, unit=county.township_a.pk, year=2025)).status_code == 404
        assert client.get(url(name, unit=county.township_a.pk, export="xlsx")).status_code == 404


def test_bad_parameters_say_what_is_wrong(posted_book, county, village_a, staff):
    client = staff(village_a)
    response = client.get(url("trial-balance", unit=county.villages[0].pk, year=2025, month=13))
    assert response.status_code == 400 and "请输入1到12之间的月份" in response.content.decode()
    response = client.get(url("trial-balance", unit=county.villages[0].pk, year=2025, month=2, month_from=5))
    assert response.status_code == 400
    assert client.get(url("trial-balance", unit="abc")).status_code == 400
    assert client.get(url("general-ledger", unit=county.villages[0].pk, year=2025, account="999")).status_code == 400


def test_a_village_without_books_says_so(county, clerk_b, staff):
    page = staff(clerk_b).get(url("trial-balance", unit=county.villages[1].pk, year=2025)).content.decode()
    assert "该村尚未建账" in page


def test_the_township_overview_links_to_each_village(posted_book, county, clerk_a, village_a, staff):
    other = new_book(county.villages[1])  # township B's: not in A's overview
    assert other
    page = staff(clerk_a).get(url("township-overview", unit=county.township_a.pk, year=2025,
                                  month=2)).content.decode()
    assert "120,000.00" in page and "德A村" in page and "德B村" not in page
    assert reverse("collective_economy:income-statement") + f"?unit={county.villages[0].pk}" in page
    assert "经营收入（501） ＋ 投资收益（502）" in page


def test_the_pages_cost_the_same_queries_however_many_lines(posted_book, county, village_a, clerk_a, staff,
                                                             django_assert_max_num_queries):
    client = staff(village_a)
    counts = {}
    for name in PAGES:
        with django_assert_max_num_queries(40) as found:
            client.get(url(name, unit=county.villages[0].pk, year=2025, month=3))
        counts[name] = len(found.captured_queries)
    for n in range(4):
        post(posted_book, datetime.date(2025, 3, 1 + n), [("102", "10.00", "0", "x"), ("504", "0", "10.00")],
             preparer=village_a, reviewer=clerk_a)
    for name in PAGES:
        with django_assert_max_num_queries(counts[name]):
            client.get(url(name, unit=county.villages[0].pk, year=2025, month=3))
