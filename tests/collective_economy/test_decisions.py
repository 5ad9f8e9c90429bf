"""The village decision procedure (四议两公开 / 六议两公开), as the services keep it: steps in order only (never
skipped, repeated or taken after a rejection), each meeting's quorum (the law's default, or the county's own),
a failing vote ends the decision, 民议 needs every household's signature before the vote, dates in order.

The helpers (``register``, ``hold``, ``walk``) are in tests/helpers/decisions.py, shared by the decision tests."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from collective_economy.models import (
    FOUR_STEPS,
    SIX_STEPS,
    DecisionRecord,
    DecisionRules,
    DecisionState,
    Quorum,
    Step,
    StepQuorum,
    VillageDecisionSetting,
)
from collective_economy.services.decisions import (
    CONSULTATION_INCOMPLETE,
    DATE_BEFORE,
    DATE_FUTURE,
    DECISION_ENDED,
    HOUSEHOLD_ELSEWHERE,
    NO_QUORUM,
    NO_RESULTS,
    NOT_CONSULTING,
    WRONG_STEP,
    consultation_progress,
    decision_record_step,
    decision_sign,
    decision_update,
    needed,
    next_step,
    quorum_for,
)
from tests.helpers.decisions import DAY, hold, messages_on, register, said, six_steps, walk
from tests.helpers.people import new_household

pytestmark = pytest.mark.django_db

# --- The four steps ------------------------------------------------------------------------------


def test_a_matter_goes_through_its_four_steps_and_two_publications(county, village_a):
    decision = register(county.villages[0], village_a)
    assert decision.number.startswith("JC") and decision.state == DecisionState.DRAFT
    assert decision.steps == FOUR_STEPS and next_step(decision) == Step.PROPOSAL
    for step in FOUR_STEPS:
        hold(decision, step, village_a)
        decision.refresh_from_db()
        assert decision.state == step
    assert next_step(decision) is None and decision.is_published
    assert decision.result_summary == "村道已完工并验收，支出 80,000.00 元"
    assert list(decision.records.values_list("step", flat=True)) == [s.value for s in FOUR_STEPS]


def test_the_next_matter_of_the_year_takes_the_next_number(county, village_a):
    first = register(county.villages[0], village_a)
    second = register(county.villages[0], village_a, title="修建文化广场")
    assert int(second.number[-3:]) == int(first.number[-3:]) + 1


@pytest.mark.parametrize("skipped_to", [Step.DISCUSSION, Step.RESOLUTION, Step.RESULT])
def test_a_step_cannot_be_skipped(county, village_a, skipped_to):
    decision = register(county.villages[0], village_a)
    with pytest.raises(ValidationError) as caught:
        hold(decision, skipped_to, village_a)
    assert messages_on(caught, "step") == [said(WRONG_STEP, expected=Step.PROPOSAL.label, step=Step(skipped_to).label)]
    decision.refresh_from_db()
    assert decision.state == DecisionState.DRAFT and not decision.records.exists()


def test_a_step_cannot_be_recorded_twice(county, village_a):
    decision = register(county.villages[0], village_a)
    hold(decision, Step.PROPOSAL, village_a)
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.PROPOSAL, village_a)
    assert caught.value.message_dict["step"] == [said(WRONG_STEP, expected=Step.DISCUSSION.label,
                                                         step=Step.PROPOSAL.label)]
    assert decision.records.count() == 1


def test_a_failing_vote_rejects_the_decision_and_nothing_follows(county, village_a):
    decision = register(county.villages[0], village_a)
    hold(decision, Step.PROPOSAL, village_a)
    # 9 of 10 attend (quorate) but only 4 vote for: not more than half of those present.
    record = hold(decision, Step.DISCUSSION, village_a, expected=10, attended=9, votes_for=4, votes_against=5)
    decision.refresh_from_db()
    assert record.passed is False and decision.state == DecisionState.REJECTED
    assert next_step(decision) is None
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.REVIEW, village_a)
    assert messages_on(caught) == [said(DECISION_ENDED, state=DecisionState.REJECTED.label)]
    assert decision.records.count() == 2


def test_a_meeting_below_its_quorum_is_refused(county, village_a):
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.REVIEW)
    # 决议 needs two thirds of the representatives: 13 of 20 is short of it.
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.RESOLUTION, village_a, expected=20, attended=13, votes_for=13)
    assert caught.value.message_dict["attended"] == [said(NO_QUORUM, attended=13, expected=20,
                                                             rule=Quorum.TWO_THIRDS.label)]
    decision.refresh_from_db()
    assert decision.state == DecisionState.REVIEW
    hold(decision, Step.RESOLUTION, village_a, expected=20, attended=14, votes_for=8)
    decision.refresh_from_db()
    assert decision.state == DecisionState.RESOLUTION and decision.is_resolved


def test_more_attending_or_voting_than_possible_is_refused(county, village_a):
    decision = register(county.villages[0], village_a)
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.PROPOSAL, village_a, expected=5, attended=6, votes_for=6)
    assert "attended" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.PROPOSAL, village_a, expected=5, attended=5, votes_for=4, votes_against=2)
    assert "votes_for" in caught.value.message_dict
    assert not decision.records.exists()


def test_the_county_sets_its_own_quorum_for_a_step(county, village_a):
    village = county.villages[0]
    assert quorum_for(village, Step.PROPOSAL) == (Quorum.MAJORITY, Quorum.MAJORITY)
    rules = DecisionRules.objects.create(county=county.county)
    StepQuorum.objects.create(rules=rules, step=Step.PROPOSAL, attendance=Quorum.ALL, approval=Quorum.TWO_THIRDS)
    assert quorum_for(village, Step.PROPOSAL) == (Quorum.ALL, Quorum.TWO_THIRDS)
    assert needed(Quorum.ALL, 7) == 7 and needed(Quorum.TWO_THIRDS, 7) == 5 and needed(Quorum.MAJORITY, 7) == 4
    decision = register(village, village_a)
    # 9 of 10 would do under the default; the county wants everyone.
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.PROPOSAL, village_a)
    assert caught.value.message_dict["attended"] == [said(NO_QUORUM, attended=9, expected=10, rule=Quorum.ALL.label)]
    # Everyone came, but 6 of 10 is not two thirds: the vote fails.
    record = hold(decision, Step.PROPOSAL, village_a, expected=10, attended=10, votes_for=6, votes_against=4)
    assert record.passed is False
    # Another county's rule does not reach this one.
    assert quorum_for(village, Step.DISCUSSION) == (Quorum.MAJORITY, Quorum.MAJORITY)


def test_dates_go_forward_and_never_into_the_future(county, village_a):
    decision = register(county.villages[0], village_a)
    hold(decision, Step.PROPOSAL, village_a, on=DAY)
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.DISCUSSION, village_a, on=DAY - datetime.timedelta(days=1))
    assert caught.value.message_dict["held_on"] == [said(DATE_BEFORE, date=DAY.isoformat())]
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.DISCUSSION, village_a, on=datetime.date.today() + datetime.timedelta(days=2))
    assert caught.value.message_dict["held_on"] == [said(DATE_FUTURE)]


def test_the_results_are_published_with_their_summary(county, village_a):
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.PUBLICATION)
    with pytest.raises(ValidationError) as caught:
        decision_record_step(decision=decision, step=Step.RESULT, user=village_a, held_on=DAY, minutes="公示栏",
                             result_summary="  ")
    assert caught.value.message_dict["result_summary"] == [said(NO_RESULTS)]


def test_a_matter_is_corrected_only_while_registered(county, village_a):
    decision = register(county.villages[0], village_a)
    decision_update(decision=decision, title="村道硬化（三组）", description="改", amount=None, user=village_a)
    decision.refresh_from_db()
    assert decision.title == "村道硬化（三组）" and decision.amount is None
    hold(decision, Step.PROPOSAL, village_a)
    with pytest.raises(ValidationError):
        decision_update(decision=decision, title="又改", description="改", amount=None, user=village_a)
    decision.refresh_from_db()
    assert decision.title == "村道硬化（三组）"


# --- Six steps: 动议 and 民议 ----------------------------------------------------------------------


def test_a_six_step_village_adds_the_motion_and_the_consultation(county, village_a):
    village = county.villages[0]
    six_steps(village)
    decision = register(village, village_a)
    assert decision.six_step and decision.steps == SIX_STEPS and next_step(decision) == Step.MOTION
    # The setting changed afterwards does not change a matter already registered.
    VillageDecisionSetting.objects.filter(village=village).update(six_step=False)
    decision.refresh_from_db()
    assert decision.steps == SIX_STEPS


def test_the_resolution_is_not_voted_before_the_consultation(county, village_a):
    six_steps(county.villages[0])
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.REVIEW)
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.RESOLUTION, village_a)
    assert messages_on(caught, "step") == [said(WRONG_STEP, expected=Step.CONSULTATION.label,
                                                 step=Step.RESOLUTION.label)]


def test_the_consultation_needs_every_households_signature(county, village_a):
    village = county.villages[0]
    six_steps(village)
    second = new_household(county, 0)
    decision = walk(register(village, village_a), village_a, until=Step.REVIEW)
    assert consultation_progress(decision) == (0, 2)
    decision_sign(decision=decision, households=[county.households[0]], signed_on=DAY, user=village_a)
    assert consultation_progress(decision) == (1, 2)
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.CONSULTATION, village_a)
    assert caught.value.message_dict["step"] == [said(CONSULTATION_INCOMPLETE, signed=1, total=2)]
    # Signing again counts once; the second household signs against.
    assert decision_sign(decision=decision, households=[county.households[0], second], signed_on=DAY,
                         user=village_a, agrees=False) == 1
    record = hold(decision, Step.CONSULTATION, village_a)
    assert (record.expected, record.attended, record.votes_for, record.passed) == (2, 2, 1, True)
    hold(decision, Step.RESOLUTION, village_a)
    decision.refresh_from_db()
    assert decision.state == DecisionState.RESOLUTION


def test_a_household_added_after_the_consultation_must_sign_before_the_vote(county, village_a):
    six_steps(county.villages[0])
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.CONSULTATION)
    new_household(county, 0)
    with pytest.raises(ValidationError) as caught:
        hold(decision, Step.RESOLUTION, village_a)
    assert caught.value.message_dict["step"] == [said(CONSULTATION_INCOMPLETE, signed=1, total=2)]


def test_signatures_are_taken_only_at_the_consultation_and_only_from_the_village(county, village_a):
    village = county.villages[0]
    four = register(village, village_a, title="四议事项")
    with pytest.raises(ValidationError) as caught:
        decision_sign(decision=four, households=[county.households[0]], signed_on=DAY, user=village_a)
    assert messages_on(caught) == [said(NOT_CONSULTING)]
    six_steps(village)
    decision = walk(register(village, village_a), village_a, until=Step.REVIEW)
    with pytest.raises(ValidationError) as caught:
        decision_sign(decision=decision, households=[county.households[1]], signed_on=DAY, user=village_a)
    assert caught.value.message_dict["households"] == [said(
        HOUSEHOLD_ELSEWHERE, number=county.households[1].number, village=village.display_name)]
    assert not decision.signatures.exists()
    assert not DecisionRecord.objects.filter(decision=decision, step=Step.CONSULTATION).exists()
