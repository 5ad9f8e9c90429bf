"""The tree under concurrent writers, and the subtree index, on real PostgreSQL."""

import pytest
from django.core.management import call_command
from django.db import connection

from governance.models import Household, Level, OrgUnit
from governance.services import orgunit_create, orgunit_move
from governance.tree_check import tree_violations
from tests.helpers.concurrency import refusals, run_at_once
from tests.helpers.markers import requires_postgres

pytestmark = requires_postgres


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_and_moves_leave_a_valid_tree(county):
    villages = [OrgUnit.objects.get(pk=v.pk) for v in county.villages]

    def create_counties(worker):
        def job():
            for i in range(5):
                orgunit_create(
                    code=f"51{40 + worker}{10 + i:02d}000000",
                    name=f"县{worker}-{i}",
                    level=Level.COUNTY,
                    kind="county",
                )
        return job

    def create_grids(worker):
        def job():
            for i in range(8):
                village = villages[(worker + i) % 2]
                orgunit_create(
                    code=f"{village.code}{worker}{i:02d}",
                    name=f"网格{worker}-{i}",
                    level=Level.GRID,
                    kind="grid_standard",
                    parent=village,
                )
        return job

    def move_grid_back_and_forth():
        grid = OrgUnit.objects.get(pk=county.grids[0].pk)
        for i in range(8):
            target = villages[(i + 1) % 2]
            grid = orgunit_move(unit=grid, new_parent=target, new_code=f"{target.code}9{i:02d}")

    outcomes = run_at_once(
        [create_counties(0), create_counties(1), create_grids(2), create_grids(3), move_grid_back_and_forth]
    )
    assert not refusals(outcomes), refusals(outcomes)

    assert tree_violations() == []
    call_command("check_tree")  # raises CommandError on any violation
    roots = OrgUnit.objects.filter(parent__isnull=True)
    assert roots.count() == 1 + 10
    assert roots.values("tree_id").distinct().count() == roots.count()  # no duplicate tree_id
    assert OrgUnit.objects.filter(level=Level.GRID).count() == 2 + 16


def test_subtree_queries_use_the_tree_id_lft_index(county, clerk_a):
    """With one county root tree_id splits nothing: the range on lft must use the index.

    The cast is tiny, and on a tiny table the planner's choice between indexes is a coin
    toss. So give the table a county's worth of other rows (raw rows in trees of their
    own: the planner needs numbers, not a valid tree) and fresh statistics.
    """
    OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"9{i:05d}000000", name=f"填充{i}", level=Level.COUNTY, kind="county",
            tree_id=1000 + i // 50, lft=1 + 2 * (i % 50), rght=2 + 2 * (i % 50), mptt_level=0,
        )
        for i in range(20000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE governance_orgunit")
        cursor.execute("ANALYZE governance_household")
    for queryset in (Household.objects.visible_to(clerk_a), OrgUnit.objects.visible_to(clerk_a)):
        plan = queryset.explain()
        assert "governance_orgunit_tree_idbff7" in plan, plan
