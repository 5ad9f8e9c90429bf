"""``/healthz``: the portal's state for monitors, as JSON, without a login and without personal data.

- ``database``: ``SELECT 1`` and its latency;
- ``broker``: a ping of the Celery broker (Redis), cut at a second;
- ``worker``: when a worker last ran the heartbeat task that beat sends every minute;
- ``beat``: beat's last tick (recorded as it sends that task);
- ``outbox``: follow-up work not yet handed to the broker, and the age of the oldest.

200 when every check passes, 503 naming the failing ones (``failing``). Without a broker (the eager
development mode) tasks run in the web process: broker, worker and beat say ``eager`` and pass.
Cheap: three short queries and one ping; and one answer serves every call of the next couple of
seconds in this process, so a monitor polling hard costs no more.
"""

import threading
import time

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance.celery import app as current_app
from governance.models import Heartbeat, OutboxMessage

MEMO_SECONDS = 2.0
PING_TIMEOUT = 1.0
_memo: dict = {}
_memo_lock = threading.Lock()


def _age(at) -> float | None:
    return None if at is None else round((timezone.now() - at).total_seconds(), 1)


def check_database() -> dict:
    began = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - down is an answer, not an error
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - began) * 1000, 1)}


def check_broker() -> dict:
    if current_app.conf.task_always_eager:
        return {"ok": True, "mode": "eager"}
    url = settings.CELERY_BROKER_URL  # as configured (Celery's own conf prefers the environment's)
    began = time.monotonic()
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=PING_TIMEOUT, socket_timeout=PING_TIMEOUT)
            try:
                client.ping()
            finally:
                client.close()
        else:
            with current_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=PING_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - began) * 1000, 1)}


def check_processes(database_ok: bool) -> dict:
    """``worker`` and ``beat``: the age of their last heartbeat (one query)."""
    if current_app.conf.task_always_eager:
        return {"worker": {"ok": True, "mode": "eager"}, "beat": {"ok": True, "mode": "eager"}}
    if not database_ok:
        return {name: {"ok": False, "error": "database unavailable"} for name in ("worker", "beat")}
    seen = dict(Heartbeat.objects.filter(name__in=("worker", "beat")).values_list("name", "at"))
    limit = settings.HEALTH_HEARTBEAT_MAX_AGE
    checks = {}
    for name in ("worker", "beat"):
        age = _age(seen.get(name))
        checks[name] = {"ok": age is not None and age <= limit, "last_seen_s": age, "max_age_s": limit}
    return checks


def check_outbox(database_ok: bool) -> dict:
    if not database_ok:
        return {"ok": False, "error": "database unavailable"}
    backlog = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(count=Count("id"), oldest=Min("created_at"))
    age = _age(backlog["oldest"])
    limit = settings.HEALTH_OUTBOX_MAX_AGE
    return {"ok": age is None or age <= limit, "pending": backlog["count"], "oldest_s": age, "max_age_s": limit}


def health() -> dict:
    """Every check, and which fail."""
    database = check_database()
    checks = {"database": database, "broker": check_broker(), **check_processes(database["ok"]),
              "outbox": check_outbox(database["ok"])}
    failing = [name for name, check in checks.items() if not check["ok"]]
    return {"status": "fail" if failing else "ok", "failing": failing,
            "mode": "eager" if current_app.conf.task_always_eager else "broker",
            "checked_at": timezone.now().isoformat(timespec="seconds"), "checks": checks}


def forget() -> None:
    """Drop the remembered answer (tests, and a monitor that must see a change at once)."""
    _memo.clear()


@never_cache
@require_GET
def healthz(request):
    with _memo_lock:
        if _memo and time.monotonic() - _memo["at"] < MEMO_SECONDS:
            report = _memo["report"]
        else:
            report = health()
            _memo.update(at=time.monotonic(), report=report)
    return JsonResponse(report, status=503 if report["failing"] else 200)
