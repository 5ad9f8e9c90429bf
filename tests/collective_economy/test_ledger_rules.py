"""What must never happen to a book, refused by the services with a message and, with the services
bypassed, by the database itself — on SQLite here and on PostgreSQL in the second run of `make test`."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from collective_economy.models import Period, Voucher, VoucherLine, VoucherStatus
from collective_economy.selectors.balances import balances
from collective_economy.services.periods import period_close
from collective_economy.services.vouchers import (
    LineInput,
    voucher_delete,
    voucher_post,
    voucher_reverse,
    voucher_review,
    voucher_save,
    voucher_submit,
)
from tests.helpers.ledger import accounts, post

JAN = datetime.date(2025, 1, 10)


def lines(book, *rows):
    chart_accounts = accounts(book)
    return [LineInput(account=chart_accounts[code], debit=debit, credit=credit, summary="收发包款")
            for code, debit, credit in rows]


def raw(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def refused_by_database(action) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        action()
    return str(caught.value)


@pytest.fixture
def posted(book, village_a, clerk_a):
    return post(book, JAN, [("102", "120000.00", "0"), ("501", "0", "120000.00")], preparer=village_a,
                reviewer=clerk_a)


def test_an_unbalanced_voucher_is_refused_with_the_difference(book, village_a):
    with pytest.raises(ValidationError) as caught:
        voucher_save(book=book, date=JAN, user=village_a, lines=lines(book, ("102", "100.00", "0"),
                                                                      ("501", "0", "99.99")))
    assert "差额 0.01" in caught.value.message_dict["lines"][0]
    assert not Voucher.objects.exists()


def test_every_bad_line_is_reported_at_once(book, village_a):
    with pytest.raises(ValidationError) as caught:
        voucher_save(book=book, date=JAN, user=village_a, lines=lines(
            book, ("102", "100.00", "100.00"), ("501", "0", "0"), ("112", "-5", "0"), ("101", "1.234", "0")))
    messages = caught.value.message_dict["lines"]
    assert [message[:3] for message in messages] == ["第1行", "第2行", "第3行", "第4行"]


def test_money_is_never_a_float(book, village_a):
    with pytest.raises(TypeError):
        voucher_save(book=book, date=JAN, user=village_a, lines=lines(book, ("102", 0.1, "0"), ("501", "0", 0.1)))


def test_the_database_refuses_posting_an_unbalanced_voucher(book, village_a):
    voucher = voucher_save(book=book, date=JAN, user=village_a,
                           lines=lines(book, ("102", "100.00", "0"), ("501", "0", "100.00")))
    # Bypass the services: make the lines disagree with the balanced totals, then post by UPDATE.
    VoucherLine.objects.filter(voucher=voucher, credit__gt=0).update(credit=Decimal("90.00"))
    message = refused_by_database(lambda: Voucher.objects.filter(pk=voucher.pk).update(status="posted", number=1))
    assert "balance" in message
    # Totals that differ are refused by the CHECK constraint.
    refused_by_database(lambda: Voucher.objects.filter(pk=voucher.pk).update(
        status="posted", number=1, credit_total=Decimal("90.00")))
    # Inserted as posted straight away (no line yet): refused as well.
    refused_by_database(lambda: Voucher.objects.create(
        book=book, book_year=voucher.book_year, month=1, date=JAN, status="posted", number=9,
        prepared_by=village_a, debit_total=Decimal("1.00"), credit_total=Decimal("1.00")))
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.DRAFT


def test_a_posted_voucher_never_changes_in_the_database(posted):
    line = posted.lines.first()
    assert "never changes" in refused_by_database(lambda: Voucher.objects.filter(pk=posted.pk).update(attachments=5))
    assert "ledger:" in refused_by_database(lambda: Voucher.objects.filter(pk=posted.pk).delete())  # lines first
    delete_row = f"DELETE FROM {Voucher._meta.db_table} WHERE id = {posted.pk}"
    assert "never deleted" in refused_by_database(lambda: raw(delete_row))
    refused_by_database(lambda: VoucherLine.objects.filter(pk=line.pk).update(debit=Decimal("1.00")))
    refused_by_database(lambda: VoucherLine.objects.filter(pk=line.pk).delete())
    refused_by_database(lambda: VoucherLine.objects.create(voucher=posted, account=line.account, summary="补",
                                                           debit=Decimal("1.00")))
    fresh = Voucher.objects.get(pk=posted.pk)
    assert (fresh.attachments, fresh.lines.count(), fresh.debit_total) == (1, 2, Decimal("120000.00"))


def test_the_services_refuse_changing_or_deleting_a_posted_voucher(posted, book, village_a):
    with pytest.raises(ValidationError, match="已记账"):
        voucher_save(book=book, date=JAN, user=village_a, voucher=posted,
                     lines=lines(book, ("102", "1.00", "0"), ("501", "0", "1.00")))
    with pytest.raises(ValidationError, match="已记账"):
        voucher_delete(voucher=posted, user=village_a)
    assert Voucher.objects.get(pk=posted.pk).debit_total == Decimal("120000.00")


def test_posting_into_a_closed_month_is_refused_by_service_and_database(book, village_a, clerk_a):
    voucher = voucher_save(book=book, date=JAN, user=village_a,
                           lines=lines(book, ("102", "100.00", "0"), ("501", "0", "100.00")))
    voucher_submit(voucher=voucher, user=village_a)
    voucher_review(voucher=voucher, user=clerk_a)
    Period.objects.filter(book_year__book=book, month=1).update(closed=True)  # closed behind the service's back
    with pytest.raises(ValidationError, match="已结账"):
        voucher_post(voucher=voucher, user=village_a)
    assert "closed period" in refused_by_database(
        lambda: Voucher.objects.filter(pk=voucher.pk).update(status="posted", number=1))


def test_closing_a_month_with_vouchers_not_posted_is_refused(book, village_a, clerk_a):
    voucher_save(book=book, date=JAN, user=village_a, lines=lines(book, ("102", "1.00", "0"), ("501", "0", "1.00")))
    with pytest.raises(ValidationError, match="1张凭证尚未记账"):
        period_close(period=Period.objects.get(book_year__book=book, month=1), user=clerk_a)


def test_the_preparer_does_not_review_his_own_voucher_when_the_book_asks_for_another(book, village_a, clerk_a):
    voucher = voucher_save(book=book, date=JAN, user=village_a,
                           lines=lines(book, ("102", "1.00", "0"), ("501", "0", "1.00")))
    voucher_submit(voucher=voucher, user=village_a)
    with pytest.raises(ValidationError, match="审核"):
        voucher_review(voucher=voucher, user=village_a)
    book.separate_review = False
    book.save()
    assert voucher_review(voucher=voucher, user=village_a).status == VoucherStatus.REVIEWED


def test_numbers_follow_each_other_per_month_and_start_again_next_month(book, village_a, clerk_a):
    def one(date):
        return post(book, date, [("102", "10.00", "0"), ("501", "0", "10.00")], preparer=village_a,
                    reviewer=clerk_a).display_number

    numbers = [one(JAN), one(JAN), one(datetime.date(2025, 2, 3)), one(JAN)]
    assert numbers == ["记-1", "记-2", "记-1", "记-3"]


def test_a_reversal_restores_every_balance(book, posted, village_a, clerk_a):
    before = balances([posted.book_year_id])
    other = post(book, JAN, [("513", "300.50", "0"), ("101", "0", "300.50")], preparer=village_a, reviewer=clerk_a)
    reversal = voucher_reverse(voucher=other, user=village_a, date=datetime.date(2025, 2, 1))
    assert [(line.debit, line.credit) for line in reversal.lines.all()] == [
        (Decimal("0.00"), Decimal("300.50")), (Decimal("300.50"), Decimal("0.00"))]
    voucher_submit(voucher=reversal, user=village_a)
    voucher_review(voucher=reversal, user=clerk_a)
    voucher_post(voucher=reversal, user=village_a)
    assert balances([posted.book_year_id]) == before
    assert Voucher.objects.get(pk=other.pk).reversed_by == reversal  # the original untouched, linked
    with pytest.raises(ValidationError, match="已被"):
        voucher_reverse(voucher=other, user=village_a, date=datetime.date(2025, 2, 1))
    with pytest.raises(ValidationError):
        voucher_reverse(voucher=reversal, user=village_a, date=datetime.date(2025, 2, 1))


def test_a_reversal_is_dated_in_an_open_month(book, posted, village_a, clerk_a):
    period_close(period=Period.objects.get(book_year__book=book, month=1), user=clerk_a)
    with pytest.raises(ValidationError, match="已结账"):
        voucher_reverse(voucher=posted, user=village_a, date=JAN)
    assert voucher_reverse(voucher=posted, user=village_a, date=datetime.date(2025, 2, 1)).month == 2


def test_a_book_takes_its_own_villages_organisation_and_charts_accounts(county, book, book_b):
    from collective_economy.models import Chart
    from collective_economy.services.books import book_create, sub_account_create

    with pytest.raises(ValidationError) as caught:
        book_create(village=county.villages[0], chart=Chart.objects.get(code="2023"), year=2026,
                    organisation=book_b.organisation)
    assert "不属于" in caught.value.message_dict["organisation"][0]
    old_receivable = Chart.objects.get(code="2004").accounts.get(code="112")
    with pytest.raises(ValidationError) as caught:
        sub_account_create(book=book, account=old_receivable, code="112009", name="王五")
    assert "account" in caught.value.message_dict
