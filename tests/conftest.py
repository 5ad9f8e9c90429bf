"""The standing cast of every test: a small county with two townships, and its people.

Two counties exist so that "nobody sees another county" can be shown; township A and
township B of the first county so that every list and detail test can show that a clerk of
B sees nothing of A (tests/helpers/cast.py builds them).

A cast user comes as he is: ``login(user)`` logs him in so, which is what a refusal for want
of a permission needs; ``staff(user)`` first gives him his role's permissions, which the
admin, the API's writes and the pages' forms need.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from governance.models import Role
from governance.roles import user_sync_permissions
from tests.helpers.cast import build_county
from tests.helpers.people import new_user
from tests.helpers.processes import ROOT, database_url

# --- Settings of every test -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def portal_language():
    """Every test starts in the portal's language, whatever an earlier request activated."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def ledger_flushable(request):
    """A transactional test on SQLite empties its tables by DELETE, which the ledger's triggers refuse
    for posted vouchers and the audit trail's for its events: delete them with the triggers lifted first
    (tests/helpers/ledger.py, governance.audit.triggers.unguarded)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = ("transactional_db" in request.fixturenames or "live_server" in request.fixturenames
                     or bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))))
    if transactional:
        # Set up the database first, so that the deletes below run before its flush (teardown is LIFO).
        request.getfixturevalue("transactional_db")
    yield
    if transactional:
        from django.db import connection

        from tests.helpers.ledger import unguarded_flush

        unguarded_flush(connection)
        if connection.vendor == "sqlite":  # the audit trail's guard refuses DELETE of young events too
            from governance.audit.triggers import unguarded
            from governance.models import AuditEvent

            with unguarded(connection):
                AuditEvent.objects.all()._raw_delete(using="default")


# --- The county chain -------------------------------------------------------------------------


@pytest.fixture
def county(db):
    from collective_economy.services.registers import project_categories_load_shipped

    project_categories_load_shipped()  # the migration's rows, emptied by an earlier live-server test's flush
    return with_local_names(build_county("513424", "德昌县", "德"))


@pytest.fixture
def rolled(county):
    """This month (one case in each township) and last month, rolled up; this month's first day."""
    from governance.indicators.engine import rollup_month
    from governance.indicators.months import shift_month, this_month

    period = this_month()
    for month in (shift_month(period, -1), period):
        run = rollup_month(month)
        assert run.status == "complete", run.errors
    return period


@pytest.fixture
def other_county(db):
    return with_local_names(build_county("513425", "会理县", "会"))


def with_local_names(chain):
    """A local name in each township (the scope walk needs a row of every scoped model in each), for a
    term the cast's pages never show."""
    from governance.models import LocalName

    for township in chain.townships:
        LocalName.objects.create(unit=township, vocabulary="worker_type", code="unit_head", name="楼道长")
    return chain


# --- The people -------------------------------------------------------------------------------


@pytest.fixture
def admin_user(county):
    return new_user("admin", Role.ADMIN, county.county, is_superuser=True)


@pytest.fixture
def county_official(county):
    return new_user("county", Role.COUNTY, county.county)


@pytest.fixture
def clerk_a(county):
    return new_user("township_a", Role.TOWNSHIP, county.township_a)


@pytest.fixture
def clerk_b(county):
    return new_user("township_b", Role.TOWNSHIP, county.township_b)


@pytest.fixture
def village_a(county):
    return new_user("village_a", Role.VILLAGE, county.villages[0])


@pytest.fixture
def grid_worker_a(county):
    return new_user("grid_a", Role.GRID, county.grids[0])


@pytest.fixture
def login(client):
    """Log a user into the test client as he is (bypassing django-axes, which wants a request)."""

    def _login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


@pytest.fixture
def staff(login):
    """Log a cast user in with the permissions of his role (the admin, the API's writes and the
    pages' forms need them)."""

    def _staff(user):
        user_sync_permissions(user)
        return login(user)

    return _staff


@pytest.fixture
def admin_for_every_role(settings):
    """Let every role into Django's admin (ADMIN_ROLES), for the tests of the admin's own rules (scope, masks,
    steps by role) that an operator who names those roles would meet. By default only administrators and
    township staff enter it: tests/governance/test_auth_admin.py."""
    from governance.models import Role

    settings.ADMIN_ROLES = list(Role.values)


# --- Celery -----------------------------------------------------------------------------------


@pytest.fixture
def eager_celery():
    """Follow-up tasks run in this process right after the commit, even when a broker is configured."""
    from governance.celery import app

    # The app reads Django's settings with the CELERY_ namespace: its keys carry the prefix.
    before = app.conf.task_always_eager
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield app
    app.conf.CELERY_TASK_ALWAYS_EAGER = before


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` against the test database and the throwaway Redis (second run of make
    test); stopped after the test."""
    from governance.celery import app

    env = dict(os.environ, DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="tests.settings")
    log = open(ROOT / "var" / "celery-worker-test.log", "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", "worker", "--pool=solo", "--concurrency=1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.control.ping(timeout=1.0):
                break
            assert proc.poll() is None, "the Celery worker exited during start-up"
        else:
            pytest.fail("the Celery worker did not answer a ping within 60 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- What was skipped ---------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter):
    """With ``YIWANG_SKIP_REPORT`` set (by ``make test``), write each skip reason and how many tests it
    skipped, so the end of ``make test`` can say which parts did not run and why."""
    path = os.environ.get("YIWANG_SKIP_REPORT")
    if not path:
        return
    from collections import Counter

    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    passed = len(terminalreporter.stats.get("passed", []))
    failed = len(terminalreporter.stats.get("failed", [])) + len(terminalreporter.stats.get("error", []))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"{passed} passed, {failed} failed, {sum(reasons.values())} skipped\n")
        for reason, count in reasons.most_common():
            out.write(f"  {count:4d}  {reason}\n")
