"""The workbench's village-affairs panel: what the village's decisions and contracts wait for."""

import re

import pytest

from collective_economy.models import Contract, Decision, DecisionState
from tests.helpers.registers import add_registers

pytestmark = pytest.mark.django_db


def tiles(response) -> dict[str, str]:
    return dict(re.findall(r'<span data-count="(\w+)">([\d,]+)</span>', response.content.decode()))


def test_a_village_sees_its_decisions_under_way_and_its_overdue_payments(staff, county, village_a, admin_user):
    add_registers(county.villages, admin_user)  # a decision proposed and a payment overdue in each village
    Contract.objects.filter(village=county.villages[0]).update(is_regular=False)
    Decision.objects.filter(village=county.villages[0]).update(state=DecisionState.RESOLUTION)
    counts = tiles(staff(village_a).get("/"))
    assert counts == {**counts, "decisions_under_way": "0", "decisions_to_publish": "1", "overdue_payments": "1",
                      "irregular_contracts": "1"}


def test_a_township_counts_only_its_own_villages(staff, county, clerk_b, admin_user):
    add_registers(county.villages, admin_user)
    Contract.objects.filter(village=county.villages[0]).update(is_regular=False)
    counts = tiles(staff(clerk_b).get("/"))
    # Township B's village has its own proposal and overdue payment; A's irregular contract is not B's.
    assert counts["decisions_under_way"] == "1" and counts["overdue_payments"] == "1"
    assert counts["irregular_contracts"] == "0"


def test_a_grid_worker_has_no_village_affairs_panel(staff, county, grid_worker_a, admin_user):
    add_registers(county.villages, admin_user)
    assert 'id="workbench-affairs"' not in staff(grid_worker_a).get("/").content.decode()
