"""Reading the audit trail in tests: the events of an object, of an action, on either database."""

from django.db import connection

from governance.models import AuditEvent


def on_postgres() -> bool:
    """Row events of bulk writes are the triggers' (PostgreSQL); SQLite records saves only."""
    return connection.vendor == "postgresql"


def events(obj=None, **filters) -> list[AuditEvent]:
    """The events (oldest first) of ``obj`` if given, filtered further by ``filters``."""
    if obj is not None:
        filters.update(object_type=obj._meta.label, object_id=str(obj.pk))
    return list(AuditEvent.objects.filter(**filters).order_by("at", "id"))


def imports(kind: str) -> list[AuditEvent]:
    """The import events of roster ``kind`` (oldest first)."""
    return [event for event in events(action="import") if (event.changes or {}).get("kind", [None, None])[1] == kind]
