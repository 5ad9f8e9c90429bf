"""Micro-wishes: 点单 → 派单 → 接单 → 消单 → 核单 → 晒单, only in order, one taker, and the board."""


import pytest
from django.core.exceptions import ValidationError

from partybuild.models import WISH_FLOW, Wish, WishState
from partybuild.selectors import wish_board, wish_eligible_members
from partybuild.services import (
    HOUSEHOLD_OUTSIDE_COMMUNITY,
    WISH_CLOSED,
    WISH_DISPATCHED_TO_OTHER,
    WISH_MEMBER_NOT_ELIGIBLE,
    WISH_RESULT_REQUIRED,
    WISH_WRONG_STATE,
    member_registration_create,
    member_registration_end,
    wish_complete,
    wish_dispatch,
    wish_post,
    wish_publish,
    wish_take,
    wish_update,
    wish_verify,
)
from tests.helpers.concurrency import refusals, run_at_once
from tests.helpers.markers import requires_postgres
from tests.helpers.messages import english, errors_of
from tests.helpers.people import new_member
from tests.helpers.wishes import WISH_STEPS, advance, take_step


@pytest.fixture
def official(county_official):
    """The county official takes every step in both townships."""
    return county_official


def post(county, user, index=0, title="买药送药"):
    return wish_post(
        user=user, community=county.villages[index], title=title, content="独居老人需要每周送药",
        category="health", household=county.households[index],
    )


def test_the_six_steps_in_order_stamp_each_time(county, official):
    member = county.members[0]
    wish = post(county, official)
    assert wish.state == WishState.POSTED and wish.posted_at
    wish = wish_dispatch(wish=wish, user=official, member=member)
    assert wish.state == WishState.DISPATCHED and wish.dispatched_to == member and wish.dispatched_at
    wish = wish_take(wish=wish, user=official, member=member)
    assert wish.state == WishState.TAKEN and wish.taken_by == member and wish.taken_at
    wish = wish_complete(wish=wish, user=official, result="  已送药三次  ")
    assert wish.state == WishState.DONE and wish.result == "已送药三次" and wish.done_at
    wish = wish_verify(wish=wish, user=official)
    assert wish.state == WishState.VERIFIED and wish.verified_at
    wish = wish_publish(wish=wish, user=official)
    assert wish.state == WishState.PUBLISHED and wish.published_at
    stamps = [wish.posted_at, wish.dispatched_at, wish.taken_at, wish.done_at, wish.verified_at, wish.published_at]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("reached", range(6))
@pytest.mark.parametrize("step", WISH_STEPS)
def test_a_step_out_of_order_is_refused_naming_both_states(county, official, reached, step):
    member = county.members[0]
    wish = post(county, official)
    for done in WISH_STEPS[:reached]:
        wish = take_step(wish, done, user=official, member=member)
    expected = WISH_FLOW[WISH_STEPS.index(step)]
    if wish.state == expected:
        assert take_step(wish, step, user=official, member=member).state == WISH_FLOW[WISH_STEPS.index(step) + 1]
        return
    with pytest.raises(ValidationError) as excinfo:
        take_step(wish, step, user=official, member=member)
    assert errors_of(excinfo) == [
        english(WISH_WRONG_STATE, current=english(WishState(wish.state).label), expected=english(expected.label))
    ]
    assert Wish.objects.get(pk=wish.pk).state == wish.state
    assert wish.events.count() == reached + 1  # the refused step recorded nothing


def test_the_message_reads_well(county, official):
    wish = post(county, official)
    with pytest.raises(ValidationError) as excinfo:
        wish_verify(wish=wish, user=official)
    assert errors_of(excinfo) == ["This wish is “Posted”; this step needs a wish that is “Done”."]


def test_a_stale_copy_cannot_skip_the_check(county, official):
    """The state is re-read under the row lock, not taken from the caller's copy."""
    member = county.members[0]
    stale = post(county, official)
    wish_dispatch(wish=stale, user=official, member=member)
    with pytest.raises(ValidationError):
        wish_dispatch(wish=stale, user=official, member=member)  # ``stale`` still says "posted"


def test_dispatch_only_to_a_member_registered_there_or_of_its_branches(county, official):
    wish = post(county, official)
    outsider = county.members[1]  # township B's branch, registered with village B
    with pytest.raises(ValidationError) as excinfo:
        wish_dispatch(wish=wish, user=official, member=outsider)
    assert errors_of(excinfo) == [
        english(WISH_MEMBER_NOT_ELIGIBLE, member=outsider.resident.name, community=county.villages[0].display_name)
    ]
    # A member of village A's branch who is not registered anywhere is eligible through his branch.
    branch_member = new_member(county, 0, in_service=False)
    eligible = set(wish_eligible_members(community=county.villages[0]))
    assert eligible == {county.members[0], branch_member}
    assert wish_dispatch(wish=wish, user=official, member=branch_member).dispatched_to == branch_member


def test_a_member_of_another_branch_registered_here_is_eligible(county, official):
    outsider = county.members[1]
    registration = outsider.registrations.get()
    member_registration_end(registration=registration, user=official, ended_on=registration.registered_on)
    member_registration_create(user=official, member=outsider, community=county.villages[0],
                               registered_on=registration.registered_on)
    assert wish_dispatch(wish=post(county, official), user=official, member=outsider).dispatched_to == outsider


def test_only_the_member_it_was_dispatched_to_takes_it(county, official):
    chosen = county.members[0]
    other = new_member(county)
    wish = wish_dispatch(wish=post(county, official), user=official, member=chosen)
    with pytest.raises(ValidationError) as excinfo:
        wish_take(wish=wish, user=official, member=other)
    assert errors_of(excinfo) == [english(WISH_DISPATCHED_TO_OTHER, member=chosen.resident.name)]


def test_an_open_dispatch_is_taken_by_any_eligible_member(county, official):
    wish = wish_dispatch(wish=post(county, official), user=official, member=None)
    assert wish.dispatched_to is None
    with pytest.raises(ValidationError) as excinfo:
        wish_take(wish=wish, user=official, member=county.members[1])
    assert errors_of(excinfo)[0] == english(
        WISH_MEMBER_NOT_ELIGIBLE, member=county.members[1].resident.name, community=county.villages[0].display_name
    )
    taker = new_member(county)
    assert wish_take(wish=wish, user=official, member=taker).taken_by == taker


def test_complete_needs_a_result(county, official):
    member = county.members[0]
    wish = wish_dispatch(wish=post(county, official), user=official, member=member)
    wish = wish_take(wish=wish, user=official, member=member)
    with pytest.raises(ValidationError) as excinfo:
        wish_complete(wish=wish, user=official, result="   ")
    assert errors_of(excinfo) == [english(WISH_RESULT_REQUIRED)]


def test_post_for_a_household_of_another_community_is_refused(county, official):
    with pytest.raises(ValidationError) as excinfo:
        wish_post(user=official, community=county.villages[0], title="修路灯", category="other",
                  household=county.households[1])
    assert errors_of(excinfo) == [
        english(
            HOUSEHOLD_OUTSIDE_COMMUNITY, household=county.households[1].number,
            community=county.villages[0].display_name,
        )
    ]


def test_post_for_a_resident_fills_in_his_household(county, official):
    wish = wish_post(user=official, community=county.villages[0], title="辅导功课", category="children",
                     resident=county.residents[0])
    assert wish.household == county.households[0]


def test_post_needs_a_household_or_a_resident(county, official):
    with pytest.raises(ValidationError) as excinfo:
        wish_post(user=official, community=county.villages[0], title="无主心愿", category="other")
    assert errors_of(excinfo) == [english("A wish belongs to a household or a resident.")]


def test_edit_only_while_open(county, official):
    member = county.members[0]
    wish = post(county, official)
    assert wish_update(wish=wish, user=official, title="买药").title == "买药"
    wish = advance(wish, "verify", member=member, user=official)
    with pytest.raises(ValidationError) as excinfo:
        wish_update(wish=wish, user=official, title="改")
    assert errors_of(excinfo) == [english(WISH_CLOSED)]


# --- The board -----------------------------------------------------------------------------


def test_board_has_six_columns_in_flow_order_and_is_scoped(county, official, clerk_a, clerk_b):
    member = county.members[0]
    wish_dispatch(wish=post(county, official, title="第二个"), user=official, member=member)
    board = wish_board(fetched_by=clerk_a)
    assert [column["state"] for column in board] == [state.value for state in WISH_FLOW]
    counts = {column["state"]: column["count"] for column in board}
    assert counts == {"posted": 1, "dispatched": 1, "taken": 0, "done": 0, "verified": 0, "published": 0}
    all_a = {wish.pk for column in board for wish in column["wishes"]}
    assert county.wishes[1].pk not in all_a
    assert {wish.pk for c in wish_board(fetched_by=clerk_b) for wish in c["wishes"]} == {county.wishes[1].pk}


def test_board_columns_are_cut_and_queries_constant(county, official, django_assert_max_num_queries):
    for i in range(5):
        post(county, official, i % 2, title=f"心愿{i}")
    with django_assert_max_num_queries(2):
        board = wish_board(fetched_by=official, column_size=3)
        for column in board:
            for wish in column["wishes"]:
                str(wish.household), str(wish.community), wish.dispatched_to, wish.taken_by
    posted = board[0]
    assert posted["count"] == 7 and len(posted["wishes"]) == 3 and posted["more"] == 4
    only_a = wish_board(fetched_by=official, community=county.villages[0])
    assert only_a[0]["count"] == 4


# --- Concurrency (PostgreSQL) --------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_of_concurrent_takes_only_one_wins(county, official):
    wish = wish_dispatch(wish=post(county, official), user=official, member=None)
    takers = [county.members[0], new_member(county), new_member(county), new_member(county)]
    outcomes = run_at_once([lambda member=member: wish_take(wish=wish, user=official, member=member)
                            for member in takers])
    [winner] = [member for member, outcome in zip(takers, outcomes, strict=True)
                if not isinstance(outcome, ValidationError)]
    refused = english(WISH_WRONG_STATE, current=english("Taken"), expected=english("Dispatched"))
    assert [errors_of(exc)[0] for exc in refusals(outcomes)] == [refused] * (len(takers) - 1)
    assert Wish.objects.get(pk=wish.pk).taken_by_id == winner.pk
    assert wish.events.filter(action="take").count() == 1
