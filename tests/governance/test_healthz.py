"""/healthz for monitors: database, broker, worker, beat and outbox as JSON, without a login or personal
data; 200 when all pass, 503 naming what fails; cheap, and quick even with Redis down or hung."""

import datetime
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from governance import health
from governance.celery import app
from governance.models import Heartbeat, OutboxMessage
from governance.tasks import heartbeat
from tests.helpers.markers import requires_postgres, requires_redis
from tests.helpers.processes import ROOT, database_url, redis_server_running


@pytest.fixture(autouse=True)
def fresh_answer():
    """Each call below is measured afresh (the view keeps an answer two seconds)."""
    health.forget()
    yield
    health.forget()


def healthz(client):
    health.forget()
    began = time.monotonic()
    response = client.get("/healthz")
    response.seconds = time.monotonic() - began
    assert response["Content-Type"] == "application/json" and "no-store" in response["Cache-Control"]
    return response


def test_without_a_broker_it_says_eager_and_is_healthy(client, county, admin_user, eager_celery,
                                                     django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # SELECT 1 and the outbox; no heartbeat to read in eager mode
        response = healthz(client)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == [] and body["mode"] == "eager"
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["database"]["latency_ms"] >= 0
    assert checks["broker"] == {"ok": True, "mode": "eager"}
    assert checks["worker"] == checks["beat"] == {"ok": True, "mode": "eager"}
    assert checks["outbox"] == {"ok": True, "pending": 0, "oldest_s": None, "max_age_s": 600}
    # No login asked, and nothing about people: no user, unit or resident is named.
    text = response.content.decode()
    for name in (admin_user.username, county.county.name, county.township_a.name, county.township_a.code):
        assert name not in text


def test_follow_up_work_stuck_in_the_outbox_fails_the_check(client, db, eager_celery):
    old = OutboxMessage.objects.create(task="grid.tasks.case_followup", kwargs={"event_id": 1})
    OutboxMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=20))
    OutboxMessage.objects.create(task="grid.tasks.case_followup", kwargs={"event_id": 2})
    response = healthz(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failing"] == ["outbox"]
    assert body["checks"]["outbox"]["pending"] == 2 and body["checks"]["outbox"]["oldest_s"] >= 1200
    OutboxMessage.objects.filter(pk=old.pk).update(sent_at=timezone.now())
    assert healthz(client).status_code == 200


def test_a_monitor_polling_hard_costs_one_check_every_two_seconds(client, db, eager_celery,
                                                                 django_assert_num_queries):
    assert healthz(client).status_code == 200
    client.get("/healthz")
    with django_assert_num_queries(0):
        for _i in range(20):
            assert client.get("/healthz").status_code == 200


# --- With a broker: Redis up, killed, hung ----------------------------------------------------------

needs_redis_server = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server installed")


@pytest.fixture
def broker_mode(settings):
    """This process publishes to a broker (``use(url)`` names it), as the production portal does."""
    before = app.conf.task_always_eager

    def use(url):
        app.conf.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_BROKER_URL = url

    yield use
    app.conf.CELERY_TASK_ALWAYS_EAGER = before


@pytest.fixture
def redis_server(tmp_path):
    """A throwaway redis-server on a free port (tests.helpers.processes.redis_server_running)."""
    with redis_server_running(tmp_path) as proc:
        yield proc


def beats_now():
    """A worker runs the heartbeat beat just sent (the task's own code, in this process)."""
    heartbeat.apply(kwargs={"sent_at": timezone.now().isoformat()})


@needs_redis_server
def test_with_redis_killed_it_says_the_broker_is_down_quickly(client, db, broker_mode, redis_server):
    broker_mode(redis_server.url)
    beats_now()
    response = healthz(client)
    assert response.status_code == 200, response.json()
    assert response.json()["mode"] == "broker" and response.json()["checks"]["broker"]["ok"]
    redis_server.send_signal(signal.SIGKILL)
    redis_server.wait(timeout=5)
    response = healthz(client)
    assert response.status_code == 503 and response.json()["failing"] == ["broker"]
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "ConnectionError"}
    assert response.seconds < 3


def test_with_redis_hung_it_still_answers_within_three_seconds(client, db, broker_mode):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # takes the connection, never answers
    try:
        broker_mode(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
        beats_now()
        response = healthz(client)
    finally:
        listener.close()
    assert response.status_code == 503 and response.json()["failing"] == ["broker"]
    assert response.seconds < 3


@needs_redis_server
def test_a_silent_worker_or_beat_is_named(client, db, broker_mode, redis_server):
    broker_mode(redis_server.url)
    body = healthz(client).json()
    assert set(body["failing"]) == {"worker", "beat"}  # never seen
    assert body["checks"]["worker"]["last_seen_s"] is None
    beats_now()
    Heartbeat.objects.filter(name="worker").update(at=timezone.now() - datetime.timedelta(minutes=5))
    body = healthz(client).json()
    assert body["failing"] == ["worker"] and body["checks"]["worker"]["last_seen_s"] >= 300
    assert body["checks"]["beat"]["ok"] and body["checks"]["beat"]["last_seen_s"] < 5


# --- A real worker and a real beat (PostgreSQL + Redis) -----------------------------------------------


@pytest.fixture
def beat_process(celery_worker_process, tmp_path):
    """``celery beat`` sending the heartbeat every second (HEARTBEAT_SECONDS) to the worker."""
    env = dict(os.environ, DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="tests.settings",
               HEARTBEAT_SECONDS="1")
    log = open(ROOT / "var" / "celery-beat-test.log", "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "governance", "beat", "--loglevel=INFO",
                             "-s", str(tmp_path / "beat-schedule")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@requires_redis
@requires_postgres
def test_a_real_worker_and_beat_keep_it_healthy_and_a_dead_worker_is_named(client, celery_worker_process,
                                                                            beat_process, settings):
    settings.HEALTH_HEARTBEAT_MAX_AGE = 4
    deadline = time.monotonic() + 30
    while healthz(client).status_code != 200:
        assert time.monotonic() < deadline, healthz(client).json()
        time.sleep(0.5)
    body = healthz(client).json()
    assert body["mode"] == "broker" and body["checks"]["worker"]["last_seen_s"] < 4
    assert body["checks"]["beat"]["last_seen_s"] < 4
    worker_host = Heartbeat.objects.get(name="worker").detail
    assert worker_host == socket.gethostname()

    celery_worker_process.send_signal(signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while "worker" not in healthz(client).json()["failing"]:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    body = healthz(client).json()
    assert body["failing"] == ["worker"]  # beat goes on ticking without a worker
    assert body["checks"]["beat"]["ok"]
