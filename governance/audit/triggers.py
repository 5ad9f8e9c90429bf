"""The database's part of the trail: PostgreSQL's capture triggers, and the guard on both databases.

Capture (PostgreSQL only): three statement-level AFTER triggers per audited table (INSERT,
UPDATE, DELETE — a trigger with transition tables fires for one event only), calling the
table's own function, generated from the model (``capture_function``): it inserts one event per
row, set-based, from the transition tables. An UPDATE event keeps only the columns whose value
changed, compared column by column (old joined to new on the primary key); masked columns
(``capture.py``) are written as ``***``; a row whose only changes are ignored columns (the MPTT
renumbering of a tree) gives no event. A new row's event names it without copying its values
(they are the row's own). A deleted row's event keeps its last values.

Why one function per table: the first version was one generic function that turned both rows
into jsonb and compared them key by key; it cost ~145 µs per updated row (an import of 100,000
changed residents: +14 s). Comparing the columns themselves costs a tenth of that.

The generated functions name the table's columns, so a migration that renames or drops a
column would leave them pointing at a column that is gone until the end of the migrate. So
before a ``migrate`` (pre_migrate) every table's triggers are pointed at the generic function
(``GENERIC_FUNCTION``, slower, column-agnostic: data migrations are captured as well), and after
it (post_migrate) ``install()`` generates the functions again from the models: a table added by
a later migration is captured from its first migrate on, and a table dropped from the list
loses its triggers and its function.
"""

import hashlib

from django.conf import settings
from django.db import connection

from governance.audit.capture import audited_models, ignored_columns, masked_columns, org_column

AUDIT_TABLE = "governance_auditevent"
PREFIX = "yiwang_audit_"
GENERIC = "yiwang_audit_rows"
COLUMNS = ("at, actor_id, actor, address, action, object_type, object_id, object_repr, org_unit_id, changes, "
           "detail, source")
# Who acts: the application sets these for its transaction (``context.py``); a write from psql says
# so (db:<role>).
ACTOR_DECLARATIONS = """
    v_actor_id bigint := NULLIF(current_setting('yiwang.actor_id', true), '')::bigint;
    v_actor text := COALESCE(NULLIF(current_setting('yiwang.actor', true), ''), 'db:' || session_user);
    v_address text := COALESCE(current_setting('yiwang.address', true), '');"""

GENERIC_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GENERIC}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    label text := TG_ARGV[0];
    pk text := TG_ARGV[1];
    unit text := NULLIF(TG_ARGV[2], '');
    masked text[] := TG_ARGV[3]::text[];
    ignored text[] := TG_ARGV[4]::text[];{ACTOR_DECLARATIONS}
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {AUDIT_TABLE} ({COLUMNS})
        SELECT now(), v_actor_id, v_actor, v_address, 'create', label, r.j->>pk, '',
               CASE WHEN unit IS NULL THEN NULL ELSE (r.j->>unit)::bigint END, NULL, '', 'db'
        FROM (SELECT to_jsonb(n) AS j FROM new_rows n) r;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {AUDIT_TABLE} ({COLUMNS})
        SELECT now(), v_actor_id, v_actor, v_address, 'delete', label, r.j->>pk, '',
               CASE WHEN unit IS NULL THEN NULL ELSE (r.j->>unit)::bigint END,
               (SELECT jsonb_object_agg(e.key, jsonb_build_array(
                        CASE WHEN e.key = ANY(masked) THEN '"***"'::jsonb ELSE e.value END, NULL))
                FROM jsonb_each(r.j) e
                WHERE e.value <> 'null' AND e.value <> '""' AND NOT e.key = ANY(ignored)),
               '', 'db'
        FROM (SELECT to_jsonb(o) AS j FROM old_rows o) r;
    ELSE
        INSERT INTO {AUDIT_TABLE} ({COLUMNS})
        SELECT now(), v_actor_id, v_actor, v_address, 'update', label, n.j->>pk, '',
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


def function_name(table: str) -> str:
    """The table's own capture function (identifiers stop at 63 bytes: a long name ends in a hash)."""
    name = f"{PREFIX}t_{table}"
    if len(name) > 63:
        name = f"{name[:54]}_{hashlib.md5(table.encode()).hexdigest()[:8]}"
    return name


def capture_function(model) -> str:
    """CREATE OR REPLACE FUNCTION for ``model``'s table, its columns written out."""
    meta = model._meta
    quote = connection.ops.quote_name
    masked = set(masked_columns(model))
    ignored = set(ignored_columns(model, database=True))
    pk = quote(meta.pk.column)
    unit = org_column(model)
    label = _literal(meta.label)

    def value(row: str, column: str) -> str:
        if column in masked:
            return f"CASE WHEN {row}.{quote(column)} IS NULL THEN 'null'::jsonb ELSE '\"***\"'::jsonb END"
        return f"to_jsonb({row}.{quote(column)})"

    compared = [f.column for f in meta.concrete_fields if f.column not in ignored and not f.primary_key]
    differs = {c: f"o.{quote(c)} IS DISTINCT FROM n.{quote(c)}" for c in compared}
    changes = " || ".join(
        f"COALESCE(CASE WHEN {differs[c]} THEN jsonb_build_object({_literal(c)}, "
        f"jsonb_build_array({value('o', c)}, {value('n', c)})) END, '{{}}'::jsonb)"
        for c in compared) or "'{}'::jsonb"
    any_change = " OR ".join(differs.values()) or "false"
    unit_of = (lambda row: f"{row}.{quote(unit)}") if unit else (lambda row: "NULL")
    return f"""
CREATE OR REPLACE FUNCTION {function_name(meta.db_table)}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE{ACTOR_DECLARATIONS}
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {AUDIT_TABLE} ({COLUMNS})
        SELECT now(), v_actor_id, v_actor, v_address, 'create', {label}, n.{pk}::text, '', {unit_of('n')}, NULL,
               '', 'db'
        FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {AUDIT_TABLE} ({COLUMNS})
        SELECT now(), v_actor_id, v_actor, v_address, 'delete', {label}, o.{pk}::text, '', {unit_of('o')},
               (SELECT jsonb_object_agg(e.key, jsonb_build_array(
                        CASE WHEN e.key = ANY({_literal(_array(sorted(masked)))}::text[]) THEN '"***"'::jsonb
                             ELSE e.value END, NULL))
                FROM jsonb_each(to_jsonb(o)) e
                WHERE e.value <> 'null' AND e.value <> '""'
                  AND NOT e.key = ANY({_literal(_array(sorted(ignored)))}::text[])),
               '', 'db'
        FROM old_rows o;
    ELSE
        INSERT INTO {AUDIT_TABLE} ({COLUMNS})
        SELECT now(), v_actor_id, v_actor, v_address, 'update', {label}, n.{pk}::text, '', {unit_of('n')},
               {changes}, '', 'db'
        FROM new_rows n JOIN old_rows o ON o.{pk} = n.{pk}
        WHERE {any_change};
    END IF;
    RETURN NULL;
END
$$"""


def capture_statements(model, *, generic: bool = False) -> list[str]:
    """The table's function (unless ``generic``) and its three triggers."""
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    if generic:
        call = GENERIC + "(" + ", ".join(_literal(a) for a in (
            meta.label, meta.pk.column, org_column(model), _array(masked_columns(model)),
            _array(ignored_columns(model, database=True)))) + ")"
        statements = []
    else:
        call = function_name(meta.db_table) + "()"
        statements = [capture_function(model)]
    for suffix, (event, referencing) in EVENTS.items():
        name = f"{PREFIX}{suffix}"
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                          f"FOR EACH STATEMENT EXECUTE FUNCTION {call}")
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


def install(using=None, *, generic: bool = False) -> None:
    """Create or refresh the guard (both databases) and the capture triggers (PostgreSQL): each table's own
    function, or with ``generic`` the column-agnostic one (while migrations change the tables)."""
    if AUDIT_TABLE not in connection.introspection.table_names():
        return
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in guard_statements(vendor):
            cursor.execute(statement)
        if vendor != "postgresql":
            return
        cursor.execute(GENERIC_FUNCTION)
        tables = set(connection.introspection.table_names())
        wanted = set()
        for model in audited_models():
            if model._meta.db_table not in tables:
                continue
            wanted.add(model._meta.db_table)
            for statement in capture_statements(model, generic=generic):
                cursor.execute(statement)
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN (%s, %s, %s)", [f"{PREFIX}ins", f"{PREFIX}upd", f"{PREFIX}del"])
        for (table,) in cursor.fetchall():
            if table not in wanted:
                for suffix in EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{suffix} ON {connection.ops.quote_name(table)}")
        keep = set() if generic else {function_name(table) for table in wanted}
        cursor.execute("SELECT proname FROM pg_proc WHERE proname LIKE %s", [f"{PREFIX}t\\_%"])
        for (name,) in cursor.fetchall():
            if name not in keep:
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def installed_on(table: str) -> bool:
    """Whether the capture triggers are on ``table`` (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "WHERE c.relname = %s AND t.tgname LIKE %s", [table, f"{PREFIX}%"])
        return cursor.fetchone()[0] == 3


def before_migrate(sender, using="default", **kwargs) -> None:
    """pre_migrate, once per migrate: the generic function captures while the tables change."""
    if using != "default":
        return
    install(generic=True)


def after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate, once per migrate (the governance app's signal): each table's own function again."""
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
