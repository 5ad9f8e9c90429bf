"""The conversion of django-simple-history's records into audit events, run once by the migrations that
drop the historical tables (one history mechanism from then on).

Each historical row becomes an event of the same time, actor and type (+ create, ~ update, - delete),
with the changes against the object's previous record (personal data masked as the trail masks it).
The historical m2m link tables (tags, bookkeepers, villages) are not converted: their rows only repeat
which links an object had at each record.
"""

from governance.audit.capture import is_masked, mask, plain

ACTIONS = {"+": "create", "~": "update", "-": "delete"}
HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user",
                  "history_relation"}
BATCH = 2000


def convert(apps, app_label: str, names: list[str], label_of: dict[str, str]) -> int:
    """Convert the historical models ``names`` of ``app_label``; ``label_of`` maps each to the tracked
    model's label (``HistoricalResident`` → ``governance.Resident``). Returns how many events were written."""
    AuditEvent = apps.get_model("governance", "AuditEvent")
    User = apps.get_model("governance", "User")
    actors = {pk: username for pk, username in User.objects.values_list("pk", "username")}
    written = 0
    for name in names:
        historical = apps.get_model(app_label, name)
        fields = [f for f in historical._meta.concrete_fields
                  if f.name not in HISTORY_FIELDS and not f.name.startswith("history_")]
        attnames = [f.attname for f in fields]
        previous_id, previous = None, None
        batch = []
        rows = historical.objects.order_by("id", "history_date", "history_id").values_list(
            "id", "history_date", "history_type", "history_user_id", "history_change_reason", *attnames)
        for row in rows.iterator(chunk_size=BATCH):
            object_id, at, kind, user_id, reason, values = row[0], row[1], row[2], row[3], row[4], row[5:]
            current = dict(zip(attnames, values, strict=True))
            if object_id != previous_id:
                previous = None
            changes = {}
            for attname, value in current.items():
                old = previous.get(attname) if previous is not None and kind != "+" else None
                if kind == "~" and previous is not None and old == value:
                    continue
                if kind == "-":
                    old, value = value, None
                if old in (None, "") and value in (None, ""):
                    continue
                if is_masked(attname):
                    old, value = mask(attname, old), mask(attname, value)
                changes[attname] = [plain(old), plain(value)]
            batch.append(AuditEvent(
                at=at, actor_id=user_id, actor=actors.get(user_id, "")[:150], address="",
                action=ACTIONS.get(kind, "update"), object_type=label_of[name], object_id=str(object_id),
                object_repr="", org_unit_id=None, changes=changes or None,
                detail=f"simple-history: {reason}"[:500] if reason else "simple-history", source="app"))
            previous_id, previous = object_id, current
            if len(batch) >= BATCH:
                AuditEvent.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)
            written += len(batch)
    return written
