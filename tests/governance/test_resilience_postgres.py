"""PostgreSQL stopped or restarted under the portal: requests answer 503 in Chinese ("数据库暂时不可用，请稍后
重试"), never a 500, and the portal serves again by itself once the server is back (no restart).

These tests stop and restart the throwaway server of scripts/with-servers.sh (which exports its data
and binary directories); each leaves it running and the test database usable.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.db import connection, connections
from django.test import RequestFactory

from governance.portal.outage import OUTAGE_MESSAGE, is_database_outage, server_error
from grid.admin.cases import open311_key_issue
from grid.models import Case, CaseCategory, CaseSource, ColourDeadline, Open311Client
from grid.taxonomy import seed_taxonomy
from tests.helpers.markers import requires_postgres
from tests.helpers.processes import ROOT, database_url, free_port

PGDATA, PGBIN, PGLOG, PGOPTS = (os.environ.get(f"YIWANG_TEST_{name}", "") for name in
                                ("PGDATA", "PGBIN", "PGLOG", "PGOPTS"))
needs_throwaway_server = pytest.mark.skipif(
    not PGDATA, reason="needs the throwaway PostgreSQL of scripts/with-servers.sh (second run of make test)")
pytestmark = [requires_postgres, needs_throwaway_server, pytest.mark.django_db(transaction=True)]

OUTAGE = "数据库暂时不可用，请稍后重试"


def pg_ctl(*args: str) -> None:
    """pg_ctl on the throwaway server, as the user postgres when the tests run as root (PostgreSQL refuses root)."""
    command = [f"{PGBIN}/pg_ctl", "-D", PGDATA, *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr


def reconnect() -> None:
    """This process's own connection died with the server: open a fresh one for the rest of the test."""
    connections.close_all()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@pytest.fixture
def server_stopped():
    """Stop PostgreSQL for the test's block; started again (and this process reconnected) after it."""
    pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
    try:
        yield
    finally:
        pg_ctl("start", "-w", "-t", "60", "-l", PGLOG, "-o", PGOPTS)
        reconnect()


@pytest.fixture
def open311_key(clerk_a):
    seed_taxonomy(CaseCategory, ColourDeadline)
    client = Open311Client(name="随手拍", user=clerk_a, per_minute=100_000)
    key = open311_key_issue(client)
    client.save()
    return key


def test_pages_the_api_and_open311_answer_503_in_chinese_while_the_database_is_down(
        client, county, county_official, open311_key, request):
    client.force_login(county_official, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/dashboard/").status_code == 200
    request.getfixturevalue("server_stopped")
    client.raise_request_exception = False

    page = client.get("/dashboard/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert OUTAGE in page.content.decode() and "Traceback" not in page.content.decode()
    api = client.get("/api/v1/cases/")
    assert api.status_code == 503 and api.json() == {"detail": OUTAGE}
    open311 = client.get("/open311/v2/requests.json", {"api_key": open311_key})
    assert open311.status_code == 503 and open311.json() == [{"code": 503, "description": OUTAGE}]
    # The outside-a-view hook (handler500) gives the same answer for an outage a middleware meets.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - the outage itself, as a middleware would meet it
        assert is_database_outage(exc)
        response = server_error(RequestFactory().get("/grid/cases/"))
    assert response.status_code == 503 and OUTAGE in response.content.decode()


def test_a_bug_is_not_taken_for_an_outage(db):
    """An SQL mistake stays a 500 (and is logged as one): only a lost or refused connection is a 503."""
    from django.db import ProgrammingError

    with pytest.raises(ProgrammingError) as raised, connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM governance_orgunit")
    assert not is_database_outage(raised.value)
    assert str(OUTAGE_MESSAGE) == OUTAGE


# --- Restarted under load: a gunicorn portal with a few clients ----------------------------------------


@pytest.fixture
def portal(open311_key):
    """The portal under gunicorn (two sync workers, persistent connections, as ``make serve`` runs it) on
    the test database; its base URL."""
    port = free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=database_url(), DEBUG="0",
               DB_CONN_MAX_AGE="60", REDIS_URL="", CELERY_BROKER_URL="")
    log = open(ROOT / "var" / "gunicorn-resilience-test.log", "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "governance.wsgi:application", "--bind",
                             f"127.0.0.1:{port}", "--workers", "2", "--timeout", "30"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/open311/v2/services.json", timeout=5).read()
            break
        except OSError:
            assert proc.poll() is None, "gunicorn exited during start-up"
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not answer within 30 s")
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def call(base: str, key: str, grid_code: str, i: int) -> tuple[int, str]:
    """One clerk's call: read the area's requests, every fifth call file one. (status, body)."""
    if i % 5 == 4:
        data = urllib.parse.urlencode({"api_key": key, "service_code": "sanitation-garbage",
                                       "description": f"路灯不亮 {i}", "attribute[grid]": grid_code}).encode()
        req = urllib.request.Request(f"{base}/open311/v2/requests.json", data=data)
    else:
        req = urllib.request.Request(f"{base}/open311/v2/requests.json?api_key={key}")
    try:
        with urllib.request.urlopen(req, timeout=20) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except OSError as error:  # no HTTP answer at all: a worker died or hung
        return 0, str(error)


def test_a_restart_under_load_gives_503s_not_500s_and_the_portal_recovers_by_itself(portal, county, open311_key):
    results, stop = [], threading.Event()
    grid_code = county.grids[0].code

    def clerk():
        i = 0
        while not stop.is_set():
            began = time.monotonic()
            status, body = call(portal, open311_key, grid_code, i)
            results.append((began, status, body))
            i += 1

    clients = [threading.Thread(target=clerk) for _n in range(4)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(1.5)
        restart_began = time.monotonic()
        # A restart ("pg_ctl restart -m fast" in two steps): the throwaway server stops and starts again
        # in a fraction of a second; a production one takes seconds (its checkpoint, its recovery).
        pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
        time.sleep(1.5)
        pg_ctl("start", "-w", "-t", "60", "-l", PGLOG, "-o", PGOPTS)
        restarted = time.monotonic()
        time.sleep(6)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=30)
    reconnect()

    statuses = [status for _began, status, _body in results]
    print(f"{len(results)} calls: {statuses.count(200)} read, {statuses.count(201)} filed, "
          f"{statuses.count(503)} answered 503 during the restart of {restarted - restart_began:.1f} s")
    assert set(statuses) <= {200, 201, 503}, sorted({s for s in statuses if s not in (200, 201, 503)})
    outages = [body for _began, status, body in results if status == 503]
    assert outages, "no request met the restart"
    assert all(json.loads(body) == [{"code": 503, "description": OUTAGE}] for body in outages)
    assert any(began < restart_began and status in (200, 201) for began, status, _body in results)
    # Served again within a few seconds of the restart, by the same gunicorn workers.
    after = [(began, status) for began, status, _body in results if began > restarted + 3]
    assert len(after) >= 8 and all(status in (200, 201) for _began, status in after)
    first_ok = min(began for began, status, _body in results if began > restarted and status in (200, 201))
    assert first_ok - restarted < 3
    filed = Case.objects.filter(source=CaseSource.OPEN311).count()
    assert filed >= sum(1 for status in statuses if status == 201)  # every case answered 201 was kept
