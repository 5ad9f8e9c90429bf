"""Village decisions for tests: register a matter, hold its steps, walk it to a step, a payment citing it."""

import datetime
from decimal import Decimal

from collective_economy.models import Step, VillageDecisionSetting
from collective_economy.services.decisions import (
    decision_create,
    decision_record_step,
    decision_sign,
    next_step,
    village_households,
)
from collective_economy.services.vouchers import LineInput, voucher_save, voucher_submit
from governance.models import OrgUnit
from tests.helpers.ledger import accounts

MARCH = datetime.date(2025, 3, 10)
DAY = datetime.date(2025, 3, 1)
# A meeting that passes under the default rules: 9 of 10 attend, 8 vote for.
PASSING = {"expected": 10, "attended": 9, "votes_for": 8, "votes_against": 1}


def said(message, **params) -> str:
    """A service's message as the user reads it (the portal's language, its parameters filled in)."""
    return str(message) % params if params else str(message)


def messages_on(caught, field: str = "") -> list[str]:
    """The messages of a refusal on ``field`` (or of a refusal not tied to a field), in the portal's language."""
    return caught.value.message_dict[field] if field else caught.value.messages


def register(village, user, *, title="村道硬化", amount="80000.00"):
    return decision_create(village=village, title=title, description="三组村道硬化 1.2 公里", amount=amount, user=user)


def hold(decision, step, user, *, on=DAY, **counts):
    """Record ``step`` as held on ``on``: a passing meeting unless counts are given; the results at the end."""
    arguments = {"minutes": f"{step} 会议记录", "held_on": on}
    if step in (Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.RESOLUTION):
        arguments.update(counts or PASSING)
    if step == Step.RESULT:
        arguments["result_summary"] = "村道已完工并验收，支出 80,000.00 元"
    return decision_record_step(decision=decision, step=step, user=user, **arguments)


def walk(decision, user, *, until=Step.RESULT, on=DAY):
    """Record the decision's steps from its next one up to ``until`` (signing every household at 民议)."""
    village = OrgUnit.objects.get(pk=decision.village_id)  # the cast's handle predates the units below it
    decision.refresh_from_db()
    steps = decision.steps
    for step in steps[steps.index(next_step(decision)):]:
        if step == Step.CONSULTATION:
            decision_sign(decision=decision, households=village_households(village), signed_on=on, user=user)
        hold(decision, step, user, on=on)
        if step == until:
            break
    decision.refresh_from_db()
    return decision


def six_steps(village):
    VillageDecisionSetting.objects.update_or_create(village=village, defaults={"six_step": True})


def payment(book, amount: str, *, user, decision=None, account="153"):
    """A reviewed voucher paying ``amount`` out of the bank (为在建工程付款), citing ``decision``."""
    chart = accounts(book)
    lines = [LineInput(account=chart[account], debit=Decimal(amount), credit=Decimal("0"), summary="支付村道工程款"),
             LineInput(account=chart["102"], debit=Decimal("0"), credit=Decimal(amount), summary="支付村道工程款")]
    voucher = voucher_save(book=book, date=MARCH, lines=lines, user=user, decision=decision)
    voucher_submit(voucher=voucher, user=user)
    return voucher
