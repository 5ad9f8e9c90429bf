"""Starting a month's rollup run: by hand from the dashboard (``rollup_start``, administrators
only), or by a task (``start_rollup``, which beat's scheduled runs call).

A run is split per township: a Celery chord of one part per township in scope, then a
finishing step for the levels above them. The chord names its tasks by name (``signature``),
so this module does not import ``tasks``: the tasks call it, never the reverse.

``to_date_refresh`` (beat, every ten minutes) follows late closures: it recomputes the figures
"as of today" of the months whose records moved since its last run.
"""

import datetime
import logging

from celery import chord, group, signature
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from governance.indicators.approval import can_start_rollup, period_is_locked
from governance.indicators.engine import UPPER_LEVELS, refresh_to_date
from governance.indicators.months import format_period, month_start, this_month
from governance.models import Level, OrgUnit, RollupRun, RollupStatus

logger = logging.getLogger(__name__)

# The tasks of a run, by their registered names (see ``governance.indicators.tasks``).
PART_TASK = "governance.indicators.tasks.rollup_part"
FINISH_TASK = "governance.indicators.tasks.rollup_finish"
# A run still "running" after this long died with its worker: a new trigger may start another.
STALE_RUN_SECONDS = 3600


class RollupNotQueued(Exception):
    """The broker did not take a run's tasks; the run (``args[0]``, its id) is marked failed."""


def start_rollup(period: datetime.date, org=None) -> int | None:
    """Create a RollupRun and enqueue its chord; the run's id, or None when the month is locked.

    A run of the same month and scope still running (and not stale) is returned instead of
    starting a second one: a redelivered or doubled trigger does no work twice.
    """
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
    return run.pk


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
