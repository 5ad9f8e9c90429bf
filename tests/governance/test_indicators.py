"""The monthly indicator rollup: hand-checked numbers on the cast's county, sum/sum ratios,
idempotency, partial failure, and a query count that does not grow with the tree."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.indicators.engine import rollup_month
from governance.indicators.months import month_start, this_month
from governance.indicators.registry import Indicator, all_indicators, get_indicator, register, unregister
from governance.models import IndicatorValue, OrgUnit, RollupRun
from tests.helpers.cases import add_case
from tests.helpers.cast import add_village_with_grid
from tests.helpers.indicators import MAY, at, number, snapshot


def values(period, key):
    """{unit code: (numerator, denominator, value)} of one indicator."""
    return {
        v.org_unit.code: (v.numerator, v.denominator, v.value)
        for v in IndicatorValue.objects.filter(period=period, key=key).select_related("org_unit")
    }


def test_stock_counts_add_up_from_micro_grid_to_county(county):
    period = this_month()
    run = rollup_month(period)
    assert run.status == "complete", run.errors
    micro, grid, village, township = county.micro_grids[0], county.grids[0], county.villages[0], county.township_a
    for key in ("households", "residents", "grid.cases_raised", "grid.cases_green"):
        # One of each in each township's micro-grid (tests/conftest.py), counted at every level above it.
        assert [number(period, key, unit) for unit in (micro, grid, village, township, county.county)] == [
            1, 1, 1, 1, 2
        ], key
    # Members and wishes hang on the village (the branch's unit, the wish's community): none below it.
    assert [number(period, "partybuild.members", unit) for unit in (grid, village, township, county.county)] == [
        0, 1, 1, 2
    ]
    assert number(period, "partybuild.wishes_posted", county.county) == 2
    # Two workers per township (a micro-grid worker and a liaison), none a party member.
    assert values(period, "grid.worker_party_share")[county.county.code] == (Decimal(0), Decimal(4), Decimal(0))
    assert values(period, "grid.worker_party_share")[grid.code] == (Decimal(0), Decimal(2), Decimal(0))


def test_case_indicators_of_a_past_month(county):
    grid_a, micro_a, grid_b = county.grids[0], county.micro_grids[0], county.grids[1]
    # Resolved 10 h after report and closed in May; red.
    add_case(grid_a, reported_at=at(3), colour="red", accepted_at=at(3, 11), resolved_at=at(3, 20),
             closed_at=at(4), state="closed")
    # Resolved 30 h after report in May, not closed; yellow.
    add_case(micro_a, reported_at=at(10), colour="yellow", accepted_at=at(10, 12),
             resolved_at=at(11, 16), state="resolved")
    # Overdue: dispatched with a deadline in May, still open.
    add_case(grid_b, reported_at=at(20), accepted_at=at(20, 12), state="dispatched", due_at=at(21))
    # April's case closed in May: closed in May, not raised in it.
    add_case(grid_b, reported_at=timezone.make_aware(datetime.datetime(2024, 4, 28)), closed_at=at(2),
             state="closed")
    run = rollup_month(MAY)
    assert run.status == "complete", run.errors

    def at_levels(key):
        return [number(MAY, key, unit) for unit in (micro_a, grid_a, county.township_a, county.township_b,
                                                   county.county)]

    assert at_levels("grid.cases_raised") == [1, 2, 2, 1, 3]
    assert at_levels("grid.cases_accepted") == [1, 2, 2, 1, 3]
    assert at_levels("grid.cases_resolved") == [1, 2, 2, 0, 2]
    assert at_levels("grid.cases_closed") == [0, 1, 1, 1, 2]
    assert at_levels("grid.cases_overdue") == [0, 0, 0, 1, 1]
    assert at_levels("grid.cases_red") == [0, 1, 1, 0, 1]
    assert at_levels("grid.cases_yellow") == [1, 1, 1, 0, 1]
    assert at_levels("grid.cases_green") == [0, 0, 0, 1, 1]
    # Closure rate: of May's cases, those closed by the month's end.
    assert values(MAY, "grid.closure_rate")[county.county.code] == (Decimal(1), Decimal(3), Decimal("0.333333"))
    # Medians are taken per unit over its own subtree's cases, not summed.
    medians = values(MAY, "grid.median_hours_to_resolve")
    assert medians[micro_a.code] == (Decimal(1), None, Decimal(30))
    assert medians[grid_a.code] == (Decimal(2), None, Decimal(20))
    assert medians[county.county.code] == (Decimal(2), None, Decimal(20))
    assert grid_b.code not in medians
    # The fixture's cases are reported today: nothing of this month leaks into May.
    assert IndicatorValue.objects.filter(period=MAY, key="households", numerator__gt=0).count() == 0


def test_volunteer_hours_are_summed(county):
    april = datetime.date(2024, 4, 1)
    assert rollup_month(april).status == "complete"
    # One 2-hour service per township on 1 April 2024 (tests/conftest.py).
    assert number(april, "partybuild.volunteer_hours", county.county) == Decimal(4)
    assert number(april, "partybuild.volunteer_hours", county.township_a) == Decimal(2)
    assert number(april, "partybuild.volunteer_services", county.county) == 2
    assert number(april, "partybuild.volunteer_services", county.township_b) == 1
    assert number(MAY, "partybuild.volunteer_hours", county.county) == 0


def test_wishes_completed_count_in_the_month_they_are_done(county):
    """A wish posted in March and done in May counts as posted in March and completed in May."""
    from partybuild.models import Wish

    march, may_day = datetime.date(2024, 3, 1), timezone.make_aware(datetime.datetime(2024, 5, 20, 10))
    wish = county.wishes[0]
    Wish.objects.filter(pk=wish.pk).update(
        posted_at=timezone.make_aware(datetime.datetime(2024, 3, 3, 9)), done_at=may_day)
    for period in (march, MAY):
        assert rollup_month(period).status == "complete"
    assert number(march, "partybuild.wishes_posted", county.township_a) == 1
    assert number(march, "partybuild.wishes_completed", county.township_a) == 0
    assert number(MAY, "partybuild.wishes_posted", county.township_a) == 0
    assert number(MAY, "partybuild.wishes_completed", county.township_a) == 1
    assert number(MAY, "partybuild.wishes_completed", county.county) == 1


def test_a_zero_is_not_stored_but_a_rate_of_nothing_yet_is(county):
    """No row counts nothing: a count of 0 and a ratio of 0 out of 0 are left out (the dashboards read
    a missing row as zero), while a rate of 0 out of 1 is a figure and is stored."""
    grid, micro = county.grids[0], county.micro_grids[0]
    add_case(micro, reported_at=at(10), colour="yellow")  # raised in May, not closed, not red
    rollup_month(MAY)
    nothing = IndicatorValue.objects.filter(period=MAY, numerator=0).filter(
        Q(denominator=0) | Q(denominator__isnull=True))
    assert not nothing.exists(), list(nothing.values_list("org_unit__code", "key")[:5])
    assert number(MAY, "grid.cases_yellow", grid) == 1
    assert not IndicatorValue.objects.filter(period=MAY, key="grid.cases_red", org_unit=grid).exists()
    # Of the one case raised, none closed in the month: a rate of 0 / 1, kept.
    assert values(MAY, "grid.closure_rate")[grid.code] == (Decimal(0), Decimal(1), Decimal(0))
    # Nothing was resolved in May: the on-time rate has nothing to divide, no row.
    assert grid.code not in values(MAY, "grid.on_time_rate")


def test_a_ratio_is_rolled_up_as_sum_over_sum(county):
    township = county.township_a
    _village, small = add_village_with_grid(township, "202")
    _village, large = add_village_with_grid(township, "203")
    add_case(small, reported_at=at(5), closed_at=at(6), state="closed")
    for i in range(100):
        closed = {"closed_at": at(6), "state": "closed"} if i < 99 else {}
        add_case(large, reported_at=at(5), **closed)
    rollup_month(MAY, org=township)
    rates = values(MAY, "grid.closure_rate")
    assert rates[small.code] == (Decimal(1), Decimal(1), Decimal(1))
    assert rates[large.code] == (Decimal(99), Decimal(100), Decimal("0.99"))
    # 100/101 = 0.990099, not the mean of the two rates (0.995).
    assert rates[township.code] == (Decimal(100), Decimal(101), Decimal("0.990099"))
    # A run for township A writes nothing outside its subtree.
    assert county.township_b.code not in rates and county.county.code not in rates


def test_running_twice_leaves_identical_rows(county):
    add_case(county.grids[0], reported_at=at(3), resolved_at=at(4), closed_at=at(5), state="closed")
    rollup_month(MAY)
    first = snapshot(MAY)
    assert first
    rollup_month(MAY)
    assert snapshot(MAY) == first
    # A change in the data replaces the old rows, without duplicates.
    add_case(county.grids[1], reported_at=at(3))
    rollup_month(MAY)
    assert number(MAY, "grid.cases_raised", county.county) == 2
    assert len(snapshot(MAY)) >= len(first)


def test_a_failing_indicator_marks_the_run_partial(county):
    def broken(start, end, units):
        raise RuntimeError("the source table is missing")

    rollup_month(MAY)
    before = number(MAY, "households", county.county), snapshot(MAY)
    register(Indicator(key="test.broken", label="broken", unit="", leaf=broken, over="flow"))
    try:
        run = rollup_month(MAY)
    finally:
        unregister("test.broken")
    run.refresh_from_db()
    assert run.status == "partial"
    assert run.finished_at is not None and run.duration_s is not None
    [error] = run.errors
    assert error["keys"] == ["test.broken"] and "the source table is missing" in error["error"]
    assert run.parts[error["part"]]["status"] == "failed"
    assert sum(part["status"] == "ok" for part in run.parts.values()) >= 5
    # The other indicators were written as usual.
    assert (number(MAY, "households", county.county), snapshot(MAY)) == before


def test_query_count_does_not_grow_with_the_tree(county):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            run = rollup_month(MAY)
        assert run.status == "complete", run.errors
        return len(captured)

    add_case(county.grids[0], reported_at=at(3), resolved_at=at(4))
    small = queries()
    for township in county.townships:
        for v in range(4):
            _village, grid = add_village_with_grid(township, f"{300 + v}")
            add_case(grid, reported_at=at(3 + v), resolved_at=at(10 + v), closed_at=at(12 + v), state="closed")
    assert OrgUnit.objects.count() == 9 + 16
    assert queries() == small
    # A savepoint, a delete and one INSERT ... SELECT per family, whatever the tree's size.
    families = {i.leaf for i in all_indicators() if i.leaf} | {i.key for i in all_indicators() if not i.leaf}
    assert small <= 5 * len(families) + 5


def test_command_runs_and_verifies_a_township(county, capsys):
    period = this_month()
    call_command("rollup_indicators", month=f"{period:%Y-%m}", verify=True)
    out = capsys.readouterr().out
    assert "complete" in out and "0 mismatches" in out
    call_command("rollup_indicators", month=f"{period:%Y-%m}", org=county.township_b.code, verify=True)
    assert f"verify {county.township_b.code}" in capsys.readouterr().out


def test_verify_reports_a_mismatch(county):
    wrong = get_indicator("households")

    def doubled(start, end, units):
        from django.db.models import Count, F

        from governance.models import Household

        return Household.objects.filter(grid__in=units).values(node=F("grid")).annotate(n=Count("pk") * 2)

    register(Indicator(key="households", label="households", unit="", leaf=doubled, check=wrong.check, over="stock"))
    try:
        with pytest.raises(CommandError, match="mismatches"):
            call_command("rollup_indicators", month=f"{timezone.localdate():%Y-%m}", verify=True)
    finally:
        register(wrong)


def test_indicator_rows_and_runs_are_scoped(county, clerk_a, clerk_b, county_official):
    period = this_month()
    for township in county.townships:
        rollup_month(period, org=township)
    for model in (IndicatorValue, RollupRun):
        seen_a = set(model.objects.visible_to(clerk_a).values_list("pk", flat=True))
        seen_b = set(model.objects.visible_to(clerk_b).values_list("pk", flat=True))
        assert seen_a and seen_b and not seen_a & seen_b
        assert seen_a | seen_b <= set(model.objects.visible_to(county_official).values_list("pk", flat=True))


def test_units_of_the_level_below_and_households_per_grid(county):
    period = this_month()
    township = county.township_a
    add_village_with_grid(township, "202")  # a second village in A, with a grid and no household
    assert rollup_month(period).status == "complete"
    # Each unit's own active children, not its subtree.
    children = values(period, "child_units")
    assert {code: n for code, (n, _d, _v) in children.items()} == {
        county.county.code: 2, township.code: 2, county.township_b.code: 1,
        county.villages[0].code: 1, county.villages[1].code: 1, f"{township.code[:9]}202": 1,
        county.grids[0].code: 1, county.grids[1].code: 1,
    }
    # One household in each township's micro-grid; grids: A has 2, B has 1 (micro-grids are not grids).
    ratio = values(period, "households_per_grid")
    assert ratio[county.micro_grids[0].code] == (Decimal(1), Decimal(0), None)
    assert ratio[county.grids[0].code] == (Decimal(1), Decimal(1), Decimal(1))
    assert ratio[township.code] == (Decimal(1), Decimal(2), Decimal("0.5"))
    assert ratio[county.county.code] == (Decimal(2), Decimal(3), Decimal("0.666667"))
    # An inactive grid is not counted.
    OrgUnit.objects.filter(code=f"{township.code[:9]}202001").update(is_active=False)
    OrgUnit.objects.filter(code=f"{township.code[:9]}202").update(is_active=False)
    rollup_month(period)
    assert values(period, "households_per_grid")[township.code] == (Decimal(1), Decimal(1), Decimal(1))
    assert values(period, "child_units")[township.code][0] == 1


def test_on_time_triage_and_satisfaction(county):
    from grid.models import CaseEvent

    grid_a, micro_a, grid_b = county.grids[0], county.micro_grids[0], county.grids[1]
    on_time = add_case(grid_a, reported_at=at(3), triage="major", due_at=at(5), resolved_at=at(4),
                       rating="satisfied", state="rated")
    late = add_case(micro_a, reported_at=at(3), triage="minor", due_at=at(5), resolved_at=at(6),
                    rating="basic", state="rated")
    no_deadline = add_case(grid_b, reported_at=at(3), triage="private", resolved_at=at(7),
                           rating="dissatisfied", state="rated")
    april = add_case(grid_b, reported_at=timezone.make_aware(datetime.datetime(2024, 4, 20)), triage="major",
                     rating="satisfied", state="rated")
    for case, day in ((on_time, 8), (late, 9), (no_deadline, 9), (no_deadline, 12)):  # rated twice: counts once
        CaseEvent.objects.create(case=case, action="rate", to_state="rated", at=at(day))
    CaseEvent.objects.create(case=april, action="rate", to_state="rated",
                             at=timezone.make_aware(datetime.datetime(2024, 4, 25)))
    assert rollup_month(MAY).status == "complete"

    def at_levels(key):
        return [number(MAY, key, unit) for unit in (county.township_a, county.township_b, county.county)]

    assert at_levels("grid.cases_major") == [1, 0, 1]
    assert at_levels("grid.cases_minor") == [1, 0, 1]
    assert at_levels("grid.cases_private") == [0, 1, 1]
    # Resolved by the deadline (or without one) over resolved in May.
    on_time_rates = values(MAY, "grid.on_time_rate")
    assert on_time_rates[county.township_a.code] == (Decimal(1), Decimal(2), Decimal("0.5"))
    assert on_time_rates[county.township_b.code] == (Decimal(1), Decimal(1), Decimal(1))
    assert on_time_rates[county.county.code] == (Decimal(2), Decimal(3), Decimal("0.666667"))
    # Satisfied or basically satisfied over rated in May; April's rating is April's.
    satisfaction = values(MAY, "grid.satisfaction_rate")
    assert satisfaction[micro_a.code] == (Decimal(1), Decimal(1), Decimal(1))
    assert satisfaction[county.township_a.code] == (Decimal(2), Decimal(2), Decimal(1))
    assert satisfaction[county.township_b.code] == (Decimal(0), Decimal(1), Decimal(0))
    assert satisfaction[county.county.code] == (Decimal(2), Decimal(3), Decimal("0.666667"))


def test_grids_and_micro_grids_without_a_worker(county):
    """A grid is staffed by its own grid worker or by micro-grid workers in all its micro-grids; the
    cast's grids have only a liaison of their own, so none has its own grid worker."""
    from grid.models import GridWorker

    add_village_with_grid(county.township_a, "202")  # a new grid, nobody serves it
    # B's micro-grid worker left on 15 May: at the end of May nobody serves that micro-grid.
    GridWorker.objects.filter(pk=county.workers[1].pk).update(end_date=datetime.date(2024, 5, 15))
    rollup_month(MAY)
    unstaffed = values(MAY, "grid.units_without_worker")
    assert unstaffed[county.grids[0].code] == (Decimal(0), Decimal(1), Decimal(0))  # its micro-grid is served
    assert unstaffed[f"{county.township_a.code[:9]}202001"] == (Decimal(1), Decimal(1), Decimal(1))
    assert unstaffed[county.township_a.code] == (Decimal(1), Decimal(2), Decimal(1))
    assert unstaffed[county.grids[1].code] == (Decimal(1), Decimal(1), Decimal(1))
    assert unstaffed[county.county.code] == (Decimal(2), Decimal(3), Decimal(2))
    assert values(MAY, "grid.grids_without_own_worker")[county.county.code][0] == 3
    micro = values(MAY, "grid.micro_grids_without_worker")
    assert micro[county.micro_grids[1].code] == (Decimal(1), Decimal(1), Decimal(1))
    assert micro[county.county.code] == (Decimal(1), Decimal(2), Decimal(1))
    # At the end of April she still served.
    april = datetime.date(2024, 4, 1)
    rollup_month(april)
    assert values(april, "grid.units_without_worker")[county.township_b.code][0] == 0


def test_registrations_and_points(county):
    from partybuild.models import MemberRegistration, ServiceRecord

    # B's member left his community on 10 April; one 2-hour service of 5 points in A on 1 April.
    MemberRegistration.objects.filter(member=county.members[1]).update(status="ended",
                                                                       ended_on=datetime.date(2024, 4, 10))
    ServiceRecord.objects.create(member=county.members[0], community=county.villages[0], date=datetime.date(2024, 4, 1),
                                 start_time=datetime.time(14), end_time=datetime.time(16), hours=2, kind="patrol",
                                 points=5)
    months = [datetime.date(2024, m, 1) for m in (2, 3, 4, 5)]
    for month in months:
        assert rollup_month(month).status == "complete"
    # Registered on 5 March (members) and 1 March (units), counted at each month's end.
    assert [number(m, "partybuild.members_registered", county.county) for m in months] == [0, 2, 1, 1]
    assert [number(m, "partybuild.members_registered", county.villages[0]) for m in months] == [0, 1, 1, 1]
    assert [number(m, "partybuild.units_registered", county.county) for m in months] == [0, 2, 2, 2]
    assert [number(m, "partybuild.points", county.county) for m in months] == [0, 0, 5, 0]
    assert number(months[2], "partybuild.points", county.township_a) == 5


def test_command_draws_a_progress_bar_and_refuses_a_locked_month(county, capsys):
    from governance.models import MonthApproval

    call_command("rollup_indicators", month="2024-05")
    err = capsys.readouterr().err
    families = {i.leaf for i in all_indicators() if i.leaf} | {i.key for i in all_indicators() if not i.leaf}
    assert f"{len(families)}/{len(families)}" in err and "[" + "#" * 30 + "]" in err
    MonthApproval.objects.create(period=MAY, locked=True)
    with pytest.raises(CommandError, match="locked"):
        call_command("rollup_indicators", month="2024-05", no_progress=True)
    call_command("rollup_indicators", month="2024-05", force=True, no_progress=True)
    assert "complete" in capsys.readouterr().out


def test_cases_by_top_category_count_their_sub_categories(county, clerk_a):
    """The dashboard's category chart: a case under 邻里纠纷 counts for 矛盾纠纷."""
    from governance.models import IndicatorValue
    from grid.models import CaseCategory
    from grid.services.cases import case_create

    period = month_start(datetime.date.today())
    rollup_month(period)

    def counts():
        return {row.key: int(row.numerator) for row in IndicatorValue.objects.filter(
            org_unit=county.county, period=period, key__startswith="grid.cases_category.")}

    base = counts()
    for code in ("dispute-neighbour", "dispute-neighbour", "hazard-building"):
        case_create(user=clerk_a, title="事件", description="描述", category=CaseCategory.objects.get(code=code),
                    grid=county.micro_grids[0])
    rollup_month(period)
    value = counts()
    assert value["grid.cases_category.dispute"] == base.get("grid.cases_category.dispute", 0) + 2
    assert value["grid.cases_category.hazard"] == base.get("grid.cases_category.hazard", 0) + 1
