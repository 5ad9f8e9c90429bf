"""Bulk writing of checked rows: COPY and UPDATE ... FROM on PostgreSQL, executemany elsewhere, and the
writer thread that overlaps writing with checking on PostgreSQL. (The audit trail's triggers record
every row written so on PostgreSQL; the import itself is recorded as one import event.)"""

import contextvars
import datetime
import io
import queue
import threading
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection

from governance.crypto import HashField
from governance.rosters.lookups import chunked

WRITE_BATCH = 2000


# --- The tables written, and their statistics -----------------------------------------------

_written: contextvars.ContextVar[set | None] = contextvars.ContextVar("roster_tables_written", default=None)


@contextmanager
def recording_writes():
    """Collects the names of the tables the bulk writers below write to inside the block."""
    tables: set[str] = set()
    token = _written.set(tables)
    try:
        yield tables
    finally:
        _written.reset(token)


def _note(table: str) -> None:
    tables = _written.get()
    if tables is not None:
        tables.add(table)


def analyze(tables: Iterable[str] | None = None) -> None:
    """Refresh the planner's statistics of ``tables`` (None: of the whole database). PostgreSQL only.

    A table filled in bulk keeps the statistics of when it was empty until autovacuum gets to
    it; until then the planner picks plans for a few rows (nested loops over a million) and a
    rollup right after an import took 34-63 s instead of 0.4 s. Inside the import's
    transaction ANALYZE counts the rows the transaction itself wrote. SQLite's planner keeps
    no such statistics by default, so there is nothing to refresh.
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if tables is None:
            cursor.execute("ANALYZE")
        elif tables:
            cursor.execute(f"ANALYZE {', '.join(quote(table) for table in sorted(tables))}")


# --- Bulk writing -------------------------------------------------------------------------


def _copy_text(value) -> str:
    """A value in COPY's text format (the generic path; ``_copy_converter`` has faster ones per field)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _copy_escape(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _copy_escape(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_converter(model_field):
    if getattr(model_field, "encrypted", False):  # ID numbers, phones: stored encrypted (governance.crypto)
        prep = model_field.get_db_prep_save
        return lambda value: "\\N" if value is None else prep(value, connection)
    kind = model_field.get_internal_type()
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        return lambda value: "\\N" if value is None else _copy_escape(value)
    if kind in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
                "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey", "OneToOneField", "TreeForeignKey"):
        return lambda value: "\\N" if value is None else str(int(value))
    if kind == "BooleanField":
        return lambda value: "\\N" if value is None else ("t" if value else "f")
    return _copy_text


@contextmanager
def _cursor(raw=None):
    """``raw`` (a DB-API cursor of the import's connection, used from the stream writer's thread) or a new one."""
    if raw is not None:
        yield raw
    else:
        with connection.cursor() as cursor:
            yield cursor


def _copy(table: str, columns: list[str], rows: Iterable, converters: list | None = None, cursor=None) -> None:
    quote = connection.ops.quote_name
    buffer = io.StringIO()
    write = buffer.write
    if converters:
        pairs = list(enumerate(converters))
        for row in rows:
            write("\t".join([convert(row[i]) for i, convert in pairs]))
            write("\n")
    else:
        for row in rows:
            write("\t".join([_copy_text(value) for value in row]))
            write("\n")
    buffer.seek(0)
    with _cursor(cursor) as out:
        out.copy_expert(f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN", buffer)


def insert_rows(model, attnames: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain value tuples (ids left to the database): COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    meta = model._meta
    _note(meta.db_table)
    columns = [_column(meta, name) for name in attnames]
    if connection.vendor == "postgresql":
        for batch in chunked(rows, 50_000):
            _copy(meta.db_table, columns, batch)
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        for batch in chunked(rows, WRITE_BATCH):
            cursor.executemany(sql, batch)


def _column(meta, attname: str) -> str:
    for f in meta.concrete_fields:
        if f.attname == attname:
            return f.column
    raise KeyError(attname)


def insert_instances(model, instances: list, cursor=None) -> None:
    """Insert new instances in bulk and set their primary keys.

    PostgreSQL: the ids are drawn from the table's sequence in one query and the rows go in
    with COPY (about ten times faster than INSERT batches for 100,000 rows); elsewhere
    ``bulk_create`` in batches.
    """
    if not instances:
        return
    meta = model._meta
    _note(meta.db_table)
    for obj in instances:
        if obj._state.fields_cache:  # a related object saved since it was attached: take its id
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=WRITE_BATCH)
        return
    pk = meta.pk
    missing = [obj for obj in instances if obj.pk is None]
    if missing:
        with _cursor(cursor) as out:
            out.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(missing)],
            )
            for obj, (new_id,) in zip(missing, out.fetchall(), strict=True):
                obj.pk = new_id
    fields = list(meta.concrete_fields)
    auto_now = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for f in auto_now:
        for obj in instances:
            f.pre_save(obj, add=True)
    attnames = [f.attname for f in fields]
    converters = [_copy_converter(f) for f in fields]
    for batch in chunked(instances, 50_000):
        _copy(
            meta.db_table, [f.column for f in fields], ([getattr(obj, a) for a in attnames] for obj in batch),
            converters, cursor,
        )
    for obj in instances:
        obj._state.adding = False


def update_instances(model, instances: list, attnames: list[str], cursor=None) -> None:
    """Write ``attnames`` of existing instances, set-based (no query per row on PostgreSQL)."""
    if not instances or not attnames:
        return
    meta = model._meta
    _note(meta.db_table)
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f.attname in attnames and not f.primary_key]
    # An encrypted value's lookup hash follows it (the instance derives it from the value).
    fields += [f for f in meta.concrete_fields if isinstance(f, HashField) and f.source in attnames and f not in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        columns = [pk.column] + [f.column for f in fields]
        temp = quote("roster_update")
        with _cursor(cursor) as out:
            out.execute(
                f"CREATE TEMPORARY TABLE {temp} AS SELECT {', '.join(quote(c) for c in columns)} "
                f"FROM {table} WITH NO DATA"
            )
            try:
                for batch in chunked(instances, 50_000):
                    _copy(
                        "roster_update",
                        columns,
                        ([obj.pk] + [getattr(obj, f.attname) for f in fields] for obj in batch),
                        [_copy_converter(pk)] + [_copy_converter(f) for f in fields],
                        out,
                    )
                sets = ", ".join(f"{quote(f.column)} = u.{quote(f.column)}" for f in fields)
                out.execute(f"UPDATE {table} SET {sets} FROM {temp} AS u WHERE {table}.{quote(pk.column)} = "
                            f"u.{quote(pk.column)}")
            finally:
                out.execute(f"DROP TABLE IF EXISTS {temp}")
        return
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {sets} WHERE {quote(pk.column)} = %s"
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in instances
    ]
    with connection.cursor() as cursor:
        for batch in chunked(params, WRITE_BATCH):
            cursor.executemany(sql, batch)


class StreamWriter:
    """Writes checked rows from a second thread while the main thread checks the next ones.

    PostgreSQL only, inside the import's transaction: the thread uses the same database
    connection (so the same transaction). The two threads take turns on it: the writer
    holds ``lock`` for each statement it sends (a COPY's data must not be interleaved with
    another query), and the main thread holds it while it queries (``turn()``), until
    ``close()`` has joined the writer. If a later row or a bulk rule fails, the whole
    transaction is rolled back, so the import stays all or nothing. The server ingests one
    batch (COPY or UPDATE, indexes, foreign-key checks, the audit triggers) while Python builds
    and checks the next: on two cores, most of the writing is hidden behind the checking.
    Foreign keys are checked as each batch goes in (not all at the commit, which would keep
    the checker waiting) and are deferred again when the writer closes.
    """

    BATCH = 10_000

    def __init__(self, model, user, attnames: list[str]):
        connection.ensure_connection()
        self.model = model
        self.user = user
        self.attnames = attnames  # the columns the import writes to changed rows
        self.pending: list = []
        self.pending_changes: list = []
        self.pending_columns: set[str] = set()
        self._raw = connection.connection
        self.lock = threading.Lock()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self._queue: queue.Queue = queue.Queue(maxsize=2)  # bounded: the checker waits rather than piles up
        self._error: BaseException | None = None
        # The thread runs in a copy of this context: the tables it writes are recorded with the import's.
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run,),
                                        name="roster-import-writer", daemon=True)
        self._thread.start()

    def add(self, instance) -> None:
        """A new row."""
        self.pending.append(instance)
        if len(self.pending) >= self.BATCH:
            self._queue.put(("+", self.pending, None))
            self.pending = []

    def change(self, instance, changed: list[str] | None = None) -> None:
        """An existing row whose columns ``changed`` (all the import's columns when not said). A batch writes
        the columns that changed in any of its rows: a re-imported roster whose phones changed rewrites the
        phones, not every ID number (each a new encryption)."""
        self.pending_changes.append(instance)
        self.pending_columns.update(changed if changed is not None else self.attnames)
        if len(self.pending_changes) >= self.BATCH:
            self._put_changes()

    def _put_changes(self) -> None:
        columns = [name for name in self.attnames if name in self.pending_columns]
        self._queue.put(("~", self.pending_changes, columns))
        self.pending_changes, self.pending_columns = [], set()

    def turn(self):
        """Held by the main thread while it sends queries over the shared connection."""
        return self.lock

    def _run(self) -> None:
        with self._raw.cursor() as raw:
            cursor = _TurnTakingCursor(raw, self.lock)
            while (item := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # keep draining so the main thread never blocks
                operation, batch, columns = item
                try:
                    with connection.wrap_database_errors:
                        if operation == "+":
                            insert_instances(self.model, batch, cursor=cursor)
                        else:
                            update_instances(self.model, batch, columns, cursor=cursor)
                except BaseException as exc:  # re-raised in the main thread by close()
                    self._error = exc

    def close(self) -> None:
        if self.pending_changes:
            self._put_changes()
        if self.pending:
            self._queue.put(("+", self.pending, None))
        self.pending = []
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class _TurnTakingCursor:
    """A DB-API cursor whose statements each run while holding ``lock`` (see ``StreamWriter``)."""

    def __init__(self, cursor, lock: threading.Lock):
        self._cursor = cursor
        self._lock = lock

    def execute(self, sql, params=None):
        with self._lock:
            return self._cursor.execute(sql, params)

    def copy_expert(self, sql, file):
        with self._lock:
            return self._cursor.copy_expert(sql, file)

    def fetchall(self):  # the rows of the last execute(), already received
        return self._cursor.fetchall()
