"""A payment above the county's threshold (50,000 yuan unless the county sets its own) is posted only when it
cites a decision of its village that reached 决议: the services refuse it on the voucher's "decision" with the
reason (none cited, not yet resolved, another village's), and with the services bypassed the database does
too — on SQLite here and on PostgreSQL in the second run of `make test`."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from collective_economy.models import (
    DEFAULT_PAYMENT_THRESHOLD,
    DecisionRules,
    DecisionState,
    Step,
    Voucher,
    VoucherStatus,
)
from collective_economy.services.decisions import (
    GATE_NOT_RESOLVED,
    GATE_REFUSED,
    GATE_WRONG_DECISION,
    payment_needs_decision,
    payment_threshold,
)
from collective_economy.services.vouchers import (
    DECISION_OTHER_VILLAGE,
    LineInput,
    voucher_post,
    voucher_review,
    voucher_save,
    voucher_submit,
)
from collective_economy.triggers import GATE_MESSAGE
from tests.helpers.decisions import MARCH, payment, register, said, walk
from tests.helpers.ledger import accounts

pytestmark = pytest.mark.django_db



@pytest.fixture
def reviewed(book, village_a, clerk_a):
    def _reviewed(amount, decision=None, **kwargs):
        voucher = payment(book, amount, user=village_a, decision=decision, **kwargs)
        return voucher_review(voucher=voucher, user=clerk_a)
    return _reviewed


def refused(voucher, user) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        voucher_post(voucher=voucher, user=user)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REVIEWED and voucher.number is None
    return caught.value.message_dict["decision"]


def test_a_payment_above_the_threshold_without_a_decision_is_refused(county, village_a, reviewed):
    voucher = reviewed("80000.00")
    assert payment_needs_decision(voucher) == (True, Decimal("80000.00"), DEFAULT_PAYMENT_THRESHOLD)
    assert refused(voucher, village_a) == [said(GATE_REFUSED, amount="80,000.00", threshold="50,000.00",
                                                   village=county.villages[0].display_name)]


def test_a_decision_not_yet_resolved_does_not_open_the_gate(county, village_a, reviewed):
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.REVIEW)
    voucher = reviewed("80000.00", decision)
    assert refused(voucher, village_a) == [said(GATE_NOT_RESOLVED, decision=decision.number,
                                                state=DecisionState.REVIEW.label)]


def test_another_villages_decision_is_not_cited(county, village_a, clerk_b, book, reviewed):
    other = walk(register(county.villages[1], clerk_b), clerk_b, until=Step.RESOLUTION)
    with pytest.raises(ValidationError) as caught:
        payment(book, "80000.00", user=village_a, decision=other)
    assert caught.value.message_dict["decision"] == [said(DECISION_OTHER_VILLAGE, decision=other.number)]
    # Cited anyway (written past the services): the gate still refuses it.
    voucher = reviewed("80000.00")
    Voucher.objects.filter(pk=voucher.pk).update(decision=other)
    voucher.refresh_from_db()
    assert refused(voucher, village_a) == [said(GATE_WRONG_DECISION, decision=other.number)]


def test_a_resolved_decision_of_the_village_lets_the_payment_be_posted(county, village_a, reviewed):
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.RESOLUTION)
    voucher = voucher_post(voucher=reviewed("80000.00", decision), user=village_a)
    assert voucher.status == VoucherStatus.POSTED and voucher.number == 1
    assert list(decision.vouchers.all()) == [voucher]


def test_a_payment_up_to_the_threshold_needs_no_decision(village_a, reviewed):
    voucher = voucher_post(voucher=reviewed("50000.00"), user=village_a)
    assert voucher.status == VoucherStatus.POSTED


def test_money_received_is_no_payment(village_a, book, clerk_a):
    chart = accounts(book)
    lines = [LineInput(account=chart["102"], debit=Decimal("90000.00"), credit=Decimal("0"), summary="收到承包费"),
             LineInput(account=chart["501"], debit=Decimal("0"), credit=Decimal("90000.00"), summary="收到承包费")]
    voucher = voucher_save(book=book, date=MARCH, lines=lines, user=village_a)
    voucher_submit(voucher=voucher, user=village_a)
    voucher_review(voucher=voucher, user=clerk_a)
    assert voucher_post(voucher=voucher, user=village_a).status == VoucherStatus.POSTED


def test_the_threshold_is_the_countys(county, village_a, reviewed):
    village = county.villages[0]
    assert payment_threshold(village) == Decimal("50000.00")
    DecisionRules.objects.create(county=county.county, payment_threshold=Decimal("20000.00"))
    assert payment_threshold(village) == Decimal("20000.00")
    assert refused(reviewed("30000.00"), village_a) == [said(
        GATE_REFUSED, amount="30,000.00", threshold="20,000.00", village=village.display_name)]


def _post_directly(voucher, user):
    """Mark the voucher posted with one UPDATE, as a script going past the services would."""
    Voucher.objects.filter(pk=voucher.pk).update(status=VoucherStatus.POSTED, number=1, posted_by=user,
                                                 posted_at=timezone.now())


def test_the_database_refuses_to_post_a_payment_without_a_resolved_decision(county, village_a, reviewed):
    voucher = reviewed("80000.00")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        _post_directly(voucher, village_a)
    assert GATE_MESSAGE in str(caught.value)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REVIEWED
    # An unresolved decision of the village does not satisfy it either …
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.REVIEW)
    Voucher.objects.filter(pk=voucher.pk).update(decision=decision)
    with pytest.raises(IntegrityError), transaction.atomic():
        _post_directly(voucher, village_a)
    # … a resolved one does.
    walk(decision, village_a, until=Step.RESOLUTION)
    _post_directly(voucher, village_a)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.POSTED


def test_the_database_follows_the_countys_threshold(county, village_a, reviewed):
    DecisionRules.objects.create(county=county.county, payment_threshold=Decimal("20000.00"))
    voucher = reviewed("30000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        _post_directly(voucher, village_a)
    small = reviewed("20000.00")
    _post_directly(small, village_a)
    small.refresh_from_db()
    assert small.status == VoucherStatus.POSTED
