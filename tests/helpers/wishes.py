"""A micro-wish carried through its steps, for the tests that start from a later state."""

from partybuild.services import wish_complete, wish_dispatch, wish_publish, wish_take, wish_verify
from tests.helpers.people import operator

WISH_STEPS = ["dispatch", "take", "complete", "verify", "publish"]


def take_step(wish, step: str, *, user, member=None, result: str = "已修好"):
    """One step of ``wish`` as ``user``: the member for 派单 and 接单, the result for 消单."""
    calls = {
        "dispatch": lambda: wish_dispatch(wish=wish, user=user, member=member),
        "take": lambda: wish_take(wish=wish, user=user, member=member),
        "complete": lambda: wish_complete(wish=wish, user=user, result=result),
        "verify": lambda: wish_verify(wish=wish, user=user),
        "publish": lambda: wish_publish(wish=wish, user=user),
    }
    return calls[step]()


def advance(wish, until: str, *, member, user=None):
    """``wish`` carried through its steps up to ``until`` (not taken), by the operator unless ``user`` is given."""
    for step in WISH_STEPS[: WISH_STEPS.index(until)]:
        wish = take_step(wish, step, user=user or operator(), member=member)
    return wish
