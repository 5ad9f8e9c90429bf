"""The audit trail: who did what, when, from where, to which object (issue 16 §4).

One append-only table, ``AuditEvent`` (governance.models.audit), filled by two paths chosen per
database, so that production (PostgreSQL) misses no bulk write and the SQLite demo still
records what its services do:

- **PostgreSQL** — statement-level AFTER INSERT / UPDATE / DELETE triggers with transition
  tables on every county table (``triggers.py``; the tables and the exclusions are listed in
  ``capture.py``) write one event per changed row, set-based, including the rows of
  ``bulk_create``, ``QuerySet.update()``, the roster imports' COPY and raw SQL. An UPDATE keeps
  only the changed columns (a jsonb diff of the old and new row joined on the id). The actor
  and address come from session settings that the middleware sets for writing requests and a
  Celery task sets to its name (``context.py``). The row signals below are then not used.
- **SQLite** (demo, tests) — Django's post_save / post_delete / m2m_changed signals record the
  same create / update / delete events with field diffs (``signals.py``); the old values are
  the snapshot an instance took when it was loaded (``from_db``), so a save costs no extra read.
  Bulk writes are not seen on SQLite: the demo's imports are recorded as import events.

On both, the application records what a row change does not say: workflow steps (derived
from a change of ``state`` / ``status`` on save), logins, failed logins and logouts, permission
changes, imports (the roster engine's commit), exports (each ``ExportLog`` row becomes an
export event: the exports already write it at one place each, and it stays the export
register its pages and tests read), views of unmasked personal data, lockouts.

Append-only: no page, admin or API edits or deletes an event, and the database refuses UPDATE
and DELETE of events on PostgreSQL and SQLite alike (``guard.py``), except the DELETE of events
older than ``AUDIT_RETENTION_DAYS`` (at least 180) by ``manage.py audit_purge``.
"""

import logging

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("yiwang.audit")


class Action(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    STEP = "step", _("state step")
    LOGIN = "login", _("logged in")
    LOGIN_FAILED = "login_failed", _("login failed")
    LOCKOUT = "lockout", _("locked out")
    LOGOUT = "logout", _("logged out")
    PASSWORD = "password", _("password changed")
    PERMISSION = "permission", _("permission changed")
    TOKEN = "token", _("API token issued or revoked")
    IMPORT = "import", _("imported")
    EXPORT = "export", _("exported")
    PII_VIEW = "pii_view", _("viewed personal data unmasked")


def record(action, *, request=None, user=None, obj=None, changes=None, detail="", address=None,
           object_type: str = "", object_id=None, org_unit_id=None, actor: str = ""):
    """Record one event. ``request`` gives the user and address when present (else the request or task
    that is acting); ``obj`` the object; ``changes`` maps a field name to ``[old, new]`` (personal data
    masked here by the field's name); ``detail`` a short free text (what was imported or exported, the
    step, the reason). ``object_type`` / ``object_id`` name an object that is not loaded; ``actor`` a
    name for an actor that is no user (a failed login's username)."""
    from governance.audit.capture import mask, object_repr, plain, unit_of
    from governance.audit.context import actor_label, client_address, current
    from governance.models.audit import AuditEvent, Source

    acting = current.get()
    if request is None:
        request = acting.request
    if user is None:
        user = getattr(request, "user", None) if request is not None else None
    if not getattr(user, "is_authenticated", False):
        user = None
    if address is None:
        address = client_address(request) if request is not None else ""
    repr_text, unit = "", org_unit_id
    if obj is not None:
        meta = obj._meta
        object_type = object_type or meta.label
        object_id = obj.pk if object_id is None else object_id
        repr_text = object_repr(obj)
        if unit is None:
            unit = unit_of(obj)
    if changes:
        changes = {name: [plain(mask(name, old)), plain(mask(name, new))] if _masked(name) else
                   [plain(old), plain(new)] for name, (old, new) in changes.items()}
    event = AuditEvent.objects.create(
        at=timezone.now(),
        actor_id=getattr(user, "pk", None),
        actor=(actor_label(user) or actor or acting.name)[:150],
        address=(address or "")[:64],
        action=str(action),
        object_type=object_type[:100],
        object_id="" if object_id is None else str(object_id)[:64],
        object_repr=repr_text,
        org_unit_id=unit,
        changes=changes or None,
        detail=str(detail)[:500],
        source=Source.APP,
    )
    logger.debug("audit %s %s %s by %s", action, object_type, object_id or "", event.actor)
    return event


def _masked(name: str) -> bool:
    from governance.audit.capture import is_masked

    return is_masked(name)
