"""A rollup run whose worker died: its heartbeat stops, the watcher marks it partial and resumes its
unfinished parts, and a user may restart it from the run's page; the month ends with the right values.

The first tests run the chord in this process (a run "killed" is written as a dead worker leaves it);
the last one kills a real Celery worker by its pid in the middle of a part (PostgreSQL + Redis).
"""

import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from governance.indicators import runs
from governance.indicators.engine import compute_month, rollup_month
from governance.indicators.tasks import rollup_part, rollup_watch
from governance.models import IndicatorValue, PeriodValue, Role, RollupRun, RollupStatus
from tests.helpers.cases import add_case
from tests.helpers.indicators import MAY, at, number, snapshot
from tests.helpers.markers import requires_postgres, requires_redis
from tests.helpers.people import new_user
from tests.helpers.processes import ROOT, database_url

STALE = 180  # ROLLUP_STALE_SECONDS, as these tests set it


@pytest.fixture(autouse=True)
def stale_after(settings):
    settings.ROLLUP_STALE_SECONDS = STALE
    settings.ROLLUP_RESUME_MAX = 2


@pytest.fixture(autouse=True)
def in_process(request):
    """The chord runs in this process, but in the test with a real worker."""
    if "real_worker" in request.fixturenames:
        yield
    else:
        yield request.getfixturevalue("eager_celery")


@pytest.fixture
def may(county):
    """Cases in both townships in May 2024; the values a whole run computes, then none stored."""
    add_case(county.grids[0], reported_at=at(3), resolved_at=at(4, 9), closed_at=at(5), state="closed")
    add_case(county.grids[0], reported_at=at(6), state="accepted")
    add_case(county.grids[1], reported_at=at(7), resolved_at=at(7, 20), state="resolved")
    assert rollup_month(MAY).status == "complete"
    county.expected = snapshot(MAY)
    assert number(MAY, "grid.cases_raised", county.county) == 3
    IndicatorValue.objects.all().delete()
    PeriodValue.objects.all().delete()
    RollupRun.objects.all().delete()
    return county


def ago(seconds: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=seconds)


def killed_run(county, *, silent_for: float) -> RollupRun:
    """A run of May for every unit as a worker killed in township B's part leaves it: township A's part
    done (its rows written), B's part working, the levels above waiting; last heartbeat ``silent_for`` ago."""
    compute_month(MAY, county.township_a, label=county.township_a.code)
    return RollupRun.objects.create(
        period=MAY, started_at=ago(silent_for + 60), heartbeat_at=ago(silent_for), parts={
            county.township_a.code: {"status": "ok", "seconds": 0.4, "attempts": 1},
            county.township_b.code: {"status": "working", "attempts": 1},
            "upper": {"status": "pending"},
        })


def test_the_watcher_marks_a_silent_run_partial_and_a_new_run_completes_the_month(may):
    county = may
    killed = killed_run(county, silent_for=STALE + 5)
    assert number(MAY, "grid.cases_raised", county.county) == 0  # the levels above were never written

    started = rollup_watch()

    killed.refresh_from_db()
    assert killed.status == RollupStatus.PARTIAL and killed.finished_at is not None
    lost = killed.parts[county.township_b.code]
    assert lost["status"] == "failed" and lost["lost"] is True
    assert killed.parts[county.township_a.code]["status"] == "ok"
    errors = {error["part"]: error["error"] for error in killed.errors}
    assert set(errors) == {county.township_b.code, "upper"}
    assert "计算该部分的工作进程已停止" in errors[county.township_b.code]
    assert killed.parts["upper"]["not_started"] is True and errors["upper"].startswith("未开始")
    [resumed] = RollupRun.objects.filter(pk__in=started)
    assert resumed.resumes == killed and resumed.status == RollupStatus.COMPLETE, resumed.errors
    # Township A's part is carried over, not computed again; B's and the upper levels' are computed.
    assert resumed.parts[county.township_a.code] == {"status": "ok", "carried": killed.pk, "seconds": 0.4}
    assert resumed.parts[county.township_b.code]["attempts"] == 1
    assert snapshot(MAY) == county.expected
    assert rollup_watch() == []  # nothing is silent any more


def test_a_run_with_a_recent_heartbeat_is_left_alone_and_still_blocks_a_second_run(may):
    county = may
    working = killed_run(county, silent_for=STALE - 30)
    assert rollup_watch() == []
    assert runs.start_rollup(MAY) == working.pk  # a doubled trigger joins the run under way
    working.refresh_from_db()
    assert working.status == RollupStatus.RUNNING


def test_compute_again_after_the_worker_died_starts_a_new_run_without_waiting_an_hour(may):
    county = may
    killed = killed_run(county, silent_for=STALE + 5)  # silent for three minutes, not an hour
    new_id = runs.start_rollup(MAY)
    assert new_id != killed.pk
    killed.refresh_from_db()
    assert killed.status == RollupStatus.PARTIAL
    assert RollupRun.objects.get(pk=new_id).status == RollupStatus.COMPLETE
    assert snapshot(MAY) == county.expected


def test_a_part_that_kills_its_worker_every_time_is_resumed_only_so_often(may, settings):
    county = may
    run = killed_run(county, silent_for=STALE + 5)
    for _resumption in range(settings.ROLLUP_RESUME_MAX):
        # Each run is found silent and resumed, and the resuming run's worker dies too, before it writes anything.
        assert runs.mark_stale(run.pk)
        run = RollupRun.objects.create(period=MAY, started_at=ago(STALE + 60), heartbeat_at=ago(STALE + 5),
                                       resumes=run, parts={county.township_b.code: {"status": "working"},
                                                           county.township_a.code: {"status": "ok", "carried": run.pk},
                                                           "upper": {"status": "pending"}})
    assert runs.resumptions(run) == settings.ROLLUP_RESUME_MAX
    assert rollup_watch() == []  # marked partial, not resumed again: a person decides
    run.refresh_from_db()
    assert run.status == RollupStatus.PARTIAL


def test_a_part_of_a_run_that_is_over_does_nothing_when_its_message_comes_back(may):
    county = may
    killed = killed_run(county, silent_for=STALE + 5)
    runs.mark_stale(killed.pk)
    IndicatorValue.objects.all().delete()
    # The broker hands the killed part's message out again an hour later.
    assert rollup_part.apply(args=(killed.pk, MAY.isoformat(), county.township_b.code)).get() == "skipped"
    assert not IndicatorValue.objects.exists()
    killed.refresh_from_db()
    assert killed.parts[county.township_b.code]["lost"] is True


# --- The run's page ------------------------------------------------------------------------------


@pytest.fixture
def county_admin(county):
    return new_user("admin_county", Role.ADMIN, county.county)


def run_page(client, run):
    return client.get(f"/dashboard/runs/{run.pk}/")


def test_a_stuck_run_offers_a_restart_that_completes_the_month(may, login, county_admin):
    county = may
    killed = killed_run(county, silent_for=STALE + 5)
    client = login(county_admin)
    page = run_page(client, killed).content.decode()
    assert 'id="run-restart"' in page
    assert "data-confirm=" in page and "重新" in page
    assert "工作进程" in page  # "no sign of life from the worker"

    response = client.post(f"/dashboard/runs/{killed.pk}/restart/", follow=True)

    resumed = RollupRun.objects.get(resumes=killed)
    assert response.redirect_chain[-1][0].startswith(f"/dashboard/runs/{resumed.pk}/")
    text = response.content.decode()
    assert "已完成的部分保留" in text  # the success message, in Chinese
    assert resumed.status == RollupStatus.COMPLETE and snapshot(MAY) == county.expected
    killed.refresh_from_db()
    assert killed.status == RollupStatus.PARTIAL
    assert 'id="run-restart"' not in run_page(client, killed).content.decode()  # a later run exists
    assert 'id="run-restart"' not in text  # complete: nothing to restart


def test_a_run_still_beating_cannot_be_restarted(may, login, county_admin):
    working = killed_run(may, silent_for=20)
    client = login(county_admin)
    assert 'id="run-restart"' not in run_page(client, working).content.decode()
    response = client.post(f"/dashboard/runs/{working.pk}/restart/", follow=True)
    assert "仍在计算" in response.content.decode()
    assert not RollupRun.objects.filter(resumes=working).exists()
    working.refresh_from_db()
    assert working.status == RollupStatus.RUNNING


def test_only_those_who_may_run_rollups_restart_them(may, login, county_official, clerk_a):
    killed = killed_run(may, silent_for=STALE + 5)
    for user in (county_official, clerk_a):
        client = login(user)
        assert client.post(f"/dashboard/runs/{killed.pk}/restart/").status_code in (403, 404)
    assert not RollupRun.objects.filter(resumes=killed).exists()
    killed.refresh_from_db()
    assert killed.status == RollupStatus.RUNNING


# --- A real worker killed by its pid ----------------------------------------------------------------

WORKER_ENV = {"ROLLUP_HEARTBEAT_SECONDS": "1", "ROLLUP_STALE_SECONDS": "4"}


def start_worker(log_name: str) -> subprocess.Popen:
    from governance.celery import app

    env = dict(os.environ, DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="tests.settings", **WORKER_ENV)
    log = open(ROOT / "var" / log_name, "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", "worker", "--pool=solo", "--concurrency=1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return proc
        assert proc.poll() is None, "the Celery worker exited during start-up"
    proc.kill()
    pytest.fail("the Celery worker did not answer a ping within 30 s")


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"waited {timeout} s for {what}")


@pytest.fixture
def real_worker(transactional_db):
    """Workers started by the test (``real_worker(name)``), all stopped after it."""
    started = []

    def start(name):
        proc = start_worker(f"celery-worker-{name}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@requires_redis
@requires_postgres
def test_a_worker_killed_in_a_part_is_detected_by_its_heartbeat_and_the_month_completed(may, real_worker, settings):
    import psycopg2

    from governance.indicators.tasks import rollup_month_task

    county = may
    settings.ROLLUP_STALE_SECONDS = int(WORKER_ENV["ROLLUP_STALE_SECONDS"])
    began = time.monotonic()
    # Hold the values table: the first part blocks in its first write, in the middle of its work.
    blocker = psycopg2.connect(database_url())
    blocker.cursor().execute(f"LOCK TABLE {IndicatorValue._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    try:
        worker = real_worker("killed")
        run_id = rollup_month_task.delay(MAY.isoformat()).get(timeout=30)

        def working():
            run = RollupRun.objects.get(pk=run_id)
            return run if any(part["status"] == "working" for part in run.parts.values()) else None

        run = wait_for(working, 20, "a part to start")
        first_beat = run.heartbeat_at
        # The part is stuck on the lock, alive: its heartbeat goes on.
        wait_for(lambda: RollupRun.objects.get(pk=run_id).heartbeat_at > first_beat, 5, "a second heartbeat")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
    killed_at = time.monotonic()
    assert RollupRun.objects.get(pk=run_id).status == RollupStatus.RUNNING  # as the dead worker left it

    real_worker("after")  # the worker restarted (by serve's supervisor, in production)

    def watched():
        rollup_watch.delay()  # beat's watch, run by the worker
        return RollupRun.objects.filter(resumes_id=run_id).values_list("pk", flat=True).first()

    resumed_id = wait_for(watched, 25, "the watcher to find the silent run", every=0.5)
    assert time.monotonic() - killed_at >= int(WORKER_ENV["ROLLUP_STALE_SECONDS"]) - 1
    killed = RollupRun.objects.get(pk=run_id)
    assert killed.status == RollupStatus.PARTIAL
    assert any(part.get("lost") for part in killed.parts.values())
    resumed = wait_for(lambda: RollupRun.objects.filter(pk=resumed_id).exclude(status="running").first(), 30,
                       "the resumed run to end")
    assert resumed.resumes_id == run_id
    assert resumed.status == RollupStatus.COMPLETE, resumed.errors
    assert snapshot(MAY) == county.expected
    assert number(MAY, "grid.cases_raised", county.county) == 3
    assert time.monotonic() - began < 60
