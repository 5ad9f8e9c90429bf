"""Village decisions (四议两公开 / 六议两公开): register a matter, record its steps one after the other.

Each step is recorded under a lock on the decision (two clerks recording at once never both
pass the same step), only as the next step of the village's procedure — never skipped, never
out of order — and only when its quorum holds: the county's rule per step (``StepQuorum``,
else ``DEFAULT_QUORUMS``). A vote that does not pass is recorded and ends the decision
(``rejected``). 民议 is passed only when every household of the village has signed (100%).

The payment gate (``payment_gate_check``) is called by the voucher services when a voucher is
posted: a payment above the county's threshold needs a decision of its village that reached
决议. The database refuses the same (``collective_economy.triggers``).
"""

import datetime
import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    DEFAULT_PAYMENT_THRESHOLD,
    DEFAULT_QUORUMS,
    RESOLVED_STATES,
    VOTING_STEPS,
    AccountRole,
    Decision,
    DecisionFile,
    DecisionRecord,
    DecisionRules,
    DecisionSignature,
    DecisionState,
    Quorum,
    Step,
    StepQuorum,
    VillageDecisionSetting,
    Voucher,
    VoucherKind,
    VoucherLine,
)
from collective_economy.selectors.public import public_page_forget
from collective_economy.services.common import invalid
from governance.models import Household, Level, OrgUnit

NOT_A_VILLAGE = _("Village decisions are recorded for a village or community.")
DECISION_ENDED = _("This decision is %(state)s: no further step is recorded.")
WRONG_STEP = _("The next step of this decision is “%(expected)s”, not “%(step)s”: steps are not skipped or "
               "taken out of order.")
NO_MORE_STEPS = _("Every step of this decision is recorded.")
DATE_BEFORE = _("The date is before that of the previous step (%(date)s).")
DATE_FUTURE = _("The date is in the future.")
NEEDS_COUNTS = _("Enter how many were expected, how many attended and the votes.")
ATTENDED_ABOVE = _("More attended (%(attended)s) than were expected (%(expected)s).")
VOTES_ABOVE = _("The votes (%(votes)s) are more than those who attended (%(attended)s).")
NO_QUORUM = _("Not quorate: %(attended)s of %(expected)s attended; this step needs %(rule)s to attend.")
NO_MINUTES = _("Enter the minutes of the step.")
NO_RESULTS = _("Enter the results to publish.")
CONSULTATION_INCOMPLETE = _("Every household signs before the vote (民议): %(signed)s of %(total)s households have "
                            "signed.")
NOT_CONSULTING = _("Households sign during the consultation (民议) of a six-step decision, after the party "
                   "members' review.")
HOUSEHOLD_ELSEWHERE = _("Household %(number)s is not of %(village)s.")
GATE_REFUSED = _("This payment of %(amount)s yuan is above the county's threshold of %(threshold)s yuan: cite a "
                 "village decision of %(village)s that reached the resolution (决议).")
GATE_WRONG_DECISION = _("Decision %(decision)s is of another village.")
GATE_NOT_RESOLVED = _("Decision %(decision)s has not reached the resolution (决议): it is %(state)s.")

QUORUM_SHARE = {Quorum.NONE: None, Quorum.MAJORITY: "majority", Quorum.TWO_THIRDS: "two_thirds",
                Quorum.ALL: "all"}


# --- Rules --------------------------------------------------------------------------------------


def county_of(unit: OrgUnit) -> OrgUnit | None:
    if unit.level == Level.COUNTY:
        return unit
    return unit.get_ancestors().filter(level=Level.COUNTY).first()


def payment_threshold(village: OrgUnit) -> Decimal:
    """The county's threshold above which a payment needs a decision (50,000 yuan unless it set one).

    One query: the rules of the county whose subtree holds the village (as the trigger finds them).
    """
    threshold = (DecisionRules.objects.filter(county__tree_id=village.tree_id, county__lft__lte=village.lft,
                                              county__rght__gte=village.rght)
                 .values_list("payment_threshold", flat=True).first())
    return DEFAULT_PAYMENT_THRESHOLD if threshold is None else threshold


def quorum_for(village: OrgUnit, step: str) -> tuple[str, str]:
    """(attendance, approval) rule of ``step`` in the village's county."""
    county = county_of(village)
    quorum = StepQuorum.objects.filter(rules__county=county, step=step).first() if county is not None else None
    if quorum is not None:
        return quorum.attendance, quorum.approval
    return DEFAULT_QUORUMS.get(step, (Quorum.NONE, Quorum.NONE))


def meets(rule: str, count: int, of: int) -> bool:
    """``count`` of ``of`` satisfies ``rule``: more than half, at least two thirds, everyone, or no rule."""
    if rule == Quorum.MAJORITY:
        return count * 2 > of
    if rule == Quorum.TWO_THIRDS:
        return count * 3 >= of * 2
    if rule == Quorum.ALL:
        return count >= of
    return True


def needed(rule: str, of: int) -> int:
    """The least count that satisfies ``rule`` out of ``of`` (shown to the clerk before the meeting)."""
    if rule == Quorum.MAJORITY:
        return of // 2 + 1
    if rule == Quorum.TWO_THIRDS:
        return math.ceil(of * 2 / 3)
    if rule == Quorum.ALL:
        return of
    return 0


def six_step_for(village: OrgUnit) -> bool:
    setting = VillageDecisionSetting.objects.filter(village=village).first()
    return bool(setting and setting.six_step)


# --- The procedure ------------------------------------------------------------------------------


def next_step(decision: Decision) -> str | None:
    """The step to record next, or None when the decision ended (every step recorded, or rejected)."""
    if decision.state == DecisionState.REJECTED:
        return None
    steps = decision.steps
    if decision.state == DecisionState.DRAFT:
        return steps[0]
    position = steps.index(decision.state)
    return steps[position + 1] if position + 1 < len(steps) else None


def village_households(village: OrgUnit):
    """The active households of the village (those a consultation must reach)."""
    return Household.objects.filter(grid__tree_id=village.tree_id, grid__lft__gt=village.lft,
                                    grid__rght__lt=village.rght, is_active=True)


def consultation_progress(decision: Decision) -> tuple[int, int]:
    """(households signed, households of the village)."""
    total = village_households(decision.village).count()
    signed = decision.signatures.filter(household__is_active=True).count()
    return signed, total


def _number_next(village: OrgUnit, year: int) -> str:
    prefix = f"JC{year}-"
    taken = Decision.objects.filter(village=village, number__startswith=prefix).values_list("number", flat=True)
    # isascii(): "³".isdigit() is true, but int() refuses it.
    suffixes = (n[len(prefix):] for n in taken)
    last = max((int(s) for s in suffixes if s.isascii() and s.isdigit()), default=0)
    return f"{prefix}{last + 1:03d}"


@transaction.atomic
def decision_create(*, village: OrgUnit, title: str, description: str, user, amount: Decimal | None = None,
                    number: str = "") -> Decision:
    """Register a major matter; it follows the village's procedure (four or six steps) as set today."""
    if village.level != Level.VILLAGE:
        raise invalid("village", NOT_A_VILLAGE)
    # The lock on the village orders two registrations at once: their numbers differ.
    OrgUnit.objects.select_for_update().filter(pk=village.pk).first()
    decision = Decision(village=village, title=(title or "").strip(), description=(description or "").strip(),
                        amount=amount, six_step=six_step_for(village), created_by=user,
                        number=(number or "").strip() or _number_next(village, timezone.localdate().year))
    decision.full_clean()
    decision.save()
    return decision


@transaction.atomic
def decision_update(*, decision: Decision, title: str, description: str, amount: Decimal | None, user) -> Decision:
    """Correct the matter's wording and amount while it is only registered (nothing recorded yet)."""
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.state != DecisionState.DRAFT:
        raise ValidationError(DECISION_ENDED, params={"state": decision.get_state_display()})
    decision.title, decision.description, decision.amount = title.strip(), description.strip(), amount
    decision.full_clean()
    decision.save()
    return decision


def _check_counts(decision: Decision, step: str, expected, attended, votes_for, votes_against, abstentions):
    if step not in VOTING_STEPS:
        return True
    if None in (expected, attended, votes_for):
        raise invalid("attended", NEEDS_COUNTS)
    if attended > expected:
        raise invalid("attended", ATTENDED_ABOVE, attended=attended, expected=expected)
    votes = votes_for + (votes_against or 0) + (abstentions or 0)
    if votes > attended:
        raise invalid("votes_for", VOTES_ABOVE, votes=votes, attended=attended)
    attendance, approval = quorum_for(decision.village, step)
    if not meets(attendance, attended, expected):
        raise invalid("attended", NO_QUORUM, attended=attended, expected=expected,
                      rule=Quorum(attendance).label)
    return meets(approval, votes_for, attended)


@transaction.atomic
def decision_record_step(*, decision: Decision, step: str, user, held_on: datetime.date, minutes: str,
                         expected: int | None = None, attended: int | None = None, votes_for: int | None = None,
                         votes_against: int | None = None, abstentions: int | None = None,
                         result_summary: str = "", files=()) -> DecisionRecord:
    """Record ``step`` of ``decision`` as held on ``held_on``; the decision moves to it (or is rejected)."""
    decision = Decision.objects.select_for_update().select_related("village").get(pk=decision.pk)
    expected_step = next_step(decision)
    if expected_step is None:
        if decision.state == DecisionState.REJECTED:
            raise ValidationError(DECISION_ENDED, params={"state": decision.get_state_display()})
        raise ValidationError(NO_MORE_STEPS)
    if step != expected_step:
        raise invalid("step", WRONG_STEP, expected=Step(expected_step).label, step=Step(step).label
                      if step in Step.values else step)
    last = decision.records.order_by("-held_on").first()
    if last is not None and held_on < last.held_on:
        raise invalid("held_on", DATE_BEFORE, date=last.held_on.isoformat())
    if held_on > timezone.localdate():
        raise invalid("held_on", DATE_FUTURE)
    minutes = (minutes or "").strip()
    if not minutes:
        raise invalid("minutes", NO_MINUTES)
    if step == Step.RESULT and not (result_summary or "").strip():
        raise invalid("result_summary", NO_RESULTS)
    if step == Step.RESOLUTION and decision.six_step:
        signed, total = consultation_progress(decision)
        if signed < total or total == 0:  # the consultation was passed; a household added since must sign too
            raise invalid("step", CONSULTATION_INCOMPLETE, signed=signed, total=total)
    if step == Step.CONSULTATION:
        signed, total = consultation_progress(decision)
        if signed < total or total == 0:
            raise invalid("step", CONSULTATION_INCOMPLETE, signed=signed, total=total)
        expected, attended, votes_for = total, signed, decision.signatures.filter(agrees=True).count()
    passed = _check_counts(decision, step, expected, attended, votes_for, votes_against, abstentions)
    if step == Step.CONSULTATION:
        passed = True  # the households are heard; the representatives decide
    record = DecisionRecord(decision=decision, step=step, held_on=held_on, expected=expected, attended=attended,
                            votes_for=votes_for, votes_against=votes_against, abstentions=abstentions,
                            passed=passed, minutes=minutes, recorded_by=user)
    record.full_clean()
    record.save()
    for upload in files:
        decision_file_add(record=record, upload=upload, user=user)
    decision.state = step if passed else DecisionState.REJECTED
    if step == Step.RESULT:
        decision.result_summary = result_summary.strip()
    decision.save(update_fields=["state", "result_summary", "updated_at"])
    if step in (Step.PUBLICATION, Step.RESULT):  # the village's public page shows it at once
        code = decision.village.code
        transaction.on_commit(lambda: public_page_forget(code))
    return record


def decision_file_add(*, record: DecisionRecord, upload, user) -> DecisionFile:
    """A file of a step (an image or a PDF, checked by its content as a case's attachment is)."""
    from grid.services.cases import attachment_check

    content_type, _suffix = attachment_check(upload)
    name = (getattr(upload, "name", "") or "file")[-200:]
    return DecisionFile.objects.create(record=record, file=upload, name=name, content_type=content_type,
                                       size=upload.size, uploaded_by=user)


@transaction.atomic
def decision_sign(*, decision: Decision, households, signed_on: datetime.date, user,
                  agrees: bool = True) -> int:
    """Record the signatures of ``households`` in the consultation (民议); returns how many were new."""
    decision = Decision.objects.select_for_update().select_related("village").get(pk=decision.pk)
    if not decision.six_step or next_step(decision) != Step.CONSULTATION:
        raise ValidationError(NOT_CONSULTING)
    if signed_on > timezone.localdate():
        raise invalid("signed_on", DATE_FUTURE)
    households = list(households)
    inside = set(village_households(decision.village).filter(pk__in=[h.pk for h in households])
                 .values_list("pk", flat=True))
    outside = [h for h in households if h.pk not in inside]
    if outside:
        raise invalid("households", HOUSEHOLD_ELSEWHERE, number=outside[0].number,
                      village=decision.village.display_name)
    done = set(decision.signatures.values_list("household_id", flat=True))
    new = [DecisionSignature(decision=decision, household=h, signed_on=signed_on, agrees=agrees, recorded_by=user)
           for h in households if h.pk not in done]
    DecisionSignature.objects.bulk_create(new)
    return len(new)


# --- The payment gate ---------------------------------------------------------------------------


def payment_amount(voucher: Voucher) -> Decimal:
    """What the voucher pays out: its credits on the cash and bank accounts."""
    total = (VoucherLine.objects.filter(voucher=voucher, account__role__in=[AccountRole.CASH, AccountRole.BANK])
             .aggregate(total=Sum("credit"))["total"])
    return total or Decimal("0.00")


def payment_needs_decision(voucher: Voucher) -> tuple[bool, Decimal, Decimal | None]:
    """(needs a decision, amount paid, threshold) — a normal voucher paying out above the threshold.

    A voucher that pays nothing out (most: receipts, transfers) costs one query; the threshold is
    looked up only for a payment.
    """
    zero = Decimal("0.00")
    if voucher.kind != VoucherKind.NORMAL:
        return False, zero, None
    amount = payment_amount(voucher)
    if amount <= zero:
        return False, amount, None
    threshold = payment_threshold(voucher.book.village)
    return amount > threshold, amount, threshold


def payment_gate_check(voucher: Voucher) -> None:
    """Refuse to post a payment above the threshold that cites no resolved decision of its village."""
    needs, amount, threshold = payment_needs_decision(voucher)
    if not needs:
        return
    village = voucher.book.village
    decision = voucher.decision
    if decision is None:
        raise invalid("decision", GATE_REFUSED, amount=f"{amount:,.2f}", threshold=f"{threshold:,.2f}",
                      village=village.display_name)
    if decision.village_id != village.pk:
        raise invalid("decision", GATE_WRONG_DECISION, decision=decision.number)
    if decision.state not in RESOLVED_STATES:
        raise invalid("decision", GATE_NOT_RESOLVED, decision=decision.number, state=decision.get_state_display())
