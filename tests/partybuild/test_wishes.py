"""Micro-wishes: 点单 → 派单 → 接单 → 消单 → 核单 → 晒单, only in order, one taker, and the board."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from partybuild.models import WISH_FLOW, Wish, WishState
from partybuild.selectors import wish_board, wish_eligible_members
from partybuild.services import (
    HOUSEHOLD_OUTSIDE_COMMUNITY,
    WISH_CLOSED,
    WISH_DISPATCHED_TO_OTHER,
    WISH_MEMBER_NOT_ELIGIBLE,
    WISH_RESULT_REQUIRED,
    WISH_WRONG_STATE,
    wish_complete,
    wish_dispatch,
    wish_post,
    wish_publish,
    wish_take,
    wish_update,
    wish_verify,
)
from tests.markers import requires_postgres
from tests.partybuild.conftest import english, errors_of, new_member


def post(county, index=0, title="买药送药"):
    return wish_post(
        community=county.villages[index], title=title, content="独居老人需要每周送药", category="health",
        household=county.households[index],
    )


def test_the_six_steps_in_order_stamp_each_time(county):
    member = county.members[0]
    wish = post(county)
    assert wish.state == WishState.POSTED and wish.posted_at
    wish = wish_dispatch(wish=wish, member=member)
    assert wish.state == WishState.DISPATCHED and wish.dispatched_to == member and wish.dispatched_at
    wish = wish_take(wish=wish, member=member)
    assert wish.state == WishState.TAKEN and wish.taken_by == member and wish.taken_at
    wish = wish_complete(wish=wish, result="  已送药三次  ")
    assert wish.state == WishState.DONE and wish.result == "已送药三次" and wish.done_at
    wish = wish_verify(wish=wish)
    assert wish.state == WishState.VERIFIED and wish.verified_at
    wish = wish_publish(wish=wish)
    assert wish.state == WishState.PUBLISHED and wish.published_at
    stamps = [wish.posted_at, wish.dispatched_at, wish.taken_at, wish.done_at, wish.verified_at, wish.published_at]
    assert stamps == sorted(stamps)


def _move(wish, step, member):
    calls = {
        "dispatch": lambda: wish_dispatch(wish=wish, member=member),
        "take": lambda: wish_take(wish=wish, member=member),
        "complete": lambda: wish_complete(wish=wish, result="done"),
        "verify": lambda: wish_verify(wish=wish),
        "publish": lambda: wish_publish(wish=wish),
    }
    return calls[step]()


STEPS = ["dispatch", "take", "complete", "verify", "publish"]


@pytest.mark.parametrize("reached", range(6))
@pytest.mark.parametrize("step", STEPS)
def test_a_step_out_of_order_is_refused_naming_both_states(county, reached, step):
    member = county.members[0]
    wish = post(county)
    for done in STEPS[:reached]:
        wish = _move(wish, done, member)
    expected = WISH_FLOW[STEPS.index(step)]
    if wish.state == expected:
        assert _move(wish, step, member).state == WISH_FLOW[STEPS.index(step) + 1]
        return
    with pytest.raises(ValidationError) as excinfo:
        _move(wish, step, member)
    assert errors_of(excinfo) == [
        english(WISH_WRONG_STATE, current=english(WishState(wish.state).label), expected=english(expected.label))
    ]
    assert Wish.objects.get(pk=wish.pk).state == wish.state


def test_the_message_reads_well(county):
    wish = post(county)
    with pytest.raises(ValidationError) as excinfo:
        wish_verify(wish=wish)
    assert errors_of(excinfo) == ["This wish is “Posted”; this step needs a wish that is “Done”."]


def test_a_stale_copy_cannot_skip_the_check(county):
    """The state is re-read under the row lock, not taken from the caller's copy."""
    member = county.members[0]
    stale = post(county)
    wish_dispatch(wish=stale, member=member)
    with pytest.raises(ValidationError):
        wish_dispatch(wish=stale, member=member)  # ``stale`` still says "posted"


def test_dispatch_only_to_a_member_registered_there_or_of_its_branches(county):
    wish = post(county)
    outsider = county.members[1]  # township B's branch, registered with village B
    with pytest.raises(ValidationError) as excinfo:
        wish_dispatch(wish=wish, member=outsider)
    assert errors_of(excinfo) == [
        english(WISH_MEMBER_NOT_ELIGIBLE, member=outsider.resident.name, community=county.villages[0].display_name)
    ]
    # A member of village A's branch who is not registered anywhere is eligible through his branch.
    branch_member = new_member(county, 0, in_service=False)
    eligible = set(wish_eligible_members(community=county.villages[0]))
    assert eligible == {county.members[0], branch_member}
    assert wish_dispatch(wish=wish, member=branch_member).dispatched_to == branch_member


def test_a_member_of_another_branch_registered_here_is_eligible(county):
    from partybuild.services import member_registration_create, member_registration_end

    outsider = county.members[1]
    registration = outsider.registrations.get()
    member_registration_end(registration=registration, ended_on=registration.registered_on)
    member_registration_create(member=outsider, community=county.villages[0], registered_on=registration.registered_on)
    assert wish_dispatch(wish=post(county), member=outsider).dispatched_to == outsider


def test_only_the_member_it_was_dispatched_to_takes_it(county):
    chosen = county.members[0]
    other = new_member(county)
    wish = wish_dispatch(wish=post(county), member=chosen)
    with pytest.raises(ValidationError) as excinfo:
        wish_take(wish=wish, member=other)
    assert errors_of(excinfo) == [english(WISH_DISPATCHED_TO_OTHER, member=chosen.resident.name)]


def test_an_open_dispatch_is_taken_by_any_eligible_member(county):
    wish = wish_dispatch(wish=post(county), member=None)
    assert wish.dispatched_to is None
    with pytest.raises(ValidationError) as excinfo:
        wish_take(wish=wish, member=county.members[1])
    assert errors_of(excinfo)[0] == english(
        WISH_MEMBER_NOT_ELIGIBLE, member=county.members[1].resident.name, community=county.villages[0].display_name
    )
    taker = new_member(county)
    assert wish_take(wish=wish, member=taker).taken_by == taker


def test_complete_needs_a_result(county):
    member = county.members[0]
    wish = wish_take(wish=wish_dispatch(wish=post(county), member=member), member=member)
    with pytest.raises(ValidationError) as excinfo:
        wish_complete(wish=wish, result="   ")
    assert errors_of(excinfo) == [english(WISH_RESULT_REQUIRED)]


def test_post_for_a_household_of_another_community_is_refused(county):
    with pytest.raises(ValidationError) as excinfo:
        wish_post(community=county.villages[0], title="修路灯", category="other", household=county.households[1])
    assert errors_of(excinfo) == [
        english(
            HOUSEHOLD_OUTSIDE_COMMUNITY, household=county.households[1].number,
            community=county.villages[0].display_name,
        )
    ]


def test_post_for_a_resident_fills_in_his_household(county):
    wish = wish_post(community=county.villages[0], title="辅导功课", category="children", resident=county.residents[0])
    assert wish.household == county.households[0]


def test_post_needs_a_household_or_a_resident(county):
    with pytest.raises(ValidationError) as excinfo:
        wish_post(community=county.villages[0], title="无主心愿", category="other")
    assert errors_of(excinfo) == [english("A wish belongs to a household or a resident.")]


def test_edit_only_while_open(county):
    member = county.members[0]
    wish = post(county)
    assert wish_update(wish=wish, title="买药").title == "买药"
    wish = wish_complete(wish=wish_take(wish=wish_dispatch(wish=wish, member=member), member=member), result="ok")
    with pytest.raises(ValidationError) as excinfo:
        wish_update(wish=wish, title="改")
    assert errors_of(excinfo) == [english(WISH_CLOSED)]


# --- The board -----------------------------------------------------------------------------


def test_board_has_six_columns_in_flow_order_and_is_scoped(county, clerk_a, clerk_b):
    member = county.members[0]
    wish_dispatch(wish=post(county, title="第二个"), member=member)
    board = wish_board(fetched_by=clerk_a)
    assert [column["state"] for column in board] == [state.value for state in WISH_FLOW]
    counts = {column["state"]: column["count"] for column in board}
    assert counts == {"posted": 1, "dispatched": 1, "taken": 0, "done": 0, "verified": 0, "published": 0}
    all_a = {wish.pk for column in board for wish in column["wishes"]}
    assert county.wishes[1].pk not in all_a
    assert {wish.pk for c in wish_board(fetched_by=clerk_b) for wish in c["wishes"]} == {county.wishes[1].pk}


def test_board_columns_are_cut_and_queries_constant(county, county_official, django_assert_max_num_queries):
    for i in range(5):
        post(county, i % 2, title=f"心愿{i}")
    with django_assert_max_num_queries(2):
        board = wish_board(fetched_by=county_official, column_size=3)
        for column in board:
            for wish in column["wishes"]:
                str(wish.household), str(wish.community), wish.dispatched_to, wish.taken_by
    posted = board[0]
    assert posted["count"] == 7 and len(posted["wishes"]) == 3 and posted["more"] == 4
    only_a = wish_board(fetched_by=county_official, community=county.villages[0])
    assert only_a[0]["count"] == 4


# --- Concurrency (PostgreSQL) --------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_of_concurrent_takes_only_one_wins(county):
    wish = wish_dispatch(wish=post(county), member=None)
    takers = [county.members[0], new_member(county), new_member(county), new_member(county)]
    outcomes = {}
    barrier = threading.Barrier(len(takers))

    def take(member):
        try:
            barrier.wait()
            wish_take(wish=wish, member=member)
            outcomes[member.pk] = "taken"
        except ValidationError as exc:
            outcomes[member.pk] = errors_of(exc)[0]
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(member,)) for member in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [pk for pk, outcome in outcomes.items() if outcome == "taken"]
    assert len(outcomes) == len(takers) and len(winners) == 1
    refused = english(WISH_WRONG_STATE, current=english("Taken"), expected=english("Dispatched"))
    assert all(outcome == refused for pk, outcome in outcomes.items() if pk not in winners)
    assert Wish.objects.get(pk=wish.pk).taken_by_id == winners[0]
