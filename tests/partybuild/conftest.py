"""Helpers of the party-building tests, on top of the standing cast (tests/conftest.py).

The cast gives each township one branch under its committee, one in-service member of that
branch (registered with the township's village, claiming the patrol post), one wish (posted)
and one service record.
"""

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from governance.models import Role, User
from governance.roles import user_sync_permissions
from governance.services import household_create, resident_create
from partybuild.services import (
    party_member_create,
    wish_complete,
    wish_dispatch,
    wish_publish,
    wish_take,
    wish_verify,
)
from tests.conftest import make_id_number

_seq = itertools.count(300)


def english(message, **params) -> str:
    """A message constant as the user reads it in English."""
    with translation.override("en"):
        return str(message) % params if params else str(message)


def errors_of(excinfo_or_exc) -> list[str]:
    """Every message of a raised ValidationError, in English."""
    exc = getattr(excinfo_or_exc, "value", excinfo_or_exc)
    assert isinstance(exc, ValidationError)
    with translation.override("en"):
        return list(exc.messages)


def new_resident(chain, index: int = 0, *, name: str = "", household=None):
    """A further resident of a cast township (in its micro-grid's first household by default)."""
    seq = next(_seq)
    household = household or chain.households[index]
    return resident_create(
        household=household,
        name=name or f"居民{seq}",
        id_number=make_id_number(chain.county.code[:6], "19900101", seq),
        phone="13800000000",
        relation="child",
    )


def new_household(chain, index: int = 0):
    seq = next(_seq)
    return household_create(number=f"{chain.micro_grids[index].code}{seq:04d}", address=f"地址{seq}",
                            grid=chain.micro_grids[index])


def new_member(chain, index: int = 0, *, in_service: bool = True, organization=None, household=None):
    """A further party member of a cast township's branch (in service with a work unit by default)."""
    return party_member_create(
        resident=new_resident(chain, index, household=household),
        organization=organization or chain.branches[index],
        joined_on=datetime.date(2010, 7, 1),
        in_service=in_service,
        work_unit="县教育局" if in_service else "",
    )


def operator() -> User:
    """The system operator (a superuser without a home unit): takes every step everywhere, for a
    test's setting up that is not about who acts."""
    user, _created = User.objects.get_or_create(username="operator", defaults={"is_superuser": True})
    return user


def grid_role_in_village(chain, index: int = 0) -> User:
    """A user with the grid worker's role but a whole village as his area: he sees every wish of
    the village, and his role posts wishes and takes no step after posting."""
    return User.objects.create_user(username=f"grid_in_village_{index}", password="x", role=Role.GRID,
                                    home_unit=chain.villages[index], is_staff=True)


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


@pytest.fixture
def staff(login):
    """Log a cast user in with the permissions of his role (the admin and API writes need them)."""

    def _staff(user):
        user_sync_permissions(user)
        return login(user)

    return _staff
