"""The standing cast's county, built for real through the services, and further units beside it.

Two counties exist so that "nobody sees another county" can be shown; township A and
township B of the first county so that every list and detail test can show that a clerk of
B sees nothing of A. The fixtures that hand them out are in tests/conftest.py.
"""

import datetime

from django.core.files.base import ContentFile
from django.utils import timezone

from governance.models import Level
from governance.services import household_create, orgunit_create, resident_create
from grid.models import (
    Case,
    CaseAttachment,
    CaseCategory,
    CaseCounter,
    CaseEvent,
    ColourDeadline,
    GridWorker,
    LiaisonHousehold,
    Mediation,
)
from grid.taxonomy import seed_taxonomy
from partybuild.kinds import seed_kinds
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    PartyMember,
    PartyOrganization,
    PartyOrganizationKind,
    PostClaim,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishEvent,
)
from tests.helpers.cases import PNG_1PX
from tests.helpers.people import make_id_number


class Chain:
    """Handles to the units of the cast's county, by role in the story."""


def build_county(code6: str, name: str, tag: str) -> Chain:
    """A county of two townships, each with a village, a grid, a micro-grid, a household and a resident,
    and one row of every roster and a case under them; ``code6`` is its division code, ``tag`` the first
    character of its names."""
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


def _add_cases(c: Chain) -> None:
    """Part 3: a dispute case in each township's micro-grid, with an event, an attachment, a mediation."""
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
    c.committees, c.branches, c.members, c.wishes, c.workers, c.liaisons = [], [], [], [], [], []
    # Seeded by a migration, but a transactional test (live server, threads) empties every table.
    seed_kinds(PartyOrganizationKind)
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


def add_village_with_grid(township, suffix: str):
    """A further village of ``township`` (code ending ``suffix``) with one grid: (village, grid)."""
    village = orgunit_create(code=f"{township.code[:9]}{suffix}", name=f"测试{suffix}村", level=Level.VILLAGE,
                             kind="village", parent=township)
    grid = orgunit_create(code=f"{village.code}001", name=f"测试{suffix}村第一网格", level=Level.GRID,
                          kind="grid_standard", parent=village)
    return village, grid
