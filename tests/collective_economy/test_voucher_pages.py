"""The voucher pages: entering one (lines as rows, refused with the lines kept when it does not
balance), the list (filters, export, constant queries), the voucher page and its steps (a posted
voucher is never edited or deleted; a reversal links both ways), the account type-ahead, printing,
and the amount in Chinese capital numerals."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collective_economy.forms import capital_yuan
from collective_economy.models import Voucher, VoucherKind, VoucherLine, VoucherStatus
from tests.helpers.ledger import accounts, new_book, post

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 3, 15)


@pytest.fixture
def book(county):
    return new_book(county.villages[0])


def lines(*rows):
    """POST data of the entry form: rows of (summary, account text, debit, credit)."""
    data = {"line-summary": [], "line-account": [], "line-account_text": [], "line-debit": [], "line-credit": []}
    for summary, account, debit, credit in rows:
        data["line-summary"].append(summary)
        data["line-account"].append("")
        data["line-account_text"].append(account)
        data["line-debit"].append(debit)
        data["line-credit"].append(credit)
    return data


@pytest.mark.parametrize("amount, words", [
    ("12000", "壹万贰仟元整"),
    ("1005.30", "壹仟零伍元叁角整"),
    ("0.05", "伍分"),
    ("100000.07", "壹拾万元零柒分"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("10500", "壹万零伍佰元整"),
    ("100010000", "壹亿零壹万元整"),
    ("0", "零元整"),
])
def test_capital_numerals(amount, words):
    assert capital_yuan(Decimal(amount)) == words


def test_the_entry_page_renders_for_the_bookkeeper(staff, village_a, book):
    response = staff(village_a).get(reverse("collective_economy:voucher-create", args=[book.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="voucher-lines"' in page and "voucher-entry.js" in page
    assert page.count('class="voucher-line') >= 5  # four rows and the template's


def test_a_township_officer_does_not_enter_vouchers(staff, clerk_a, book):
    assert staff(clerk_a).get(reverse("collective_economy:voucher-create", args=[book.pk])).status_code == 403


def test_a_balanced_voucher_is_saved_and_sent_for_review(staff, village_a, book):
    client = staff(village_a)
    data = {"date": "2025-03-05", "attachments": "2", "action": "submit",
            **lines(("收到鱼塘承包费", "102 银行存款", "12,000.00", ""), ("", "501", "", "12000"), ("", "", "", ""))}
    response = client.post(reverse("collective_economy:voucher-create", args=[book.pk]), data)
    voucher = Voucher.objects.get(book=book)
    assert response.status_code == 302 and response.url == reverse("collective_economy:voucher-detail",
                                                                    args=[voucher.pk])
    assert voucher.status == VoucherStatus.SUBMITTED and voucher.attachments == 2
    saved = list(voucher.lines.select_related("account").order_by("position"))
    assert [(line.account.code, line.debit, line.credit) for line in saved] == [
        ("102", Decimal("12000.00"), Decimal("0.00")), ("501", Decimal("0.00"), Decimal("12000.00"))]
    # The empty summary took the one above.
    assert saved[1].summary == "收到鱼塘承包费"
    page = client.get(response.url).content.decode()
    assert "壹万贰仟元整" in page and "12,000.00" in page


def test_an_unbalanced_voucher_is_refused_and_keeps_every_line(staff, village_a, book):
    data = {"date": "2025-03-05", "attachments": "1", "action": "save",
            **lines(("购买办公用品", "513", "350.00", ""), ("", "101 库存现金", "", "300.00"))}
    response = staff(village_a).post(reverse("collective_economy:voucher-create", args=[book.pk]), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "差额" in page and "50.00" in page  # the service's message: debits, credits, the difference
    assert 'value="购买办公用品"' in page and 'value="350.00"' in page and 'value="300.00"' in page
    assert "101 库存现金" in page
    assert not Voucher.objects.filter(book=book).exists()


def test_an_unknown_account_is_refused_on_its_line(staff, village_a, book):
    data = {"date": "2025-03-05", **lines(("x", "9999", "1.00", ""), ("x", "101", "", "1.00"))}
    response = staff(village_a).post(reverse("collective_economy:voucher-create", args=[book.pk]), data)
    assert response.status_code == 200
    assert "第1行" in response.content.decode() or "Line 1" in response.content.decode()
    assert not Voucher.objects.exists()


def test_a_date_outside_the_book_is_refused_with_a_message(staff, village_a, book):
    data = {"date": "2019-03-05", **lines(("x", "102", "1.00", ""), ("x", "101", "", "1.00"))}
    response = staff(village_a).post(reverse("collective_economy:voucher-create", args=[book.pk]), data)
    assert response.status_code == 200 and "2019" in response.content.decode()


def test_a_draft_is_edited_and_deleted(staff, village_a, book):
    client = staff(village_a)
    client.post(reverse("collective_economy:voucher-create", args=[book.pk]),
                {"date": "2025-03-05", **lines(("备用金", "101", "10.00", ""), ("", "102", "", "10.00"))})
    voucher = Voucher.objects.get()
    page = client.get(reverse("collective_economy:voucher-edit", args=[voucher.pk])).content.decode()
    assert 'value="10.00"' in page and "101 库存现金" in page
    client.post(reverse("collective_economy:voucher-edit", args=[voucher.pk]),
                {"date": "2025-03-06", **lines(("备用金", "101", "20.00", ""), ("", "102", "", "20.00"))})
    voucher.refresh_from_db()
    assert voucher.debit_total == Decimal("20.00") and voucher.date == datetime.date(2025, 3, 6)
    response = client.post(reverse("collective_economy:voucher-step", args=[voucher.pk, "delete"]))
    assert response.status_code == 302
    assert not Voucher.objects.filter(pk=voucher.pk).exists()


@pytest.fixture
def posted(book, village_a, clerk_a):
    return post(book, datetime.date(2025, 3, 1), [("102", "800.00", "0", "收到租金"), ("501", "0", "800.00")],
                preparer=village_a, reviewer=clerk_a)


def test_a_posted_voucher_is_never_edited_nor_deleted_in_the_web(staff, village_a, posted):
    client = staff(village_a)
    page = client.get(reverse("collective_economy:voucher-detail", args=[posted.pk])).content.decode()
    assert 'id="voucher-edit"' not in page and 'data-step="delete"' not in page
    assert "记-1" in page and 'data-step="reverse"' in page
    before = list(VoucherLine.objects.filter(voucher=posted).values_list("account_id", "debit", "credit", "summary"))

    response = client.get(reverse("collective_economy:voucher-edit", args=[posted.pk]))
    assert response.status_code == 302
    response = client.post(reverse("collective_economy:voucher-edit", args=[posted.pk]),
                           {"date": "2025-03-01", **lines(("改", "101", "1.00", ""), ("", "102", "", "1.00"))},
                           follow=True)
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    response = client.post(reverse("collective_economy:voucher-step", args=[posted.pk, "delete"]), follow=True)
    assert response.status_code == 200 and "alert-danger" in response.content.decode()

    posted.refresh_from_db()
    assert posted.status == VoucherStatus.POSTED and posted.number == 1
    after = list(VoucherLine.objects.filter(voucher=posted).values_list("account_id", "debit", "credit", "summary"))
    assert after == before


def test_reverse_creates_the_red_letter_reversal_and_links_both_ways(staff, village_a, posted):
    client = staff(village_a)
    response = client.post(reverse("collective_economy:voucher-step", args=[posted.pk, "reverse"]))
    reversal = Voucher.objects.get(reverses=posted)
    assert response.status_code == 302
    assert response.url == reverse("collective_economy:voucher-detail", args=[reversal.pk])
    assert reversal.kind == VoucherKind.REVERSAL and reversal.status == VoucherStatus.DRAFT
    swapped = {(line.account.code, line.debit, line.credit) for line in reversal.lines.select_related("account")}
    assert swapped == {("102", Decimal("0.00"), Decimal("800.00")), ("501", Decimal("800.00"), Decimal("0.00"))}
    page = client.get(response.url).content.decode()
    assert 'id="reverses-link"' in page and reverse("collective_economy:voucher-detail", args=[posted.pk]) in page
    page = client.get(reverse("collective_economy:voucher-detail", args=[posted.pk])).content.decode()
    assert 'id="reversed-by-link"' in page and 'data-step="reverse"' not in page
    # Asking again is refused with a message, not a second reversal.
    client.post(reverse("collective_economy:voucher-step", args=[posted.pk, "reverse"]))
    assert Voucher.objects.filter(reverses=posted).count() == 1


def test_the_steps_follow_the_roles(staff, village_a, clerk_a, book):
    chart = accounts(book)
    from collective_economy.services.vouchers import LineInput, voucher_save, voucher_submit

    voucher = voucher_save(book=book, date=datetime.date(2025, 3, 2), user=village_a, lines=[
        LineInput(account=chart["101"], debit="5.00", summary="找零"), LineInput(account=chart["102"], credit="5.00")])
    voucher_submit(voucher=voucher, user=village_a)
    url = reverse("collective_economy:voucher-detail", args=[voucher.pk])
    # The preparer does not review his own voucher (the book asks for another person).
    assert 'data-step="review"' not in staff(village_a).get(url).content.decode()
    township = staff(clerk_a)
    page = township.get(url).content.decode()
    assert 'data-step="review"' in page and 'data-step="post"' not in page
    township.post(reverse("collective_economy:voucher-step", args=[voucher.pk, "review"]))
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REVIEWED and voucher.reviewed_by == clerk_a
    # The township does not post.
    assert township.post(reverse("collective_economy:voucher-step", args=[voucher.pk, "post"])).status_code == 403
    staff(village_a).post(reverse("collective_economy:voucher-step", args=[voucher.pk, "post"]))
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.POSTED and voucher.display_number == "记-1"


def test_township_b_gets_404_on_a_voucher(staff, clerk_b, posted):
    client = staff(clerk_b)
    for name in ("voucher-detail", "voucher-print", "voucher-edit"):
        assert client.get(reverse(f"collective_economy:{name}", args=[posted.pk])).status_code == 404
    assert client.post(reverse("collective_economy:voucher-step", args=[posted.pk, "review"])).status_code == 404


def test_an_unknown_step_is_a_404(staff, village_a, posted):
    url = reverse("collective_economy:voucher-step", args=[posted.pk, "burn"])
    assert staff(village_a).post(url).status_code == 404


def test_the_voucher_list_filters_sorts_exports_at_a_constant_cost(staff, village_a, clerk_a, book):
    client = staff(village_a)
    url = reverse("collective_economy:voucher-list", args=[book.pk])
    post(book, datetime.date(2025, 1, 5), [("102", "100.00", "0", "收到租金"), ("501", "0", "100.00")],
         preparer=village_a, reviewer=clerk_a)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for day in range(2, 12):
        post(book, datetime.date(2025, 2, day), [("101", "1.50", "0", f"零星收入{day}"), ("502", "0", "1.50")],
             preparer=village_a, reviewer=clerk_a)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert len(many) == len(one)
    assert page.count('data-voucher="') == 11 and "记-10" in page and "已记账" in page

    page = client.get(url, {"month": "1"}).content.decode()
    assert page.count('data-voucher="') == 1 and "100.00" in page
    assert client.get(url, {"q": "零星收入3"}).content.decode().count('data-voucher="') == 1
    assert client.get(url, {"account": "502"}).content.decode().count('data-voucher="') == 10
    assert client.get(url, {"status": "draft"}).content.decode().count('data-voucher="') == 0
    page = client.get(url, {"sort": "-amount"}).content.decode()
    assert page.index("收到租金") < page.index("零星收入")

    response = client.get(url, {"export": "xlsx", "month": "2"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_account_search_answers_the_chart_and_the_books_sub_accounts(staff, village_a, book):
    from collective_economy.services.books import sub_account_create

    sub_account_create(book=book, account=accounts(book)["112"], code="112001", name="李四")
    client = staff(village_a)
    url = reverse("collective_economy:account-search", args=[book.pk])
    codes = [row["code"] for row in client.get(url, {"q": "112"}).json()["results"]]
    assert codes[:2] == ["112", "112001"]
    labels = [row["label"] for row in client.get(url, {"q": "现金"}).json()["results"]]
    assert "101 库存现金" in labels
    assert client.get(url, {"q": "李四"}).json()["results"][0]["value"].startswith("s")


def test_a_sub_account_is_added_from_the_entry_page(staff, village_a, book):
    client = staff(village_a)
    url = reverse("collective_economy:sub-account-create", args=[book.pk])
    response = client.post(url, {"year": "2025", "account": "112", "code": "112002", "name": "王五"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["label"] == "112002 应收款-王五"
    response = client.post(url, {"year": "2025", "account": "112", "code": "9", "name": "x"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["errors"]


def test_the_print_pages(staff, village_a, posted):
    client = staff(village_a)
    page = client.get(reverse("collective_economy:voucher-print", args=[posted.pk])).content.decode()
    assert "记-1" in page and "捌佰元整" in page
    page = client.get(reverse("collective_economy:month-print", args=[posted.book_id]),
                      {"year": "2025", "month": "3"}).content.decode()
    assert page.count('class="print-voucher') == 1
