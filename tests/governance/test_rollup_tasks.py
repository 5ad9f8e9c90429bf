"""The rollup split per township as a Celery chord, its schedule and lock, and month approval."""

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from governance.indicators import engine, tasks
from governance.indicators.approval import month_approve, month_reopen
from governance.indicators.engine import approval_changes, rollup_month
from governance.indicators.registry import Indicator, register, unregister
from governance.indicators.tasks import check_approved_months, rollup_finish, rollup_month_task, rollup_scheduled
from governance.models import IndicatorValue, MonthApproval, PeriodValue, RollupRun
from governance.services import resident_create
from tests.helpers.cases import add_case
from tests.helpers.cast import add_village_with_grid
from tests.helpers.indicators import MAY, at, number, snapshot
from tests.helpers.markers import requires_postgres, requires_redis
from tests.helpers.people import make_id_number


@pytest.fixture(autouse=True)
def in_process(request):
    """Every test runs the chord in this process, but the one with a real worker."""
    if "celery_worker_process" in request.fixturenames:
        yield
    else:
        yield request.getfixturevalue("eager_celery")


def run_of(run_id) -> RollupRun:
    return RollupRun.objects.get(pk=run_id)


@pytest.fixture
def busy_may(county):
    """Cases in both townships in May, and a member of a county-level party committee (a leaf above them)."""
    from partybuild.models import PartyMember, PartyOrganization

    add_case(county.grids[0], reported_at=at(3), resolved_at=at(4, 9), closed_at=at(5), state="closed",
             colour="red", triage="major")
    add_case(county.micro_grids[0], reported_at=at(6), resolved_at=at(9), due_at=at(8), state="resolved")
    add_case(county.grids[1], reported_at=at(7), resolved_at=at(7, 20), state="resolved", triage="minor")
    add_village_with_grid(county.township_b, "202")
    committee = PartyOrganization.objects.create(name="德昌县委", kind="committee", org_unit=county.county)
    resident = resident_create(household=county.households[0], name="县委委员",
                               id_number=make_id_number("513424", "19700101", 900), relation="other")
    PartyMember.objects.create(resident=resident, organization=committee, joined_on=datetime.date(2000, 7, 1))
    return county


def test_the_chord_writes_the_same_rows_as_rollup_month(busy_may):
    county = busy_may
    assert rollup_month(MAY).status == "complete"
    expected, expected_periods = snapshot(MAY), period_snapshot()
    assert number(MAY, "partybuild.members", county.county) == 3  # 2 in the villages + the county committee's
    # The county's median of the year (the three May cases: 23, 72 and 10 hours), as of the quarter and half-year.
    assert PeriodValue.objects.get(org_unit=county.county, first=datetime.date(2024, 1, 1),
                                   last=datetime.date(2024, 12, 1)).value == 23
    assert len({(first, last) for _unit, _key, first, last, _n, _v in expected_periods}) == 3
    IndicatorValue.objects.all().delete()
    PeriodValue.objects.all().delete()

    run = run_of(rollup_month_task.delay(MAY.isoformat()).get())
    assert run.status == "complete", run.errors
    assert set(run.parts) == {county.township_a.code, county.township_b.code, "upper"}
    assert all(part["status"] == "ok" and part["attempts"] == 1 for part in run.parts.values())
    assert run.finished_at is not None and run.duration_s is not None
    assert snapshot(MAY) == expected
    # The quarter's, half-year's and year's medians too: the townships' parts and the upper part together.
    assert period_snapshot() == expected_periods


def period_snapshot():
    return sorted(PeriodValue.objects.values_list("org_unit_id", "key", "first", "last", "numerator", "value"))


def test_a_run_for_one_township_has_no_upper_part(busy_may):
    county = busy_may
    run = run_of(rollup_month_task(MAY.isoformat(), org_code=county.township_a.code))
    assert run.status == "complete" and set(run.parts) == {county.township_a.code}
    assert not IndicatorValue.objects.filter(org_unit=county.county).exists()
    assert number(MAY, "grid.cases_raised", county.township_a) == 2


def test_a_part_that_keeps_failing_marks_the_run_partial(county):
    township_b = county.township_b
    calls = []

    def broken(start, end, units):
        calls.append(1)
        if units.filter(pk=township_b.pk).exists():
            raise RuntimeError("the ledger of B is unreadable")
        from governance.indicators.org import household_counts

        return household_counts(start, end, units)

    register(Indicator(key="test.broken", label="broken", unit="", leaf=broken, over="flow"))
    try:
        run = run_of(rollup_month_task(MAY.isoformat()))
    finally:
        unregister("test.broken")
    assert run.status == "partial"
    # Tried once and retried three times, then recorded as failed: the chord still finished.
    assert run.parts[township_b.code] == {**run.parts[township_b.code], "status": "failed", "attempts": 4}
    assert run.parts[county.township_a.code]["status"] == "ok" and run.parts["upper"]["status"] == "ok"
    [error] = run.errors
    assert error["part"].startswith(f"{township_b.code} ") and error["keys"] == ["test.broken"]
    assert "the ledger of B is unreadable" in error["error"]
    # B's other families were written all the same.
    assert IndicatorValue.objects.filter(period=MAY, org_unit=township_b, key="grid.worker_party_share").exists()


def test_a_part_that_raises_is_retried_then_recorded(county, monkeypatch):
    township_a = county.township_a
    real, attempts = engine.compute_month, []

    def flaky(period, org=None, *args, **kwargs):
        if org is not None and org.pk == township_a.pk:
            attempts.append(1)
            if len(attempts) < 3:
                raise ConnectionError("database went away")
        return real(period, org, *args, **kwargs)

    monkeypatch.setattr(tasks, "compute_month", flaky)
    run = run_of(rollup_month_task(MAY.isoformat()))
    assert run.status == "complete", run.errors
    assert run.parts[township_a.code]["attempts"] == 3 and not run.errors

    attempts.clear()
    monkeypatch.setattr(tasks, "compute_month", lambda period, org=None, **kw: (_ for _ in ()).throw(
        ConnectionError("database went away")) if org is not None and org.pk == township_a.pk else real(
        period, org, **kw))
    run = run_of(rollup_month_task(MAY.isoformat()))
    assert run.status == "partial"
    assert run.errors == [{**run.errors[0], "part": township_a.code, "keys": [],
                           "error": "ConnectionError: database went away"}]


def test_running_twice_and_redelivered_tasks_change_nothing(busy_may):
    first = run_of(rollup_month_task(MAY.isoformat()))
    rows = snapshot(MAY)
    second = run_of(rollup_month_task(MAY.isoformat()))
    assert first.pk != second.pk and second.status == "complete"
    assert snapshot(MAY) == rows
    # A finish delivered again leaves the finished run alone.
    assert rollup_finish([], second.pk, MAY.isoformat()) == "complete"
    assert run_of(second.pk).finished_at == second.finished_at
    # A trigger while a run of the month is under way returns that run instead of starting another.
    running = RollupRun.objects.create(period=MAY, started_at=timezone.now())
    assert rollup_month_task(MAY.isoformat()) == running.pk
    assert RollupRun.objects.count() == 3
    # A run left "running" by a dead worker long ago does not block a new one.
    RollupRun.objects.filter(pk=running.pk).update(started_at=timezone.now() - datetime.timedelta(hours=2))
    assert rollup_month_task(MAY.isoformat()) != running.pk


@pytest.fixture
def previous_month():
    period = tasks.scheduled_period("previous")
    cache.delete(tasks.schedule_lock_key(period))
    yield period
    cache.delete(tasks.schedule_lock_key(period))


def test_a_second_beat_does_nothing_while_the_lock_is_held(county, previous_month):
    run_id = rollup_scheduled("previous")
    assert run_of(run_id).period == previous_month and run_of(run_id).status == "complete"
    assert rollup_scheduled("previous") is None
    assert RollupRun.objects.count() == 1


def test_the_scheduled_run_skips_a_locked_month(county, previous_month, admin_user):
    MonthApproval.objects.create(period=previous_month, locked=True, approved_by=admin_user,
                                 approved_at=timezone.now())
    assert rollup_scheduled("previous") is None
    assert rollup_month_task(previous_month.isoformat()) is None
    assert not RollupRun.objects.exists()
    month_reopen(period=previous_month, user=admin_user)
    assert run_of(rollup_month_task(previous_month.isoformat())).status == "complete"


def test_the_beat_schedule_and_retry_delays():
    from celery.schedules import crontab

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["rollup-previous-month"]["schedule"] == crontab(minute=0, hour=1, day_of_month=1)
    assert schedule["rollup-previous-month"]["kwargs"] == {"which": "previous"}
    assert schedule["rollup-current-month"]["kwargs"] == {"which": "current"}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for task in (tasks.rollup_part, tasks.rollup_finish):
        assert task.acks_late and task.reject_on_worker_lost and task.max_retries == 3
        assert task.retry_backoff_max < visibility and task.time_limit < visibility
    assert tasks.SCHEDULE_LOCK_SECONDS < visibility


def test_approval_is_for_administrators_and_county_officials(county, county_official, clerk_a, admin_user):
    """The messages are checked in English (the portal language is Chinese)."""
    with translation.override("en"):
        with pytest.raises(ValidationError, match="not over yet"):
            month_approve(period=timezone.localdate(), user=county_official)
        with pytest.raises(ValidationError, match="Compute 2024-05 completely"):
            month_approve(period=MAY, user=county_official)
        rollup_month(MAY)
        with pytest.raises(ValidationError, match="Only an administrator or a county official") as refused:
            month_approve(period=MAY, user=clerk_a)
        assert refused.value.code == "not_allowed"
        approval = month_approve(period=MAY, user=county_official)
        assert approval.locked and approval.approved_by == county_official
        with pytest.raises(ValidationError, match="already approved"):
            month_approve(period=MAY, user=admin_user)
        with pytest.raises(ValidationError, match="Only an administrator"):
            month_reopen(period=MAY, user=clerk_a)
        assert not month_reopen(period=MAY, user=admin_user).locked
        with pytest.raises(ValidationError, match="nothing to re-open"):
            month_reopen(period=MAY, user=admin_user)


def test_a_late_correction_shows_as_changed_since_approval(county, county_official, admin_user):
    add_case(county.grids[0], reported_at=at(3))
    rollup_month(MAY)
    month_approve(period=MAY, user=county_official)
    rows = snapshot(MAY)
    assert approval_changes(MAY) is False
    assert check_approved_months() == 0
    assert MonthApproval.objects.get(period=MAY).checked_at is not None

    add_case(county.grids[1], reported_at=at(20))  # entered late, in an approved month
    assert approval_changes(MAY) is True
    assert snapshot(MAY) == rows and not RollupRun.objects.filter(period=MAY).exclude(status="complete").exists()
    assert check_approved_months() == 1
    changed_at = MonthApproval.objects.get(period=MAY).changed_at
    assert changed_at is not None
    check_approved_months()
    assert MonthApproval.objects.get(period=MAY).changed_at == changed_at  # when it was first seen
    # Locked: the scheduled and on-demand runs leave it alone.
    assert rollup_month_task(MAY.isoformat()) is None
    assert number(MAY, "grid.cases_raised", county.county) == 1

    month_reopen(period=MAY, user=admin_user)
    rollup_month_task(MAY.isoformat())
    assert number(MAY, "grid.cases_raised", county.county) == 2
    approval = month_approve(period=MAY, user=county_official)
    assert approval.changed_at is None and approval_changes(MAY) is False


@requires_redis
@requires_postgres
def test_a_rollup_enqueued_through_redis_completes_in_a_worker(busy_may, county_official,
                                                                celery_worker_process):
    import time

    from rest_framework.test import APIClient

    county = busy_may
    api = APIClient()
    api.force_authenticate(county_official)
    url = f"/api/v1/indicators/?org={county.county.code}&period={MAY:%Y-%m}"
    assert api.get(url).json() == []  # nothing computed yet
    run_id = rollup_month_task.delay(MAY.isoformat()).get(timeout=60)
    deadline = time.monotonic() + 60
    while run_of(run_id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    run = run_of(run_id)
    assert run.status == "complete", (run.status, run.errors)
    assert set(run.parts) == {county.township_a.code, county.township_b.code, "upper"}
    assert number(MAY, "grid.cases_raised", county.county) == 3
    assert number(MAY, "partybuild.members", county.county) == 3
    # The worker's numbers are what the dashboard API serves.
    served = {row["key"]: row["numerator"] for row in api.get(url).json()}
    assert served["grid.cases_raised"] == 3 and served["partybuild.members"] == 3
    worker_rows = snapshot(MAY)
    rollup_month(MAY)
    assert snapshot(MAY) == worker_rows
