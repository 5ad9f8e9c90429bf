"""Redis down or hung: Open311, the public pages and the signed-in pages keep answering.

The cache is a real Redis server started here, used, then killed (connections refused) or replaced
by a listener that never answers (a hung server): every call still answers normally, within the
cache's socket timeouts (settings.CACHE_REDIS_OPTIONS), and the rate limit logs that it was skipped.
"""

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from governance.models import OutboxMessage
from grid.admin.cases import open311_key_issue
from grid.models import Case, CaseCategory, CaseSource, ColourDeadline, Open311Client
from grid.taxonomy import seed_taxonomy
from tests.helpers.markers import requires_postgres
from tests.helpers.processes import ROOT, database_url, redis_server_running

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server installed")

BASE = "/open311/v2/"


def redis_caches(port: int) -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "LOCATION": f"redis://127.0.0.1:{port}/0", "OPTIONS": settings.CACHE_REDIS_OPTIONS}}


@pytest.fixture
def redis_server(tmp_path):
    """A throwaway redis-server on a free port (tests.helpers.processes.redis_server_running)."""
    with redis_server_running(tmp_path) as proc:
        yield proc


@pytest.fixture
def hung_redis():
    """A port that takes connections and never answers: a Redis stuck (or a firewall dropping replies)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # the kernel completes the handshakes; nobody ever reads or writes
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def categories(db):
    seed_taxonomy(CaseCategory, ColourDeadline)


@pytest.fixture
def open311_client(clerk_a, categories):
    client = Open311Client(name="随手拍", user=clerk_a, per_minute=100)
    key = open311_key_issue(client)
    client.save()
    client.key = key
    return client


def file_request(client, key, grid):
    return client.post(BASE + "requests.json", {
        "api_key": key, "service_code": "sanitation-garbage", "description": "村口垃圾堆放\n已有一周无人清运",
        "attribute[grid]": grid.code,
    }, HTTP_ACCEPT_LANGUAGE="en")


def open311_calls(client, key, grid):
    """Discovery without a key, a keyed list, and a filed request: the statuses and the slowest call."""
    statuses, slowest = [], 0.0
    for call in (lambda: client.get(BASE + "services.json"),
                 lambda: client.get(BASE + "requests.json", {"api_key": key}),
                 lambda: file_request(client, key, grid)):
        began = time.monotonic()
        statuses.append(call().status_code)
        slowest = max(slowest, time.monotonic() - began)
    return statuses, slowest


def test_open311_keeps_answering_when_redis_is_killed(client, county, open311_client, redis_server, caplog):
    with override_settings(CACHES=redis_caches(redis_server.port)):
        cache.clear()
        assert open311_calls(client, open311_client.key, county.grids[0])[0] == [200, 200, 201]
        # The limit counted in that Redis: the client's window holds the two keyed calls.
        assert cache.get(f"open311:{open311_client.pk}:{open311_client.key_hash[:12]}") == 2
        redis_server.send_signal(signal.SIGKILL)
        redis_server.wait(timeout=5)
        with caplog.at_level(logging.WARNING, logger="governance.portal.ratelimit"):
            statuses, slowest = open311_calls(client, open311_client.key, county.grids[0])
        assert statuses == [200, 200, 201]
        assert slowest < 3
        assert "open311 rate limit skipped: the cache is unavailable" in caplog.text
        # The key is still checked: no key, no list.
        assert client.get(BASE + "requests.json").status_code == 403
    assert Case.objects.filter(source=CaseSource.OPEN311).count() == 2


def test_open311_answers_within_the_timeout_when_redis_hangs(client, county, open311_client, hung_redis):
    with override_settings(CACHES=redis_caches(hung_redis)):
        statuses, slowest = open311_calls(client, open311_client.key, county.grids[0])
    assert statuses == [200, 200, 201]
    # One cache call per limit, each cut at the socket timeout (1 s): the call is slower, never stuck.
    assert slowest < 4


def test_the_public_pages_and_signed_in_pages_stay_up_without_redis(client, county, login, county_official,
                                                                   redis_server):
    with override_settings(CACHES=redis_caches(redis_server.port)):
        redis_server.send_signal(signal.SIGKILL)
        redis_server.wait(timeout=5)
        village = county.villages[0].code
        for url in ("/public/", f"/public/{village}/"):
            response = client.get(url)
            assert response.status_code == 200, url
        signed_in = login(county_official)
        for url in ("/dashboard/", f"/dashboard/{county.township_a.code}/", "/grid/cases/", "/api/v1/cases/"):
            response = signed_in.get(url)
            assert response.status_code == 200, url


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_portal_process_with_cache_and_broker_down_files_the_request_and_keeps_the_follow_up(
        county, open311_client, redis_server):
    """Production's Redis is both cache and broker: a portal process whose Redis was killed still files
    the request (201, quickly); the follow-up waits in the outbox for the broker to come back."""
    port = redis_server.port
    redis_server.send_signal(signal.SIGKILL)
    redis_server.wait(timeout=5)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=database_url(),
               REDIS_URL=f"redis://127.0.0.1:{port}/0", CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0",
               CELERY_RESULT_BACKEND=f"redis://127.0.0.1:{port}/1")
    script = f"""
import django, json, time
django.setup()
from django.test import Client
client, base, key = Client(), {BASE!r}, {open311_client.key!r}
began, statuses = time.monotonic(), []
statuses.append(client.get(base + "services.json").status_code)
statuses.append(client.get(base + "requests.json", {{"api_key": key}}).status_code)
statuses.append(client.post(base + "requests.json", {{"api_key": key, "service_code": "sanitation-garbage",
    "description": "路灯不亮", "attribute[grid]": {county.grids[0].code!r}}}).status_code)
print(json.dumps({{"statuses": statuses, "seconds": time.monotonic() - began}}))
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200, 201]
    assert result["seconds"] < 15
    case = Case.objects.get(source=CaseSource.OPEN311)
    pending = OutboxMessage.objects.filter(task="grid.tasks.case_followup", sent_at__isnull=True)
    assert pending.count() == 1 and pending.get().kwargs["event_id"] in set(case.events.values_list("pk", flat=True))
