"""Celery tasks of the monthly indicators: a run's parts and its finishing step, beat's
scheduled runs, and the nightly check of approved months. Each takes ids and ISO dates and
calls ``engine``, ``runs`` or ``approval``; ``runs`` starts a run's chord by these tasks' names.
"""

import datetime
import logging
import threading
import time
import traceback
from contextlib import contextmanager

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from governance.indicators.approval import month_check_approval, period_is_locked
from governance.indicators.engine import compute_month, compute_upper, run_status, shard_ends
from governance.indicators.months import month_start
from governance.indicators.runs import part_shape, start_rollup, to_date_refresh
from governance.indicators.runs import rollup_watch as watch_runs
from governance.models import MonthApproval, OrgUnit, RollupRun, RollupStatus

logger = logging.getLogger(__name__)

# A run is split into shards of townships: a chord of one ``rollup_part`` per shard, then
# ``rollup_finish`` for the levels above the townships. Every task is idempotent (it replaces the
# rows it computes), acknowledged late and given back to the broker when its worker dies.
# Retry delays stay well below the Redis visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS,
# 3600 s), after which Redis would hand a still-waiting message to a second worker.

ROLLUP_MAX_RETRIES = 3
ROLLUP_RETRY_BACKOFF = 30
ROLLUP_RETRY_BACKOFF_MAX = 600
# Longer than any part should take, shorter than the visibility timeout (prefork pool only).
ROLLUP_TIME_LIMIT = 3000
# A scheduled run takes this lock for its month, so a second beat firing the same run does nothing.
SCHEDULE_LOCK_SECONDS = 50 * 60

ROLLUP_TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": ROLLUP_RETRY_BACKOFF,
    "retry_backoff_max": ROLLUP_RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": ROLLUP_MAX_RETRIES,
    "time_limit": ROLLUP_TIME_LIMIT,
}


class RollupPartFailed(Exception):
    """Some indicator families of a part failed: retried like any other error."""


def _parse_period(period_iso: str) -> datetime.date:
    return month_start(datetime.date.fromisoformat(period_iso))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rollup_month_task(period_iso: str, org_code: str | None = None) -> int | None:
    """Compute the month's indicators (of ``org_code``'s subtree, or all) split into shards of townships;
    the run's id."""
    org = OrgUnit.objects.get(code=org_code) if org_code else None
    return start_rollup(_parse_period(period_iso), org)


def _record_part(run_id: int, name: str, entry: dict, errors: list) -> None:
    """Merge one part's outcome into its run, replacing what an earlier attempt recorded."""
    with transaction.atomic():
        # Parts finish concurrently on several workers: the row lock keeps their updates.
        run = RollupRun.objects.select_for_update().get(pk=run_id)
        run.parts[name] = {**part_shape(run.parts.get(name, {})), **entry}
        run.errors = [e for e in run.errors if e["part"] != name and not e["part"].startswith(f"{name} ")] + errors
        run.save(update_fields=["parts", "errors"])


@contextmanager
def heartbeat(run_id: int):
    """While the block runs, write the run's heartbeat every ROLLUP_HEARTBEAT_SECONDS from a thread.

    The part computes in one long transaction, which nobody sees before it commits; the thread
    has its own connection, so its writes are seen at once. A worker killed in the part takes the
    thread with it: the heartbeat stops, and the watcher (``rollup_watch``) notices.
    """
    stop = threading.Event()

    def beat():
        try:
            while True:
                try:
                    RollupRun.objects.filter(pk=run_id, status=RollupStatus.RUNNING).update(
                        heartbeat_at=timezone.now())
                except Exception:  # the database restarting: the next beat tries again
                    logger.warning("rollup run %s: heartbeat not written", run_id, exc_info=True)
                if stop.wait(settings.ROLLUP_HEARTBEAT_SECONDS):
                    return
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"rollup-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _run_part(task, run_id: int, name: str, compute) -> str:
    """Compute one part; retry it while attempts remain, then record it as ok or failed (never raise).

    A part that raised out of its last attempt would fail the chord, and its finishing step
    would never mark the run: instead the run records the failure and ends partial. A part of
    a run that is over (marked partial when its worker died, and resumed by another run) does
    nothing: its message may come back an hour later, when the broker redelivers it.
    """
    if RollupRun.objects.filter(pk=run_id).values_list("status", flat=True).first() != RollupStatus.RUNNING:
        logger.info("rollup part %s of run %s skipped: the run is over", name, run_id)
        return "skipped"
    _record_part(run_id, name, {"status": "working", "attempts": task.request.retries + 1}, [])
    if task.request.is_eager:  # computed in the caller's process, which waits for it: nothing to watch
        return _attempts(task, run_id, name, compute)
    with heartbeat(run_id):
        return _attempts(task, run_id, name, compute)


def _attempts(task, run_id: int, name: str, compute) -> str:
    began = time.monotonic()
    # Run eagerly (no broker), Celery propagates the error instead of retrying: retry here, without the wait.
    tries = range(task.max_retries + 1) if task.request.is_eager else [task.request.retries]
    for retries in tries:
        try:
            outcome = compute()
            if outcome.failed:
                raise RollupPartFailed("; ".join(e["error"] for e in outcome.errors))
        except Exception as exc:
            if retries < task.max_retries:
                if task.request.is_eager:
                    continue
                raise  # autoretry_for: again, after a backoff
            errors = outcome.errors if isinstance(exc, RollupPartFailed) else [
                {"part": name, "keys": [], "error": f"{type(exc).__name__}: {exc}",
                 "traceback": traceback.format_exc(limit=5)}]
            status = "failed"
            logger.error("rollup part %s of run %s failed after %s attempts: %s", name, run_id, retries + 1, exc)
        else:
            errors, status = [], "ok"
        break
    attempt = retries + 1
    _record_part(run_id, name, {"status": status, "seconds": round(time.monotonic() - began, 3),
                                "attempts": attempt}, errors)
    return status


@shared_task(**ROLLUP_TASK_OPTIONS)
def rollup_part(self, run_id: int, period_iso: str, code: str) -> str:
    """One part of the run, written for it: the shard of townships ``code`` names (``first..last``),
    or the one unit's subtree (the run's whole scope below the county)."""

    def compute():
        first, last = shard_ends(code)
        org = OrgUnit.objects.get(code=first)
        through = OrgUnit.objects.get(code=last) if last != first else None
        return compute_month(_parse_period(period_iso), org, through=through, label=code)

    return _run_part(self, run_id, code, compute)


@shared_task(**ROLLUP_TASK_OPTIONS)
def rollup_finish(self, results, run_id: int, period_iso: str) -> str:
    """The levels above the townships, from their rows, then the run's status: complete or partial."""
    from governance.models import RollupRun

    run = RollupRun.objects.select_related("org_unit").get(pk=run_id)
    if run.status != RollupStatus.RUNNING:
        return run.status  # a redelivered finish: the run is already marked
    if "upper" in run.parts:
        _run_part(self, run_id, "upper", lambda: compute_upper(_parse_period(period_iso), run.org_unit))
    with transaction.atomic():
        run = RollupRun.objects.select_for_update().get(pk=run_id)
        if run.status != RollupStatus.RUNNING:
            return run.status  # the watcher marked it partial meanwhile: it stays so
        run.status = run_status(run.parts)
        run.finished_at = timezone.now()
        run.duration_s = round((run.finished_at - run.started_at).total_seconds(), 3)
        run.save(update_fields=["status", "finished_at", "duration_s"])
    return run.status


def scheduled_period(which: str) -> datetime.date:
    """The month a scheduled run computes: the ``current`` one so far, or the ``previous`` one."""
    this_month = month_start(timezone.localdate())
    if which == "current":
        return this_month
    if which == "previous":
        return month_start(this_month - datetime.timedelta(days=1))
    raise ValueError(f"unknown month {which!r}")


def schedule_lock_key(period: datetime.date) -> str:
    return f"rollup:scheduled:{period:%Y-%m}"


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def rollup_scheduled(which: str = "current") -> int | None:
    """Beat's run of a month (``current`` nightly, ``previous`` on the 1st); skips locked months.

    The cache lock (Redis in production) makes a second beat, or a redelivery, do nothing
    while the first run of the month holds it.
    """
    period = scheduled_period(which)
    if period_is_locked(period):
        logger.info("scheduled rollup of %s skipped: the month is locked", period)
        return None
    if not cache.add(schedule_lock_key(period), timezone.now().isoformat(), timeout=SCHEDULE_LOCK_SECONDS):
        logger.info("scheduled rollup of %s skipped: another beat started it", period)
        return None
    return start_rollup(period)


@shared_task(acks_late=True, ignore_result=True)
def rollup_watch() -> list[int]:
    """Beat, every minute: runs whose worker died (no heartbeat) are marked partial and resumed."""
    return watch_runs()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def check_approved_months() -> int:
    """Nightly: mark locked months whose values would change if computed again; returns how many changed."""
    changed = 0
    for period in MonthApproval.objects.filter(locked=True).values_list("period", flat=True):
        changed += month_check_approval(period=period).changed_at is not None
    return changed


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def refresh_to_date() -> int:
    """Follow late closures: recompute the figures "as of today" of the months whose cases moved."""
    return len(to_date_refresh())
