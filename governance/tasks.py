"""Celery tasks of the org chain: the nightly tree check, the outbox's flush, and the heartbeat that
``/healthz`` reads.

The monthly rollup's tasks are in ``governance.indicators.tasks``.
"""

import datetime
import logging
import socket

from celery import shared_task
from celery.signals import before_task_publish
from django.utils import timezone

from governance.models import Heartbeat
from governance.outbox import flush
from governance.tree_check import tree_violations

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def check_tree() -> int:
    """Nightly integrity check of the org tree; returns the number of violations found."""
    violations = tree_violations()
    for violation in violations:
        logger.error("org tree violation %s", violation)
    return len(violations)


@shared_task(acks_late=True, ignore_result=True)
def flush_outbox() -> int:
    """Send the follow-up work left pending while the broker was down (every minute, from beat)."""
    return flush()


HEARTBEAT_TASK = "governance.tasks.heartbeat"


def _seen(name: str, at: datetime.datetime, detail: str = "") -> None:
    """Record a sign of life, never moving it back (a late message must not hide a newer one)."""
    if not Heartbeat.objects.filter(name=name, at__gte=at).exists():
        Heartbeat.objects.update_or_create(name=name, defaults={"at": at, "detail": detail[:200]})


@before_task_publish.connect
def stamp_heartbeat(sender=None, body=None, **kwargs):
    """As beat sends the heartbeat: record beat's tick, and put the send time in the message.

    Runs in the process that publishes (beat), before the message leaves; protocol 2's body is
    (args, kwargs, embed), and the kwargs dict is the one serialised. A database that cannot be
    reached only costs the record: the message still goes.
    """
    if sender != HEARTBEAT_TASK or not isinstance(body, tuple | list) or not isinstance(body[1], dict):
        return
    now = timezone.now()
    body[1]["sent_at"] = now.isoformat()
    try:
        _seen("beat", now, socket.gethostname())
    except Exception:  # noqa: BLE001 - the database is down: /healthz says so itself
        logger.warning("beat's tick not recorded", exc_info=True)


@shared_task(acks_late=True, ignore_result=True, expires=300)
def heartbeat(sent_at: str | None = None) -> None:
    """Beat, every minute: a worker records that it runs tasks (and when beat sent this one)."""
    now = timezone.now()
    _seen("worker", now, socket.gethostname())
    if sent_at:
        _seen("beat", datetime.datetime.fromisoformat(sent_at))
