#!/usr/bin/env python3
"""Benchmark a province's month: the rollup of ten cities' units and the dashboards at its root.

    .venv/bin/python bench/province.py                  # throwaway PostgreSQL, prepare (minutes), measure
    .venv/bin/python bench/province.py --small --no-doc # a fiftieth of it: a smoke run (~1 min)
    .venv/bin/python bench/province.py --keep           # keep the prepared database; then --reuse URL
    .venv/bin/python bench/province.py --reuse URL --skip-workers
    .venv/bin/python bench/province.py --no-micro-grids --skip-workers  # the same, grids the leaves

Issue 17, item 4. What it prepares, set-based (no seed_demo, no Python per row):

1. *The tree*: ten times the ``city`` scale's units (governance/demo/plan.py) under one root,
   numbered for MPTT here (a depth-first walk, children in code order as ``order_insertion_by``
   puts them) and written with one COPY. The model has no province level (``Level``: a root is
   a city or a county, and a city's children are counties), so the root is a ``city`` unit whose
   children are the sixty counties of ten cities: the units and the depth below the root are a
   province's, the root's level is not. The numbering is checked in SQL afterwards; no
   ``rebuild()`` runs.
2. *The cases*: the benchmark month's (ten times the city's month, ``CITY_MONTH_CASES``), the cases
   raised before it and still open when it begins, and the next month's first day (the
   benchmarks measure "the month before the newest case's", ``bench/rollup.py``'s ``_period``),
   each with the steps it has taken by then (``CaseEvent``), from ``INSERT ... SELECT ...
   generate_series``. The audit triggers of those tables are off while they fill (this measures
   the rollup, not the audit) and on again afterwards.

What it measures, each in a child process with ``DEBUG`` off (bench/rollup.py's code):

1. ``compute_month`` of every unit in one process: wall time, queries, peak RSS, and each
   family's time (with writing, and its computing SELECT on the server).
2. The same month run through Redis by a real Celery worker of one process, then two (one run
   each: a run is split into ``ROLLUP_PARTS`` shards of townships), and the sum of the parts'
   times against (1).
3. The dashboard at the root, a county, a township and a village, as their users: median and
   95th percentile of ``--runs`` requests, and the queries of one.

Results are printed and written to the province section of docs/benchmarks.md. With
``--no-micro-grids`` the tree stops at the grids and the cases hang on them (what the rollup would
cost if nothing were stored below the grid); that run writes a section of its own.
"""

import argparse
import contextlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rollup  # noqa: E402
from seed_demo import PostgresServer, _machine, write_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
FLOOR_RUNS = 5  # each floor: the median of this many runs after a warm-up
BEGIN, END = "<!-- province:begin -->", "<!-- province:end -->"
FLAT_BEGIN, FLAT_END = "<!-- province-flat:begin -->", "<!-- province-flat:end -->"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ENV = {"DEBUG": "0", "REQUIRE_SECRET_KEY": "0", "REQUIRE_PII_KEYS": "0"}
TZ = ZoneInfo("Asia/Shanghai")

# The city scale (governance/demo/plan.py SCALES["city"]) and the cases its month raises
# (bench/rollup.py on the seeded city, May 2025: 43,429); the province is FACTOR times both.
CITY = {"counties": 6, "townships": 80, "villages": 1_700, "grids": 2_100, "micro_grids": 12_900}
CITY_MONTH_CASES = 43_400
FACTOR = 10
PARTS_TARGET = 1.3  # issue 17: the parts' times summed, against the single run
SMALL_FACTOR = 0.2  # one county of 16 townships
# Cases raised before the month and still open when it begins, as a share of the month's.
OPEN_BEFORE_SHARE = 0.25
# Deadlines from dispatch by colour (grid.models.ColourDeadline's defaults), hours.
DEADLINE_HOURS = {"red": 24, "yellow": 72, "green": 168}


# --- The tree ---------------------------------------------------------------------------------

def _split(total: int, parts: int) -> list[int]:
    """``total`` over ``parts`` as evenly as integers allow."""
    return [total * (i + 1) // parts - total * i // parts for i in range(parts)]


def plan_tree(factor: float, micro_grids: bool = True) -> list[tuple]:
    """The province's units as COPY rows, MPTT columns included.

    Shape of ``factor`` cities: counties, townships, villages and grids spread evenly; micro-grids
    only in every other county, as in the city (the others stop at grids), or none at all.
    """
    counts = {level: max(1, round(n * factor)) for level, n in CITY.items()}
    rng = random.Random(f"yiwang-province/{factor}")
    units = []  # [id, parent_id, code, name, level, kind, depth, children]

    def add(parent, code, name, level, kind):
        unit = [len(units) + 1, parent[0] if parent else None, code, name, level, kind,
                parent[6] + 1 if parent else 0, []]
        units.append(unit)
        if parent:
            parent[7].append(unit)
        return unit

    root = add(None, "140100000000", "省（基准）", "city", "city")
    counties = [add(root, f"1401{c + 1:02d}000000", f"第{c + 1}县", "county", "county")
                for c in range(counts["counties"])]
    townships = []
    for county, n in zip(counties, _split(counts["townships"], len(counties)), strict=True):
        townships += [add(county, f"{county[2][:6]}{t + 1:03d}000", f"{county[3]}第{t + 1}镇", "township", "town")
                      for t in range(n)]
    villages = []
    for township, n in zip(townships, _split(counts["villages"], len(townships)), strict=True):
        villages += [add(township, f"{township[2][:9]}{v + 1:03d}", f"{township[3]}第{v + 1}村", "village",
                         "village") for v in range(n)]
    grids = []
    extra = set(rng.sample(range(len(villages)), counts["grids"] - len(villages)))
    for i, village in enumerate(villages):
        for g in range(2 if i in extra else 1):
            grids.append(add(village, f"{village[2]}G{g + 1}", f"{village[3]}第{g + 1}网格", "grid",
                             "grid_standard"))
    with_micro = [g for g in grids if int(g[2][4:6]) % 2 == 1] if micro_grids else []  # counties 01, 03, ...
    for grid, n in zip(with_micro, _split(counts["micro_grids"], len(with_micro)), strict=True):
        for m in range(n):
            add(grid, f"{grid[2]}M{m + 1}", f"{grid[3]}第{m + 1}微网格", "micro_grid", "micro_grid")

    # Depth-first numbering: lft on the way down, rght on the way up; children by code.
    bounds, counter, stack = {}, 0, [(root, False)]
    while stack:
        unit, done = stack.pop()
        counter += 1
        if done:
            bounds[unit[0]] = (bounds[unit[0]], counter)
            continue
        bounds[unit[0]] = counter
        stack.append((unit, True))
        stack.extend((child, False) for child in sorted(unit[7], key=lambda u: u[2], reverse=True))
    return [(u[0], u[2], u[3], u[4], u[5], *bounds[u[0]], u[6], u[1]) for u in units]


def write_tree(cursor, rows: list[tuple]) -> None:
    buffer = io.StringIO()
    for uid, code, name, level, kind, lft, rght, depth, parent in rows:
        buffer.write(f"{uid}\t{code}\t{name}\t\t{level}\t{kind}\tt\t{lft}\t{rght}\t1\t{depth}\t"
                     f"{parent if parent else chr(92) + 'N'}\n")
    buffer.seek(0)
    cursor.copy_expert("COPY governance_orgunit (id, code, name, short_name, level, kind, is_active, lft, rght, "
                       "tree_id, mptt_level, parent_id) FROM STDIN", buffer)
    cursor.execute("SELECT setval(pg_get_serial_sequence('governance_orgunit', 'id'), max(id)) "
                   "FROM governance_orgunit")


def check_tree(cursor) -> int:
    """The nested set is sound: the bounds are 1..2n, each once; every child lies inside its parent
    one level down; and for a sample of units the subtree by range is the subtree by parent links."""
    cursor.execute("SELECT count(*) FROM governance_orgunit")
    n = cursor.fetchone()[0]
    cursor.execute("SELECT count(DISTINCT b), min(b), max(b) FROM (SELECT lft b FROM governance_orgunit "
                   "UNION ALL SELECT rght FROM governance_orgunit) s")
    assert cursor.fetchone() == (2 * n, 1, 2 * n), "lft/rght are not 1..2n each once"
    cursor.execute("SELECT count(*) FROM governance_orgunit c JOIN governance_orgunit p ON p.id = c.parent_id "
                   "WHERE NOT (c.lft > p.lft AND c.rght < p.rght AND c.mptt_level = p.mptt_level + 1 "
                   "AND c.tree_id = p.tree_id)")
    assert cursor.fetchone()[0] == 0, "a child outside its parent's range"
    cursor.execute("""
        WITH RECURSIVE sample AS (
            SELECT id FROM governance_orgunit WHERE level IN ('county', 'township', 'village', 'grid')
            ORDER BY md5(id::text) LIMIT 40),
        walk(top, id) AS (
            SELECT id, id FROM sample
            UNION ALL SELECT w.top, c.id FROM walk w JOIN governance_orgunit c ON c.parent_id = w.id)
        SELECT count(*) FROM (SELECT top, count(*) AS linked FROM walk GROUP BY top) w
        JOIN governance_orgunit u ON u.id = w.top
        WHERE (u.rght - u.lft + 1) / 2 <> w.linked
           OR (SELECT count(*) FROM governance_orgunit d WHERE d.tree_id = u.tree_id
               AND d.lft BETWEEN u.lft AND u.rght) <> w.linked""")
    assert cursor.fetchone()[0] == 0, "a subtree by range differs from its subtree by parent links"
    return n


# --- The cases --------------------------------------------------------------------------------

# Each case's way round the loop from its report, by the random numbers u1..u9 of its row: the
# stages it reached by the data's "today" (HORIZON) have their times, the later ones are NULL,
# and its state is the last stage reached. 3 % are not accepted (rejected within a day); 85 %
# of the closed ones were rated first; most are resolved within their colour's deadline.
_STAGES = """
    SELECT n, grid_id, township_id, category_id, colour, triage, reported_at, rejected,
           accepted_at, dispatched_at, due_at, taken_at, resolved_at, verified_at, rated,
           CASE WHEN rejected THEN reported_at + (1 + 23 * u9) * interval '1 hour' ELSE
                CASE WHEN rated THEN verified_at + interval '6 hours' ELSE verified_at END
                + (2 + 20 * u8) * interval '1 hour'
           END AS closed_at
    FROM (
        SELECT *, resolved_at + (2 + 46 * u6) * interval '1 hour' AS verified_at
        FROM (
            SELECT *, taken_at + (extract(epoch FROM due_at - dispatched_at) / 3600 * (0.05 + 1.15 * u5)
                                  + stretch) * interval '1 hour' AS resolved_at
            FROM (
                SELECT *, dispatched_at + (0.2 + 6 * u4) * interval '1 hour' AS taken_at,
                       dispatched_at + CASE colour WHEN 'red' THEN {red} WHEN 'yellow' THEN {yellow} ELSE {green} END
                                       * interval '1 hour' AS due_at
                FROM (
                    SELECT *, accepted_at + (0.5 + 12 * u3) * interval '1 hour' AS dispatched_at
                    FROM (
                        SELECT *, reported_at + (0.5 + 8 * u2) * interval '1 hour' AS accepted_at,
                               u1 < 0.03 AS rejected, u7 < 0.85 AS rated
                        FROM ({rows}) r) a) d) t) s) v
"""

# The rows of cases: n, the case's leaf unit and its township, a sub-category, colour, triage,
# the report time, ``stretch`` (extra hours before resolving) and u1..u9.
_ROWS = """
    SELECT g AS n, l.id AS grid_id, l.township_id, k.id AS category_id,
           CASE WHEN u0 < 0.08 THEN 'red' WHEN u0 < 0.30 THEN 'yellow' ELSE 'green' END AS colour,
           CASE WHEN ut < 0.2 THEN 'major' WHEN ut < 0.8 THEN 'minor' ELSE 'private' END AS triage,
           {reported} AS reported_at, {stretch} AS stretch,
           random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5, random() AS u6,
           random() AS u7, random() AS u8, random() AS u9
    FROM (SELECT g, random() AS u0, random() AS ut, random() AS ua, random() AS ub
          FROM generate_series({first}::bigint, {last}) g) x
    JOIN bench_leaf l ON l.idx = (x.g * 7919) %% {leaves}
    JOIN bench_category k ON k.idx = (x.g * 31) %% {categories}
"""

_INSERT_CASES = """
    INSERT INTO grid_case (number, title, description, source, triage, colour, address, reporter_name,
        reporter_phone, state, due_at, is_overdue, result, rating, reported_at, accepted_at, dispatched_at,
        taken_at, resolved_at, verified_at, closed_at, updated_at, migrated, grid_id, handling_unit_id, category_id)
    SELECT 'P' || n, '基准事件 ' || n, '', 'grid_worker', triage, colour, '', '', '',
        CASE WHEN closed_at <= h THEN CASE WHEN rejected THEN 'rejected' ELSE 'closed' END
             WHEN rejected THEN 'reported'
             WHEN verified_at <= h THEN CASE WHEN rated AND verified_at + interval '6 hours' <= h THEN 'rated'
                                             ELSE 'verified' END
             WHEN resolved_at <= h THEN 'resolved'
             WHEN taken_at + interval '10 minutes' <= h THEN 'in_progress'
             WHEN taken_at <= h THEN 'taken'
             WHEN dispatched_at <= h THEN 'dispatched'
             WHEN accepted_at <= h THEN 'accepted'
             ELSE 'reported' END,
        CASE WHEN NOT rejected AND dispatched_at <= h THEN due_at END, false, '',
        CASE WHEN rated AND NOT rejected AND verified_at + interval '6 hours' <= h
             THEN (ARRAY['satisfied', 'satisfied', 'satisfied', 'basic', 'dissatisfied'])[1 + n %% 5] ELSE '' END,
        reported_at,
        CASE WHEN NOT rejected AND accepted_at <= h THEN accepted_at END,
        CASE WHEN NOT rejected AND dispatched_at <= h THEN dispatched_at END,
        CASE WHEN NOT rejected AND taken_at <= h THEN taken_at END,
        CASE WHEN NOT rejected AND resolved_at <= h THEN resolved_at END,
        CASE WHEN NOT rejected AND verified_at <= h THEN verified_at END,
        CASE WHEN closed_at <= h THEN closed_at END,
        least(h, greatest(reported_at, coalesce(closed_at, reported_at))), false, grid_id, township_id, category_id
    FROM ({stages}) c, (SELECT %(horizon)s::timestamptz AS h) horizon
"""

# Each case's steps, from its own times (the start of work 10 minutes after taking it, the rating
# 6 hours after the check, as the cases above were built).
_INSERT_STEPS = """
    INSERT INTO grid_caseevent (action, from_state, to_state, at, comment, migrated, case_id, unit_id)
    SELECT s.action, s.from_state, s.to_state, s.at, '', false, c.id, c.handling_unit_id
    FROM grid_case c CROSS JOIN LATERAL (VALUES
        ('create', '', 'reported', c.reported_at),
        ('reject', 'reported', 'rejected', CASE WHEN c.state = 'rejected' THEN c.closed_at END),
        ('accept', 'reported', 'accepted', c.accepted_at),
        ('dispatch', 'accepted', 'dispatched', c.dispatched_at),
        ('take', 'dispatched', 'taken', c.taken_at),
        ('start', 'taken', 'in_progress',
         CASE WHEN c.state NOT IN ('taken', 'dispatched') THEN c.taken_at + interval '10 minutes' END),
        ('resolve', 'in_progress', 'resolved', c.resolved_at),
        ('verify', 'resolved', 'verified', c.verified_at),
        ('rate', 'verified', 'rated', CASE WHEN c.rating <> '' THEN c.verified_at + interval '6 hours' END),
        ('close', CASE WHEN c.rating <> '' THEN 'rated' ELSE 'verified' END, 'closed',
         CASE WHEN c.state = 'closed' THEN c.closed_at END)
    ) AS s(action, from_state, to_state, at)
    WHERE s.at IS NOT NULL
"""

_AUDITED = ("governance_orgunit", "grid_case", "grid_caseevent")


def month_of(text: str) -> date:
    return datetime.strptime(text, "%Y-%m").date()


def _bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=TZ)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def leaves_and_categories(cursor) -> tuple[int, int]:
    """Temporary tables numbering the leaf units (with their township: ``bench_leaf``) and the
    sub-categories (``bench_category``) that generated cases pick by number; their counts.

    Each township's leaves by its range: the LATERAL fenced (OFFSET 0) so that it stays one index
    range per township; flattened, it was a range join of every leaf with every township.
    """
    cursor.execute("""
        CREATE TEMP TABLE bench_leaf AS
        SELECT (row_number() OVER (ORDER BY l.lft) - 1)::int AS idx, l.id, t.id AS township_id
        FROM governance_orgunit t CROSS JOIN LATERAL (
            SELECT id, lft FROM governance_orgunit l
            WHERE l.tree_id = t.tree_id AND l.lft > t.lft AND l.lft < t.rght
              AND l.level IN ('grid', 'micro_grid') AND l.rght = l.lft + 1 OFFSET 0) l
        WHERE t.level = 'township'""")
    cursor.execute("CREATE UNIQUE INDEX ON bench_leaf (idx)")
    cursor.execute("CREATE TEMP TABLE bench_category AS SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, "
                   "id FROM grid_casecategory WHERE parent_id IS NOT NULL")
    cursor.execute("SELECT (SELECT count(*) FROM bench_leaf), (SELECT count(*) FROM bench_category)")
    return cursor.fetchone()


def write_cases(cursor, month: date, month_cases: int, step) -> dict:
    """The month's cases, the open ones from before it, the next month's first day; then their steps."""
    start, end = _bounds(month)
    horizon = end + timedelta(days=1)  # the data's "today": the end of the next month's first day
    leaves, categories = leaves_and_categories(cursor)
    cursor.execute("SELECT setseed(0.17)")
    before = round(month_cases * OPEN_BEFORE_SHARE)
    next_day = round(month_cases / 30)
    seconds = (end - start).total_seconds()
    batches = [
        # The month's: reported evenly over it, resolved within the deadline mostly.
        ("month_cases", 1, month_cases,
         f"%(start)s::timestamptz + ua * {seconds} * interval '1 second'", "0"),
        # Open when the month begins: reported 1-180 days before (mostly lately), and still in
        # their loop for 1-45 more days from then (those past the data's today stay open).
        ("open_before", month_cases + 1, month_cases + before,
         "%(start)s::timestamptz - (1 + 179 * ua * ua) * interval '1 day'",
         "(1 + 179 * ua * ua) * 24 + ub * 45 * 24"),
        # The next month's first day (the month measured is the one before the newest case's).
        ("next_day", month_cases + before + 1, month_cases + before + next_day,
         "%(end)s::timestamptz + ua * interval '1 day'", "0"),
    ]
    counts = {}
    for label, first, last, reported, stretch in batches:
        rows = _ROWS.format(reported=reported, stretch=stretch, first=first, last=last, leaves=leaves,
                            categories=categories)
        sql = _INSERT_CASES.format(stages=_STAGES.format(rows=rows, **DEADLINE_HOURS))
        with step(label):
            cursor.execute(sql, {"start": start, "end": end, "horizon": horizon})
            counts[label] = cursor.rowcount
    with step("case_steps"):
        cursor.execute(_INSERT_STEPS)
        counts["case_steps"] = cursor.rowcount
    counts["leaf_units"] = leaves
    return counts


class Steps:
    """Times the preparation's steps (``with steps("label"):``) and prints each as it ends."""

    def __init__(self):
        self.seconds = {}

    @contextlib.contextmanager
    def __call__(self, label: str):
        began = time.perf_counter()
        yield
        self.seconds[label] = round(time.perf_counter() - began, 1)
        print(f"  {label}: {self.seconds[label]} s", file=sys.stderr, flush=True)


def prepare(server: PostgresServer, name: str, factor: float, month: date, month_cases: int,
            micro_grids: bool = True) -> tuple[str, dict]:
    """A fresh database ``name`` migrated and filled with the province's tree and cases; its URL and
    what went in (counts, and the seconds of each step)."""
    url = server.fresh_database(name)
    env = {**os.environ, "DATABASE_URL": url}
    step = Steps()
    with step("migrate"):
        subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    connection = server._connect(url)
    try:
        with connection.cursor() as cursor:
            # JIT compiles each big INSERT ... SELECT for seconds. As a replica, the session skips the
            # per-row foreign-key checks at commit (every id here comes from the tables it points to):
            # half the filling time; a server where we are not superuser checks them.
            cursor.execute("SET jit = off")
            try:
                cursor.execute("SET session_replication_role = replica")
            except psycopg2.errors.InsufficientPrivilege:
                print("  not a superuser: the foreign keys are checked row by row", file=sys.stderr)
            for table in _AUDITED:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                with step("tree"):
                    rows = plan_tree(factor, micro_grids)
                    write_tree(cursor, rows)
                    cursor.execute("ANALYZE governance_orgunit")
                with step("tree check"):
                    units = check_tree(cursor)
                counts = write_cases(cursor, month, month_cases, step)
            finally:
                for table in _AUDITED:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            with step("vacuum analyze"):
                cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT level, count(*) FROM governance_orgunit GROUP BY level")
            levels = dict(cursor.fetchall())
            cursor.execute("SELECT state, count(*) FROM grid_case GROUP BY state ORDER BY 2 DESC")
            states = dict(cursor.fetchall())
    finally:
        connection.close()
    subprocess.run([PYTHON, __file__, "--users", url], cwd=ROOT, env=env, check=True)
    data = {"factor": factor, "micro_grids": micro_grids, "units": units, "levels": levels, "states": states,
            **counts, "steps": step.seconds,
            "size_mb": round(server.database_size(name) / 2**20)}
    # Kept with the database, for the report of a later --reuse.
    server._query(f'COMMENT ON DATABASE "{name}" IS %s', [json.dumps(data)])
    return url, data


# --- The measures (child processes) ------------------------------------------------------------

def make_users(url: str) -> None:
    """The dashboard's users: an administrator at the root, a county official, a township clerk."""
    rollup._setup(url)
    from django.contrib.auth.hashers import make_password

    from governance.models import Level, OrgUnit, User
    from governance.models.users import Role
    from governance.roles import may_use_admin, user_sync_permissions

    root = OrgUnit.objects.get(parent=None)
    county = OrgUnit.objects.filter(level=Level.COUNTY).order_by("lft").first()
    township = OrgUnit.objects.filter(level=Level.TOWNSHIP, lft__gt=county.lft).order_by("lft").first()
    password = make_password("bench")
    for username, role, unit in (("admin", Role.ADMIN, root), ("county", Role.COUNTY, county),
                                 ("township_a", Role.TOWNSHIP, township)):
        user = User.objects.filter(username=username).first() or User(username=username)
        user.role, user.home_unit, user.password = role, unit, password
        user.is_superuser, user.is_active, user.must_change_password = role == Role.ADMIN, True, False
        user.is_staff = may_use_admin(user)
        user.save()
        user_sync_permissions(user)


def empty_month(url: str) -> None:
    """Empty the stored values (the benchmark's database holds only its month's), as prepared."""
    with contextlib.closing(psycopg2.connect(url)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE governance_indicatorvalue, governance_periodvalue")
            cursor.execute("VACUUM ANALYZE governance_indicatorvalue")
            cursor.execute("VACUUM ANALYZE governance_periodvalue")


def measure_rollup(url: str) -> dict:
    """compute_month of every unit, family by family (bench/rollup.py's ``families_once``), with the
    process's peak RSS before and after it."""
    rollup._setup(url)
    from governance.indicators.months import month_bounds
    from governance.models import IndicatorValue

    # A --reuse finds the month a previous run wrote: replacing its rows costs more than writing.
    replacing = IndicatorValue.objects.filter(period=rollup._period()).exists()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    once = rollup.families_once()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    families = {family: {key: value for key, value in row.items() if key != "samples"}
                for family, row in once["families"].items()}
    rollup.add_floors(families, once["families"], *month_bounds(rollup._period()), FLOOR_RUNS)
    return {"period": f"{rollup._period():%Y-%m}", "total_s": once["total_s"], "families": families,
            "replacing": replacing,
            "queries": sum(f["queries"] for f in once["families"].values()),
            "rows": sum(f["rows"] for f in once["families"].values()),
            "rss_before_mb": round(before / 1024), "rss_peak_mb": round(peak / 1024)}


def measure_pages(url: str, runs: int) -> dict:
    """bench/rollup.py's pages, at the province's places; only the measured month is computed."""
    rollup._setup(url)

    from governance.models import User

    township = User.objects.get(username="township_a").home_unit
    rollup.TREND_MONTHS = 0
    rollup.PAGES = [
        ("Province root, as it opens (administrator)", "admin", "/dashboard/"),
        ("Province root, league sorted by closure rate (to date)", "admin",
         "/dashboard/?sort=-grid.closure_rate_to_date"),
        ("County (county official)", "county", "/dashboard/"),
        ("Township, drilled down from the root (administrator)", "admin", f"/dashboard/{township.code}/"),
        ("Township (township clerk)", "township_a", "/dashboard/"),
        ("Village, drilled down from the township", "township_a", "/dashboard/{village}/"),
    ]
    return rollup.measure_pages(url, runs)


def _child(mode: str, url: str, runs: int = 1) -> dict:
    child = subprocess.run([PYTHON, __file__, f"--{mode}", url, "--runs", str(runs)], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE, text=True)
    return json.loads(child.stdout)


# --- The report ---------------------------------------------------------------------------------

def render(result: dict) -> str:
    data, single = result["data"], result["rollup"]
    levels = data["levels"]
    how = "replacing the month a previous run wrote" if single.get("replacing") else "into an empty month"
    steps = " · ".join(f"{label} {seconds}" for label, seconds in data["steps"].items())
    lines = [
        f"{data['factor']:g} × the `city` scale on {result['db_version']}: **{data['units']:,} org units** "
        f"(1 root at level `city`, the model having no province level; {levels.get('county', 0):,} counties, "
        f"{levels.get('township', 0):,} townships, {levels.get('village', 0):,} villages, "
        f"{levels.get('grid', 0):,} grids, {levels.get('micro_grid', 0):,} micro-grids). "
        f"**{data['month_cases']:,} cases raised in {single['period']}**, "
        f"{data['open_before']:,} raised before it and open when it began, "
        f"{data['next_day']:,} of the next month's first day; "
        f"{data['case_steps']:,} case steps; {data['size_mb']:,} MiB. "
        f"{result['machine']}, load {result['load']}; {result['date']}.",
        "",
        f"Preparation (s): {steps}; **{sum(data['steps'].values()):.0f} s** in all.",
        "",
        "| measure | result | target |",
        "| --- | ---: | --- |",
        f"| `compute_month`, every unit, one process ({how}) | **{single['total_s']:.1f} s** | < 5 min: "
        f"{'met' if single['total_s'] < 300 else '**not met**'} |",
        f"| its queries | {single['queries']} | |",
        f"| rows written | {single['rows']:,} | |",
        f"| peak RSS of the process (Django loaded: {single['rss_before_mb']} MiB) | {single['rss_peak_mb']} MiB | |",
    ]
    for concurrency, run in result["workers"].items():
        parts = run["part_s_sum"] + (run["upper_s"] or 0)
        ratio = parts / single["total_s"]
        # The parts' own cost is read where they run one at a time; with more processes than the
        # two cores, their times also hold the waits for a core (shared with the database's).
        target = (f"≤ {PARTS_TARGET}×: {'met' if ratio <= PARTS_TARGET else '**not met**'}"
                  if concurrency == "1" else "")
        lines.append(f"| Celery, {concurrency} worker process{'es' if concurrency != '1' else ''}: the run "
                     f"({run['parts']} parts, shards of townships, + upper levels) | {run['seconds']:.1f} s | |")
        lines.append(f"| … sum of its parts' times (townships {run['part_s_sum']:.1f} s + upper "
                     f"{run['upper_s']} s) | {parts:.1f} s = {ratio:.2f} × the single run | {target} |")
    lines += ["", "**Families** of the single run, slowest first (*with writing*: its whole part, timed in the "
              "process; *compute*: its SELECT, timed on the server afterwards, with a median's Python step; "
              f"*floor*: the plain scan of the rows it reads, bench/rollup.py's, median of {FLOOR_RUNS}):", "",
              "| family | with writing (s) | compute (s) | floor (s) | compute ÷ floor | queries | rows written |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    floors = 0.0
    for family, row in sorted(single["families"].items(), key=lambda item: -item[1]["seconds"]):
        compute = f"{row['compute_s']:.2f}" if row["compute_s"] is not None else "–"
        floor = f"{row['floor_s']:.3f}" if "floor_s" in row else "–"
        ratio = rollup._ratio(row["compute_s"] or 0, row["floor_s"]) if "floor_s" in row else "–"
        floors += row.get("floor_s", 0)
        lines.append(f"| {family} | {row['seconds']:.2f} | {compute} | {floor} | {ratio} | {row['queries']} "
                     f"| {row['rows']:,} |")
    case = [f for f in rollup.CASE_FAMILIES if "floor_s" in single["families"].get(f, {})]
    each = ", ".join(f"{f} {rollup._ratio(single['families'][f]['compute_s'] or 0, single['families'][f]['floor_s'])}"
                     for f in case)
    worst = max((single["families"][f]["compute_s"] or 0) / single["families"][f]["floor_s"] for f in case)
    lines += ["", f"- Case families against their floors (target ≤ {rollup.CASE_TARGET}× each): {each} "
              f"({'met' if worst <= rollup.CASE_TARGET else '**not met**'}).",
              f"- The whole month with its writes, {single['total_s']:.1f} s, against the sum of the families' "
              f"floors, {floors:.2f} s: **{rollup._ratio(single['total_s'], floors)}** (target ≤ "
              f"{rollup.MONTH_TARGET}×: {rollup._verdict(single['total_s'], floors, rollup.MONTH_TARGET)})."]
    lines += ["", f"**Dashboard pages** (server time through the test client, `DEBUG` off, {result['runs']} "
              "requests; target at the root < 100 ms and ≤ 12 queries):", "",
              "| page | user | median ms | p95 ms | queries |", "| --- | --- | ---: | ---: | ---: |"]
    for row in result["pages"]:
        lines.append(f"| {row['label']} | {row['user']} | {row['median_ms']} | {row['p95_ms']} | {row['queries']} |")
    return "\n".join(lines)


SECTION = """## A province's month (`bench/province.py`)

Issue 17's province: ten times the city's units under one root, one month of cases and the open
cases before it, prepared set-based (the tree numbered in Python and written with one COPY, the
cases and their steps by `INSERT ... SELECT ... generate_series`, the audit triggers of those
tables off while they fill). Only the tree and the cases: no households, residents, party or
grid-worker rosters, so their families run over empty tables here. The month's cases are ten
times the seeded city's May 2025 (43,429 raised); the cases before it are the still-open
backlog, a quarter of a month's. The pages have only the measured month computed (no trend
months before it).

Every run writes into an empty month: the stored values are emptied (untimed) before the single
run and before each worker run, so that no side also pays for deleting what another run wrote.
The machine's load is in the first line below; nothing else ran on it. Where the time of a case
family goes is in "Where a case family's time goes" (`bench/anatomy.py`), and what part 11
changed in "What part 11 changed", both below this section.

{table}
"""


FLAT_SECTION = """### The same province without micro-grids (`bench/province.py --no-micro-grids`)

The province above with its tree stopping at the grids: the same counties, townships, villages and
grids, no micro-grid, the same month's cases hung on the grids. It measures what the rollup would
cost if nothing were stored below the grid (the micro-grids are 129,000 of the 167,861 units):
fewer units to sum up and write, the same cases to count. Run with `--skip-workers`: the
single run only.

{table}
"""


def write_doc(result: dict) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if result["data"].get("micro_grids", True):
        write_section(text, BEGIN, END, f"{BEGIN}\n{SECTION.format(table=render(result)).rstrip()}\n{END}")
    else:
        write_section(text, FLAT_BEGIN, FLAT_END,
                      f"{FLAT_BEGIN}\n{FLAT_SECTION.format(table=render(result)).rstrip()}\n{FLAT_END}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factor", type=float, default=FACTOR, help="cities' worth of units and cases (default 10)")
    parser.add_argument("--small", action="store_true", help=f"--factor {SMALL_FACTOR}: a smoke run")
    parser.add_argument("--cases", type=int, help="cases raised in the month (default: factor × the city's)")
    parser.add_argument("--month", type=month_of, default=date(2025, 5, 1), help="YYYY-MM (default 2025-05)")
    parser.add_argument("--runs", type=int, default=30, help="requests per dashboard page")
    parser.add_argument("--reuse", metavar="URL", help="an already prepared database: measure only")
    parser.add_argument("--keep", action="store_true", help="keep the prepared database (and its server)")
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--no-micro-grids", action="store_true",
                        help="a tree that stops at the grids, the cases on them (its own section)")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--rollup", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--pages", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--users", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(ENV)
    for variable in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL"):
        os.environ.pop(variable, None)
    if args.rollup:
        print(json.dumps(measure_rollup(args.rollup)))
        return
    if args.pages:
        print(json.dumps(measure_pages(args.pages, args.runs)))
        return
    if args.users:
        make_users(args.users)
        return

    factor = SMALL_FACTOR if args.small else args.factor
    month_cases = args.cases or round(CITY_MONTH_CASES * factor)
    server = PostgresServer(args.reuse) if args.reuse else PostgresServer.from_env_or_start()
    name = "bench_province_flat" if args.no_micro_grids else "bench_province"
    url = args.reuse
    try:
        if url is not None:
            data = json.loads(server._query("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                            "WHERE datname = current_database()"))
        else:
            print(f"preparing {factor:g} cities' worth, {month_cases:,} cases in {args.month:%Y-%m} ...",
                  file=sys.stderr, flush=True)
            url, data = prepare(server, name, factor, args.month, month_cases, not args.no_micro_grids)
            print(f"  {data}", file=sys.stderr)
        # Every run writes into an empty month, the single one and each worker run alike: replacing
        # the rows a previous run wrote costs their deletion too, which would weigh on one side only.
        empty_month(url)
        single = _child("rollup", url)
        print(f"  one process: {single['total_s']} s, {single['queries']} queries, peak RSS "
              f"{single['rss_peak_mb']} MiB", file=sys.stderr, flush=True)
        workers = {}
        if not args.skip_workers:
            for concurrency in (1, 2, 4):
                workers[str(concurrency)] = rollup.measure_workers(url, concurrency, runs=1,
                                                                   before_each=lambda: empty_month(url))
                print(f"  {concurrency} worker process(es): {workers[str(concurrency)]}", file=sys.stderr,
                      flush=True)
        pages = _child("pages", url, args.runs)["pages"]
        result = {"runs": args.runs, "data": data, "rollup": single, "workers": workers,
                  "pages": pages, "db_version": server.version, "machine": _machine(),
                  "load": f"{os.getloadavg()[0]:.1f}", "date": date.today().isoformat()}
        print(render(result))
        if data["factor"] != FACTOR:
            print("docs/benchmarks.md left alone: it publishes the province's figures", file=sys.stderr)
        elif not args.no_doc:
            write_doc(result)
        if not (args.keep or args.reuse):
            server.drop_database(name)
    finally:
        if args.keep or args.reuse:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            server.stop()


if __name__ == "__main__":
    main()
