"""More rows in both cast townships, for the tests that show a list's query count does not grow with them."""

import datetime

from governance.models import Household, Level, Tag
from governance.services import household_create, orgunit_create, resident_create
from grid.models import GridWorker, LiaisonHousehold, Post, WorkerType
from grid.services.workers import gridworker_create
from partybuild.models import CentralHousehold, ServiceRecord, UnitRegistration
from partybuild.services import member_registration_create, wish_post
from tests.helpers.people import make_id_number, new_member, operator


def grow_residents(county, n: int) -> None:
    """``n`` more grids, each with a tagged household of one tagged resident."""
    tag = Tag.objects.get_or_create(code="alone", name="独居老人", applies_to=Tag.AppliesTo.RESIDENT)[0]
    htag = Tag.objects.get_or_create(code="rent", name="出租户", applies_to=Tag.AppliesTo.HOUSEHOLD)[0]
    start = Household.objects.count()
    for i in range(start, start + n):
        index = i % 2
        grid = orgunit_create(
            code=f"{county.villages[index].code}{200 + i:03d}",
            name=f"网格{i}",
            level=Level.GRID,
            kind="grid_standard",
            parent=county.villages[index],
        )
        household = household_create(number=f"H{i:05d}", address=f"地址{i}", grid=grid, tags=[htag])
        resident_create(
            household=household,
            name=f"居民{i}",
            id_number=make_id_number("513424", "19900101", i),
            phone="13800000000",
            tags=[tag],
        )


def grow_grid_workers(county, n: int) -> None:
    """``n`` more micro-grid workers (every second one backed up by the cast's) and ``n`` more
    households of the cast's liaisons."""
    for i in range(n):
        t = i % 2
        micro = county.micro_grids[t]
        worker = gridworker_create(
            name=f"员{i}",
            id_number=make_id_number("513424", "19950101", 100 + i),
            phone="13800000000",
            worker_type=WorkerType.MICRO,
            unit=micro,
            start_date=datetime.date(2024, 1, 1),
            post=Post.A,
        )
        household = household_create(number=f"{micro.code}{500 + i:04d}", address=f"{i}号", grid=micro)
        LiaisonHousehold.objects.create(liaison=county.liaisons[t], household=household)
        if i % 2:
            GridWorker.objects.filter(pk=worker.pk).update(backup=county.workers[t])


def grow_party_rows(county, n: int) -> None:
    """``n`` more of every party-building row: members, wishes, services, central households,
    unit registrations with an offer, member registrations."""
    for i in range(n):
        index = i % 2
        member = new_member(county, index)
        wish = wish_post(user=operator(), community=county.villages[index], title=f"心愿{i}", category="other",
                         household=county.households[index])
        ServiceRecord.objects.create(
            member=member, community=county.villages[index], date=datetime.date(2025, 1, 1),
            start_time=datetime.time(9), end_time=datetime.time(10), hours=1, kind="patrol", wish=wish,
        )
        CentralHousehold.objects.filter(household=county.households[index]).update(member=member)
        UnitRegistration.objects.create(
            unit_name=f"单位{i}", party_organization="党支部", community=county.villages[index],
            registered_on=datetime.date(2025, 1, 1),
        ).offers.create(kind="need", description="x")
        member_registration_create(user=operator(), member=member, community=county.villages[index],
                                   registered_on=datetime.date(2025, 1, 1), posts=["policy"])
