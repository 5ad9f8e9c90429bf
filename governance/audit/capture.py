"""What the trail captures of the county's tables, and how a row's values are written into it.

One catalogue serves both capture paths (see the package docstring): the PostgreSQL triggers
get each table's masked and ignored columns as trigger arguments, the SQLite signal receivers
read the same lists. Personal data never reaches an audit row in clear: an ID number or a phone
is stored in its masked form by the application (``governance.masking``), and as ``***`` by the
database (which may hold them encrypted or hashed: nothing of them is useful to the trail).
"""

import datetime
import decimal
import uuid

from django.apps import apps
from django.db import models

from governance.masking import mask_id_number, mask_phone

AUDITED_APPS = ("governance", "partybuild", "grid", "collective_economy")

# Tables of the audited apps whose writes are not row events of the trail, and why.
EXCLUDED = {
    "governance.AuditEvent": "the trail itself (append-only; its own guard refuses changes)",
    "governance.ExportLog": "an export is recorded as an export event (Action.EXPORT) when its log row is written",
    "governance.IndicatorValue": "derived: every rollup recomputes it in bulk from audited data",
    "governance.PeriodValue": "derived: quarter and year figures recomputed from the month's",
    "governance.RollupRun": "the rollup's own bookkeeping (parts, heartbeats), rewritten while it runs",
    "governance.Notification": "messages the portal writes to users about events already audited",
    "governance.OutboxMessage": "the delivery queue of tasks, written and emptied every minute",
    "grid.CaseCounter": "the case-number allocator, bumped by every new case (the case itself is audited)",
}

# A column whose name contains one of these words holds personal data or a secret.
MASKED_WORDS = ("id_number", "phone", "address", "password", "key_hash", "secret", "token")
# Columns whose changes are noise: the MPTT tree numbers (renumbered for every new unit) and the
# login stamp (written at every login, which the trail records as a login).
IGNORED_COLUMNS = {"lft", "rght", "tree_id", "mptt_level", "last_login"}
# A change of one of these is a step of the object's workflow (Action.STEP).
STATE_FIELDS = ("state", "status")
# Longest text kept of one value.
VALUE_MAX = 300
# Most items kept of a list (the permissions a role change gives: about a hundred).
LIST_MAX = 500


def audited_models() -> list[type[models.Model]]:
    """Every table of the audited apps whose writes the trail records (m2m link tables included)."""
    found = []
    for app_label in AUDITED_APPS:
        try:
            config = apps.get_app_config(app_label)
        except LookupError:
            continue
        for model in config.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or meta.label in EXCLUDED:
                continue
            if meta.label.split(".")[1].startswith("Historical"):
                continue
            found.append(model)
    return found


def is_audited(model) -> bool:
    meta = model._meta
    return (meta.app_label in AUDITED_APPS and meta.label not in EXCLUDED and not meta.proxy
            and meta.managed and not meta.object_name.startswith("Historical"))


def is_masked(name: str) -> bool:
    return any(word in name for word in MASKED_WORDS)


def masked_columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if is_masked(f.column) or is_masked(f.name)]


def ignored_columns(model, *, database: bool = False) -> list[str]:
    """The columns whose changes are not recorded: see IGNORED_COLUMNS, and auto_now stamps (they change
    with every save and say only when, which the event says too).

    An encrypted value with a lookup hash (``governance.crypto``) is seen once: the application compares
    the plaintext and leaves the hash out; the database's triggers compare the hash (a rewrite of the same
    value is a new ciphertext, its own nonce, but the same hash) and leave the ciphertext out."""
    fields = model._meta.concrete_fields
    hashed = {f.source: f.column for f in fields if getattr(f, "source", None) and type(f).__name__ == "HashField"}
    paired = ({model._meta.get_field(source).column for source in hashed} if database else set(hashed.values()))
    return [f.column for f in fields
            if f.column in IGNORED_COLUMNS or getattr(f, "auto_now", False) or f.column in paired]


def org_column(model) -> str:
    """The column that names the row's OrgUnit directly, when there is one ("" when it is further away):
    the trail keeps it to filter events by township."""
    paths = model.org_scope_field if hasattr(model, "org_scope_field") else None
    if paths is None:
        return ""
    for path in (paths,) if isinstance(paths, str) else paths:
        if path == "":
            return model._meta.pk.column  # the unit itself
        if "__" not in path:
            try:
                return model._meta.get_field(path).column
            except Exception:  # noqa: BLE001 — a path that is not a field: no unit column
                return ""
    return ""


def mask(name: str, value):
    """A value of a personal-data column as it may appear in the trail."""
    if value is None or value == "":
        return value
    if name.endswith("id_number"):
        return mask_id_number(str(value))
    if name.endswith("phone"):
        return mask_phone(str(value))
    return "***"


def plain(value):
    """A value as JSON can keep it, texts cut to VALUE_MAX."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= VALUE_MAX else value[:VALUE_MAX] + "…"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return "***"
    if isinstance(value, list | tuple):
        return [plain(item) for item in value[:LIST_MAX]] + (["…"] if len(value) > LIST_MAX else [])
    if isinstance(value, dict):
        text = str(value)
        return value if len(text) <= VALUE_MAX else text[:VALUE_MAX] + "…"
    return plain(str(value))


def snapshot(instance) -> dict:
    """The concrete values of a loaded instance, by attname (deferred fields left out)."""
    values = instance.__dict__
    return {f.attname: values[f.attname] for f in instance._meta.concrete_fields if f.attname in values}


def diff(model, old: dict | None, new: dict | None) -> dict:
    """``{field: [old, new]}`` of the values that differ, personal data masked, ignored columns left out.
    ``old`` None: a new row (its non-empty values); ``new`` None: a deleted row (its values)."""
    ignored = set(ignored_columns(model))
    changes = {}
    for field in model._meta.concrete_fields:
        name = field.attname
        if field.column in ignored:
            continue
        if old is not None and name not in old or new is not None and name not in new:
            continue
        before = None if old is None else old[name]
        after = None if new is None else new[name]
        if old is not None and new is not None and before == after:
            continue
        if (old is None or new is None) and (before is None or before == "") and (after is None or after == ""):
            continue
        if is_masked(name):
            before, after = mask(name, before), mask(name, after)
        changes[name] = [plain(before), plain(after)]
    return changes


def object_repr(obj) -> str:
    """What the trail calls the object: its own text, unless the model holds personal data (a resident's
    name is personal data too), then its kind and id."""
    meta = obj._meta
    if getattr(obj, "audit_repr", None):
        return str(obj.audit_repr())[:200]
    personal = meta.label in PERSONAL_MODELS or any(is_masked(f.name) for f in meta.concrete_fields)
    if personal and meta.label != "governance.User":
        return f"{meta.verbose_name} #{obj.pk}"
    try:
        return str(obj)[:200]
    except Exception:  # noqa: BLE001 — a __str__ that needs a missing relation must not stop the write
        return f"{meta.verbose_name} #{obj.pk}"


# Models whose text names a private person (beyond the masked columns).
PERSONAL_MODELS = {"governance.Resident", "governance.Household", "partybuild.PartyMember",
                   "partybuild.CentralHousehold", "grid.LiaisonHousehold", "grid.Mediation"}


def unit_of(obj) -> int | None:
    column = org_column(type(obj))
    if not column:
        return None
    value = getattr(obj, column, None) if column != obj._meta.pk.column else obj.pk
    return value if isinstance(value, int) else None
