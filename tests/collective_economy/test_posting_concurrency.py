"""Two bookkeepers posting at once: the month's lock gives every voucher its own number, with no gap."""

import datetime

import pytest

from collective_economy.models import Voucher
from collective_economy.services.vouchers import LineInput, voucher_post, voucher_review, voucher_save, voucher_submit
from tests.helpers.concurrency import run_at_once, successes
from tests.helpers.ledger import accounts, new_book
from tests.helpers.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_numbers_stay_gapless_when_many_vouchers_are_posted_at_once(county, village_a, clerk_a):
    book = new_book(county.villages[0], bookkeepers=[village_a])
    chart_accounts = accounts(book)
    reviewed = []
    for n in range(12):
        voucher = voucher_save(book=book, date=datetime.date(2025, 3, 1 + n), user=village_a, lines=[
            LineInput(chart_accounts["102"], "收租金", debit=f"{n + 1}.00"),
            LineInput(chart_accounts["501"], "收租金", credit=f"{n + 1}.00")])
        voucher_submit(voucher=voucher, user=village_a)
        reviewed.append(voucher_review(voucher=voucher, user=clerk_a))

    outcomes = run_at_once([lambda v=v: voucher_post(voucher=v, user=village_a) for v in reviewed])

    assert len(successes(outcomes)) == 12
    numbers = sorted(Voucher.objects.filter(book=book, month=3).values_list("number", flat=True))
    assert numbers == list(range(1, 13))
