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
    _add_rosters(c, code6)
    _add_cases(c)
    return c


# The smallest valid PNG (1×1 pixel): an attachment the content check accepts.
PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)


def _add_cases(c: Chain) -> None:
    """Part 3: a dispute case in each township's micro-grid, with an event, an attachment, a mediation."""
    import datetime

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from grid.models import Case, CaseAttachment, CaseCategory, CaseCounter, CaseEvent, ColourDeadline, Mediation
    from grid.taxonomy import seed_taxonomy

    # Seeded by a migration, but a transactional test (live server, threads) empties every table.
    seed_taxonomy(CaseCategory, ColourDeadline)
    c.cases = []
    category = CaseCategory.objects.get(code="dispute-neighbour")
    month = timezone.localtime().strftime("%Y%m")
    for t in range(2):
        township = c.townships[t]
        CaseCounter.objects.create(township=township, month=month, last=1)
        case = Case.objects.create(
            number=f"{township.code[:9]}{month}00001", title="邻里宅基地界线纠纷", description="两户因院墙界线发生争执",
            category=category, grid=c.micro_grids[t], household=c.households[t], handling_unit=township,
            reporter=c.residents[t], reporter_name=c.residents[t].name, reporter_phone=c.residents[t].phone,
        )
        event = CaseEvent.objects.create(case=case, action="create", to_state="reported", unit=township)
        attachment = CaseAttachment(case=case, event=event, name="现场.png", content_type="image/png",
                                    size=len(PNG_1PX))
        attachment.file.save("upload.png", ContentFile(PNG_1PX), save=False)
        attachment.save()
        Mediation.objects.create(case=case, held_on=datetime.date(2024, 5, 6), mediator="李法官、王律师",
                                 room=f"{township.name}矛盾纠纷调解室", outcome="agreed")
        c.cases.append(case)


def _add_rosters(c: Chain, code6: str) -> None:
    """Part 2's rosters: one row of each model in each township (the scope walk needs them)."""
    import datetime

    from django.utils import timezone

    from grid.models import GridWorker, LiaisonHousehold
    from partybuild.models import (
        CentralHousehold,
        MemberRegistration,
        PartyMember,
        PartyOrganization,
        PostClaim,
        ServiceRecord,
        UnitOffer,
        UnitRegistration,
        Wish,
        WishEvent,
    )

    c.committees, c.branches, c.members, c.wishes, c.workers, c.liaisons = [], [], [], [], [], []
    for t in range(2):
        township, village, grid, micro = c.townships[t], c.villages[t], c.grids[t], c.micro_grids[t]
        committee = PartyOrganization.objects.create(name=f"{township.name}党委", kind="committee", org_unit=township)
        branch = PartyOrganization.objects.create(
            name=f"{village.display_name}党支部", kind="branch", parent=committee, org_unit=village
        )
        PartyOrganization.objects.create(name=f"{grid.name}党支部", kind="grid_branch", parent=branch, org_unit=grid)
        member = PartyMember.objects.create(
            resident=c.residents[t], organization=branch, joined_on=datetime.date(2005, 7, 1),
            in_service=True, work_unit="县财政局",
        )
        CentralHousehold.objects.create(household=c.households[t], member=member)
        unit_reg = UnitRegistration.objects.create(
            unit_name="县财政局", party_organization="县财政局机关党支部", community=village,
            registered_on=datetime.date(2024, 3, 1),
        )
        UnitOffer.objects.create(registration=unit_reg, kind="resource", description="会议室一间")
        registration = MemberRegistration.objects.create(
            member=member, community=village, registered_on=datetime.date(2024, 3, 5)
        )
        PostClaim.objects.create(registration=registration, post="patrol", claimed_on=datetime.date(2024, 3, 5))
        wish = Wish.objects.create(
            community=village, household=c.households[t], title="修理屋顶漏水", category="housing",
            posted_at=timezone.now(),
        )
        WishEvent.objects.create(wish=wish, action="post", to_state="posted", at=wish.posted_at)
        ServiceRecord.objects.create(
            member=member, community=village, date=datetime.date(2024, 4, 1), start_time=datetime.time(9),
            end_time=datetime.time(11), hours=2, kind="patrol",
        )
        worker = GridWorker.objects.create(
            name=f"{c.residents[t].name}网格员", id_number=make_id_number(code6, "19850505", 100 + t),
            phone="13900000000",
            worker_type="micro", unit=micro, start_date=datetime.date(2023, 1, 1),
        )
        liaison = GridWorker.objects.create(
            name=f"{c.residents[t].name}联户长", id_number=make_id_number(code6, "19790303", 200 + t),
            phone="13900000001", worker_type="liaison", unit=grid, start_date=datetime.date(2023, 1, 1),
        )
        LiaisonHousehold.objects.create(liaison=liaison, household=c.households[t])
        c.committees.append(committee)
        c.branches.append(branch)
        c.members.append(member)
        c.wishes.append(wish)
        c.workers.append(worker)
        c.liaisons.append(liaison)


@pytest.fixture
def eager_celery():
    """Follow-up tasks run in this process right after the commit, even when a broker is configured."""
    from governance.celery import app

    # The app reads Django's settings with the CELERY_ namespace: its keys carry the prefix.
    before = app.conf.task_always_eager
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield app
    app.conf.CELERY_TASK_ALWAYS_EAGER = before


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
