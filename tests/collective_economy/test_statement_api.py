"""The statements API: the pages' figures as data, scoped, with a 400 naming a bad parameter."""

import datetime

import pytest

from collective_economy.services.books import Balance, opening_balances_set
from tests.helpers.ledger import accounts, post

API = "/api/v1/ledger/statements/"


@pytest.fixture
def posted_book(book, village_a, clerk_a):
    chart = accounts(book)
    opening_balances_set(book_year=book.years.get(), balances=[Balance(chart["102"], "50000.00"),
                                                               Balance(chart["301"], "-50000.00")])
    post(book, datetime.date(2025, 1, 10), [("102", "120000.00", "0", "收经营收入"), ("501", "0", "120000.00")],
         preparer=village_a, reviewer=clerk_a)
    post(book, datetime.date(2025, 2, 5), [("513", "1234.56", "0", "办公费"), ("102", "0", "1234.56", "办公费")],
         preparer=village_a, reviewer=clerk_a)
    return book


def test_trial_balance(posted_book, county, village_a, staff):
    data = staff(village_a).get(f"{API}trial-balance/", {"year": 2025, "month": 2, "month_from": 1}).json()
    assert data["scope"]["unit"] == county.villages[0].pk and data["scope"]["chart"] == "2023"
    assert data["scope"]["credit_code"] == posted_book.organisation.credit_code
    bank = next(row for row in data["rows"] if row["code"] == "102")
    assert bank["closing_debit"] == "168765.44" and bank["ytd_credit"] == "1234.56"
    assert data["totals"]["closing_debit"] == data["totals"]["closing_credit"] == "170000.00"
    assert data["balanced"] is True


def test_balance_sheet_and_income_statement(posted_book, county, clerk_a, staff):
    client = staff(clerk_a)
    sheet = client.get(f"{API}balance-sheet/", {"unit": county.villages[0].pk, "year": 2025, "month": 2}).json()
    assert sheet["balanced"] is True
    assert next(line for line in sheet["lines"] if line["label"] == "货币资金")["second"] == "168765.44"
    income = client.get(f"{API}income-statement/", {"unit": county.township_a.pk, "year": 2025, "month": 2,
                                                    "month_from": 2}).json()
    assert income["operating_income"] == {"period": "0.00", "year_to_date": "120000.00",
                                          "definition": "经营收入（501） ＋ 投资收益（502）"}
    assert next(line for line in income["lines"] if line["label"] == "管理费用")["first"] == "1234.56"


def test_ledgers(posted_book, county, village_a, staff):
    client = staff(village_a)
    general = client.get(f"{API}general-ledger/", {"year": 2025, "account": "102", "month": 2}).json()
    assert [(line["kind"], line["amount"], line["side"]) for line in general["lines"]] == [
        ("opening", "50000.00", "debit"), ("month", "170000.00", "debit"), ("year", "170000.00", "debit"),
        ("month", "168765.44", "debit"), ("year", "168765.44", "debit")]
    detail = client.get(f"{API}detail-ledger/", {"year": 2025, "account": "102", "month": 2}).json()
    assert [(line["voucher"], line["summary"], line["amount"]) for line in detail["lines"]] == [
        ("", "", "50000.00"), ("记-1", "收经营收入", "170000.00"), ("记-1", "办公费", "168765.44"),
        ("", "", "168765.44")]
    assert detail["total_lines"] == 2


def test_overview(posted_book, county, clerk_a, staff):
    data = staff(clerk_a).get(f"{API}overview/", {"year": 2025, "month": 2}).json()
    assert [(row["name"], row["operating_income_ytd"], row["balanced"]) for row in data["rows"]] == [
        ("德A村", "120000.00", True)]
    assert data["totals"]["operating_income_ytd"] == "120000.00"
    assert data["definitions"] == {"2023": "经营收入（501） ＋ 投资收益（502）"}


def test_out_of_scope_is_404_and_bad_parameters_400(posted_book, county, clerk_b, village_a, staff):
    client = staff(clerk_b)
    for name in ("trial-balance", "balance-sheet", "income-statement", "general-ledger", "detail-ledger",
                 "overview"):
        assert client.get(f"{API}{name}/", {"unit": county.villages[0].pk}).status_code == 404
    client = staff(village_a)
    response = client.get(f"{API}trial-balance/", {"month": 13})
    assert response.status_code == 400 and response.json() == {"month": ["请输入1到12之间的月份。"]}
    response = client.get(f"{API}trial-balance/", {"year": 2025, "month_from": 5, "month": 2})
    assert response.status_code == 400 and "month_from" in response.json()
    response = client.get(f"{API}general-ledger/", {"year": 2025, "account": "999"})
    assert response.status_code == 400 and "999" in response.json()["account"][0]
    response = client.get(f"{API}trial-balance/", {"year": 2025, "chart": "1999"})
    assert response.status_code == 400 and "chart" in response.json()


def test_the_schema_documents_every_action(admin_user, staff):
    response = staff(admin_user).get("/api/schema/")
    if response.status_code == 404:
        pytest.skip("no schema URL")
    text = response.content.decode()
    for name in ("trial-balance", "balance-sheet", "income-statement", "general-ledger", "detail-ledger",
                 "overview"):
        assert f"/api/v1/ledger/statements/{name}/" in text
    assert "TrialBalance" in text and "month_from" in text and "OperatingIncome" in text
