"""Starting a month's rollup run: by hand from the dashboard (``rollup_start``, administrators
only), or by a task (``start_rollup``, which beat's scheduled runs call).

A run is split into shards of consecutive townships sized by their work (``ROLLUP_PARTS`` of
them): a Celery chord of one part per shard, then a finishing step for the levels above the
townships. The chord names its tasks by name (``signature``),
so this module does not import ``tasks``: the tasks call it, never the reverse.

``to_date_refresh`` (beat, every ten minutes) follows late closures: it recomputes the figures
"as of today" of the months whose records moved since its last run.
"""

import datetime
import logging

from celery import chord, group, signature
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from governance.indicators.approval import can_start_rollup, period_is_locked
from governance.indicators.engine import UPPER_LEVELS, refresh_to_date, shard_name
from governance.indicators.months import format_period, month_start, this_month
from governance.models import Level, OrgUnit, RollupRun, RollupStatus

logger = logging.getLogger(__name__)

# The tasks of a run, by their registered names (see ``governance.indicators.tasks``).
PART_TASK = "governance.indicators.tasks.rollup_part"
FINISH_TASK = "governance.indicators.tasks.rollup_finish"


class RollupNotQueued(Exception):
    """The broker did not take a run's tasks; the run (``args[0]``, its id) is marked failed."""


def _silent_since() -> datetime.datetime:
    """A running run whose last heartbeat (or start) is older than this lost its worker."""
    return timezone.now() - datetime.timedelta(seconds=settings.ROLLUP_STALE_SECONDS)


def run_is_stale(run: RollupRun) -> bool:
    """Whether ``run`` is still marked running though no part of it has shown a sign of life for
    ROLLUP_STALE_SECONDS: its worker died (killed, out of memory, the machine restarted)."""
    return run.status == RollupStatus.RUNNING and (run.heartbeat_at or run.started_at) < _silent_since()


def stale_runs():
    return RollupRun.objects.filter(status=RollupStatus.RUNNING).annotate(
        last_sign=Coalesce("heartbeat_at", "started_at")).filter(last_sign__lt=_silent_since())


def _live_run(period, org) -> RollupRun | None:
    """The run of the month and scope still under way (its heartbeat is recent), if any."""
    running = RollupRun.objects.filter(period=period, org_unit=org, status=RollupStatus.RUNNING)
    return next((run for run in running.order_by("-started_at") if not run_is_stale(run)), None)


def _dispatch(run: RollupRun, codes: list[str]) -> None:
    """Enqueue the run's chord: one part per name (a shard of townships, see ``shard_name``), then the
    finishing step."""
    period_iso = run.period.isoformat()
    finish = signature(FINISH_TASK, args=(run.pk, period_iso))
    try:
        # retry=False, and the result store's short retry policy (settings): a Redis that is down
        # fails the publish at once instead of holding the caller.
        if codes:
            parts = group(signature(PART_TASK, args=(run.pk, period_iso, code)) for code in codes)
            chord(parts, finish).apply_async(retry=False)
        else:
            finish.apply_async(args=([],), retry=False)
    except (OperationalError, RedisError) as exc:
        # Nothing was queued: the run is over, failed, rather than "running" until it goes stale.
        now = timezone.now()
        RollupRun.objects.filter(pk=run.pk).update(
            status=RollupStatus.FAILED, finished_at=now, duration_s=round((now - run.started_at).total_seconds(), 3),
            errors=[{"part": "queue", "keys": [], "error": f"{type(exc).__name__}: {exc}"}])
        raise RollupNotQueued(run.pk) from exc


# What a part's entry in RollupRun.parts says of the part itself, kept through its attempts and resumptions.
PART_SHAPE = ("number", "townships")


def part_shape(part: dict) -> dict:
    """The keys of a part's entry that describe the part (``PART_SHAPE``), not how its computing went."""
    return {key: part[key] for key in PART_SHAPE if key in part}


def township_shards(townships: list[tuple], parts: int) -> list[tuple[str, str, int]]:
    """Cut ``townships`` ((code, tree_id, lft, rght) in tree order) into at most ``parts`` shards of
    consecutive townships, each about the same work; (first code, last code, count) of each.

    A part pays every family's statements and subtree pairing whatever its size, so the parts
    are sized by work, not one per township. A township weighs its subtree's size (rght - lft):
    the units the part pairs, reads and writes, which cost nothing to count. Each township goes
    to the shard its weight's middle falls in. A shard never spans two trees (one lft range is
    one tree), so a scope of several trees may have a few more parts than ``parts``.
    """
    total = sum(rght - lft + 1 for _code, _tree_id, lft, rght in townships)
    shards: list[list] = []  # [first, last, count, tree_id, slot]
    done = 0
    for code, tree_id, lft, rght in townships:
        weight = rght - lft + 1
        slot = min(parts - 1, int((done + weight / 2) * parts // total))
        done += weight
        if shards and shards[-1][3] == tree_id and shards[-1][4] == slot:
            shards[-1][1] = code
            shards[-1][2] += 1
        else:
            shards.append([code, code, 1, tree_id, slot])
    return [(first, last, count) for first, last, count, _tree_id, _slot in shards]


def start_rollup(period: datetime.date, org=None) -> int | None:
    """Create a RollupRun and enqueue its chord; the run's id, or None when the month is locked.

    A run of the same month and scope still under way is returned instead of starting a second
    one: a redelivered or doubled trigger does no work twice. One whose worker died (no
    heartbeat for ROLLUP_STALE_SECONDS) is marked partial first and does not block a new run.
    """
    period = month_start(period)
    if period_is_locked(period):
        logger.info("rollup of %s skipped: the month is approved and locked", period)
        return None
    running = _live_run(period, org)
    if running is not None:
        return running.pk
    for stale in stale_runs().filter(period=period, org_unit=org):
        mark_stale(stale.pk)
    if org is None:
        townships = OrgUnit.objects.filter(level=Level.TOWNSHIP)
    elif org.level in UPPER_LEVELS:
        townships = org.get_descendants().filter(level=Level.TOWNSHIP)
    else:
        townships = OrgUnit.objects.filter(pk=org.pk)
    shards = township_shards(list(townships.order_by("tree_id", "lft").values_list("code", "tree_id", "lft", "rght")),
                             settings.ROLLUP_PARTS)
    parts = {shard_name(first, last): {"status": "pending", "number": number, "townships": count}
             for number, (first, last, count) in enumerate(shards, start=1)}
    codes = list(parts)
    if org is None or org.level in UPPER_LEVELS:
        parts["upper"] = {"status": "pending"}
    now = timezone.now()
    run = RollupRun.objects.create(period=period, org_unit=org, started_at=now, heartbeat_at=now, parts=parts)
    _dispatch(run, codes)
    return run.pk


# --- A run whose worker died ------------------------------------------------------------------

PART_LOST = _("The worker computing this part stopped (no heartbeat since %(at)s); the part was not finished.")
PART_NOT_STARTED = _("Not started: the run's worker stopped before this part began.")


def mark_stale(run_id: int) -> bool:
    """Mark a running run that lost its worker as partial, its unfinished parts failed; whether it did.

    The row lock and the second look at the heartbeat keep a part that is still alive (its
    heartbeat just came) from being declared lost by two watchers or a watcher and a user.
    """
    with transaction.atomic():
        run = RollupRun.objects.select_for_update().get(pk=run_id)
        if not run_is_stale(run):
            return False
        last_sign = timezone.localtime(run.heartbeat_at or run.started_at)
        lost = str(PART_LOST % {"at": f"{last_sign:%Y-%m-%d %H:%M:%S}"})
        for name, part in run.parts.items():
            if part.get("status") in ("working", "pending"):
                # A part still "pending" never began: the worker died before it, or it waits in a stuck queue.
                started = part["status"] == "working"
                run.parts[name] = {**part, "status": "failed", "lost" if started else "not_started": True}
                error = lost if started else str(PART_NOT_STARTED)
                run.errors = [e for e in run.errors if e["part"] != name] + [{"part": name, "keys": [], "error": error}]
        run.status = RollupStatus.PARTIAL
        run.finished_at = timezone.now()
        run.duration_s = round((run.finished_at - run.started_at).total_seconds(), 3)
        run.save(update_fields=["status", "finished_at", "duration_s", "parts", "errors"])
    logger.warning("rollup run %s of %s lost its worker (last heartbeat %s): marked partial",
                   run_id, format_period(run.period), last_sign)
    return True


def resumptions(run: RollupRun) -> int:
    """How many runs in a row before ``run`` were resumed into it (0: it started afresh)."""
    count, resumed = 0, run.resumes_id
    while resumed is not None and count <= settings.ROLLUP_RESUME_MAX:
        count += 1
        resumed = RollupRun.objects.filter(pk=resumed).values_list("resumes_id", flat=True).first()
    return count


def resume_rollup(run: RollupRun) -> int | None:
    """A new run that computes the unfinished parts of ``run`` (partial or failed) and the levels above
    them; the parts ``run`` finished are carried over (their rows are written). The new run's id, the
    one still under way for the month, or None when the month is locked."""
    if period_is_locked(run.period):
        return None
    running = _live_run(run.period, run.org_unit)
    if running is not None:
        return running.pk
    parts, codes = {}, []
    for name, part in run.parts.items():
        if name == "upper":
            parts[name] = {"status": "pending"}
            continue
        shape = part_shape(part)
        if part.get("status") == "ok":
            parts[name] = {**shape, "status": "ok", "carried": run.pk, "seconds": part.get("seconds")}
        else:
            parts[name] = {**shape, "status": "pending"}
            codes.append(name)
    now = timezone.now()
    resumed = RollupRun.objects.create(period=run.period, org_unit=run.org_unit, started_at=now, heartbeat_at=now,
                                       parts=parts, resumes=run)
    _dispatch(resumed, codes)
    logger.info("rollup run %s resumes run %s: parts %s", resumed.pk, run.pk, ", ".join(codes) or "upper only")
    return resumed.pk


def rollup_watch() -> list[int]:
    """Beat's watch (every minute): runs that lost their worker are marked partial, then resumed,
    at most ROLLUP_RESUME_MAX times in a row (a part that kills its worker each time waits for a
    person). Returns the ids of the runs started."""
    started = []
    for run in stale_runs().select_related("org_unit"):
        if not mark_stale(run.pk):
            continue
        run.refresh_from_db()
        if resumptions(run) >= settings.ROLLUP_RESUME_MAX:
            logger.error("rollup run %s of %s lost its worker again: not resumed (ROLLUP_RESUME_MAX)",
                         run.pk, format_period(run.period))
            continue
        try:
            run_id = resume_rollup(run)
        except RollupNotQueued:
            logger.error("rollup run %s not resumed: the task queue did not answer", run.pk)
            continue
        if run_id is not None:
            started.append(run_id)
    return started


ROLLUP_NOT_ALLOWED = _("Only an administrator may start a computation of the indicators.")
ROLLUP_NOT_BEGUN = _("%(month)s has not begun: there is nothing to compute yet.")
ROLLUP_LOCKED = _("%(month)s is approved and locked: re-open it before computing it again.")
ROLLUP_NOT_QUEUED = _("The task queue did not answer, so the computation of %(month)s did not start. "
                      "Try again in a few minutes; if it keeps failing, tell the system administrator.")


def rollup_start(*, period, user):
    """Start a run of the month's indicators for the user's area; the RollupRun (maybe one already running).

    An administrator who sees every unit computes them all, county and city levels included;
    one with a home unit computes that unit's subtree.
    """
    if not can_start_rollup(user):
        raise ValidationError(ROLLUP_NOT_ALLOWED, code="not_allowed")
    period = month_start(period)
    params = {"month": format_period(period)}
    if period > this_month():
        raise ValidationError(ROLLUP_NOT_BEGUN, code="not_begun", params=params)
    if period_is_locked(period):
        raise ValidationError(ROLLUP_LOCKED, code="locked", params=params)
    try:
        run_id = start_rollup(period, user.home_unit)
    except RollupNotQueued as exc:
        raise ValidationError(ROLLUP_NOT_QUEUED, code="not_queued", params=params) from exc
    if run_id is None:  # approved between the check and the start
        raise ValidationError(ROLLUP_LOCKED, code="locked", params=params)
    return RollupRun.objects.select_related("org_unit").get(pk=run_id)


ROLLUP_STILL_RUNNING = _("This run is still working (its last heartbeat came %(seconds)s s ago): let it finish. "
                         "A run whose worker stopped can be restarted after %(stale)s s without a heartbeat.")
ROLLUP_NOTHING_TO_RESTART = _("This run is complete: there is nothing to restart. Compute the month again instead.")


def rollup_restart(*, run, user):
    """Restart a stuck or unfinished run by hand: its unfinished parts and the levels above them are
    computed by a new run (the finished parts are kept); the RollupRun that does it.

    A run still marked running is restarted only when its worker is gone (no heartbeat for
    ROLLUP_STALE_SECONDS); it is then marked partial first, as the watcher would.
    """
    if not can_start_rollup(user):
        raise ValidationError(ROLLUP_NOT_ALLOWED, code="not_allowed")
    params = {"month": format_period(run.period)}
    if period_is_locked(run.period):
        raise ValidationError(ROLLUP_LOCKED, code="locked", params=params)
    if run.status == RollupStatus.COMPLETE:
        raise ValidationError(ROLLUP_NOTHING_TO_RESTART, code="complete")
    if run.status == RollupStatus.RUNNING and not mark_stale(run.pk):
        run.refresh_from_db()
        if run.status == RollupStatus.RUNNING:
            silent = (timezone.now() - (run.heartbeat_at or run.started_at)).total_seconds()
            raise ValidationError(ROLLUP_STILL_RUNNING, code="running",
                                  params={"seconds": int(silent), "stale": settings.ROLLUP_STALE_SECONDS})
    run.refresh_from_db()
    try:
        run_id = resume_rollup(run)
    except RollupNotQueued as exc:
        raise ValidationError(ROLLUP_NOT_QUEUED, code="not_queued", params=params) from exc
    if run_id is None:
        raise ValidationError(ROLLUP_LOCKED, code="locked", params=params)
    return RollupRun.objects.select_related("org_unit").get(pk=run_id)


def may_restart(run, user) -> bool:
    """Whether the run's page offers the restart button: an unfinished run, or one whose worker is gone,
    to a user who may start runs, unless a later run of the month and scope exists."""
    if not can_start_rollup(user) or run.status == RollupStatus.COMPLETE:
        return False
    if run.status == RollupStatus.RUNNING and not run_is_stale(run):
        return False
    later = RollupRun.objects.filter(period=run.period, org_unit=run.org_unit, started_at__gt=run.started_at)
    return not later.exists()


# --- Figures "as of today" -------------------------------------------------------------------

TO_DATE_MARKER = "indicators:to-date:{name}"


def to_date_refresh() -> dict:
    """Recompute the figures "as of today" of the months whose records moved since the last refresh
    (beat, every few minutes). Approved months keep their figures as of their approval.

    Each ``Indicator.changes`` function keeps its marker (the last step it saw) in the cache; the
    markers move on only when every month was recomputed, so a failure is retried next time. A
    lost cache only costs one refresh of the last months. Returns {month: Outcome}.
    """
    markers = {}

    def months_of(changes):
        key = TO_DATE_MARKER.format(name=f"{changes.__module__}.{changes.__qualname__}")
        months, markers[key] = changes(cache.get(key))
        return months

    outcomes = refresh_to_date(months_of, period_is_locked)
    if not any(outcome.failed for outcome in outcomes.values()):
        cache.set_many(markers, timeout=None)
    for month, outcome in outcomes.items():
        for error in outcome.errors:
            logger.error("refreshing %s to date: %s", format_period(month), error["error"])
    return outcomes
