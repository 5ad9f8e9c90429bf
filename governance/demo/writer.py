"""Writing a demo plan into the database, fast.

The org tree goes in with ``bulk_create``, one statement batch per depth (each level needs
its parents' ids), with lft/rght/tree_id/mptt_level already computed by the plan, so no
``rebuild()`` follows. Households, residents and their tag links are the bulk of the rows:
they get explicit primary keys (so residents and tag links can be written without reading
ids back) and go in by the fastest path each database has: ``COPY ... FROM STDIN`` on
PostgreSQL, ``executemany`` of one prepared INSERT on SQLite. Both paths take the same row
tuples, generated and written in chunks so memory stays flat at city scale. Everything runs
in one transaction under ``tree_write_lock()``: a failed seed leaves nothing behind.

Then the apps above governance add their demo rows (rosters...) through ``hooks``: each
app's ``demo`` module registers a seed and a reset; they get the plan, seeded randomness
and the same bulk writer, and run in the same transaction.
"""

import datetime
import io
import queue
import threading
import time
from collections import defaultdict
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from governance.crypto import seal_rows
from governance.demo.dates import as_of_day, registered_on
from governance.demo.hooks import DemoContext, contributors
from governance.demo.people import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_TAGS,
    RESIDENT_COLUMNS,
    RESIDENT_TAGS,
    Batch,
    PeopleFactory,
)
from governance.demo.plan import Plan, demo_name, make_plan
from governance.models import Household, OrgUnit, Resident, Role, Tag, User
from governance.roles import may_use_admin, user_sync_permissions
from governance.tree import tree_write_lock

DEFAULT_PASSWORD = "yiwang-demo-2026"
CHUNK_HOUSEHOLDS = 5_000


@dataclass
class SeedResult:
    scale: str
    seed: int
    today: datetime.date | None = None  # the day seeded for
    as_of: datetime.date | None = None  # the demo's last day: its records run up to 17:30 on it
    skipped: bool = False
    units: dict[str, int] = field(default_factory=dict)
    households: int = 0
    residents: int = 0
    household_tags: int = 0
    resident_tags: int = 0
    rows: int = 0  # every row inserted (units, households, residents, tag links, tags, users, rosters)
    rosters: dict[str, int] = field(default_factory=dict)  # rows the apps' demo modules wrote, by model label
    seconds: float = 0.0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, home unit)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step


class _InsertSink:
    """SQLite (and any other backend): one prepared INSERT, executed for every row."""

    def __init__(self):
        self.cursor = connection.cursor()

    def datetime(self, value):
        return connection.ops.adapt_datetimefield_value(value)

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        columns, rows = seal_rows(table, columns, rows)  # ID numbers and phones encrypted at rest
        if rows:
            qn = connection.ops.quote_name
            sql = "INSERT INTO {} ({}) VALUES ({})".format(
                qn(table), ", ".join(qn(c) for c in columns), ", ".join(["%s"] * len(columns))
            )
            self.cursor.executemany(sql, rows)

    def close(self) -> None:
        self.cursor.close()


class _CopySink:
    """PostgreSQL: COPY in text format, from a writer thread.

    The server ingests one chunk while Python generates the next: psycopg2 releases the GIL
    while libpq waits, so on two cores the load takes about as long as the generation alone.
    The thread uses the same (Django-owned) psycopg2 connection, hence the same transaction;
    the main thread sends nothing over it until ``close()`` has joined the writer. Values
    never hold a tab, newline or backslash (they come from names.py and digits), so COPY's
    text format needs no escaping.
    """

    exclusive = True  # nothing else may use the connection until close()

    def __init__(self, null: str = r"\N"):
        connection.ensure_connection()
        self._raw = connection.connection
        self._null = null
        self._queue: queue.Queue = queue.Queue(maxsize=2)  # bounded: memory stays flat
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="seed-demo-copy", daemon=True)
        self._thread.start()

    def datetime(self, value):
        return value.isoformat()

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if self._error is not None:
            self.close()
        columns, rows = seal_rows(table, columns, rows, null=self._null)  # ID numbers and phones encrypted at rest
        if rows:
            self._queue.put((table, columns, rows))

    def _run(self) -> None:
        qn = connection.ops.quote_name
        with self._raw.cursor() as cursor:
            while (item := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # keep draining so the producer never blocks
                table, columns, rows = item
                try:
                    line = "\t".join(["%s"] * len(columns)) + "\n"
                    buffer = io.StringIO("".join([line % row for row in rows]))
                    cursor.copy_expert(
                        f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN WITH (NULL '{self._null}')",
                        buffer,
                    )
                except BaseException as exc:  # re-raised in the main thread by close()
                    self._error = exc

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


def seed_demo(
    *, scale: str, today: datetime.date, seed: int = 1, password: str = DEFAULT_PASSWORD, reset: bool = False
) -> SeedResult:
    """Load a demo place into an empty database (or after ``reset``); skip if units exist.

    ``today``: the day seeded for; the records run up to the day before (``governance.demo.dates``).
    The same ``seed`` and ``today`` give the same rows.
    """
    started = time.monotonic()
    result = SeedResult(scale=scale, seed=seed, today=today, as_of=as_of_day(today))
    with tree_write_lock():
        if reset:
            with _timed(result, "reset"):
                wipe_org_data()
        if OrgUnit.objects.exists():
            result.skipped = True
            return result
        with _timed(result, "tree"):
            plan = make_plan(scale, seed)
            tags = _ensure_tags()
            _write_units(plan)
        _write_people(plan, tags, result)
        _write_app_data(plan, result)
        with _timed(result, "users"):
            result.users = _ensure_users(plan, password)
        result.units = plan.count_by_level()
        result.rows = (
            len(plan.units) + result.households + result.residents + result.household_tags
            + result.resident_tags + len(tags) + len(result.users) + len(plan.staff) + sum(result.rosters.values())
        )
        committing = time.monotonic()
    result.phases["commit"] = round(time.monotonic() - committing, 2)
    result.seconds = time.monotonic() - started
    return result


class ResetRefused(Exception):
    """Other data hangs on the org chain; a reset would break it."""


def wipe_org_data() -> None:
    """Delete the apps' demo data (each app's demo ``reset()``, apps above first), then every
    org unit, household, resident, their tag links, and the users attached to a
    unit; children before parents, in bulk statements.

    Refuses (ResetRefused) while rows of other models still point at the org chain: the
    raw DELETEs would otherwise fail on a foreign key with a less helpful message.
    """
    for contributor in reversed(contributors()):
        contributor.reset()
    blocking = _rows_pointing_at_org_data()
    if blocking:
        raise ResetRefused(
            gettext(
                "Other data still refers to the org units, households, residents or their users: %(models)s. "
                "Delete it first."
            )
            % {"models": ", ".join(blocking)}
        )
    people = [Resident.tags.through, Resident, Household.tags.through, Household]
    if not _truncate(people):
        with connection.cursor() as cursor:
            for model in people:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    User.objects.filter(home_unit__isnull=False).delete()
    with connection.cursor() as cursor:
        # One statement: the parent foreign key is checked at its end (or at commit).
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(OrgUnit._meta.db_table)}")


def _truncate(targets: list) -> bool:
    """PostgreSQL: empty ``targets`` with one TRUNCATE, if every table that refers to them (the
    apps' rosters, emptied by their resets) is empty too; False where that does not apply.

    A DELETE checks each removed row against every referring table, and the rosters' tables,
    just emptied, are full of dead rows: 200,000 residents take a quarter of a minute that
    way. TRUNCATE must name every table with a foreign key to the ones it empties (and to
    those, in turn); they are all empty, so naming them loses nothing.
    """
    if connection.vendor != "postgresql":
        return False
    tables = {model._meta.db_table: model for model in targets}
    grew = True
    while grew:
        grew = False
        for model in django_apps.get_models(include_auto_created=True):
            if model._meta.db_table in tables or model._meta.proxy or not model._meta.managed:
                continue
            for f in model._meta.concrete_fields:
                if f.is_relation and f.db_constraint and f.related_model._meta.db_table in tables:
                    tables[model._meta.db_table] = model
                    grew = True
                    break
    referring = [model for table, model in tables.items() if model not in targets]
    if any(model._base_manager.exists() for model in referring):
        return False
    with connection.cursor() as cursor:
        # Foreign-key checks queued by the resets' DELETEs must run first: PostgreSQL refuses to
        # truncate a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(table) for table in tables))
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return True


def _rows_pointing_at_org_data() -> list[str]:
    """Models (other than the ones a reset clears) with rows referring to the org chain."""
    cleared = {OrgUnit, Household, Resident, User, Household.tags.through, Resident.tags.through}
    found = []
    for model in (OrgUnit, Household, Resident):
        for relation in model._meta.related_objects:
            if relation.many_to_many:
                through = relation.through
                if through in cleared:
                    continue
                target = next(f for f in through._meta.fields if f.is_relation and f.related_model is model)
                related, field = through, target
            else:
                related, field = relation.related_model, relation.field
            if related in cleared or not getattr(field, "db_constraint", True):
                continue  # a column that keeps ids without a constraint
            if related._base_manager.filter(**{f"{field.name}__isnull": False}).exists():
                found.append(related._meta.label)
    # The users attached to units are deleted too: rows that protect a user (an export log) block.
    for relation in User._meta.related_objects:
        if relation.many_to_many or getattr(relation, "on_delete", None) not in (models.PROTECT, models.RESTRICT):
            continue
        related, field = relation.related_model, relation.field
        if related._base_manager.filter(**{f"{field.name}__home_unit__isnull": False}).exists():
            found.append(related._meta.label)
    return sorted(set(found))


def _ensure_tags() -> dict[str, int]:
    ids = {}
    for applies_to, pairs in ((Tag.AppliesTo.HOUSEHOLD, HOUSEHOLD_TAGS), (Tag.AppliesTo.RESIDENT, RESIDENT_TAGS)):
        for code, name in pairs:
            tag, _ = Tag.objects.update_or_create(code=code, defaults={"name": name, "applies_to": applies_to})
            ids[code] = tag.pk
    return ids


def _write_units(plan: Plan) -> None:
    tree_id = (OrgUnit.objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1
    by_depth = defaultdict(list)
    for unit in plan.units:
        by_depth[unit.depth].append(unit)
    for depth in sorted(by_depth):
        units = by_depth[depth]
        rows = [
            OrgUnit(
                code=u.code, name=u.name, short_name=u.short_name, level=u.level, kind=u.kind,
                parent_id=u.parent.pk if u.parent else None, latitude=u.latitude, longitude=u.longitude,
                lft=u.lft, rght=u.rght, tree_id=tree_id, mptt_level=depth,
            )
            for u in units
        ]
        for unit, row in zip(units, OrgUnit.objects.bulk_create(rows, batch_size=1000), strict=True):
            unit.pk = row.pk


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def _drop_indexes_for_load(tables: list[str]) -> list[str]:
    """PostgreSQL: drop the foreign keys, unique constraints and indexes of the empty
    ``tables`` (primary keys stay) and return the statements that recreate them.

    Built once over the loaded rows, an index is one sort instead of millions of random
    inserts, and a foreign key is checked by one join instead of one trigger call per row
    at commit, as pg_restore does it. The tables are empty (the seed only runs on an empty
    org chain) and DDL is transactional: a failed seed gets everything back.
    """
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
              FROM pg_constraint
             WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')
             ORDER BY contype, conname
            """,
            [tables],
        )
        constraints = cursor.fetchall()  # foreign keys ('f') sort before unique ones ('u')
        cursor.execute(
            """
            SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
              FROM pg_index
             WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        # Run the foreign-key checks queued so far (the org units just written, a reset's
        # deletes): PostgreSQL refuses to alter a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, name, _type, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    recreate = ["SET LOCAL maintenance_work_mem = '256MB'"]
    recreate += [definition for _name, definition in indexes]
    # Unique constraints before the foreign keys that may lean on them.
    recreate += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, _type, definition in reversed(constraints)
    ]
    return recreate


@contextmanager
def _timed(result: SeedResult, phase: str):
    started = time.monotonic()
    yield
    result.phases[phase] = round(time.monotonic() - started, 2)


def _write_people(plan: Plan, tags: dict[str, int], result: SeedResult) -> None:
    tables = [
        Household._meta.db_table,
        Resident._meta.db_table,
        Household.tags.through._meta.db_table,
        Resident.tags.through._meta.db_table,
    ]
    recreate = _drop_indexes_for_load(tables)
    with _timed(result, "households"):
        _load_people(plan, tags, result)
    with _timed(result, "indexes"), connection.cursor() as cursor:
        for sql in recreate:
            cursor.execute(sql)


def _load_people(plan: Plan, tags: dict[str, int], result: SeedResult) -> None:
    sink = _CopySink() if connection.vendor == "postgresql" else _InsertSink()
    registered = timezone.make_aware(datetime.datetime.combine(registered_on(result.as_of), datetime.time(9)))
    factory = PeopleFactory(plan.seed, tags, sink.datetime(registered), result.as_of)
    batch = Batch(next_household_id=_next_id(Household), next_resident_id=_next_id(Resident))
    household_tags = Household.tags.through._meta.db_table
    resident_tags = Resident.tags.through._meta.db_table

    def flush():
        households, residents, links_h, links_r = batch.take()
        sink.write(Household._meta.db_table, HOUSEHOLD_COLUMNS, households)
        sink.write(Resident._meta.db_table, RESIDENT_COLUMNS, residents)
        sink.write(household_tags, ("household_id", "tag_id"), links_h)
        sink.write(resident_tags, ("resident_id", "tag_id"), links_r)
        result.households += len(households)
        result.residents += len(residents)
        result.household_tags += len(links_h)
        result.resident_tags += len(links_r)

    try:
        for leaf in plan.leaves:
            leaf.first_household_id = batch.next_household_id
            factory.fill(leaf, batch)
            if len(batch.households) >= CHUNK_HOUSEHOLDS:
                flush()
        flush()
    finally:
        sink.close()
    # Explicit ids bypass PostgreSQL's sequences: move them past the new rows.
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Household, Resident]):
            cursor.execute(sql)


def _write_app_data(plan: Plan, result: SeedResult) -> None:
    """Every app's demo seed (rosters...), in INSTALLED_APPS order, loaded like the people."""
    found = contributors()
    if not found:
        return
    loaded = [model for contributor in found for model in contributor.models]
    recreate = _drop_indexes_for_load([model._meta.db_table for model in loaded])

    def on_rows(model, count):
        if model is Household.tags.through:  # e.g. a household an app's demo tags
            result.household_tags += count
        elif model is Resident.tags.through:
            result.resident_tags += count
        else:
            result.rosters[model._meta.label] = result.rosters.get(model._meta.label, 0) + count

    def on_step(name, seconds):
        result.phases[name] = round(result.phases.get(name, 0) + seconds, 2)

    def sink():
        # COPY's NULL marker is the text of None: the rows may hold None (no value is "None").
        return _CopySink(null="None") if connection.vendor == "postgresql" else _InsertSink()

    ctx = DemoContext(plan=plan, sink_factory=sink, on_rows=on_rows, on_step=on_step, as_of=result.as_of)
    try:
        with connection.execute_wrapper(ctx.guard):
            for contributor in found:
                contributor.seed(ctx)  # steps the contributor times show in result.phases
                ctx.flush()
    except BaseException:
        with suppress(BaseException):  # stop the writer thread; the first error is the one to see
            ctx.flush()
        raise
    indexing = time.monotonic()
    with connection.cursor() as cursor:
        for sql in recreate:
            cursor.execute(sql)
        for sql in connection.ops.sequence_reset_sql(no_style(), loaded):
            cursor.execute(sql)
    if recreate:
        result.phases["roster indexes"] = round(time.monotonic() - indexing, 2)


def _ensure_users(plan: Plan, password: str) -> list[tuple[str, str, str]]:
    # One hash for all: they share the printed demo password anyway, and each PBKDF2
    # hash costs about half a second.
    hashed = make_password(password)
    logins = []
    accounts = [*plan.users.items(), *plan.staff.items()]
    for index, (username, (role, unit)) in enumerate(accounts):
        user = User.objects.filter(username=username).first() or User(username=username)
        user.last_name, user.first_name = demo_name(username, index)
        user.role = role
        user.home_unit_id = unit.pk
        user.is_superuser = role == Role.ADMIN
        user.is_active = True
        # Only the roles that keep rosters get the admin (governance.roles.may_use_admin).
        user.is_staff = may_use_admin(user)
        user.password = hashed
        # The printed password is everyone's: outside demo mode (DEMO_MODE) each user chooses his own first.
        user.must_change_password = True
        user.save()
        user_sync_permissions(user)
        if username in plan.users:
            logins.append((username, Role(role).label, unit.short_name or unit.name))
    return logins
