"""Follow-up work is sent after the commit, never with a rolled-back change, and kept while the broker is down."""

import shutil
import socket
import subprocess
import time

import pytest
from django.db import transaction

from governance.models import OutboxMessage
from grid.models import CaseCategory
from grid.services import cases as svc
from tests.helpers.markers import requires_redis
from tests.helpers.processes import free_port, portal_process


def report(county, user):
    category = CaseCategory.objects.get(code="hazard-building")
    return svc.case_create(user=user, title="危房", description="墙体开裂", category=category,
                           grid=county.micro_grids[0])


def test_nothing_is_sent_for_a_change_that_is_rolled_back(county, clerk_a, eager_celery,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            report(county, clerk_a)
            raise RuntimeError("the request failed after the case was written")
    assert callbacks == [] and not OutboxMessage.objects.exists()


def test_work_is_sent_once_the_change_commits(county, clerk_a, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report(county, clerk_a)
    (message,) = OutboxMessage.objects.all()
    assert message.sent_at is None  # not before the commit
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


# --- A real Redis that stops and comes back -----------------------------------------------------


class RedisServer:
    def __init__(self, port: int):
        self.port = port
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def queued(self, queue: str = "celery") -> int:
        import redis

        return redis.Redis(port=self.port).llen(queue)


CREATE_AND_ACCEPT = """
import json, time
from django.db import transaction
from governance.models import OutboxMessage, User
from grid.models import CaseCategory, OrgUnit
from grid.services import cases as svc
clerk = User.objects.get(username="township_a")
grid = OrgUnit.objects.get(pk=%(grid)d)
started = time.monotonic()
case = svc.case_create(user=clerk, title="危房", description="墙体开裂",
                       category=CaseCategory.objects.get(code="hazard-building"), grid=grid)
case = svc.case_accept(case=case, user=clerk, triage="minor")
elapsed = time.monotonic() - started
pending = list(OutboxMessage.objects.filter(sent_at__isnull=True).values_list("last_error", flat=True))
print(json.dumps({"elapsed": elapsed, "pending": pending, "state": case.state}))
"""

FLUSH = """
import json
from governance import outbox
from governance.models import OutboxMessage
outbox.FLUSH_AFTER_SECONDS = 0
sent = outbox.flush()
print(json.dumps({"sent": sent, "pending": OutboxMessage.objects.filter(sent_at__isnull=True).count()}))
"""


@requires_redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_a_case_is_still_created_fast_and_its_work_sent_later(county, clerk_a):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    redis_server = RedisServer(free_port())
    redis_server.start()
    try:
        redis_server.stop()  # the broker is down while the clerk works
        created = portal_process(CREATE_AND_ACCEPT % {"grid": county.micro_grids[0].pk}, redis_server.port)
        assert created["state"] == "accepted"
        assert created["elapsed"] < 2, f"creating and moving a case took {created['elapsed']:.1f} s"
        assert len(created["pending"]) == 2 and all(created["pending"])  # kept, with the reason

        redis_server.start()  # the broker is back: the next flush sends what was kept
        flushed = portal_process(FLUSH, redis_server.port)
        assert flushed == {"sent": 2, "pending": 0}
        assert redis_server.queued() == 2  # both follow-up tasks wait in Redis for a worker
    finally:
        if redis_server.process.poll() is None:
            redis_server.stop()


@requires_redis
def test_a_real_worker_delivers_the_notification_of_a_dispatch(county, clerk_a, village_a, celery_worker_process):
    from governance.models import Notification

    case = report(county, clerk_a)  # autocommit: each step's work is published as it commits
    svc.case_accept(case=case, user=clerk_a, triage="minor")
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0], assignee=village_a)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if Notification.objects.filter(user=village_a, text__contains=case.number).exists():
            break
        time.sleep(0.2)
    else:
        pytest.fail("the worker did not write the dispatch notification within 30 s")
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
