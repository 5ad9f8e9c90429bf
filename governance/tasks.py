"""Celery tasks of the core app."""

import datetime
import logging
import time
import traceback

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def check_tree() -> int:
    """Nightly integrity check of the org tree; returns the number of violations found."""
    from governance.tree_check import tree_violations

    violations = tree_violations()
    for violation in violations:
        logger.error("org tree violation %s", violation)
    return len(violations)


@shared_task(acks_late=True, ignore_result=True)
def flush_outbox() -> int:
    """Send the follow-up work left pending while the broker was down (every minute, from beat)."""
    from governance.outbox import flush

    return flush()


# --- The monthly indicator rollup -----------------------------------------------------------
#
# A run is split per township: a chord of one ``rollup_part`` per township in scope, then
# ``rollup_finish`` for the levels above them. Every task is idempotent (it replaces the
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
# A run still "running" after this long died with its worker: a new trigger may start another.
STALE_RUN_SECONDS = 3600

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


class RollupNotQueued(Exception):
    """The broker did not take a run's tasks; the run (``args[0]``, its id) is marked failed."""


def _parse_period(period_iso: str) -> datetime.date:
    from governance.indicators import month_start

    return month_start(datetime.date.fromisoformat(period_iso))


def start_rollup(period: datetime.date, org=None) -> int | None:
    """Create a RollupRun and enqueue its chord; the run's id, or None when the month is locked.

    A run of the same month and scope still running (and not stale) is returned instead of
    starting a second one: a redelivered or doubled trigger does no work twice.
    """
    from celery import chord, group

    from governance.indicators import UPPER_LEVELS, month_start, period_is_locked
    from governance.models import Level, OrgUnit, RollupRun, RollupStatus

    period = month_start(period)
    if period_is_locked(period):
        logger.info("rollup of %s skipped: the month is approved and locked", period)
        return None
    since = timezone.now() - datetime.timedelta(seconds=STALE_RUN_SECONDS)
    running = RollupRun.objects.filter(period=period, org_unit=org, status=RollupStatus.RUNNING,
                                       started_at__gte=since).order_by("-started_at").first()
    if running is not None:
        return running.pk
    if org is None:
        townships = OrgUnit.objects.filter(level=Level.TOWNSHIP)
    elif org.level in UPPER_LEVELS:
        townships = org.get_descendants().filter(level=Level.TOWNSHIP)
    else:
        townships = OrgUnit.objects.filter(pk=org.pk)
    codes = list(townships.order_by("tree_id", "lft").values_list("code", flat=True))
    parts = {code: {"status": "pending"} for code in codes}
    if org is None or org.level in UPPER_LEVELS:
        parts["upper"] = {"status": "pending"}
    run = RollupRun.objects.create(period=period, org_unit=org, started_at=timezone.now(), parts=parts)
    period_iso = period.isoformat()
    finish = rollup_finish.s(run.pk, period_iso)
    try:
        # retry=False, and the result store's short retry policy (settings): a Redis that is down
        # fails the publish at once instead of holding the caller.
        if codes:
            chord(group(rollup_part.s(run.pk, period_iso, code) for code in codes), finish).apply_async(retry=False)
        else:
            finish.apply_async(args=([],), retry=False)
    except (OperationalError, RedisError) as exc:
        # Nothing was queued: the run is over, failed, rather than "running" until it goes stale.
        now = timezone.now()
        RollupRun.objects.filter(pk=run.pk).update(
            status=RollupStatus.FAILED, finished_at=now, duration_s=round((now - run.started_at).total_seconds(), 3),
            errors=[{"part": "queue", "keys": [], "error": f"{type(exc).__name__}: {exc}"}])
        raise RollupNotQueued(run.pk) from exc
    return run.pk


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rollup_month_task(period_iso: str, org_code: str | None = None) -> int | None:
    """Compute the month's indicators (of ``org_code``'s subtree, or all) split per township; the run's id."""
    from governance.models import OrgUnit

    org = OrgUnit.objects.get(code=org_code) if org_code else None
    return start_rollup(_parse_period(period_iso), org)


def _record_part(run_id: int, name: str, entry: dict, errors: list) -> None:
    """Merge one part's outcome into its run, replacing what an earlier attempt recorded."""
    from governance.models import RollupRun

    with transaction.atomic():
        # Parts finish concurrently on several workers: the row lock keeps their updates.
        run = RollupRun.objects.select_for_update().get(pk=run_id)
        run.parts[name] = entry
        run.errors = [e for e in run.errors if e["part"] != name and not e["part"].startswith(f"{name} ")] + errors
        run.save(update_fields=["parts", "errors"])


def _run_part(task, run_id: int, name: str, compute) -> str:
    """Compute one part; retry it while attempts remain, then record it as ok or failed (never raise).

    A part that raised out of its last attempt would fail the chord, and its finishing step
    would never mark the run: instead the run records the failure and ends partial.
    """
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
    """One township's subtree (or the run's whole scope below the county), written for the run."""
    from governance.indicators import compute_month
    from governance.models import OrgUnit

    return _run_part(self, run_id, code, lambda: compute_month(
        _parse_period(period_iso), OrgUnit.objects.get(code=code), label=code))


@shared_task(**ROLLUP_TASK_OPTIONS)
def rollup_finish(self, results, run_id: int, period_iso: str) -> str:
    """The levels above the townships, from their rows, then the run's status: complete or partial."""
    from governance.indicators import compute_upper, run_status
    from governance.models import RollupRun, RollupStatus

    run = RollupRun.objects.select_related("org_unit").get(pk=run_id)
    if run.status != RollupStatus.RUNNING:
        return run.status  # a redelivered finish: the run is already marked
    if "upper" in run.parts:
        _run_part(self, run_id, "upper", lambda: compute_upper(_parse_period(period_iso), run.org_unit))
    with transaction.atomic():
        run = RollupRun.objects.select_for_update().get(pk=run_id)
        run.status = run_status(run.parts)
        run.finished_at = timezone.now()
        run.duration_s = round((run.finished_at - run.started_at).total_seconds(), 3)
        run.save(update_fields=["status", "finished_at", "duration_s"])
    return run.status


def scheduled_period(which: str) -> datetime.date:
    """The month a scheduled run computes: the ``current`` one so far, or the ``previous`` one."""
    from governance.indicators import month_start

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
    from django.core.cache import cache

    from governance.indicators import period_is_locked

    period = scheduled_period(which)
    if period_is_locked(period):
        logger.info("scheduled rollup of %s skipped: the month is locked", period)
        return None
    if not cache.add(schedule_lock_key(period), timezone.now().isoformat(), timeout=SCHEDULE_LOCK_SECONDS):
        logger.info("scheduled rollup of %s skipped: another beat started it", period)
        return None
    return start_rollup(period)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def check_approved_months() -> int:
    """Nightly: mark locked months whose values would change if computed again; returns how many changed."""
    from governance.models import MonthApproval
    from governance.services import month_check_approval

    changed = 0
    for period in MonthApproval.objects.filter(locked=True).values_list("period", flat=True):
        changed += month_check_approval(period=period).changed_at is not None
    return changed
