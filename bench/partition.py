#!/usr/bin/env python3
"""Would monthly partitions of the cases and their steps pay on PostgreSQL? Measure both layouts.

    .venv/bin/python bench/partition.py                  # throwaway PostgreSQL, prepare and measure (~10 min)
    .venv/bin/python bench/partition.py --small --no-doc # a smoke run (~1 min)

Issue 17, item 3. What it prepares, set-based (bench/province.py's tree and its case and step
generators, no Python per row):

1. A city's tree (the ``city`` scale's units, bench/province.py ``plan_tree``) and ``--months``
   months of history, ``--month-cases`` cases raised in each, with every case's steps. A few
   cases (``STUCK_SHARE``) stay in their loop for up to ``STUCK_DAYS`` more days, so the cases
   still open at the end were raised in many past months. The project's own tables
   ``grid_case`` / ``grid_caseevent`` as the migrations create them hold the rows (their plain
   indexes dropped while they fill and built again afterwards).
2. The same rows in a declaratively partitioned copy in schema ``part``: the cases ``PARTITION
   BY RANGE (reported_at)``, the steps ``PARTITION BY RANGE (at)``, one partition per month,
   the same indexes and foreign keys out. What declarative partitioning forces on the schema
   is built in, not assumed away: the primary key is (id, reported_at), the unique case
   number (and form token) are unique only together with reported_at, the id takes its default
   from a sequence (PostgreSQL 15 has no identity column on a partitioned table), and the
   steps carry their case's ``reported_at`` (``case_reported_at``) for the foreign key
   (case_id, case_reported_at) → part.grid_case (id, reported_at).

What it measures on both, each read as the server's own time (``EXPLAIN (ANALYZE, TIMING OFF,
FORMAT JSON)`` Execution Time, bench/rollup.py ``_execution_seconds``; median of ``--runs`` after
a warm-up), the same SQL text run with ``search_path`` public, then part:

1. The month's scans of the rollup, for the newest month and the month a year before it:
   bench/rollup.py's ``FLOORS`` "month's cases", "raised cases", "rating steps", and the
   case family's leaf (``grid.indicators.case_counts`` over every unit, compiled by Django as
   the engine runs it).
2. The case list's first page of a township (``Case.objects.visible_to(clerk)`` newest first,
   50 rows, compiled by Django), a case by id and a case's steps (the case page).
3. Keeping years of history: table and index sizes; inserting a month of new cases and their
   steps (foreign keys checked, rolled back after each run); dropping the oldest month once:
   DELETE + VACUUM on the plain tables, DETACH PARTITION + DROP on the partitioned ones (the
   steps of the month's cases taken in later months first: steps are partitioned by their own
   time, not their case's month).

Results are printed and written to the partition section of docs/benchmarks.md (full size only).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import province  # noqa: E402
import rollup  # noqa: E402
from seed_demo import PostgresServer, _machine, write_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- partition:begin -->", "<!-- partition:end -->"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ENV = {"DEBUG": "0", "REQUIRE_SECRET_KEY": "0", "REQUIRE_PII_KEYS": "0"}
TZ = province.TZ

MONTHS, MONTH_CASES, FACTOR = 36, 15_000, 1.0  # three years of a city's tree, a busy county's month each
SMALL = {"months": 14, "month_cases": 1_500, "factor": 0.2}
LAST_MONTH = date(2025, 5, 1)  # the newest full month of the history (the rollup's month)
# A few cases stay in their loop for up to STUCK_DAYS more days: the open cases at the end come
# from many past months, as the month's scan has to read them.
STUCK_SHARE, STUCK_DAYS = 0.03, 540
CASES, STEPS = "grid_case", "grid_caseevent"


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def bounds(month: date) -> tuple[datetime, datetime]:
    return province._bounds(month)


# --- Preparation --------------------------------------------------------------------------------

def _plain_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of ``table``'s indexes that back no constraint."""
    cursor.execute("""
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY 1""", [f"public.{table}"])
    return cursor.fetchall()


def _constraints(cursor, table: str, kind: str) -> list[tuple[str, str]]:
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype = %s ORDER BY 1", [f"public.{table}", kind])
    return cursor.fetchall()


def _cases_sql(month: date, first: int, last: int, leaves: int, categories: int, into: str = CASES) -> str:
    """bench/province.py's INSERT of cases, the month's cases numbered ``first``..``last``."""
    start, end = bounds(month)
    stretch = f"CASE WHEN ub < {STUCK_SHARE} THEN ub / {STUCK_SHARE} * {STUCK_DAYS * 24} ELSE 0 END"
    rows = province._ROWS.format(
        reported=f"%(start)s::timestamptz + ua * {(end - start).total_seconds()} * interval '1 second'",
        stretch=stretch, first=first, last=last, leaves=leaves, categories=categories)
    sql = province._INSERT_CASES.format(stages=province._STAGES.format(rows=rows, **province.DEADLINE_HOURS))
    return sql.replace(f"INSERT INTO {CASES} ", f"INSERT INTO {into} ", 1)


def _steps_sql(into: str = STEPS, cases: str = CASES) -> str:
    sql = province._INSERT_STEPS.replace(f"INSERT INTO {STEPS} ", f"INSERT INTO {into} ", 1)
    return sql.replace(f"FROM {CASES} c ", f"FROM {cases} c ", 1)


def _partition_name(table: str, month: date) -> str:
    return f"part.{table}_p{month:%Y%m}"


def _partitioned_ddl(first: date, months: int) -> list[str]:
    """The partitioned copy's tables and partitions: (``months`` of history, then two to come)."""
    statements = [
        "CREATE SCHEMA part",
        # No identity column on a partitioned table before PostgreSQL 17: a sequence's default
        # (the plain table's own sequence here, so that both copies take the same ids).
        f"CREATE TABLE part.{CASES} (LIKE public.{CASES} INCLUDING DEFAULTS) PARTITION BY RANGE (reported_at)",
        f"ALTER TABLE part.{CASES} ALTER id SET DEFAULT nextval(pg_get_serial_sequence('public.{CASES}', 'id'))",
        f"CREATE TABLE part.{STEPS} (LIKE public.{STEPS} INCLUDING DEFAULTS, case_reported_at timestamptz NOT NULL) "
        "PARTITION BY RANGE (at)",
        f"ALTER TABLE part.{STEPS} ALTER id SET DEFAULT nextval(pg_get_serial_sequence('public.{STEPS}', 'id'))",
    ]
    for n in range(months + 2):
        month = add_months(first, n)
        start, end = bounds(month)
        for table in (CASES, STEPS):
            statements.append(f"CREATE TABLE {_partition_name(table, month)} PARTITION OF part.{table} "
                              f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')")
    return statements


def _partitioned_keys(cursor) -> list[str]:
    """The plain tables' keys, indexes and foreign keys, as the partitioned copy must have them."""
    statements = [f"ALTER TABLE part.{CASES} ADD PRIMARY KEY (id, reported_at)",
                  f"ALTER TABLE part.{STEPS} ADD PRIMARY KEY (id, at)"]
    for table, key in ((CASES, "reported_at"), (STEPS, "at")):
        for name, definition in _constraints(cursor, table, "u"):
            # A unique constraint on a partitioned table must hold its partition key.
            statements.append(f"ALTER TABLE part.{table} ADD CONSTRAINT {name} {definition[:-1]}, {key})")
        for _name, definition in _plain_indexes(cursor, table):
            statements.append(definition.replace(f" ON public.{table} ", f" ON part.{table} "))
        for name, definition in _constraints(cursor, table, "f"):
            if re.search(rf"REFERENCES {CASES}\(id\)", definition):
                # Into a partitioned table: by the referenced table's key, partition key included.
                definition = (f"FOREIGN KEY (case_id, case_reported_at) REFERENCES part.{CASES}(id, reported_at)"
                              + definition[definition.index(")", definition.index("REFERENCES")) + 1:])
            statements.append(f"ALTER TABLE part.{table} ADD CONSTRAINT {name} {definition}")
    return statements


def prepare(server: PostgresServer, name: str, factor: float, months: int, month_cases: int) -> tuple[str, dict]:
    url = server.fresh_database(name)
    env = {**os.environ, "DATABASE_URL": url}
    step = province.Steps()
    with step("migrate"):
        subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    first = add_months(LAST_MONTH, 1 - months)
    connection = server._connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            cursor.execute("SET session_replication_role = replica")  # no per-row FK checks while filling
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for table in ("governance_orgunit", CASES, STEPS):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")  # the audit's
            with step("tree"):
                province.write_tree(cursor, province.plan_tree(factor))
                cursor.execute("ANALYZE governance_orgunit")
            leaves, categories = province.leaves_and_categories(cursor)
            indexes = {table: _plain_indexes(cursor, table) for table in (CASES, STEPS)}
            for table in (CASES, STEPS):
                for index, _definition in indexes[table]:
                    cursor.execute(f"DROP INDEX {index}")
            cursor.execute("SELECT setseed(0.17)")
            with step("cases"):
                for n in range(months):
                    month = add_months(first, n)
                    start, end = bounds(month)
                    cursor.execute(_cases_sql(month, n * month_cases + 1, (n + 1) * month_cases, leaves, categories),
                                   {"start": start, "horizon": bounds(LAST_MONTH)[1] + timedelta(days=1)})
            with step("case steps"):
                cursor.execute(_steps_sql())
            with step("plain indexes"):
                for table in (CASES, STEPS):
                    for _index, definition in indexes[table]:
                        cursor.execute(definition)
            with step("partitioned tables"):
                for sql in _partitioned_ddl(first, months):
                    cursor.execute(sql)
                cursor.execute(f"INSERT INTO part.{CASES} SELECT * FROM public.{CASES}")
                cursor.execute(f"INSERT INTO part.{STEPS} SELECT e.*, c.reported_at FROM public.{STEPS} e "
                               f"JOIN public.{CASES} c ON c.id = e.case_id")
            keys = _partitioned_keys(cursor)
            with step("partitioned keys and indexes"):
                cursor.execute("SET session_replication_role = origin")  # the FKs are validated once here
                for sql in keys:
                    cursor.execute(sql)
            with step("vacuum analyze"):
                cursor.execute("VACUUM ANALYZE")
            cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE closed_at IS NULL), "
                           f"count(DISTINCT date_trunc('month', reported_at)) FILTER (WHERE closed_at IS NULL) "
                           f"FROM public.{CASES}")
            cases, open_cases, open_months = cursor.fetchone()
            cursor.execute(f"SELECT count(*) FROM public.{STEPS}")
            steps = cursor.fetchone()[0]
            cursor.execute(f"SELECT count(*) FILTER (WHERE isleaf) FROM pg_partition_tree('part.{CASES}')")
            partitions = cursor.fetchone()[0]
    finally:
        connection.close()
    return url, {"factor": factor, "months": months, "month_cases": month_cases, "first": f"{first:%Y-%m}",
                 "cases": cases, "open": open_cases, "open_months": open_months, "steps": steps,
                 "partitions": partitions, "leaves": leaves, "ddl": keys, "steps_s": step.seconds}


# --- Django's SQL (a child process) -------------------------------------------------------------

def django_sql(url: str, months: list[str]) -> dict:
    """The case family's leaf over every unit for each month, and a township clerk's first page of the
    case list, as Django compiles them (parameters inlined)."""
    rollup._setup(url)
    from django.db import connection

    from governance.indicators.engine import _leaf_sql
    from governance.indicators.months import month_bounds
    from governance.models import Level, OrgUnit, User
    from grid.indicators import case_counts
    from grid.models import Case

    def sql(queryset) -> str:
        text, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        return connection.ops.compose_sql(text, params)

    leaves = {}
    for month in months:
        start, end = month_bounds(date.fromisoformat(f"{month}-01"))
        # As the engine runs it: case_counts is a Tally, its rows fenced and counted (engine._leaf_sql).
        leaves[month] = connection.ops.compose_sql(*_leaf_sql(case_counts, start, end, OrgUnit.objects.all()))
    township = OrgUnit.objects.filter(level=Level.TOWNSHIP).order_by("tree_id", "lft")[1]
    clerk = User(username="bench_clerk", home_unit=township, is_active=True)
    page = Case.objects.visible_to(clerk).order_by("-reported_at", "-id")[:50]
    return {"case_counts": leaves, "case_list": sql(page), "township": township.code}


# --- Measures -----------------------------------------------------------------------------------

def _explain(cursor, sql: str, params=None) -> tuple[float, float, dict]:
    """(execution, planning) seconds of ``sql`` on the server (bench/rollup.py ``_execution_seconds``,
    planning kept: it grows with the partitions a statement may touch), and the plan."""
    cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Execution Time"] / 1000, plan[0]["Planning Time"] / 1000, plan[0]["Plan"]


def _index_names(node: dict) -> list[str]:
    return [node["Index Name"]] if "Index Name" in node else [
        name for child in node.get("Plans", []) for name in _index_names(child)]


def _scans(plan: dict) -> str:
    """The plan's table reads, counted: "Index Only Scan case_grid_newest", "Seq Scan ×36" (a partition's
    index named as its parent's: the month's suffix left out)."""
    found = Counter()

    def walk(node):
        kind = node["Node Type"]
        if kind.endswith("Scan") and kind != "Bitmap Index Scan" and "Relation Name" in node:
            if node["Relation Name"].startswith(("grid_case", "grid_caseevent")):
                index = node.get("Index Name")
                if kind == "Bitmap Heap Scan":
                    index = " + ".join(sorted(set(_index_names(node))))
                found[f"{kind} {re.sub(r'_p[0-9]{6}', '', index)}" if index else kind] += 1
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return ", ".join(f"{what} ×{n}" if n > 1 else what for what, n in found.most_common())


def _median_explain(cursor, sql: str, params, runs: int) -> dict:
    _explain(cursor, sql, params)  # warm up
    times = [_explain(cursor, sql, params) for _ in range(runs)]
    return {"s": statistics.median(t[0] for t in times), "plan_s": statistics.median(t[1] for t in times),
            "scans": _scans(times[-1][2])}


def _layouts(cursor):
    for layout, path in (("plain", "public"), ("part", "part, public")):
        cursor.execute(f"SET search_path = {path}")
        yield layout
    cursor.execute("SET search_path = public")


def measure_reads(cursor, queries: dict, runs: int) -> list[dict]:
    """Each read on both layouts: [{label, plain: {s, plan_s}, part: {...}}]."""
    cursor.execute("SET jit = off")
    rows = []
    for label, (sql, params) in queries.items():
        row = {"label": label}
        for layout in _layouts(cursor):
            row[layout] = _median_explain(cursor, sql, params, runs)
        rows.append(row)
        print(f"  {label}: plain {row['plain']['s'] * 1000:.2f} ms, partitioned {row['part']['s'] * 1000:.2f} ms",
              file=sys.stderr, flush=True)
    return rows


def read_queries(cursor, data: dict, compiled: dict) -> dict:
    """{label: (sql, params)} of the reads measured."""
    queries = {}
    for month, when in ((LAST_MONTH, "newest month"), (add_months(LAST_MONTH, -12), "a year before")):
        start, end = bounds(month)
        params = {"start": start, "end": end}
        for floor in ("month's cases", "raised cases", "rating steps"):
            queries[f"{floor} ({when}, {month:%Y-%m})"] = (rollup.FLOORS[floor][1], params)
        queries[f"case_counts leaf ({when}, {month:%Y-%m})"] = (compiled["case_counts"][f"{month:%Y-%m}"], None)
    queries[f"case list, first page of township {compiled['township']}"] = (compiled["case_list"], None)
    cursor.execute(f"SELECT id FROM public.{CASES} WHERE reported_at >= %s ORDER BY reported_at LIMIT 1",
                   [bounds(add_months(LAST_MONTH, -12))[0]])
    case_id = cursor.fetchone()[0]
    queries["a case by id"] = (f"SELECT * FROM {CASES} WHERE id = %(id)s", {"id": case_id})
    queries["a case's steps (case page)"] = (f"SELECT * FROM {STEPS} WHERE case_id = %(id)s ORDER BY at, id",
                                             {"id": case_id})
    return queries


def sizes(cursor) -> dict:
    """MiB of heap (with TOAST) and of indexes, per table and layout."""
    result = {}
    for table in (CASES, STEPS):
        cursor.execute("SELECT pg_table_size(%s), pg_indexes_size(%s)", [f"public.{table}"] * 2)
        heap, index = cursor.fetchone()
        cursor.execute("SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)) "
                       "FROM pg_partition_tree(%s) WHERE isleaf", [f"part.{table}"])
        part_heap, part_index = cursor.fetchone()
        result[table] = {"plain": {"heap": heap / 2**20, "index": index / 2**20},
                         "part": {"heap": float(part_heap) / 2**20, "index": float(part_index) / 2**20}}
    return result


def measure_insert(cursor, leaves: int, categories: int, month_cases: int, runs: int) -> dict:
    """A month of new cases and their steps (the month after the history), staged once, then inserted
    into each layout with its foreign keys checked, rolled back after each run: median wall seconds."""
    month = add_months(LAST_MONTH, 1)
    start, end = bounds(month)
    cursor.execute("SET session_replication_role = replica")
    cursor.execute(f"CREATE TEMP TABLE stage_case (LIKE public.{CASES})")
    cursor.execute(f"ALTER TABLE stage_case ALTER id SET DEFAULT nextval(pg_get_serial_sequence('{CASES}', 'id'))")
    cursor.execute(f"CREATE TEMP TABLE stage_step (LIKE public.{STEPS})")
    cursor.execute(f"ALTER TABLE stage_step ALTER id SET DEFAULT nextval(pg_get_serial_sequence('{STEPS}', 'id'))")
    cursor.execute("SELECT max(substr(number, 2)::int) FROM public.grid_case")
    last = cursor.fetchone()[0]
    cursor.execute(_cases_sql(month, last + 1, last + month_cases, leaves, categories, into="stage_case"),
                   {"start": start, "horizon": end + timedelta(days=1)})
    cursor.execute(_steps_sql(into="stage_step", cases="stage_case"))
    cursor.execute("SELECT (SELECT count(*) FROM stage_case), (SELECT count(*) FROM stage_step)")
    cases, steps = cursor.fetchone()
    cursor.execute("ANALYZE stage_case; ANALYZE stage_step")
    cursor.execute("SET session_replication_role = origin")
    statements = {
        "plain": [f"INSERT INTO public.{CASES} SELECT * FROM stage_case",
                  f"INSERT INTO public.{STEPS} SELECT * FROM stage_step"],
        "part": [f"INSERT INTO part.{CASES} SELECT * FROM stage_case",
                 f"INSERT INTO part.{STEPS} SELECT s.*, c.reported_at FROM stage_step s "
                 "JOIN stage_case c ON c.id = s.case_id"],
    }
    result = {"cases": cases, "steps": steps}
    for layout, sqls in statements.items():
        runs_s = []  # (cases, steps) seconds of each run; the staged rows are warm: no warm-up run
        for _ in range(runs):
            cursor.execute("BEGIN")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's FKs are deferred: check them here
            times = []
            for sql in sqls:
                began = time.perf_counter()
                cursor.execute(sql)
                times.append(time.perf_counter() - began)
            runs_s.append(times)
            cursor.execute("ROLLBACK")
        result[layout] = {"s": statistics.median(sum(t) for t in runs_s),
                          "cases_s": statistics.median(t[0] for t in runs_s),
                          "steps_s": statistics.median(t[1] for t in runs_s)}
        print(f"  insert a month, {layout}: {result[layout]}", file=sys.stderr, flush=True)
    return result


def measure_drop(cursor, first: date) -> dict:
    """Drop the oldest month's cases and their steps, once per layout (it cannot be repeated)."""
    start, end = bounds(first)
    cursor.execute("SET session_replication_role = origin")
    result = {}
    cursor.execute(f"SELECT count(*) FROM public.{CASES} WHERE reported_at < %s", [end])
    result["cases"] = cursor.fetchone()[0]
    cursor.execute(f"SELECT count(*) FROM public.{STEPS} WHERE case_id IN "
                   f"(SELECT id FROM public.{CASES} WHERE reported_at < %s)", [end])
    result["steps"] = cursor.fetchone()[0]
    cursor.execute(f"SELECT count(*) FROM {_partition_name(STEPS, first)}")
    result["steps_in_partition"] = cursor.fetchone()[0]

    began = time.perf_counter()
    cursor.execute("BEGIN")
    cursor.execute(f"DELETE FROM public.{STEPS} WHERE case_id IN (SELECT id FROM public.{CASES} "
                   "WHERE reported_at < %s)", [end])
    cursor.execute(f"DELETE FROM public.{CASES} WHERE reported_at < %s", [end])
    cursor.execute("COMMIT")
    deleted = time.perf_counter()
    cursor.execute(f"VACUUM public.{STEPS}")
    cursor.execute(f"VACUUM public.{CASES}")
    result["plain"] = {"delete_s": deleted - began, "vacuum_s": time.perf_counter() - deleted,
                       "s": time.perf_counter() - began}

    began = time.perf_counter()
    cursor.execute("BEGIN")
    # The steps of the month's cases taken after it lie in later partitions: deleted row by row.
    cursor.execute(f"DELETE FROM part.{STEPS} WHERE case_reported_at < %s AND at >= %s", [end, end])
    spill = cursor.rowcount
    cursor.execute(f"ALTER TABLE part.{STEPS} DETACH PARTITION {_partition_name(STEPS, first)}")
    cursor.execute(f"DROP TABLE {_partition_name(STEPS, first)}")
    cursor.execute(f"ALTER TABLE part.{CASES} DETACH PARTITION {_partition_name(CASES, first)}")
    cursor.execute(f"DROP TABLE {_partition_name(CASES, first)}")
    cursor.execute("COMMIT")
    result["part"] = {"s": time.perf_counter() - began, "spill": spill}
    print(f"  drop the oldest month: plain {result['plain']['s']:.2f} s, partitioned {result['part']['s']:.2f} s",
          file=sys.stderr, flush=True)
    return result


# --- Report -------------------------------------------------------------------------------------

def _ratio(plain: float, part: float) -> str:
    return f"{plain / part:.2f}×" if part else "–"


def _ms(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1000:.3f}"
    return f"{seconds * 1000:,.1f}" if seconds < 10 else f"{seconds * 1000:,.0f}"


def render(result: dict) -> str:
    data = result["data"]
    lines = [
        f"{data['factor']:g} × the `city` scale's tree ({data['leaves']:,} leaf units) on {result['db_version']}; "
        f"**{data['months']} months** of history ({data['first']} to {LAST_MONTH:%Y-%m}), "
        f"{data['month_cases']:,} cases raised in each: **{data['cases']:,} cases**, **{data['steps']:,} case steps**; "
        f"{data['open']:,} cases open at the end, raised in {data['open_months']} different months. "
        f"Partitioned copy: {data['partitions']} monthly partitions per table. "
        f"{result['machine']}; load (`uptime`) {result['load']}; {result['date']}; median of {result['runs']} runs "
        "(the reads after a warm-up).",
        "",
        "Preparation (s): " + " · ".join(f"{k} {v}" for k, v in data["steps_s"].items()) + ".",
        "",
        "| measure | plain (ms) | partitioned (ms) | plain ÷ partitioned | planning plain / partitioned (ms) "
        "| reads: plain / partitioned |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in result["reads"]:
        lines.append(f"| {row['label']} | {_ms(row['plain']['s'])} | {_ms(row['part']['s'])} | "
                     f"{_ratio(row['plain']['s'], row['part']['s'])} | "
                     f"{row['plain']['plan_s'] * 1000:.2f} / {row['part']['plan_s'] * 1000:.2f} | "
                     f"{row['plain']['scans']} / {row['part']['scans']} |")
    insert, drop = result["insert"], result["drop"]
    lines.append(f"| insert a month: {insert['cases']:,} cases + {insert['steps']:,} steps, FKs checked (wall; "
                 f"cases {_ms(insert['plain']['cases_s'])} / {_ms(insert['part']['cases_s'])}, steps "
                 f"{_ms(insert['plain']['steps_s'])} / {_ms(insert['part']['steps_s'])}) | "
                 f"{_ms(insert['plain']['s'])} | {_ms(insert['part']['s'])} | "
                 f"{_ratio(insert['plain']['s'], insert['part']['s'])} | | |")
    lines.append(f"| drop the oldest month: {drop['cases']:,} cases + {drop['steps']:,} steps (wall, one run; plain: "
                 f"DELETE {_ms(drop['plain']['delete_s'])} + VACUUM {_ms(drop['plain']['vacuum_s'])}; partitioned: "
                 f"{drop['part']['spill']:,} steps in later partitions deleted, then DETACH + DROP) | "
                 f"{_ms(drop['plain']['s'])} | {_ms(drop['part']['s'])} | "
                 f"{_ratio(drop['plain']['s'], drop['part']['s'])} | | |")
    lines += ["", "| size (MiB) | plain heap | plain indexes | partitioned heap | partitioned indexes |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for table, size in result["sizes"].items():
        lines.append(f"| `{table}` | {size['plain']['heap']:,.0f} | {size['plain']['index']:,.0f} | "
                     f"{size['part']['heap']:,.0f} | {size['part']['index']:,.0f} |")
    return "\n".join(lines)


SECTION = """## Cases partitioned by month? (`bench/partition.py`)

Issue 17, item 3: would declarative partitioning by month (cases `PARTITION BY RANGE
(reported_at)`, case steps `PARTITION BY RANGE (at)`) pay on PostgreSQL, for the month's scans
and for keeping years of history? The script prepares three years of cases set-based, keeps them
twice (the project's own tables as the migrations create them, and a partitioned copy in schema
`part` with the same indexes and the keys partitioning forces), and times the same SQL on both
(`search_path` switched): the server's Execution Time, planning apart. Timings move with the load of
the two shared cores: an earlier full run the same night (load 4-6) had the newest month's
`case_counts` leaf 106 → 114 ms (0.93×) and its month's cases 1.00×, the leaf a year back 1.93×,
inserting a month 0.40× and dropping the oldest 11.1 → 0.9 s (11.8×); the figures below are the
run that wrote this section.

{table}

{decision}
"""

DECISION = """**Decision: not adopted; the models and migrations are unchanged** (the SQLite demo was never
concerned). The month's scan the rollup runs every month does not get faster: the month's cases of
the newest month {newest_month} and its `case_counts` leaf {newest_leaf}, planning {leaf_plan} ms
against {leaf_plan_plain} ms over the partitions. That scan reads the cases reported before the
month's end and open or closed since its start; the open cases were raised in {open_months}
different months, so pruning on `reported_at` cuts only the months to come (the reads are in the
table above). What partitions do cut is the raised cases of one month (the cohorts' scan,
{newest_raised}){old_month}. Neither is the monthly run's cost (bench/province.py: the month's run
is mostly writing its indicator rows). Dropping the oldest month is where partitions win ({drop}:
DETACH + DROP against DELETE + VACUUM), but DELETE + VACUUM of a month is {drop_plain_s:.0f} s once
a month off-peak, and the space it frees is reused by the next months. Against that: inserting a
month's rows is {insert} (the steps {insert_steps}: each step's foreign-key check goes through the
partitioned cases), and a case by id or its steps, what the case page and every step of a case's
loop read, goes from {lookup_plain} ms to {lookup_part} ms with planning, since the id alone prunes
no partition. The criterion was more than 1.5× on the rollup's scans and on keeping history: the
month's scans do not gain, and of keeping history only dropping a month does.

What partitioning would have changed in the schema (the `ddl` the script builds, and more): the
primary key becomes (id, reported_at) and the steps' (id, at), which Django 5.2 can state
(`CompositePrimaryKey`) but a `ForeignKey` cannot point at such a model, so `id` would stay the
model's primary key over a table that no longer enforces its uniqueness alone; the case number and
the form token can only be unique together with `reported_at` (a duplicate number in two months goes
unseen); PostgreSQL 15 has no identity column on a partitioned table (a sequence default instead);
every foreign key into the cases needs the case's `reported_at` beside `case_id` and a two-column
constraint, which a Django `ForeignKey` cannot express (`db_constraint=False` plus `RunSQL`): the
case steps, the attachments, the mediations and the contract instalments (`collective_economy`), and
the attachments' step in turn needs the step's `at`; steps partitioned by their own time do not
follow their case's month ({spill:,} steps of the dropped month's cases lay in later partitions and
went row by row); the audit triggers would move to the partitioned parents. Django's migrations know
no declarative partitioning: it would be `RunSQL` run on PostgreSQL only (SQLite keeping plain
tables), plus a monthly task creating the partitions to come. If history ever has to go faster than
DELETE allows, the cheaper step is a batched DELETE of closed cases older than the retention, not
partitions.
"""


def _row(result: dict, prefix: str) -> dict:
    return next(row for row in result["reads"] if row["label"].startswith(prefix))


def _ratio_of(row: dict) -> float:
    return row["plain"]["s"] / row["part"]["s"]


def pays(result: dict) -> bool:
    """The adoption criterion: over 1.5× on the newest month's scans of the rollup and on dropping a month."""
    scans = [_row(result, f"{label} (newest month") for label in ("month's cases", "case_counts leaf")]
    drop = result["drop"]
    return min(_ratio_of(row) for row in scans) > 1.5 and drop["plain"]["s"] / drop["part"]["s"] > 1.5


def decision(result: dict) -> str:
    def said(row: dict) -> str:
        return f"{_ms(row['plain']['s'])} → {_ms(row['part']['s'])} ms ({_ratio(row['plain']['s'], row['part']['s'])})"

    lookup = [_row(result, "a case by id"), _row(result, "a case's steps")]
    year = _row(result, "case_counts leaf (a year before")
    drop, insert = result["drop"], result["insert"]
    text = DECISION.format(
        newest_month=said(_row(result, "month's cases (newest month")),
        newest_leaf=said(_row(result, "case_counts leaf (newest month")),
        leaf_plan=f"{_row(result, 'case_counts leaf (newest month')['part']['plan_s'] * 1000:.1f}",
        leaf_plan_plain=f"{_row(result, 'case_counts leaf (newest month')['plain']['plan_s'] * 1000:.1f}",
        newest_raised=said(_row(result, "raised cases (newest month")),
        open_months=result["data"]["open_months"],
        drop=f"{drop['plain']['s']:.1f} → {drop['part']['s']:.1f} s, {_ratio(drop['plain']['s'], drop['part']['s'])}",
        drop_plain_s=drop["plain"]["s"], spill=drop["part"]["spill"],
        insert=f"{insert['plain']['s']:.1f} → {insert['part']['s']:.1f} s "
               f"({_ratio(insert['plain']['s'], insert['part']['s'])})",
        old_month=(f" and an old month recomputed ({said(year)} for the `case_counts` leaf a year back, where the "
                   "plain table has every case closed since to read)" if _ratio_of(year) > 1.2
                   else f"; an old month recomputed does not gain either ({said(year)} for the `case_counts` leaf "
                   "a year back)"),
        insert_steps=f"{insert['plain']['steps_s']:.1f} → {insert['part']['steps_s']:.1f} s",
        lookup_plain=f"{sum(r['plain']['s'] + r['plain']['plan_s'] for r in lookup) * 1000:.2f}",
        lookup_part=f"{sum(r['part']['s'] + r['part']['plan_s'] for r in lookup) * 1000:.2f}")
    return "\n\n".join(textwrap.fill(" ".join(paragraph.split()), width=100, break_on_hyphens=False,
                                     break_long_words=False) for paragraph in text.strip().split("\n\n"))


def write_doc(result: dict) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    section = SECTION.format(table=render(result), decision=decision(result).strip())
    write_section(text, BEGIN, END, f"{BEGIN}\n{section.rstrip()}\n{END}")


def _child_sql(url: str, months: list[str]) -> dict:
    child = subprocess.run([PYTHON, __file__, "--django-sql", url, "--months-of", ",".join(months)], cwd=ROOT,
                           check=True, stdout=subprocess.PIPE, text=True, env={**os.environ, **ENV})
    return json.loads(child.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--months", type=int, default=MONTHS, help=f"months of history (default {MONTHS})")
    parser.add_argument("--month-cases", type=int, default=MONTH_CASES,
                        help=f"cases raised in each month (default {MONTH_CASES:,})")
    parser.add_argument("--factor", type=float, default=FACTOR, help="cities' worth of units (default 1)")
    parser.add_argument("--small", action="store_true", help="14 months of 1,500 cases in one county: a smoke run")
    parser.add_argument("--runs", type=int, default=7, help="runs of each measure (median; default 7)")
    parser.add_argument("--keep", action="store_true", help="keep the database and its server (prints the URL)")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--django-sql", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--months-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(ENV)
    if args.django_sql:
        print(json.dumps(django_sql(args.django_sql, args.months_of.split(","))))
        return
    if args.small:
        args.months, args.month_cases, args.factor = SMALL["months"], SMALL["month_cases"], SMALL["factor"]
    if args.months < 14:
        parser.error("--months: at least 14 (the month a year before the newest is measured, and the oldest dropped)")
    full = (args.months, args.month_cases, args.factor) == (MONTHS, MONTH_CASES, FACTOR)

    server = PostgresServer.from_env_or_start()
    name = "bench_partition"
    try:
        print(f"preparing {args.months} months of {args.month_cases:,} cases ...", file=sys.stderr, flush=True)
        url, data = prepare(server, name, args.factor, args.months, args.month_cases)
        print(f"  {data['cases']:,} cases, {data['steps']:,} steps, {data['open']:,} open", file=sys.stderr)
        compiled = _child_sql(url, [f"{LAST_MONTH:%Y-%m}", f"{add_months(LAST_MONTH, -12):%Y-%m}"])
        connection = server._connect(url)
        try:
            with connection.cursor() as cursor:
                result = {"data": data, "runs": args.runs, "db_version": server.version, "machine": _machine(),
                          "date": date.today().isoformat()}
                result["sizes"] = sizes(cursor)
                result["reads"] = measure_reads(cursor, read_queries(cursor, data, compiled), args.runs)
                leaves, categories = province.leaves_and_categories(cursor)
                result["insert"] = measure_insert(cursor, leaves, categories, args.month_cases, args.runs)
                result["drop"] = measure_drop(cursor, date.fromisoformat(f"{data['first']}-01"))
        finally:
            connection.close()
        result["load"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(render(result))
        print("\nthe partitioned copy's keys and foreign keys:\n  " + "\n  ".join(data["ddl"][:2] + [
            sql for sql in data["ddl"] if "REFERENCES part." in sql or "UNIQUE" in sql]), file=sys.stderr)
        print("\n" + decision(result))
        if pays(result):
            print("\nTHE FIGURES NOW FAVOUR PARTITIONING: the decision above (not adopted) no longer holds; "
                  "docs/benchmarks.md left alone", file=sys.stderr)
        elif not full:
            print("docs/benchmarks.md left alone: it publishes the full size's figures", file=sys.stderr)
        elif not args.no_doc:
            write_doc(result)
        if not args.keep:
            server.drop_database(name)
    finally:
        if args.keep:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            server.stop()


if __name__ == "__main__":
    main()
