"""Who takes which step of a micro-wish (``WISH_RULES``), and the history each step records."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from governance.models import Role, User
from partybuild.models import Wish, WishEvent, WishState
from partybuild.services import (
    HOUSEHOLD_OUT_OF_SCOPE,
    STEP_NOT_ALLOWED,
    WISH_OUT_OF_SCOPE,
    WISH_RULES,
    wish_allowed_steps,
    wish_complete,
    wish_dispatch,
    wish_next_step,
    wish_post,
    wish_publish,
    wish_steps_by_state,
    wish_take,
    wish_update,
    wish_verify,
)
from tests.helpers.messages import english, errors_of
from tests.helpers.people import operator
from tests.helpers.wishes import WISH_STEPS, advance, take_step

ROLES = {
    "community": "、".join(english(r) for r in ("Administrator", "County official", "Township staff", "Village staff")),
}


def refusal(step: str, roles: str, role: str) -> str:
    return english(STEP_NOT_ALLOWED, step=english(step), roles=ROLES[roles], role=english(role))


def advanced(county, until: str):
    """The cast's wish of township A, carried by the operator up to (not including) step ``until``."""
    return advance(county.wishes[0], until, member=county.members[0])


def unchanged(wish) -> tuple:
    fresh = Wish.objects.get(pk=wish.pk)
    return fresh.state, fresh.events.count()


# --- Every step records who did it -----------------------------------------------------------


def test_each_step_records_its_event_with_the_actor(county, village_a, clerk_a):
    member = county.members[0]
    wish = wish_post(user=village_a, community=county.villages[0], household=county.households[0], title="送米",
                     category="daily_life")
    wish = wish_dispatch(wish=wish, user=village_a, member=member)
    wish = wish_take(wish=wish, user=village_a, member=member)
    wish = wish_complete(wish=wish, user=village_a, result="已送到")
    wish = wish_verify(wish=wish, user=village_a)
    wish = wish_publish(wish=wish, user=clerk_a)
    events = list(wish.events.all())
    assert [(e.action, e.from_state, e.to_state, e.actor, e.member) for e in events] == [
        ("post", "", "posted", village_a, None),
        ("dispatch", "posted", "dispatched", village_a, member),
        ("take", "dispatched", "taken", village_a, member),
        ("complete", "taken", "done", village_a, None),
        ("verify", "done", "verified", village_a, None),
        ("publish", "verified", "published", clerk_a, None),
    ]
    # Each event's time is the wish's stamp of the state it led to; the result is on the 消单.
    assert [e.at for e in events] == [getattr(wish, f"{state}_at") for state in WishState]
    assert events[3].comment == "已送到"


def test_an_open_dispatch_records_no_member(county, clerk_a):
    wish = wish_dispatch(wish=county.wishes[0], user=clerk_a, member=None)
    assert wish.events.get(action="dispatch").member is None


def test_an_edit_records_what_changed_and_a_no_change_nothing(county, clerk_a):
    wish = county.wishes[0]
    wish_update(wish=wish, user=clerk_a, title=wish.title)
    assert not wish.events.filter(action="edit").exists()
    wish_update(wish=wish, user=clerk_a, title="修屋顶", category="other")
    event = wish.events.get(action="edit")
    assert (event.actor, event.from_state, event.to_state) == (clerk_a, "posted", "posted")
    assert event.comment == "、".join(str(Wish._meta.get_field(name).verbose_name) for name in ("title", "category"))


# --- Who takes which step -----------------------------------------------------------------------


@pytest.mark.parametrize("name", WISH_STEPS)
def test_a_grid_role_takes_no_step_after_posting(county, name):
    # Even with a whole village as his area, a grid worker's role posts wishes and nothing more.
    worker = User.objects.create_user(username="grid_in_village", password="x", role=Role.GRID,
                                      home_unit=county.villages[0])
    wish = advanced(county, name)
    before = unchanged(wish)
    with pytest.raises(ValidationError) as excinfo:
        take_step(wish, name, user=worker, member=county.members[0])
    assert errors_of(excinfo) == [refusal(name.capitalize(), "community", "Grid worker")]
    assert unchanged(wish) == before


def test_a_wish_outside_the_area_is_refused_as_such(county, clerk_b):
    wish = county.wishes[0]
    before = unchanged(wish)
    for call in (
        lambda: wish_dispatch(wish=wish, user=clerk_b, member=None),
        lambda: wish_update(wish=wish, user=clerk_b, title="改"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            call()
        assert errors_of(excinfo) == [english(WISH_OUT_OF_SCOPE)]
    assert unchanged(wish) == before


def test_nobody_logged_in_and_inactive_users_take_no_step(county, clerk_a):
    wish = county.wishes[0]
    clerk_a.is_active = False
    for user in (AnonymousUser(), clerk_a):
        with pytest.raises(ValidationError):
            wish_dispatch(wish=wish, user=user, member=None)
    assert Wish.objects.get(pk=wish.pk).state == WishState.POSTED


def test_a_grid_worker_posts_for_his_households_only(county, grid_worker_a):
    wish = wish_post(user=grid_worker_a, community=county.villages[0], household=county.households[0],
                     title="修门", category="housing")
    assert wish.events.get().actor == grid_worker_a
    with pytest.raises(ValidationError) as excinfo:
        wish_post(user=grid_worker_a, community=county.villages[1], household=county.households[1], title="越界",
                  category="other")
    assert errors_of(excinfo) == [english(HOUSEHOLD_OUT_OF_SCOPE, household=county.households[1].number)]
    assert not Wish.objects.filter(title="越界").exists()


def test_the_operator_takes_every_step(county):
    assert take_step(advanced(county, "publish"), "publish", user=operator()).state == WishState.PUBLISHED


# --- What the pages read from the rules ---------------------------------------------------------


def test_the_steps_a_user_may_take_now(county, village_a, clerk_a, clerk_b, grid_worker_a):
    wish = county.wishes[0]
    assert wish_allowed_steps(wish=wish, user=village_a) == ["dispatch"]
    assert wish_allowed_steps(wish=wish, user=clerk_b) == []  # not his area
    assert wish_allowed_steps(wish=wish, user=grid_worker_a) == []  # not his role
    wish = advanced(county, "publish")
    assert wish_allowed_steps(wish=wish, user=village_a) == ["publish"]
    assert wish_allowed_steps(wish=wish, user=clerk_a) == ["publish"]
    assert wish_next_step(WishState.VERIFIED) == "publish" and wish_next_step(WishState.PUBLISHED) is None


def test_the_board_asks_the_rules_once_per_role(village_a, clerk_a, grid_worker_a, db):
    assert wish_steps_by_state(user=village_a) == {
        "posted": "dispatch", "dispatched": "take", "taken": "complete", "done": "verify", "verified": "publish",
    }
    assert wish_steps_by_state(user=clerk_a)["verified"] == "publish"
    assert wish_steps_by_state(user=grid_worker_a) == {}


def test_every_step_after_posting_is_declared_once():
    flow = [rule.to_state for action, rule in WISH_RULES.items() if rule.to_state]
    assert flow == [state.value for state in WishState]
    assert WishEvent._meta.get_field("action").choices  # the events name the same actions
