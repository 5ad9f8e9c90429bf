"""The application's capture: signal receivers, connected once by ``connect()`` (GovernanceConfig.ready).

Row events (create / update / delete, m2m links) only where the database has no triggers (SQLite):
on PostgreSQL the triggers record them, bulk writes included, and a second copy from here would
be a duplicate. Everything else on both: steps, logins, permission changes, exports.
"""

from django.contrib.auth import signals as auth_signals
from django.db import connection
from django.db.models import signals

from governance.audit import Action, record
from governance.audit.capture import STATE_FIELDS, audited_models, diff, is_audited, snapshot

PERMISSION_FIELDS = ("role", "is_staff", "is_superuser", "is_active", "home_unit_id")
_SNAPSHOT = "_audit_loaded"


def rows_by_signals() -> bool:
    return connection.vendor != "postgresql"


def _in_migration(sender) -> bool:
    """A migration's data step saves through the migration's state models (module ``__fake__``): not an
    action of anyone, and the trail's table may not exist yet."""
    return sender.__module__ == "__fake__"


# --- The snapshot of a loaded instance --------------------------------------------------------


def _wrap_from_db(model) -> None:
    """Keep the values an instance was loaded with (``_audit_loaded``): the old side of its next save's diff.
    Only the models whose saves need it on this database."""
    original = model.__dict__.get("from_db")
    base = original.__func__ if original is not None else None

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = base(cls, db, field_names, values) if base else super(model, cls).from_db(db, field_names, values)
        instance.__dict__[_SNAPSHOT] = snapshot(instance)
        return instance

    model.from_db = from_db


def _needs_snapshot(model) -> bool:
    if not is_audited(model) or model._meta.auto_created:
        return False
    if rows_by_signals():
        return True
    return _state_field(model) is not None or model._meta.label == "governance.User"


def _state_field(model):
    names = {f.attname for f in model._meta.concrete_fields}
    return next((name for name in STATE_FIELDS if name in names), None)


# --- Row events and steps ---------------------------------------------------------------------


def saved(sender, instance, created, raw=False, **kwargs):
    if raw or _in_migration(sender) or not is_audited(sender):
        return
    old = None if created else instance.__dict__.get(_SNAPSHOT)
    new = snapshot(instance)
    instance.__dict__[_SNAPSHOT] = new
    state = _state_field(sender)
    if rows_by_signals() and (created or old is not None):
        changes = diff(sender, old, new)
        if created or changes:
            record(Action.CREATE if created else Action.UPDATE, obj=instance, changes=changes)
    if state and old is not None and state in old and old[state] != new.get(state):
        record(Action.STEP, obj=instance, changes={state: [old[state], new[state]]},
               detail=f"{old[state]} → {new[state]}")
    if sender._meta.label == "governance.User" and old is not None:
        granted = {name: [old[name], new[name]] for name in PERMISSION_FIELDS
                   if name in old and name in new and old[name] != new[name]}
        if granted:
            record(Action.PERMISSION, obj=instance, changes=granted,
                   detail=", ".join(sorted(granted)))


def deleted(sender, instance, **kwargs):
    if not rows_by_signals() or _in_migration(sender) or not is_audited(sender):
        return
    record(Action.DELETE, obj=instance, changes=diff(sender, snapshot(instance), None))


def links_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """A many-to-many change: on the user's groups and permissions a permission change (both databases),
    elsewhere an update of the object that holds the field (SQLite)."""
    if action not in ("post_add", "post_remove", "post_clear") or _in_migration(sender):
        return
    field = _m2m_field(sender, instance, reverse)
    if field is None:
        return
    owner = instance if not reverse else None
    pks = sorted(pk_set or [])
    label = instance._meta.label
    if label == "governance.User" and field in ("groups", "user_permissions"):
        names = _names(model, pks)
        change = [None, names] if action == "post_add" else [names or "*", None]
        record(Action.PERMISSION, obj=instance, changes={field: change}, detail=f"{field} {action[5:]}")
        return
    if owner is None or not rows_by_signals() or not is_audited(type(owner)):
        return
    change = [None, pks] if action == "post_add" else [pks or "*", None]
    record(Action.UPDATE, obj=owner, changes={field: change})


def _m2m_field(through, instance, reverse):
    if reverse:
        return None  # the other side's change: recorded where the field is declared (a Tag's households)
    for field in instance._meta.many_to_many:
        if field.remote_field.through is through:
            return field.name
    return None


def _names(model, pks):
    if model._meta.label == "auth.Permission":
        return [f"{app}.{code}" for app, code in
                model.objects.filter(pk__in=pks).values_list("content_type__app_label", "codename")]
    if model._meta.label == "auth.Group":
        return list(model.objects.filter(pk__in=pks).values_list("name", flat=True))
    return pks


# --- Logins, exports --------------------------------------------------------------------------


def logged_in(sender, request, user, **kwargs):
    record(Action.LOGIN, request=request, user=user, obj=user)


def login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username", ""))[:150]
    record(Action.LOGIN_FAILED, request=request, actor=username, detail=username)


def logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(Action.LOGOUT, request=request, user=user, obj=user)


def export_logged(sender, instance, created, raw=False, **kwargs):
    """Every export writes its ExportLog row at one place; the trail records it as the export event."""
    if raw or not created:
        return
    detail = f"{instance.kind}: {instance.rows}"
    if instance.unmasked:
        detail += " (unmasked)"
    record(Action.EXPORT, user=instance.user, object_type=instance._meta.label, object_id=instance.pk,
           changes={"filters": [None, instance.filters]} if instance.filters else None,
           detail=detail)


def connect() -> None:
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if _needs_snapshot(model):
            _wrap_from_db(model)
    # Connected to each audited model, never to every model: a delete listener on a model makes Django's
    # QuerySet.delete() fetch its rows and delete them in batches by id (no "fast delete"), which turned
    # the rollup's one DELETE of a month's indicator values into one per hundred rows.
    for model in audited_models():
        uid = model._meta.label_lower
        signals.post_save.connect(saved, sender=model, dispatch_uid=f"audit_saved:{uid}")
        signals.post_delete.connect(deleted, sender=model, dispatch_uid=f"audit_deleted:{uid}")
        signals.m2m_changed.connect(links_changed, sender=model, dispatch_uid=f"audit_links:{uid}")
    signals.post_save.connect(export_logged, sender="governance.ExportLog", dispatch_uid="audit_export")
    auth_signals.user_logged_in.connect(logged_in, dispatch_uid="audit_login")
    auth_signals.user_login_failed.connect(login_failed, dispatch_uid="audit_login_failed")
    auth_signals.user_logged_out.connect(logged_out, dispatch_uid="audit_logout")
    try:
        from celery.signals import task_postrun, task_prerun

        from governance.audit.context import task_finished, task_started
    except ImportError:  # pragma: no cover — Celery is a requirement; this keeps the trail usable without
        return
    task_prerun.connect(task_started, dispatch_uid="audit_task_started", weak=False)
    task_postrun.connect(task_finished, dispatch_uid="audit_task_finished", weak=False)
