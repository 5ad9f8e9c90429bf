"""Follow-up work (Celery tasks) sent after the commit: never lost, never holding up a request.

``enqueue("app.tasks.name", **kwargs)`` is called inside the transaction of the change that
needs the work. It writes an ``OutboxMessage`` row in that same transaction (so the work
exists exactly when the change does) and, once the transaction commits, publishes the task.

Publishing is bounded: no retries and short socket timeouts (see the broker settings in
settings.py), because Celery's ``.delay()`` can wait a long time for a broker that is down.
If the broker does not answer, the message stays pending and ``flush_outbox`` (every
minute, from beat) sends it when the broker is back; the request that caused it has long
since answered. A message is claimed with a conditional UPDATE before it is published, so
two flushers never send the same one; a failed publish hands it back.

Without a broker (the embedded default) tasks run eagerly, right after the commit.
"""

import logging
from importlib import import_module

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.celery import app
from governance.models import OutboxMessage

logger = logging.getLogger(__name__)

FLUSH_AFTER_SECONDS = 10  # younger messages are still being sent by their own commit hook
FLUSH_BATCH = 500


def enqueue(task: str, **kwargs) -> OutboxMessage:
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs)
    transaction.on_commit(lambda: send([message.pk]), robust=True)
    return message


def _task(name: str):
    """The registered task ``name``, importing its module if this process has not yet (a web process)."""
    if name not in app.tasks:
        import_module(name.rpartition(".")[0])
    return app.tasks[name]


def send(ids: list[int]) -> int:
    """Publish the pending messages ``ids``; returns how many went out."""
    sent = 0
    for message in OutboxMessage.objects.filter(pk__in=ids, sent_at__isnull=True).order_by("pk"):
        claimed = OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not claimed:
            continue  # another sender has it
        try:
            _task(message.task).apply_async(kwargs=message.kwargs, retry=False)
        except Exception as exc:  # noqa: BLE001 - the broker is down or the task failed eagerly: keep it
            logger.warning("outbox message %s not sent: %s", message.pk, exc)
            OutboxMessage.objects.filter(pk=message.pk).update(sent_at=None, last_error=str(exc)[:300])
            if not app.conf.task_always_eager:
                break  # the broker is not answering: leave the rest for flush_outbox
            continue
        sent += 1
    return sent


def flush() -> int:
    """Send every message left pending (the broker was down when its change committed)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=FLUSH_AFTER_SECONDS)
    total = 0
    while True:
        ids = list(
            OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:FLUSH_BATCH]
        )
        if not ids:
            return total
        sent = send(ids)
        total += sent
        if sent < len(ids):
            return total
