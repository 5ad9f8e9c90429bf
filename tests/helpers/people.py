"""People beyond the standing cast: valid ID numbers, users, and further residents, households, party
members and household liaisons of a cast township."""

import datetime
import itertools

from governance.models import Role, User
from governance.services import household_create, resident_create
from governance.validators import id_check_char
from grid.models import WorkerType
from grid.services.workers import gridworker_create
from partybuild.services import party_member_create

# The password of every user the tests create; the browser tests type it.
PASSWORD = "pw-for-tests-only"

_seq = itertools.count(300)


def make_id_number(region: str, birth: str, seq: int) -> str:
    """A valid 18-character ID number: region (6) + birth YYYYMMDD + sequence (3) + check."""
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + id_check_char(first17)


def new_user(username: str, role: str, unit, **extra) -> User:
    """A staff user of ``role`` whose area is ``unit``, as the cast's users are made."""
    return User.objects.create_user(username=username, password=PASSWORD, role=role, home_unit=unit, is_staff=True,
                                    **extra)


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
    """A further household in a cast township's micro-grid."""
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


def new_liaison(unit, seq: int, **extra):
    """A further household liaison (联户长) of ``unit``; ``seq`` tells him apart (his name and ID number)."""
    return gridworker_create(
        name=f"联户长{seq}",
        id_number=make_id_number("513424", "19700101", seq),
        phone="13800000000",
        worker_type=WorkerType.LIAISON,
        unit=unit,
        start_date=datetime.date(2024, 1, 1),
        **extra,
    )
