"""A run split into shards of townships sized by work writes what one computation of the whole tree does."""

import pytest

from governance.indicators.dashboard.scope import rollup_progress
from governance.indicators.engine import compute_month, shard_ends
from governance.indicators.runs import start_rollup, township_shards
from governance.indicators.tasks import rollup_part
from governance.models import IndicatorValue, Level, OrgUnit, PeriodValue, RollupRun
from governance.services import orgunit_create
from tests.helpers.cases import add_case
from tests.helpers.indicators import MAY, at, snapshot


@pytest.fixture(autouse=True)
def in_process(eager_celery):
    return eager_celery


def period_snapshot():
    return sorted(PeriodValue.objects.values_list("org_unit_id", "key", "first", "last", "numerator", "value"))


def _township(county, number: int, name: str):
    """A township of ``county`` with a village and a grid (with one case in May); the grid."""
    township = orgunit_create(code=f"{county.code[:6]}{number:03d}000", name=name, level=Level.TOWNSHIP,
                              kind="town", parent=county)
    village = orgunit_create(code=f"{township.code[:9]}201", name=f"{name}一村", level=Level.VILLAGE,
                             kind="village", parent=township)
    grid = orgunit_create(code=f"{village.code}001", name=f"{name}一村第一网格", level=Level.GRID,
                          kind="grid_standard", parent=village)
    add_case(grid, reported_at=at(3 + number % 7), resolved_at=at(12), state="resolved", colour="yellow")
    return township


@pytest.fixture
def city(county):
    """A city of two counties (three townships, then two), beside the cast's county, with May's cases."""
    add_case(county.grids[0], reported_at=at(3), resolved_at=at(4, 9), closed_at=at(5), state="closed")
    add_case(county.micro_grids[1], reported_at=at(6), resolved_at=at(9), state="resolved")
    city = orgunit_create(code="513400000000", name="凉山州", level=Level.CITY, kind="city")
    west = orgunit_create(code="513401000000", name="西昌市", level=Level.COUNTY, kind="county", parent=city)
    east = orgunit_create(code="513402000000", name="木里县", level=Level.COUNTY, kind="county", parent=city)
    towns = [_township(west, n, name) for n, name in ((101, "甲镇"), (102, "乙镇"), (103, "丙镇"))]
    towns += [_township(east, n, name) for n, name in ((101, "丁镇"), (102, "戊镇"))]
    return {"city": city, "west": west, "east": east, "towns": towns}


def test_shards_are_consecutive_townships_of_one_tree_sized_by_their_subtrees():
    townships = [("a", 1, 2, 41), ("b", 1, 42, 45), ("c", 1, 46, 49), ("d", 1, 50, 89), ("e", 2, 2, 5)]
    # Each township goes where the middle of its weight falls: a and b weigh 44 of the 92, c and d 44 more.
    assert township_shards(townships, 2) == [("a", "b", 2), ("c", "d", 2), ("e", "e", 1)]
    assert township_shards(townships, 1) == [("a", "d", 4), ("e", "e", 1)]
    assert township_shards(townships, 99) == [(code, code, 1) for code, *_range in townships]
    assert township_shards([], 4) == []


def test_a_run_in_shards_writes_the_same_rows_as_one_computation(city, settings):
    assert not compute_month(MAY).failed
    expected, expected_periods = snapshot(MAY), period_snapshot()
    IndicatorValue.objects.all().delete()
    PeriodValue.objects.all().delete()

    settings.ROLLUP_PARTS = 2
    run = RollupRun.objects.get(pk=start_rollup(MAY))
    assert run.status == "complete", run.errors
    shards = [name for name in run.parts if name != "upper"]
    assert all(part["status"] == "ok" for part in run.parts.values())
    # The city's five townships are cut in two by their subtrees' sizes, the first shard crossing from
    # 西昌市 into 木里县; the cast's county is a tree of its own, hence a shard of its own.
    west, east = {town.code for town in city["towns"][:3]}, {town.code for town in city["towns"][3:]}
    assert any(shard_ends(name)[0] in west and shard_ends(name)[1] in east for name in shards)
    assert sum(run.parts[name]["townships"] for name in shards) == 7
    assert snapshot(MAY) == expected
    assert period_snapshot() == expected_periods

    labels = [part["name"] for part in rollup_progress(run)["parts"]]
    assert labels == ["第1部分：甲镇 … 丁镇（4 个乡镇）", "戊镇", "第3部分：德A镇 … 德B镇（2 个乡镇）", "县级和市级"]


def test_a_shard_leaves_the_county_inside_its_range_to_the_upper_levels(city):
    west, east = city["west"], city["east"]
    first, last = city["towns"][1], city["towns"][3]  # 乙镇 of 西昌市 through 丁镇 of 木里县
    east.refresh_from_db()
    first.refresh_from_db()
    last.refresh_from_db()
    assert first.lft < east.lft < last.lft  # 木里县's own lft lies inside the shard's range

    assert not compute_month(MAY, first, through=last).failed
    written = set(IndicatorValue.objects.filter(period=MAY).values_list("org_unit_id", flat=True))
    inside = set(OrgUnit.objects.filter(tree_id=first.tree_id, lft__gte=first.lft, lft__lte=last.rght)
                 .exclude(level__in=[Level.CITY, Level.COUNTY]).values_list("pk", flat=True))
    assert written and written <= inside
    assert {city["towns"][1].pk, city["towns"][2].pk, city["towns"][3].pk} <= written
    assert not written & {east.pk, west.pk, city["city"].pk, city["towns"][0].pk, city["towns"][4].pk}


def test_a_part_named_by_its_ends_computes_its_shard(city, settings):
    settings.ROLLUP_PARTS = 1
    city["city"].refresh_from_db()
    run = RollupRun.objects.get(pk=start_rollup(MAY, city["city"]))
    name = f"{city['towns'][0].code}..{city['towns'][4].code}"
    assert set(run.parts) == {name, "upper"} and run.status == "complete", run.errors
    assert run.parts[name] == {**run.parts[name], "number": 1, "townships": 5, "attempts": 1}
    # A redelivered part of a finished run does nothing.
    assert rollup_part.delay(run.pk, MAY.isoformat(), name).get() == "skipped"
