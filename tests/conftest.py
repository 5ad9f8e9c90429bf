"""The standing cast of every test: a small county with two townships, and its people.

Two counties exist so that "nobody sees another county" can be shown; township A and
township B of the first county so that every list and detail test can show that a clerk of
B sees nothing of A.
"""

import pytest

from governance.models import Level, OrgUnit, Role, User
from governance.services import household_create, orgunit_create, resident_create
from governance.validators import id_check_char


def make_id_number(region: str, birth: str, seq: int) -> str:
    """A valid 18-character ID number: region (6) + birth YYYYMMDD + sequence (3) + check."""
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + id_check_char(first17)


class Chain:
    """Handles to the units of the cast's county, by role in the story."""


def _build_county(code6: str, name: str, tag: str) -> Chain:
    c = Chain()
    c.county = orgunit_create(code=f"{code6}000000", name=name, level=Level.COUNTY, kind="county")
    c.townships, c.villages, c.grids, c.micro_grids, c.households, c.residents = [], [], [], [], [], []
    for t in range(2):
        township = orgunit_create(
            code=f"{code6}{100 + t:03d}000",
            name=f"{tag}{'AB'[t]}镇",
            level=Level.TOWNSHIP,
            kind="town",
            parent=c.county,
        )
        c.townships.append(township)
        village = orgunit_create(
            code=f"{code6}{100 + t:03d}201",
            name=f"{tag}{'AB'[t]}村村民委员会",
            short_name=f"{tag}{'AB'[t]}村",
            level=Level.VILLAGE,
            kind="village",
            parent=township,
        )
        c.villages.append(village)
        grid = orgunit_create(
            code=f"{village.code}001", name=f"{tag}{'AB'[t]}村第一网格", level=Level.GRID,
            kind="grid_standard", parent=village,
        )
        c.grids.append(grid)
        micro = orgunit_create(
            code=f"{grid.code}01", name=f"{tag}{'AB'[t]}村第一微网格", level=Level.MICRO_GRID,
            kind="micro_grid", parent=grid,
        )
        c.micro_grids.append(micro)
        household = household_create(number=f"{micro.code}0001", address=f"{tag}{'AB'[t]}村1组1号", grid=micro)
        c.households.append(household)
        c.residents.append(
            resident_create(
                household=household,
                name=f"{tag}{'甲乙'[t]}",
                id_number=make_id_number(code6, "19800101", int(code6[-3:]) % 500 * 2 + t + 1),
                phone=f"1380000{int(code6) % 1000:03d}{t}",
            )
        )
    c.township_a, c.township_b = c.townships
    return c


@pytest.fixture(autouse=True)
def portal_language():
    """Every test starts in the portal's language, whatever an earlier request activated."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def county(db):
    return _build_county("513424", "德昌县", "德")


@pytest.fixture
def other_county(db):
    return _build_county("513425", "会理县", "会")


def _user(username, role, unit, **extra):
    return User.objects.create_user(
        username=username, password="pw-for-tests-only", role=role, home_unit=unit, is_staff=True, **extra
    )


@pytest.fixture
def admin_user(county):
    return _user("admin", Role.ADMIN, county.county, is_superuser=True)


@pytest.fixture
def county_official(county):
    return _user("county", Role.COUNTY, county.county)


@pytest.fixture
def clerk_a(county):
    return _user("township_a", Role.TOWNSHIP, county.township_a)


@pytest.fixture
def clerk_b(county):
    return _user("township_b", Role.TOWNSHIP, county.township_b)


@pytest.fixture
def village_a(county):
    return _user("village_a", Role.VILLAGE, county.villages[0])


@pytest.fixture
def grid_worker_a(county):
    return _user("grid_a", Role.GRID, county.grids[0])


@pytest.fixture
def login(client):
    """Log a user into the test client (bypassing django-axes, which wants a request)."""

    def _login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


__all__ = ["make_id_number", "OrgUnit"]
