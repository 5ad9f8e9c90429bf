"""Cases under concurrency (PostgreSQL): numbers never repeat or skip; of two steps at once, one wins."""

import pytest
from django.utils import timezone, translation

from governance.models import Role, User
from grid.models import CaseCategory, CaseEvent, CaseState
from grid.services import cases as svc
from tests.helpers.concurrency import refusals, run_at_once, successes
from tests.helpers.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_numbers_given_at_once_have_no_gaps_and_no_duplicates(county, clerk_a):
    category = CaseCategory.objects.get(code="sanitation-garbage")

    def report_five():
        return [
            svc.case_create(user=clerk_a, title=f"垃圾堆放{n}", description="路边垃圾", category=category,
                            grid=county.micro_grids[0]).number
            for n in range(5)
        ]

    results = run_at_once([report_five for _ in range(6)])
    numbers = sorted(number for batch in results for number in batch)
    prefix = f"{county.township_a.code[:9]}{timezone.localtime():%Y%m}"
    # The cast's case holds number 1 of this month.
    assert numbers == [f"{prefix}{n:05d}" for n in range(2, 32)]


def test_of_two_takes_at_once_exactly_one_wins(county, clerk_a):
    category = CaseCategory.objects.get(code="hazard-building")
    case = svc.case_create(user=clerk_a, title="危房", description="墙体开裂", category=category,
                           grid=county.micro_grids[0])
    staff = [User.objects.create_user(f"village_staff_{n}", role=Role.VILLAGE, home_unit=county.villages[0])
             for n in range(4)]
    svc.case_accept(case=case, user=clerk_a, triage="minor")
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])  # to the unit, nobody in particular

    results = run_at_once([lambda user=user: svc.case_take(case=case, user=user) for user in staff])
    winners, refused = successes(results), refusals(results)
    assert len(winners) == 1 and len(refused) == 3
    with translation.override("en"):
        assert all("now “Taken”: it cannot be taken" in " ".join(exc.messages) for exc in refused)
    case.refresh_from_db()
    assert case.state == CaseState.TAKEN and case.assignee == winners[0].assignee
    assert CaseEvent.objects.filter(case=case, action="take").count() == 1
