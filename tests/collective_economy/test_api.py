"""The ledger API: scope (404 outside), a voucher from draft to posted and reversed, refusals (unbalanced,
floats, a posted voucher never changed), periods closed and re-opened, permissions, constant queries."""

import datetime
from decimal import Decimal

import pytest

from collective_economy.models import Book, Chart, Period, PeriodEvent, SubAccount, Voucher, VoucherLine
from collective_economy.services.books import sub_account_create
from collective_economy.services.periods import REASON_NEEDED
from collective_economy.services.vouchers import SAME_PERSON
from governance.models import Role
from tests.helpers.api import get, post, send
from tests.helpers.ledger import accounts, new_book
from tests.helpers.ledger import post as post_voucher
from tests.helpers.messages import english
from tests.helpers.people import new_user

API = "/api/v1/ledger/"


@pytest.fixture
def book_a(county, village_a):
    return new_book(county.villages[0], bookkeepers=[village_a])


@pytest.fixture
def book_b(county):
    return new_book(county.villages[1])


@pytest.fixture
def village_b(county):
    return new_user("village_b", Role.VILLAGE, county.villages[1])


@pytest.fixture
def posted_a(book_a, village_a, clerk_a):
    return post_voucher(book_a, datetime.date(2025, 1, 10), [("102", "1000.00", "0"), ("501", "0", "1000.00")],
                        preparer=village_a, reviewer=clerk_a)


@pytest.fixture
def posted_b(book_b, village_b, clerk_b):
    return post_voucher(book_b, datetime.date(2025, 1, 10), [("102", "800.00", "0"), ("501", "0", "800.00")],
                        preparer=village_b, reviewer=clerk_b)


def ids(payload):
    return {row["id"] for row in payload["results"]}


def lines(book, *rows):
    chart = accounts(book)
    return [{"account": chart[code].pk, "debit": debit, "credit": credit, "summary": "收到承包费"}
            for code, debit, credit in rows]


def draft(book, *rows, date="2025-02-03"):
    return {"book": book.pk, "date": date, "attachments": 2, "summary": "收到承包费",
            "lines": lines(book, *(rows or (("102", "1234.50", "0"), ("501", "0", "1234.50"))))}


# --- Scope ---------------------------------------------------------------------------------


def test_township_b_sees_nothing_of_township_a(county, clerk_b, login, book_a, book_b, posted_a, posted_b):
    client = login(clerk_b)
    sub_a = sub_account_create(book=book_a, account=accounts(book_a)["112"], code="112001", name="李四")
    period_a = Period.objects.get(book_year__book=book_a, month=1)
    period_b = Period.objects.get(book_year__book=book_b, month=1)
    for endpoint, row_a, row_b in [("books", book_a, book_b), ("vouchers", posted_a, posted_b),
                                   ("periods", period_a, period_b), ("sub-accounts", sub_a, None)]:
        listed = ids(get(client, f"{API}{endpoint}/", page_size=500))
        assert row_a.pk not in listed, endpoint
        assert client.get(f"{API}{endpoint}/{row_a.pk}/").status_code == 404, endpoint
        if row_b is not None:
            assert row_b.pk in listed, endpoint
            assert client.get(f"{API}{endpoint}/{row_b.pk}/").status_code == 200, endpoint
    # Another township's book is not found for the accounts either, nor as a filter.
    assert client.get(f"{API}accounts/", {"book": book_a.pk}).status_code == 400
    assert client.get(f"{API}vouchers/", {"book": book_a.pk}).status_code == 400
    # Nor can a voucher be written into it, or stepped.
    assert post(client, f"{API}vouchers/{posted_a.pk}/reverse/", {}).status_code in (403, 404)


def test_other_county_and_anonymous(client, other_county, county, book_a, posted_a, login):
    assert client.get(f"{API}vouchers/").status_code in (401, 403)
    outsider = new_user("other_township", Role.TOWNSHIP, other_county.township_a)
    listed = ids(get(login(outsider), f"{API}vouchers/"))
    assert posted_a.pk not in listed


@pytest.mark.parametrize("bad", ["abc", "99999999999999999999999", "-1"])
def test_a_malformed_id_is_404(book_a, village_a, staff, bad):
    client = staff(village_a)
    assert client.get(f"{API}vouchers/{bad}/").status_code == 404
    assert post(client, f"{API}vouchers/{bad}/submit/").status_code == 404


def test_json_suffix_routes_answer(book_a, posted_a, village_a, login):
    client = login(village_a)
    for url in (f"{API}books.json", f"{API}books/{book_a.pk}.json", f"{API}vouchers.json",
                f"{API}vouchers/{posted_a.pk}.json", f"{API}periods.json", f"{API}sub-accounts.json"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
    assert client.get(f"{API}accounts.json", {"book": book_a.pk}).status_code == 200
    assert client.get(f"{API}vouchers/{posted_a.pk}/post.json").status_code == 405
    assert post(client, f"{API}vouchers/{posted_a.pk}/submit.json").status_code in (400, 403)
    # A POST on a voucher itself is not a step.
    assert post(client, f"{API}vouchers/{posted_a.pk}/").status_code in (403, 405)


# --- Books and accounts --------------------------------------------------------------------


def test_township_opens_a_book_and_village_cannot(county, clerk_a, village_a, staff):
    village = county.villages[0]
    client = staff(village_a)
    data = {"village": village.code, "chart": "2023", "year": 2025, "name": "测试账套", "bookkeepers": [village_a.pk]}
    assert post(client, f"{API}books/", data).status_code == 403
    response = post(staff(clerk_a), f"{API}books/", data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "测试账套" and body["bookkeepers"] == [village_a.pk]
    assert [(y["year"], y["chart"]) for y in body["years"]] == [(2025, "2023")]
    assert Period.objects.filter(book_year__book_id=body["id"]).count() == 12


def test_a_book_of_a_village_outside_scope_is_refused(county, clerk_a, staff):
    response = post(staff(clerk_a), f"{API}books/", {"village": county.villages[1].code, "chart": "2023",
                                                     "year": 2025})
    assert response.status_code == 400 and "village" in response.json()
    assert not Book.objects.exists()


def test_accounts_of_the_book_by_code_or_name(book_a, village_a, login):
    sub_account_create(book=book_a, account=accounts(book_a)["112"], code="112001", name="李四")
    client = login(village_a)
    rows = get(client, f"{API}accounts/", book=book_a.pk, page_size=500)["results"]
    codes = [row["code"] for row in rows]
    assert codes == sorted(codes) and "101" in codes and "112001" in codes
    sub = next(row for row in rows if row["code"] == "112001")
    assert sub["full_name"] == "112001 应收款-李四" and sub["sub_account"] is not None
    assert [row["code"] for row in get(client, f"{API}accounts/", book=book_a.pk, q="1120")["results"]] == ["112001"]
    found = get(client, f"{API}accounts/", book=book_a.pk, q="应收")["results"]
    assert {row["code"] for row in found} == {"112", "112001"}
    income = get(client, f"{API}accounts/", book=book_a.pk, q="501")["results"][0]
    assert income["operating_income"] is True and income["side"] == "credit"
    assert client.get(f"{API}accounts/", HTTP_ACCEPT_LANGUAGE="en").status_code == 400
    assert client.get(f"{API}accounts/", {"book": book_a.pk, "year": 2019}).status_code == 400


def test_sub_account_created_through_the_service(book_a, village_a, county_official, staff):
    account = accounts(book_a)["112"]
    assert post(staff(county_official), f"{API}sub-accounts/",
                {"book": book_a.pk, "account": account.pk, "code": "112001", "name": "李四"}).status_code == 403
    client = staff(village_a)
    response = post(client, f"{API}sub-accounts/", {"book": book_a.pk, "account": account.pk, "code": "112001",
                                                    "name": "李四"})
    assert response.status_code == 201, response.content
    assert response.json()["account_code"] == "112"
    wrong = post(client, f"{API}sub-accounts/", {"book": book_a.pk, "account": account.pk, "code": "113001",
                                                 "name": "王五"})
    assert wrong.status_code == 400 and "code" in wrong.json()
    old = Chart.objects.get(code="2004").accounts.get(code="112")
    other_chart = post(client, f"{API}sub-accounts/", {"book": book_a.pk, "account": old.pk, "code": "112002",
                                                       "name": "王五"})
    assert other_chart.status_code == 400 and "account" in other_chart.json()
    assert SubAccount.objects.filter(book=book_a).count() == 1


# --- A voucher's life ----------------------------------------------------------------------


def test_draft_submit_review_post_reverse(book_a, village_a, clerk_a, staff, client):
    bookkeeper = staff(village_a)
    response = post(bookkeeper, f"{API}vouchers/", draft(book_a))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["number"] is None
    assert body["debit_total"] == "1234.50" and body["credit_total"] == "1234.50"
    assert [(line["account_code"], line["debit"], line["credit"]) for line in body["lines"]] == [
        ("102", "1234.50", "0.00"), ("501", "0.00", "1234.50")]
    url = f"{API}vouchers/{body['id']}/"
    assert post(bookkeeper, f"{url}submit/").json()["status"] == "submitted"
    # The preparer does not review his own voucher (this book asks for another person).
    refused = post(bookkeeper, f"{url}review/")
    assert refused.status_code == 400 and english(SAME_PERSON) in str(refused.json())
    reviewer = staff(clerk_a)
    reviewed = post(reviewer, f"{url}review/").json()
    assert reviewed["status"] == "reviewed" and reviewed["reviewed_by"] == clerk_a.pk
    # The township reviews but does not post.
    assert post(reviewer, f"{url}post/").status_code == 403
    posted = post(staff(village_a), f"{url}post/").json()
    assert posted["status"] == "posted" and posted["number"] == 1 and posted["display_number"] == "J-1"
    reversal = post(staff(village_a), f"{url}reverse/", {"date": "2025-03-05"})
    assert reversal.status_code == 201, reversal.content
    reversal = reversal.json()
    assert reversal["kind"] == "reversal" and reversal["reverses"] == body["id"] and reversal["status"] == "draft"
    assert [(line["debit"], line["credit"]) for line in reversal["lines"]] == [("0.00", "1234.50"),
                                                                               ("1234.50", "0.00")]
    assert get(staff(village_a), url)["reversed_by"] == reversal["id"]
    again = post(staff(village_a), f"{url}reverse/", {"date": "2025-03-05"})
    assert again.status_code == 400


def test_unbalanced_voucher_is_400_with_the_message(book_a, village_a, staff):
    response = post(staff(village_a), f"{API}vouchers/", draft(book_a, ("102", "100.00", "0"), ("501", "0", "90.00")))
    assert response.status_code == 400
    assert response.json() == {"lines": ["Debits and credits differ: debits 100.00, credits 90.00, difference "
                                         "10.00 yuan."]}
    assert not Voucher.objects.exists()


@pytest.mark.parametrize(("amount", "message"), [
    (100.5, 'Line 1: Give amounts as text in yuan with at most two decimals, such as "1234.50", never as a number '
            "with a floating point."),
    ("12.345", "Line 1: Enter an amount in yuan with at most two decimals."),
    ("abc", "Line 1: Enter an amount in yuan with at most two decimals."),
    ("-5.00", "Line 1: amounts are never negative; put the amount on the other side."),
])
def test_a_bad_amount_is_400_naming_the_line(book_a, village_a, staff, amount, message):
    data = draft(book_a)
    data["lines"][0]["debit"] = amount
    response = post(staff(village_a), f"{API}vouchers/", data)
    assert response.status_code == 400
    assert message.lower() in str(response.json()["lines"]).lower()
    assert not Voucher.objects.exists()


def test_a_draft_is_changed_and_deleted(book_a, village_a, staff):
    client = staff(village_a)
    url = f"{API}vouchers/{post(client, f'{API}vouchers/', draft(book_a)).json()['id']}/"
    changed = send(client, "put", url, draft(book_a, ("101", "50.00", "0"), ("501", "0", "50.00")))
    assert changed.status_code == 200, changed.content
    assert changed.json()["debit_total"] == "50.00"
    patched = send(client, "patch", url, {"attachments": 5})
    assert patched.status_code == 200 and patched.json()["attachments"] == 5
    assert patched.json()["debit_total"] == "50.00" and len(patched.json()["lines"]) == 2
    assert client.delete(url).status_code == 204
    assert not Voucher.objects.exists()


def test_a_posted_voucher_is_never_changed(book_a, posted_a, village_a, staff):
    client = staff(village_a)
    url = f"{API}vouchers/{posted_a.pk}/"
    before = (Voucher.objects.filter(pk=posted_a.pk).values().get(),
              list(VoucherLine.objects.filter(voucher=posted_a).values()))
    for response in (send(client, "put", url, draft(book_a, ("101", "1.00", "0"), ("501", "0", "1.00"))),
                     send(client, "patch", url, {"attachments": 9}),
                     send(client, "patch", url, {"date": "2025-01-20"}),
                     client.delete(url, HTTP_ACCEPT_LANGUAGE="en")):
        assert response.status_code == 400
        assert "J-1 is posted: it is never changed or deleted" in str(response.json())
    after = (Voucher.objects.filter(pk=posted_a.pk).values().get(),
             list(VoucherLine.objects.filter(voucher=posted_a).values()))
    assert after == before


def test_a_voucher_in_a_closed_month_is_refused(book_a, posted_a, clerk_a, village_a, staff):
    assert post(staff(clerk_a), f"{API}periods/{Period.objects.get(book_year__book=book_a, month=1).pk}/close/"
                ).status_code == 200
    response = post(staff(village_a), f"{API}vouchers/", draft(book_a, date="2025-01-31"))
    assert response.status_code == 400 and "date" in response.json()


# --- Periods -------------------------------------------------------------------------------


def test_period_close_and_reopen(book_a, posted_a, clerk_a, village_a, staff):
    period = Period.objects.get(book_year__book=book_a, month=1)
    url = f"{API}periods/{period.pk}/"
    assert post(staff(village_a), f"{url}close/").status_code == 403
    client = staff(clerk_a)
    months = get(client, f"{API}periods/", book=book_a.pk, year=2025)["results"]
    assert [row["month"] for row in months] == list(range(1, 13))
    closed = post(client, f"{url}close/")
    assert closed.status_code == 200 and closed.json()["closed"] is True
    assert closed.json()["closed_by"] == clerk_a.pk
    missing = post(client, f"{url}reopen/", {})
    assert missing.status_code == 400 and missing.json() == {"reason": [english(REASON_NEEDED)]}
    assert Period.objects.get(pk=period.pk).closed
    reopened = post(client, f"{url}reopen/", {"reason": "补记一笔收入"})
    assert reopened.status_code == 200 and reopened.json()["closed"] is False
    assert [(e["action"], e["reason"]) for e in reopened.json()["events"]] == [("reopen", "补记一笔收入"),
                                                                              ("close", "")]
    assert PeriodEvent.objects.filter(period=period).count() == 2


def test_a_month_with_a_draft_does_not_close(book_a, village_a, clerk_a, staff):
    post(staff(village_a), f"{API}vouchers/", draft(book_a, date="2025-01-15"))
    period = Period.objects.get(book_year__book=book_a, month=1)
    response = post(staff(clerk_a), f"{API}periods/{period.pk}/close/")
    assert response.status_code == 400 and "not posted" in str(response.json())
    assert not Period.objects.get(pk=period.pk).closed


# --- Permissions ---------------------------------------------------------------------------


def test_grid_worker_and_county_official_cannot_write(county, book_a, posted_a, grid_worker_a, county_official,
                                                      staff):
    period = Period.objects.get(book_year__book=book_a, month=1)
    for user in (grid_worker_a, county_official):
        client = staff(user)
        assert post(client, f"{API}vouchers/", draft(book_a)).status_code == 403
        assert post(client, f"{API}vouchers/{posted_a.pk}/reverse/", {}).status_code == 403
        assert post(client, f"{API}periods/{period.pk}/close/").status_code == 403
        assert post(client, f"{API}books/", {"village": county.villages[0].code, "chart": "2023",
                                             "year": 2026}).status_code == 403
    # The county reads the books of its villages; the grid worker sees none.
    assert posted_a.pk in ids(get(staff(county_official), f"{API}vouchers/"))
    assert ids(get(staff(grid_worker_a), f"{API}vouchers/")) == set()
    assert Voucher.objects.count() == 1


# --- Queries -------------------------------------------------------------------------------


def test_lists_take_a_constant_number_of_queries(county, book_a, village_a, clerk_a, county_official, login,
                                                 django_assert_max_num_queries):
    sub_account_create(book=book_a, account=accounts(book_a)["112"], code="112001", name="李四")
    for day in range(1, 6):
        post_voucher(book_a, datetime.date(2025, 2, day), [("112", "10.00", "0"), ("501", "0", "10.00")],
                     preparer=village_a, reviewer=clerk_a)
    new_book(county.villages[1], bookkeepers=[village_a])
    client = login(county_official)
    for url, params in [(f"{API}vouchers/", {}), (f"{API}books/", {}), (f"{API}periods/", {}),
                        (f"{API}sub-accounts/", {}), (f"{API}accounts/", {"book": book_a.pk})]:
        with django_assert_max_num_queries(10):
            assert get(client, url, **params)["count"] > 0
    assert Decimal(get(client, f"{API}vouchers/", month=2)["results"][0]["debit_total"]) == Decimal("10.00")
