"""The database's part of the trail: PostgreSQL's capture triggers, and the guard on both databases.

Capture (PostgreSQL only): three statement-level AFTER triggers per audited table (INSERT,
UPDATE, DELETE — a trigger with transition tables fires for one event only), all calling one
function that inserts one event per row, set-based, from the transition tables. Arguments per
table: the model's label, its primary-key column, its org-unit column (or ""), its masked
columns and its ignored columns (``capture.py``). An UPDATE event keeps only the columns whose
value changed (the rows' jsonb, old joined to new on the key); a row whose only changes are
ignored columns (the MPTT renumbering of a tree) gives no event. A new row's event names it without
copying its values (they are the row's own; copying them cost an import of 100,000 rows ~5 s more).

``install()`` runs after every ``migrate`` (post_migrate): it creates what is missing and
replaces what changed, so a table added by a later migration is captured from its first
migrate on, and a table dropped from the list loses its triggers.
"""

from django.conf import settings
from django.db import connection

from governance.audit.capture import audited_models, ignored_columns, masked_columns, org_column

AUDIT_TABLE = "governance_auditevent"
PREFIX = "yiwang_audit_"

CAPTURE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION yiwang_audit_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    label text := TG_ARGV[0];
    pk text := TG_ARGV[1];
    unit text := NULLIF(TG_ARGV[2], '');
    masked text[] := TG_ARGV[3]::text[];
    ignored text[] := TG_ARGV[4]::text[];
    actor_id bigint := NULLIF(current_setting('yiwang.actor_id', true), '')::bigint;
    actor text := COALESCE(NULLIF(current_setting('yiwang.actor', true), ''), 'db:' || session_user);
    address text := COALESCE(current_setting('yiwang.address', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {AUDIT_TABLE} (at, actor_id, actor, address, action, object_type, object_id, object_repr,
                                   org_unit_id, changes, detail, source)
        SELECT now(), actor_id, actor, address, 'create', label, r.j->>pk, '',
               CASE WHEN unit IS NULL THEN NULL ELSE (r.j->>unit)::bigint END, NULL, '', 'db'
        FROM (SELECT to_jsonb(n) AS j FROM new_rows n) r;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {AUDIT_TABLE} (at, actor_id, actor, address, action, object_type, object_id, object_repr,
                                   org_unit_id, changes, detail, source)
        SELECT now(), actor_id, actor, address, 'delete', label, r.j->>pk, '',
               CASE WHEN unit IS NULL THEN NULL ELSE (r.j->>unit)::bigint END,
               (SELECT jsonb_object_agg(e.key, jsonb_build_array(
                        CASE WHEN e.key = ANY(masked) THEN '"***"'::jsonb ELSE e.value END, NULL))
                FROM jsonb_each(r.j) e
                WHERE e.value <> 'null' AND e.value <> '""' AND NOT e.key = ANY(ignored)),
               '', 'db'
        FROM (SELECT to_jsonb(o) AS j FROM old_rows o) r;
    ELSE
        INSERT INTO {AUDIT_TABLE} (at, actor_id, actor, address, action, object_type, object_id, object_repr,
                                   org_unit_id, changes, detail, source)
        SELECT now(), actor_id, actor, address, 'update', label, n.j->>pk, '',
               CASE WHEN unit IS NULL THEN NULL ELSE (n.j->>unit)::bigint END, d.changes, '', 'db'
        FROM (SELECT to_jsonb(x) AS j FROM new_rows x) n
        JOIN (SELECT to_jsonb(y) AS j FROM old_rows y) o ON o.j->pk = n.j->pk
        CROSS JOIN LATERAL (
            SELECT jsonb_object_agg(e.key, jsonb_build_array(
                       CASE WHEN e.key = ANY(masked) AND o.j->e.key <> 'null' THEN '"***"'::jsonb
                            ELSE o.j->e.key END,
                       CASE WHEN e.key = ANY(masked) AND e.value <> 'null' THEN '"***"'::jsonb
                            ELSE e.value END)) AS changes
            FROM jsonb_each(n.j) e
            WHERE e.value IS DISTINCT FROM o.j->e.key AND NOT e.key = ANY(ignored)
        ) d
        WHERE d.changes IS NOT NULL;
    END IF;
    RETURN NULL;
END
$$;
"""

EVENTS = {"ins": ("INSERT", "NEW TABLE AS new_rows"), "upd": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
          "del": ("DELETE", "OLD TABLE AS old_rows")}


def _array(values: list[str]) -> str:
    return "{" + ",".join(values) + "}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def capture_statements(model) -> list[str]:
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    args = ", ".join(_literal(a) for a in (
        meta.label, meta.pk.column, org_column(model), _array(masked_columns(model)),
        _array(ignored_columns(model, database=True))))
    statements = []
    for suffix, (event, referencing) in EVENTS.items():
        name = f"{PREFIX}{suffix}"
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                          f"FOR EACH STATEMENT EXECUTE FUNCTION yiwang_audit_rows({args})")
    return statements


# --- The guard: no UPDATE, no DELETE of young events ------------------------------------------

REFUSED_UPDATE = "audit: events are never changed"
REFUSED_DELETE = "audit: events younger than the retention period are never deleted"


def retention_days() -> int:
    return max(int(getattr(settings, "AUDIT_RETENTION_DAYS", 180)), 180)


def guard_statements(vendor: str) -> list[str]:
    days = retention_days()
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION yiwang_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '{REFUSED_UPDATE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM old_rows WHERE at >= now() - interval '{days} days') THEN
        RAISE EXCEPTION '{REFUSED_DELETE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$""",
            f"DROP TRIGGER IF EXISTS {PREFIX}guard_upd ON {AUDIT_TABLE}",
            f"CREATE TRIGGER {PREFIX}guard_upd BEFORE UPDATE ON {AUDIT_TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION yiwang_audit_guard()",
            f"DROP TRIGGER IF EXISTS {PREFIX}guard_del ON {AUDIT_TABLE}",
            f"CREATE TRIGGER {PREFIX}guard_del AFTER DELETE ON {AUDIT_TABLE} REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION yiwang_audit_guard()",
        ]
    # SQLite keeps a datetime as text 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC, which compares as text.
    return [
        f"DROP TRIGGER IF EXISTS {PREFIX}guard_upd",
        f"CREATE TRIGGER {PREFIX}guard_upd BEFORE UPDATE ON {AUDIT_TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED_UPDATE}'); END",
        f"DROP TRIGGER IF EXISTS {PREFIX}guard_del",
        f"CREATE TRIGGER {PREFIX}guard_del BEFORE DELETE ON {AUDIT_TABLE} "
        f"WHEN OLD.at >= datetime('now', '-{days} days') "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED_DELETE}'); END",
    ]


def guard_drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {PREFIX}guard_{s} ON {AUDIT_TABLE}" for s in ("upd", "del")]
    return [f"DROP TRIGGER IF EXISTS {PREFIX}guard_{s}" for s in ("upd", "del")]


def install(using=None) -> None:
    """Create or refresh the guard (both databases) and the capture triggers (PostgreSQL)."""
    if AUDIT_TABLE not in connection.introspection.table_names():
        return
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in guard_statements(vendor):
            cursor.execute(statement)
        if vendor != "postgresql":
            return
        cursor.execute(CAPTURE_FUNCTION)
        tables = set(connection.introspection.table_names())
        wanted = set()
        for model in audited_models():
            if model._meta.db_table not in tables:
                continue
            wanted.add(model._meta.db_table)
            for statement in capture_statements(model):
                cursor.execute(statement)
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN (%s, %s, %s)", [f"{PREFIX}ins", f"{PREFIX}upd", f"{PREFIX}del"])
        for (table,) in cursor.fetchall():
            if table not in wanted:
                for suffix in EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{suffix} ON {connection.ops.quote_name(table)}")


def installed_on(table: str) -> bool:
    """Whether the capture triggers are on ``table`` (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "WHERE c.relname = %s AND t.tgname LIKE %s", [table, f"{PREFIX}%"])
        return cursor.fetchone()[0] == 3


def after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate, once per migrate (the governance app's signal)."""
    if using != "default":
        return
    install()


class unguarded:  # noqa: N801 — used as a context manager like the ledger's
    """The guard lifted for a moment: a test database's flush empties every table by DELETE on SQLite."""

    def __init__(self, conn=None):
        self.connection = conn or connection

    def __enter__(self):
        with self.connection.cursor() as cursor:
            for statement in guard_drop_statements(self.connection.vendor):
                cursor.execute(statement)
        return self

    def __exit__(self, *exc):
        with self.connection.cursor() as cursor:
            for statement in guard_statements(self.connection.vendor):
                cursor.execute(statement)
