"""The trail is append-only: the database refuses UPDATE and DELETE of its events (on PostgreSQL and SQLite),
except the purge of events older than the retention period, which refuses younger dates."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from governance.audit import Action, record
from governance.models import AuditEvent


def old_event(days: int) -> AuditEvent:
    return AuditEvent.objects.create(at=timezone.now() - datetime.timedelta(days=days), action=Action.LOGIN,
                                     actor="someone")


def refused(sql: str, params=()) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


def test_the_database_refuses_to_change_or_delete_an_event(db):
    event = record(Action.LOGIN, actor="township_a", address="10.0.0.1")
    assert "never changed" in refused("UPDATE governance_auditevent SET actor = 'nobody' WHERE id = %s", [event.pk])
    assert "never deleted" in refused("DELETE FROM governance_auditevent WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert (event.actor, event.detail) == ("township_a", "")
    # An old event may go, but still never change.
    old = old_event(200)
    assert "never changed" in refused("UPDATE governance_auditevent SET actor = 'x' WHERE id = %s", [old.pk])


def test_the_purge_refuses_a_date_younger_than_the_retention_period(db):
    record(Action.LOGIN, actor="township_a")
    too_young = timezone.localdate() - datetime.timedelta(days=179)
    with pytest.raises(CommandError, match="180"):
        call_command("audit_purge", "--before", too_young.isoformat(), stdout=io.StringIO())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit_purge", "--before", "yesterday", stdout=io.StringIO())
    assert AuditEvent.objects.count() == 1


def test_the_purge_deletes_old_events_only(db):
    young = record(Action.LOGIN, actor="township_a")
    kept = old_event(170)
    gone = [old_event(400), old_event(365)]
    out = io.StringIO()
    call_command("audit_purge", "--before", (timezone.localdate() - datetime.timedelta(days=181)).isoformat(),
                 stdout=out)
    assert "2 audit events" in out.getvalue()
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {young.pk, kept.pk}
    assert not AuditEvent.objects.filter(pk__in=[event.pk for event in gone]).exists()


@override_settings(AUDIT_RETENTION_DAYS=365)
def test_a_longer_retention_is_kept_by_the_purge(db):
    with pytest.raises(CommandError, match="365"):
        call_command("audit_purge", "--before", (timezone.localdate() - datetime.timedelta(days=200)).isoformat(),
                     stdout=io.StringIO())


def test_a_retention_below_180_days_is_refused(monkeypatch):
    import subprocess
    import sys

    from tests.helpers.processes import ROOT

    result = subprocess.run([sys.executable, "-c", "import governance.settings"], cwd=ROOT, capture_output=True,
                            text=True, env={**__import__("os").environ, "AUDIT_RETENTION_DAYS": "30"}, timeout=60)
    assert result.returncode != 0 and "AUDIT_RETENTION_DAYS must be at least 180" in result.stderr


def test_a_transactional_test_database_is_still_emptied_after_it(transactional_db):
    """The guard is lifted for the flush that empties a transactional test's database (tests/conftest.py);
    the next test starts with no event."""
    record(Action.LOGIN, actor="township_a")
    assert AuditEvent.objects.count() == 1


def test_the_next_test_finds_no_event(transactional_db):
    assert AuditEvent.objects.count() == 0
