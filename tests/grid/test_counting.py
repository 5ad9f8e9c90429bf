"""Counting what a county counts: grids, micro-grids, grid workers by type, and which grids are staffed."""

import datetime

import pytest
from django.core.management import call_command

from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month, this_month
from governance.indicators.registry import get_indicator
from governance.models import IndicatorValue, Level, OrgUnit
from governance.services import orgunit_create
from grid.models import GridWorker, WorkerType
from tests.helpers.cast import add_village_with_grid
from tests.helpers.people import make_id_number

MAY = datetime.date(2024, 5, 1)


def figure(key, unit, period=MAY):
    """(numerator, denominator) of one indicator at one unit, or None without a row."""
    row = IndicatorValue.objects.filter(period=period, key=key, org_unit=unit).first()
    return None if row is None else (int(row.numerator), None if row.denominator is None else int(row.denominator))


def add_worker(unit, worker_type, seq, start=datetime.date(2024, 1, 1), end=None):
    return GridWorker.objects.create(
        name=f"工作人员{seq}", id_number=make_id_number("513424", "19900101", 300 + seq), phone="13900000009",
        worker_type=worker_type, unit=unit, start_date=start, end_date=end,
    )


def add_micro_grid(grid, suffix):
    return orgunit_create(code=f"{grid.code}{suffix}", name=f"{grid.name}{suffix}微网格", level=Level.MICRO_GRID,
                          kind="micro_grid", parent=grid)


def test_a_county_that_staffs_only_micro_grids_shows_its_grids_staffed(county):
    """The cast's county has micro-grid workers and liaisons, but no grid worker on any grid."""
    assert not GridWorker.objects.filter(worker_type__in=[WorkerType.FULL_TIME, WorkerType.PART_TIME]).exists()
    second = add_micro_grid(county.grids[0], "02")
    add_worker(second, WorkerType.MICRO, 1)
    assert rollup_month(MAY).status == "complete"
    assert figure("grid.units_without_worker", county.county) == (0, 2)  # no grid is reported unstaffed
    assert figure("grid.grids_without_own_worker", county.county) == (2, 2)  # but none has its own worker
    assert figure("grid.grids_without_own_worker", county.township_a) == (1, 1)
    assert figure("grid.micro_grids_without_worker", county.county) == (0, 3)


def test_one_unserved_micro_grid_leaves_its_grid_unstaffed_unless_a_grid_worker_serves_it(county):
    add_micro_grid(county.grids[0], "02")  # nobody serves it
    rollup_month(MAY)
    assert figure("grid.units_without_worker", county.township_a) == (1, 1)
    assert figure("grid.units_without_worker", county.township_b) == (0, 1)
    assert figure("grid.micro_grids_without_worker", county.township_a) == (1, 2)
    # A full-time grid worker staffs the grid himself; a liaison would not.
    add_worker(county.grids[0], WorkerType.FULL_TIME, 2)
    rollup_month(MAY)
    assert figure("grid.units_without_worker", county.township_a) == (0, 1)
    assert figure("grid.grids_without_own_worker", county.county) == (1, 2)
    assert figure("grid.micro_grids_without_worker", county.township_a) == (1, 2)  # still its own gap


def test_a_grid_without_micro_grids_needs_its_own_worker(county):
    _village, bare = add_village_with_grid(county.township_b, "202")
    add_worker(bare, WorkerType.LIAISON, 3)  # a liaison serves it, no grid worker does
    rollup_month(MAY)
    assert figure("grid.units_without_worker", bare) == (1, 1)
    assert figure("grid.units_without_worker", county.township_b) == (1, 2)
    add_worker(bare, WorkerType.PART_TIME, 4)
    rollup_month(MAY)
    assert figure("grid.units_without_worker", county.township_b) == (0, 2)
    assert figure("grid.grids_without_own_worker", county.township_b) == (1, 2)


def test_grid_and_micro_grid_counts_roll_up_from_township_to_county(county):
    add_village_with_grid(county.township_a, "202")
    _village, closed = add_village_with_grid(county.township_a, "203")
    OrgUnit.objects.filter(pk=closed.pk).update(is_active=False)  # a merged grid no longer counts
    add_micro_grid(county.grids[1], "02")
    add_micro_grid(county.grids[1], "03")
    rollup_month(MAY)
    assert figure("grids", county.villages[0]) == (1, None)
    assert figure("grids", county.township_a) == (2, None)
    assert figure("grids", county.township_b) == (1, None)
    assert figure("grids", county.county) == (3, None)
    assert figure("micro_grids", county.grids[1]) == (3, None)
    assert figure("micro_grids", county.township_a) == (1, None)
    assert figure("micro_grids", county.county) == (4, None)
    assert get_indicator("grids").over == get_indicator("micro_grids").over == "stock"


def test_workers_by_type_at_month_end_roll_up_from_township_to_county(county):
    add_worker(county.grids[0], WorkerType.FULL_TIME, 5)
    add_worker(county.grids[1], WorkerType.FULL_TIME, 6, start=datetime.date(2024, 5, 20))  # joined in May
    add_worker(county.grids[1], WorkerType.PART_TIME, 7, end=datetime.date(2024, 5, 10))  # left in May
    add_worker(county.grids[1], WorkerType.PART_TIME, 8, start=datetime.date(2024, 6, 1))  # not yet
    rollup_month(MAY)

    def by_type(unit):
        return {value: (figure(f"grid.workers.{value}", unit) or (0, None))[0] for value in WorkerType.values}

    assert by_type(county.township_a) == {"full_time": 1, "part_time": 0, "micro": 1, "liaison": 1,
                                          "building_head": 0, "unit_head": 0}
    assert by_type(county.township_b) == {"full_time": 1, "part_time": 0, "micro": 1, "liaison": 1,
                                          "building_head": 0, "unit_head": 0}
    assert by_type(county.county) == {"full_time": 2, "part_time": 0, "micro": 2, "liaison": 2,
                                      "building_head": 0, "unit_head": 0}
    # At the end of April the part-time worker still served and the May recruit had not come.
    rollup_month(datetime.date(2024, 4, 1))
    assert figure("grid.workers.part_time", county.county, datetime.date(2024, 4, 1)) == (1, None)
    assert figure("grid.workers.full_time", county.county, datetime.date(2024, 4, 1)) == (1, None)


@pytest.mark.parametrize("key", ["grids", "micro_grids", "grid.units_without_worker", "grid.grids_without_own_worker",
                                 *[f"grid.workers.{value}" for value in WorkerType.values]])
def test_the_new_counts_are_verified_against_plain_counts(key):
    assert get_indicator(key).check is not None


def test_verify_finds_the_new_counts_equal_to_plain_counts(county, capsys):
    add_micro_grid(county.grids[0], "02")
    add_worker(county.grids[1], WorkerType.FULL_TIME, 9)
    call_command("rollup_indicators", month="2024-05", verify=True, no_progress=True)
    assert "0 mismatches" in capsys.readouterr().out


def test_the_dashboard_panel_shows_both_coverage_figures(login, county_official, county):
    for month in (shift_month(this_month(), -1), this_month()):
        rollup_month(month)
    page = login(county_official).get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    panel = page[page.index('id="panel-grid-coverage"'):]
    panel = panel[:panel.index("</section>")]
    assert "网格数" in panel and 'data-value="units">2<' in panel
    assert "网格员未覆盖的网格" in panel and "<span>0</span>" in panel
    assert "无专属网格员的网格" in panel and "?level=grid\">2</a>" in panel
    assert "微网格员" in panel and "专职网格员" not in panel  # only the types the county has
