#!/usr/bin/env python3
"""Benchmark the monthly indicator rollup and the dashboards on PostgreSQL (``city`` scale by default).

    .venv/bin/python bench/rollup.py --keep            # throwaway PostgreSQL, seeds small, county, city; measures
    .venv/bin/python bench/rollup.py --reuse URL       # measure an already seeded city database again
    .venv/bin/python bench/rollup.py --reuse URL --skip-workers --no-doc
    .venv/bin/python bench/rollup.py --scale small --no-doc   # the whole script on a small tree (a smoke run)

What it measures, for the last full month:

1. *The rollup*: ``compute_month`` of every unit in this process (the work of all the parts of
   a run, one after the other), family by family: its time, its queries, the rows it writes.
2. *Each family against its own floor*: the plain scan of the rows that family reads (the
   case family: a GROUP BY grid of the month's cases; the ratings: the month's rating steps by
   their case's grid; the cohorts: a GROUP BY grid of the month's raised cases; a median: its samples), timed the
   same way as the family's computing statement: the server's own execution time, from
   ``EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)``. A median's compute adds its Python step
   (sorting the samples, a median per unit), timed in this process.
3. *Queries per family* on the ``small``, ``county`` and ``city`` trees (each seeded fresh,
   unless ``--reuse``): the count must not grow with the tree.
4. *Workers*: a real Celery worker (``--concurrency`` 1, 2, then 4) on a throwaway Redis; the run
   enqueued through Redis (split into ``ROLLUP_PARTS`` shards of townships), timed until its
   RollupRun is marked; the sum of its parts' times set against the single in-process run (1.).
5. *Dashboard pages*: server time through Django's test client with ``DEBUG`` off as the
   demo users (median and 95th percentile of ``--runs``), and query counts.

The databases it seeds are pinned to ``BENCH_TODAY`` (bench/seed_demo.py: the demo's records up to
2025-06-30), so runs on different days measure the same month (May 2025) over the same rows.

The results are printed and written to the rollup section of docs/benchmarks.md.
"""

import argparse
import bisect
import dataclasses
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_demo import PostgresServer, _machine, seeded_database, write_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- rollup:begin -->", "<!-- rollup:end -->"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SCALES = ("small", "county", "city")

# The floors: one plain statement per source over the rows a family reads, nothing joined that
# the rows do not need, nothing written. %(start)s/%(end)s are the month's bounds (local
# midnights), %(first_day)s/%(end_day)s the same as dates, %(year)s/%(month)s the month as the
# books number it (a book year's year, a voucher's month). The floors find their rows the way the
# family's leaf does (the same conditions, so the same index ranges).
# The books' income: lines of posted vouchers (normal or reversal, never the year-end carry-forward),
# found by their voucher's book year and month (the (book_year, status, month) index), with their
# voucher's book for its village; the year and months are filled in by each floor below.
INCOME_LINES = (
    "SELECT b.village_id, count(*) FROM collective_economy_voucherline l "
    "JOIN collective_economy_voucher v ON v.id = l.voucher_id "
    "JOIN collective_economy_book b ON b.id = v.book_id "
    "JOIN collective_economy_bookyear y ON y.id = v.book_year_id "
    "JOIN collective_economy_chartaccount a ON a.id = l.account_id "
    "WHERE v.kind IN ('normal', 'reversal') AND v.status = 'posted' AND y.year = %(year)s "
    "AND v.month >= %(first)s AND v.month <= %(last)s AND a.account_class = 'income' GROUP BY b.village_id")
FLOORS = {
    "month's cases": (
        "the month's cases (raised, accepted, resolved or closed in it, or open at its end), GROUP BY grid",
        "SELECT grid_id, count(*) FROM grid_case WHERE reported_at < %(end)s "
        "AND (closed_at IS NULL OR closed_at >= %(start)s) GROUP BY grid_id"),
    "raised cases": (
        "the month's raised cases, GROUP BY grid",
        "SELECT grid_id, count(*) FROM grid_case WHERE reported_at >= %(start)s AND reported_at < %(end)s "
        "GROUP BY grid_id"),
    "rating steps": (
        "the month's rating steps (case steps) with their case's grid, GROUP BY grid",
        "SELECT c.grid_id, count(*) FROM grid_caseevent e INNER JOIN grid_case c ON c.id = e.case_id "
        "WHERE e.action = 'rate' AND e.at >= %(start)s AND e.at < %(end)s GROUP BY c.grid_id"),
    "households": (
        "households, GROUP BY grid",
        "SELECT grid_id, count(*) FROM governance_household GROUP BY grid_id"),
    "residents": (
        "residents, GROUP BY their household's grid",
        "SELECT h.grid_id, count(*) FROM governance_resident r JOIN governance_household h ON h.id = r.household_id "
        "GROUP BY h.grid_id"),
    "org units": (
        "org units, GROUP BY parent",
        "SELECT parent_id, count(*) FROM governance_orgunit GROUP BY parent_id"),
    "grid workers": (
        "grid workers, GROUP BY unit",
        "SELECT unit_id, count(*) FROM grid_gridworker GROUP BY unit_id"),
    "party members": (
        "party members, GROUP BY organisation",
        "SELECT organization_id, count(*) FROM partybuild_partymember GROUP BY organization_id"),
    "wishes": (
        "micro-wishes posted in the month, GROUP BY community",
        "SELECT community_id, count(*) FROM partybuild_wish WHERE posted_at >= %(start)s AND posted_at < %(end)s "
        "GROUP BY community_id"),
    "services": (
        "volunteer services of the month, GROUP BY community",
        "SELECT community_id, count(*) FROM partybuild_servicerecord "
        "WHERE date >= %(first_day)s AND date < %(end_day)s GROUP BY community_id"),
    "member registrations": (
        "member registrations, GROUP BY community",
        "SELECT community_id, count(*) FROM partybuild_memberregistration GROUP BY community_id"),
    "unit registrations": (
        "unit registrations, GROUP BY community",
        "SELECT community_id, count(*) FROM partybuild_unitregistration GROUP BY community_id"),
    "party organisations": (
        "active party organisations, GROUP BY unit",
        "SELECT org_unit_id, count(*) FROM partybuild_partyorganization WHERE is_active GROUP BY org_unit_id"),
    "central households": (
        "party-member households of active households at the month's end, GROUP BY their household's grid",
        "SELECT h.grid_id, count(*) FROM partybuild_centralhousehold c "
        "JOIN governance_household h ON h.id = c.household_id "
        "WHERE (c.since IS NULL OR c.since < %(end_day)s) AND h.is_active GROUP BY h.grid_id"),
    "month's income lines": (
        "the month's income lines (posted, no carry-forward) with their voucher, book, book year and account, "
        "GROUP BY village",
        INCOME_LINES % {"year": "%(year)s", "first": "%(month)s", "last": "%(month)s"}),
    "last year's income lines": (
        "last year's income lines (posted, no carry-forward) with their voucher, book, book year and account, "
        "GROUP BY village",
        INCOME_LINES % {"year": "%(year)s - 1", "first": "1", "last": "12"}),
    # The year so far reads every book year of the year (a village without income still has its
    # row) and all the lines of its counted vouchers, January to the month, whatever their account.
    "year's lines so far": (
        "the year's book years with their posted vouchers (no carry-forward) January to the month and their "
        "lines, GROUP BY village",
        "SELECT b.village_id, count(l.id) FROM collective_economy_bookyear y "
        "JOIN collective_economy_book b ON b.id = y.book_id "
        "LEFT JOIN collective_economy_voucher v ON v.book_year_id = y.id AND v.kind IN ('normal', 'reversal') "
        "AND v.month <= %(month)s AND v.status = 'posted' "
        "LEFT JOIN collective_economy_voucherline l ON l.voucher_id = v.id "
        "WHERE y.year = %(year)s GROUP BY b.village_id"),
    "project income lines": (
        "the year's posted lines (no carry-forward) January to the month on a project's income account, "
        "with their voucher, book and book year, GROUP BY village",
        "SELECT b.village_id, count(*) FROM collective_economy_voucherline l "
        "JOIN collective_economy_voucher v ON v.id = l.voucher_id "
        "JOIN collective_economy_book b ON b.id = v.book_id "
        "JOIN collective_economy_bookyear y ON y.id = v.book_year_id "
        "WHERE v.kind IN ('normal', 'reversal') AND v.status = 'posted' "
        "AND EXISTS (SELECT 1 FROM collective_economy_project_income_accounts p "
        "WHERE p.subaccount_id = l.sub_account_id) "
        "AND y.year = %(year)s AND v.month <= %(month)s GROUP BY b.village_id"),
    "irregular contracts": (
        "irregular contracts signed by the month's end, GROUP BY village",
        "SELECT village_id, count(*) FROM collective_economy_contract WHERE NOT is_regular "
        "AND signed_on < %(end_day)s GROUP BY village_id"),
    "debt records": (
        "receivables and debts registered by the month's end with their settlements by then, GROUP BY village",
        "SELECT r.village_id, count(s.id) FROM collective_economy_debtrecord r "
        "LEFT JOIN collective_economy_debtsettlement s ON s.record_id = r.id AND s.settled_on < %(end_day)s "
        "WHERE r.registered_on < %(end_day)s GROUP BY r.village_id"),
    "published decisions": (
        "resolutions published by the month's end with their decision's village, GROUP BY village",
        "SELECT d.village_id, count(*) FROM collective_economy_decisionrecord r "
        "JOIN collective_economy_decision d ON d.id = r.decision_id "
        "WHERE r.step = 'publication' AND r.held_on < %(end_day)s GROUP BY d.village_id"),
    "projects": (
        "projects registered by the month's end, GROUP BY lead village",
        "SELECT village_id, count(*) FROM collective_economy_project WHERE created_at < %(end)s GROUP BY village_id"),
}
# Each family's own floor, by the family's leaf function's name (medians: SAMPLE_FLOORS).
FAMILY_FLOORS = {
    "case_counts": "month's cases",
    "rating_counts": "rating steps",
    "case_cohorts": "raised cases",
    "household_counts": "households",
    "grid_household_counts": "households",
    "resident_counts": "residents",
    "child_unit_counts": "org units",
    "grid_unit_counts": "org units",
    "uncovered_units": "org units",
    "worker_counts": "grid workers",
    "member_counts": "party members",
    "wish_counts": "wishes",
    "service_hours": "services",
    "member_registrations": "member registrations",
    "unit_registrations": "unit registrations",
    "organization_counts": "party organisations",
    "central_household_counts": "central households",
    "month_income": "month's income lines",
    "year_to_date": "year's lines so far",
    "last_year": "last year's income lines",
    "contract_cleanup": "irregular contracts",
    "debt_clearance": "debt records",
    "decisions_published": "published decisions",
    "project_counts": "projects",
    "project_income": "project income lines",
}
# A median's floor is the plain scan of its samples, once for every period whose samples it reads
# (its month, and the quarter, half-year and year it stores medians of): the rows of
# ``grid.indicators.hours_to_resolve`` without the join to their grid's place in the tree.
SAMPLE_FLOORS = {
    "grid.median_hours_to_resolve": (
        "its samples: the cases resolved in the period, report to resolution, plain scan",
        "SELECT grid_id, resolved_at - reported_at FROM grid_case WHERE reported_at < %(end)s "
        "AND (closed_at IS NULL OR closed_at >= %(start)s) AND resolved_at >= %(start)s AND resolved_at < %(end)s"),
}
TREND_MONTHS = 12  # months computed before the measured one for the pages (as seed_demo's 13)
CASE_FAMILIES = ("case_counts", "rating_counts", "case_cohorts", "grid.median_hours_to_resolve")

# (label, user, path) of the dashboard pages; {village} and {year} are filled in, and the
# month measured is added to a path that names no period.
PAGES = [
    ("City, as it opens (city administrator)", "admin", "/dashboard/"),
    ("City, league sorted by closure rate (to date)", "admin", "/dashboard/?sort=-grid.closure_rate_to_date"),
    ("City, the whole year (city administrator)", "admin", "/dashboard/?period={year}"),
    ("County (county official)", "county", "/dashboard/"),
    ("County, the whole year", "county", "/dashboard/?period={year}"),
    ("Township (township clerk)", "township_a", "/dashboard/"),
    ("Village, drilled down from the township", "township_a", "/dashboard/{village}/"),
    ("County, Excel export", "county", "/dashboard/?export=xlsx"),
]


def _short(family: str) -> str:
    """``grid.indicators.case_counts`` → ``case_counts``; a median keeps its indicator's key."""
    return family if family.startswith("grid.median") else family.rsplit(".", 1)[-1]


def _setup(url: str):
    os.environ["DATABASE_URL"] = url
    for variable in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL", "DEBUG"):
        os.environ.pop(variable, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("REQUIRE_PII_KEYS", "0")  # the development keys of personal data: encryption costs the same
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _period():
    """The month before the newest case's (a full month whatever day the data were seeded for)."""
    from django.db.models import Max
    from django.utils import timezone

    from governance.indicators.months import shift_month
    from grid.models import Case

    latest = Case.objects.aggregate(latest=Max("reported_at"))["latest"]
    today = timezone.localtime(latest).date() if latest else date.today()
    return shift_month(today.replace(day=1), -1)


def _timed(work, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def _select_of(statements: list[str]) -> str | None:
    """The SELECT that computes a family's values, inside its INSERT ... SELECT (with its common
    table: ``WITH r AS (...) INSERT INTO t (...) SELECT ...`` becomes ``WITH r AS (...) SELECT ...``)."""
    for sql in statements:
        if sql.startswith(("INSERT", "WITH")) and " INSERT INTO " in f" {sql}" and ") SELECT " in sql:
            head, _insert, tail = f" {sql}".partition(" INSERT INTO ")
            return f"{head.strip()} {tail[tail.index(') SELECT ') + 2:]}".strip()
    return None


def _reads_of(statements: list[str]) -> list[str]:
    """The SELECTs a median runs: the units' ranges, and each samples query (read through a
    server-side cursor: DECLARE ... FOR SELECT)."""
    selects = []
    for sql in statements:
        if sql.startswith("SELECT"):
            selects.append(sql)
        elif sql.startswith("DECLARE") and " FOR SELECT " in sql:
            selects.append(sql[sql.index(" FOR SELECT ") + 5:])
    return selects


def _execution_seconds(cursor, sql: str, params=None) -> float:
    """The server's own execution time of ``sql``: EXPLAIN ANALYZE without per-node timing, so
    the statement runs to its end but sends no rows to the client."""
    cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Execution Time"] / 1000


def _watched(indicator, reads: list):
    """``indicator`` (a median) with its samples read into a list first, noting in ``reads`` each
    read's period and the moment it ended: what the median does next, until its next statement,
    is its Python step."""
    samples = indicator.samples

    def read(start, end, units):
        rows = list(samples(start, end, units))
        reads.append({"start": start, "end": end, "ended": time.perf_counter()})
        return rows

    return dataclasses.replace(indicator, samples=read)


def families_once() -> dict:
    """compute_month of every unit, family by family: seconds, queries, rows written, and the
    server time of the statements that compute the values (the rest is deleting and writing rows).

    A family's *compute* is the server time of the SELECT inside its INSERT ... SELECT. A
    median's is the server time of its SELECTs (the units' ranges, its samples of each period)
    plus its Python step: from the end of each read of its samples to the next statement sent
    (sorting the samples, a median per unit, the rows to write), timed in this process.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.indicators.engine import compute_month
    from governance.indicators.registry import MEDIAN, all_indicators
    from governance.models import IndicatorValue, PeriodValue

    period = _period()
    marks, reads, sent = [], {}, []

    def stamp(execute, sql, params, many, context):
        sent.append(time.perf_counter())
        return execute(sql, params, many, context)

    indicators = [_watched(i, reads.setdefault(i.key, [])) if i.kind == MEDIAN else i for i in all_indicators()]
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(stamp):
        began = time.perf_counter()

        def progress(_label, family, _done, _total, status):
            assert status == "ok", (family, status)
            marks.append((family, len(queries), time.perf_counter()))

        outcome = compute_month(period, indicators=indicators, progress=progress)
        total = time.perf_counter() - began
    assert not outcome.failed, outcome.errors
    result, before = {}, 0
    with connection.cursor() as cursor:
        for family, count, ended in marks:
            statements = [q["sql"] for q in queries.captured_queries[before:count]]
            part = outcome.parts[family]
            entry = {
                # The part's one BEGIN and COMMIT are not any family's.
                "seconds": part["seconds"], "queries": sum(1 for sql in statements if sql not in ("BEGIN", "COMMIT")),
                "rows": IndicatorValue.objects.filter(period=period, key__in=part["keys"]).count(),
            }
            if family in reads:  # a median
                python = 0.0
                for r in reads[family]:
                    following = bisect.bisect_right(sent, r["ended"])
                    python += (sent[following] if following < len(sent) else ended) - r["ended"]
                server = sum(_execution_seconds(cursor, sql) for sql in _reads_of(statements))
                entry.update(python_s=round(python, 6), compute_s=round(server + python, 6),
                             samples=[(r["start"], r["end"]) for r in reads[family]])
                entry["rows"] += PeriodValue.objects.filter(key__in=part["keys"], first__lte=period,
                                                            last__gte=period).count()
            else:
                select = _select_of(statements)
                entry["compute_s"] = round(_execution_seconds(cursor, select), 6) if select else None
            result[_short(family)] = entry
            before = count
    return {"families": result, "total_s": round(total, 6)}


def _floor_params(start, end) -> dict:
    from django.utils import timezone

    first_day = timezone.localtime(start).date()
    return {"start": start, "end": end, "first_day": first_day, "end_day": timezone.localtime(end).date(),
            "year": first_day.year, "month": first_day.month}


def _floor_seconds(cursor, sql: str, params: dict, runs: int) -> float:
    _execution_seconds(cursor, sql, params)  # warm up
    return statistics.median(_execution_seconds(cursor, sql, params) for _ in range(runs))


def add_floors(families: dict, measured: dict, start, end, runs: int) -> None:
    """Put each family's floor (its name and server time, the median of ``runs``) into ``families``;
    ``measured`` is one ``families_once`` pass (a median's samples say which periods it read)."""
    from django.db import connection

    with connection.cursor() as cursor:
        floors = {name: round(_floor_seconds(cursor, sql, _floor_params(start, end), runs), 6)
                  for name, (_label, sql) in FLOORS.items()}
        for family, first in measured.items():
            if family in FAMILY_FLOORS:
                families[family].update(floor=FAMILY_FLOORS[family], floor_s=floors[FAMILY_FLOORS[family]])
            elif family in SAMPLE_FLOORS:
                sql = SAMPLE_FLOORS[family][1]
                seconds = sum(_floor_seconds(cursor, sql, _floor_params(a, b), runs) for a, b in first["samples"])
                families[family].update(floor=family, floor_s=round(seconds, 6), periods=len(first["samples"]))
            else:
                print(f"  no floor declared for {family}: add it to FAMILY_FLOORS", file=sys.stderr)


def measure_rollup(url: str, runs: int) -> dict:
    """The rollup family by family (the median of ``runs`` runs after one warm-up), then each
    family's floor, timed the same way as its compute."""
    _setup(url)
    from django.db import connection

    from governance.indicators.months import month_bounds

    period = _period()
    start, end = month_bounds(period)
    families_once()  # warm up
    passes = [families_once() for _ in range(runs)]
    families = {}
    for family, first in passes[0]["families"].items():
        families[family] = {
            "seconds": round(statistics.median(p["families"][family]["seconds"] for p in passes), 6),
            "compute_s": (round(statistics.median(p["families"][family]["compute_s"] for p in passes), 6)
                          if first["compute_s"] is not None else None),
            "queries": first["queries"], "rows": first["rows"],
        }
        if "python_s" in first:
            families[family]["python_s"] = round(statistics.median(p["families"][family]["python_s"]
                                                                   for p in passes), 6)
    add_floors(families, passes[0]["families"], start, end, runs)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM grid_case WHERE reported_at >= %s AND reported_at < %s", [start, end])
        month_cases = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM grid_case")
        all_cases = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM grid_caseevent")
        all_events = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM governance_orgunit")
        units = cursor.fetchone()[0]
    return {"period": f"{period:%Y-%m}", "families": families,
            "total_s": round(statistics.median(p["total_s"] for p in passes), 3),
            "refresh_s": round(statistics.median(_timed(lambda: _refresh_month(period), runs)), 3),
            "month_cases": month_cases, "all_cases": all_cases, "all_events": all_events, "units": units}


def _refresh_month(period) -> None:
    """What the refresh of the figures "as of today" costs for one month whose cases moved: the
    families of the indicators that declare ``changes``, recomputed and written for every unit."""
    from governance.indicators.engine import compute_month
    from governance.indicators.registry import all_indicators

    outcome = compute_month(period, indicators=[i for i in all_indicators() if i.changes is not None])
    assert not outcome.errors, outcome.errors


def measure_queries(url: str) -> dict:
    """Queries per family of one whole rollup, and the tree's size."""
    _setup(url)
    from governance.models import OrgUnit

    once = families_once()
    return {"units": OrgUnit.objects.count(), "queries": {f: v["queries"] for f, v in once["families"].items()}}


def measure_pages(url: str, runs: int) -> dict:
    _setup(url)
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from governance.indicators.engine import rollup_month
    from governance.indicators.months import shift_month
    from governance.models import IndicatorValue, Level, OrgUnit, RollupStatus, User

    period = _period()
    # The pages as the demo shows them: the month and the twelve before it computed (the trend
    # lines, last month's change, the same month a year before, the year so far); a month a
    # reused database already holds is not computed again.
    for back in range(TREND_MONTHS + 1):
        month = shift_month(period, -back)
        if not IndicatorValue.objects.filter(period=month).exists():
            run = rollup_month(month)
            assert run.status == RollupStatus.COMPLETE, run.errors
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Logged in by the test client, without the second factor production asks of administrators
    # and county officials at login, and past the demo's first-login password change: the pages
    # are measured, not the login.
    settings.OTP_REQUIRED_ROLES = []
    User.objects.filter(username__in={username for _label, username, _path in PAGES}).update(
        must_change_password=False)
    township = User.objects.get(username="township_a").home_unit
    village = OrgUnit.objects.filter(parent=township, level=Level.VILLAGE).order_by("lft").first()
    values = {"village": village.code, "year": period.year}
    clients, rows = {}, []
    for label, username, path in PAGES:
        path = path.format(**values)
        if "period=" not in path:
            path += ("&" if "?" in path else "?") + f"period={period:%Y-%m}"
        client = clients.get(username)
        if client is None:
            client = clients[username] = Client()
            client.force_login(User.objects.get(username=username))
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, secure=True)
        assert response.status_code == 200, (path, response.status_code)
        query_count = len(queries)
        client.get(path, secure=True)
        times = sorted(t * 1000 for t in _timed(lambda client=client, path=path: client.get(path, secure=True), runs))
        rows.append({"label": label, "user": username, "path": path, "queries": query_count,
                     "median_ms": round(statistics.median(times), 1),
                     "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1)})
        print(f"  {label}: {rows[-1]['median_ms']} ms median, {query_count} queries", file=sys.stderr)
    return {"pages": rows}


def measure_enqueue(url: str, broker: str) -> dict:
    """Enqueue a run through Redis and wait for its RollupRun to be marked (in this child process)."""
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["CELERY_RESULT_BACKEND"] = broker.rsplit("/", 1)[0] + "/1"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("REQUIRE_PII_KEYS", "0")  # the development keys of personal data: encryption costs the same
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from governance.indicators.runs import start_rollup
    from governance.models import RollupRun, RollupStatus

    began = time.perf_counter()
    run_id = start_rollup(_period())
    while True:
        run = RollupRun.objects.get(pk=run_id)
        if run.status != RollupStatus.RUNNING:
            break
        if time.perf_counter() - began > 3600:
            raise SystemExit("the run did not finish within an hour")
        time.sleep(0.2)
    seconds = time.perf_counter() - began
    assert run.status == RollupStatus.COMPLETE, run.errors
    parts = [p["seconds"] for name, p in run.parts.items() if name != "upper"]
    return {"seconds": round(seconds, 2), "parts": len(parts), "part_s_sum": round(sum(parts), 2),
            "upper_s": run.parts.get("upper", {}).get("seconds")}


class Redis:
    """A throwaway redis-server on a free port (no persistence)."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="yiwang-bench-redis-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def measure_workers(url: str, concurrency: int, runs: int = 2, before_each=None) -> dict:
    """The month run through Redis with a real worker of ``concurrency`` processes: the fastest of ``runs``.

    ``before_each()``, when given, runs before each run, untimed (the province empties the month,
    so that the parts write into an empty month as its single run did)."""
    redis = Redis()
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": redis.url,
           "CELERY_RESULT_BACKEND": redis.url.rsplit("/", 1)[0] + "/1", "DJANGO_SETTINGS_MODULE": "governance.settings"}
    env.pop("REDIS_URL", None)
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "governance", "worker", "--pool=prefork", f"--concurrency={concurrency}",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)  # the worker's processes start and connect
        timed = []
        for _ in range(runs):  # the faster of two: the first may still be warming the caches
            if before_each is not None:
                before_each()
            child = subprocess.run([PYTHON, __file__, "--enqueue", url, "--broker", redis.url], cwd=ROOT, env=env,
                                   check=True, stdout=subprocess.PIPE, text=True)
            timed.append(json.loads(child.stdout))
        return min(timed, key=lambda run: run["seconds"])
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        redis.stop()


def _child(mode: str, url: str, runs: int) -> dict:
    child = subprocess.run([PYTHON, __file__, f"--{mode}", url, "--runs", str(runs)], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE, text=True)
    return json.loads(child.stdout)


def _ratio(compute: float, floor: float) -> str:
    return f"{compute / floor:.1f}×" if floor >= 0.00001 else "–"


# Issue 17's targets: each case family within 3× its floor; the whole month, writes included,
# within 4× the sum of the families' floors.
CASE_TARGET, MONTH_TARGET = 3, 4


def _verdict(compute: float, floor: float, target: float) -> str:
    if floor < 0.00001:
        return "no floor to compare"
    return "met" if compute <= target * floor else "**not met**"


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:,.1f}" if seconds >= 0.001 else f"{seconds * 1000:.2f}"


def render(result: dict) -> str:
    rollup = result["rollup"]
    families = rollup["families"]
    lines = [
        f"`{result['scale']}` scale on {result['db_version']}: {rollup['units']:,} org units, "
        f"{rollup['all_cases']:,} cases ({rollup['month_cases']:,} raised in {rollup['period']}), "
        f"{rollup['all_events']:,} case steps. Median of {result['runs']} runs after a warm-up; "
        f"{result['machine']}, load {result['load']}; {result['date']}.",
        "",
        "**Each family against its own floor, both timed on the server** (the Execution Time of "
        "`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)`: the statement runs to its end, no row is sent "
        "to the client). *Floor*: the plain scan of the rows the family reads. *Compute*: the SELECT "
        "inside the family's INSERT ... SELECT (leaf per unit, then summed up the tree level by "
        "level); for a median, its SELECTs (its samples of each period it stores, the units' ranges) "
        "plus its *Python* step (sorting the samples, a median per unit, the rows to write), timed in "
        "the process. *With writing*: the family's whole part as the rollup runs it, timed in the "
        "process, deleting the old rows and writing the new ones included.",
        "",
        "| family | floor: the plain scan of | floor (ms) | compute (ms) | of which Python (ms) | compute ÷ floor "
        "| with writing (ms) | rows written |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    compute_sum = floor_sum = 0.0
    for family, row in families.items():
        python = _ms(row["python_s"]) if "python_s" in row else ""
        if "floor_s" in row:
            if row["floor"] in FLOORS:
                floor_label = FLOORS[row["floor"]][0]
            else:
                periods = row["periods"]
                floor_label = f"{SAMPLE_FLOORS[row['floor']][0]} ({periods} period{'s' if periods > 1 else ''})"
            floor_s, ratio = _ms(row["floor_s"]), _ratio(row["compute_s"] or 0, row["floor_s"])
            compute_sum += row["compute_s"] or 0
            floor_sum += row["floor_s"]
        else:
            floor_label, floor_s, ratio = "no floor declared", "–", "–"
        lines.append(f"| {family} | {floor_label} | {floor_s} | {_ms(row['compute_s'])} | {python} | {ratio} | "
                     f"{_ms(row['seconds'])} | {row['rows']:,} |")
    case = [f for f in CASE_FAMILIES if f in families and "floor_s" in families[f]]
    case_compute = sum(families[f]["compute_s"] or 0 for f in case)
    case_floor = sum(families[f]["floor_s"] for f in case)
    each = ", ".join(f"{f} {_ratio(families[f]['compute_s'] or 0, families[f]['floor_s'])}" for f in case)
    written = sum(m["rows"] for m in families.values())
    lines += [
        "",
        f"- Case families, each against its own floor (target ≤ {CASE_TARGET}× each): {each}. Together they "
        f"compute in **{_ms(case_compute)} ms** against {_ms(case_floor)} ms for their floors: "
        f"**{_ratio(case_compute, case_floor)}** ({_verdict(case_compute, case_floor, CASE_TARGET)}); with "
        f"writing their "
        f"{sum(families[f]['rows'] for f in case):,} rows, {_ms(sum(families[f]['seconds'] for f in case))} ms.",
        f"- Whole rollup of the month, every unit: the families compute in **{_ms(compute_sum)} ms** against "
        f"{_ms(floor_sum)} ms for their floors (each family's own; a floor two families share counts for "
        f"both): **{_ratio(compute_sum, floor_sum)}**; the whole run, writing {written:,} rows, "
        f"**{rollup['total_s']:.3f} s**: **{_ratio(rollup['total_s'], floor_sum)}** the floors (target ≤ "
        f"{MONTH_TARGET}×: {_verdict(rollup['total_s'], floor_sum, MONTH_TARGET)}).",
        f"- Refreshing the figures \"as of today\" of one month whose cases moved (the beat task every ten "
        f"minutes, per month touched since its last run): **{rollup.get('refresh_s', 0):.3f} s**, every unit "
        f"written.",
        "",
        "**Queries per indicator family** (one whole rollup; the tree grows, the count does not):",
        "",
        "| family | " + " | ".join(f"{s['scale']} ({s['units']:,} units)" for s in result["trees"]) + " |",
        "| --- | " + " | ".join("---:" for _s in result["trees"]) + " |",
    ]
    for family in result["trees"][-1]["queries"]:
        lines.append(f"| {family} | " + " | ".join(str(s["queries"].get(family, "–")) for s in result["trees"])
                     + " |")
    if result.get("workers"):
        one = result["workers"]["1"]
        lines += [
            "",
            "**Celery workers** (the run enqueued through Redis, until its RollupRun is marked; the faster "
            "of two runs). *Parts ÷ single*: the parts' and the upper levels' times together against the "
            "single in-process run above:",
            "",
            "| worker processes | run (s) | parts (shards of townships) | sum of part times (s) | upper levels (s) "
            "| parts ÷ single | speed-up |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for processes, row in result["workers"].items():
            whole = (row["part_s_sum"] + (row["upper_s"] or 0)) / rollup["total_s"]
            lines.append(f"| {processes} | {row['seconds']} | {row['parts']} | {row['part_s_sum']} | {row['upper_s']} "
                         f"| {whole:.2f}× | {one['seconds'] / row['seconds']:.2f}× |")
    lines += [
        "",
        "**Dashboard pages** (server time through the test client, `DEBUG` off; target < 100 ms, ≤ 12 queries):",
        "",
        "| page | user | median ms | p95 ms | queries |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in result["pages"]:
        lines.append(f"| {row['label']} | {row['user']} | {row['median_ms']} | {row['p95_ms']} | {row['queries']} |")
    return "\n".join(lines)


SECTION = """## Indicator rollup and dashboards (`bench/rollup.py`)

The monthly rollup of every indicator, each family set against the plain scan it cannot beat;
the queries each family costs as the tree grows; one against two Celery worker processes; and
the dashboard pages, which read only `IndicatorValue` (and `PeriodValue` for a period's medians).

{table}

How it is timed. A floor and a family's compute are timed the same way: by the database
server, as the *Execution Time* of `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)`, which runs
the statement to its end without per-node clocks and sends no rows to the client. Neither side
pays for the network or for turning rows into Python objects. The one part of the computing
that is not SQL, a median's Python step, is timed in the process and added to that median's
compute: its part's time less the reading of its samples (client side: the query, the
transfer, the rows turned into tuples) and less its own statements (savepoint, deleting,
inserting). A median's SELECTs are timed on the server like the rest. *With writing* is the
family's whole part as the rollup runs it, timed in the process.

How to read it. Each family has its own floor: a plain statement over the rows that family
reads, found the way its leaf finds them (the same conditions, hence the same index ranges),
nothing joined that the rows do not need, nothing written. The case family
(`grid.indicators.case_counts`) reads the cases its month can count: raised, accepted, resolved
or closed in it, or open at its end (two ranges of the `(closed_at, reported_at)` index), so its
floor is a GROUP BY grid over those cases. The ratings family reads the month's rating steps and, for each,
its case's grid (its floor: those steps by the `(action, at)` index joined to their cases, GROUP
BY grid); the cohort family
(`grid.indicators.case_cohorts`) the cases raised in the month (its floor: a GROUP BY grid of
them); the median its samples, the cases resolved in each period it stores a median of (the
month, its quarter, half-year and year), so its floor is the plain scan of those samples, once
per period. A family's compute is the SELECT inside its one `WITH ... INSERT ... SELECT`: the
leaf per unit (the same rows; the case family as a `Tally`, each case's dates compared once in a
fenced subquery and the 26 counts testing the results), then summed up the tree one level at a
time from the units that have rows (`engine._subtree_sums`: each level's sums grouped by parent,
counts summed as integers), then one SELECT per key of those sums, leaving out what counts
nothing. Where a floor is a few milliseconds, fixed costs dominate the ratio: the tree's units
that have something below them are each read once.

What the targets do not count is writing, and the whole month's target does. No row is stored
that counts nothing (a numerator of 0 with a denominator of 0 or none): the dashboards read a
computed month's missing row as that zero (`Indicator.unstored`). Before part 11 a third of the
month's rows were such zeros. Replacing the rows (delete the old, insert the new, two indexes) is
still most of the run. What made the difference before, measured on 2026-12-03 at city scale:
the ancestor-subtree pairs fenced as a LATERAL subquery (5-35 s a family otherwise; part 11
replaced the pairs by the level-by-level sums), JIT off (0.3 s of compiling per statement),
`random_page_cost` 1.1 (the month's cases by index instead of a scan of all 2,000,000), one
commit per part, and no database foreign-key check per derived row (1.1 s at commit).

The worker rows are one run split into `ROLLUP_PARTS` shards of consecutive townships of about
the same size (a Celery chord of its parts) and the upper levels after them. Each part pays
every family's statements and index reads whatever its size (the case and rating leaves read
the city's month by index and keep the shard's share), so the parts are sized by work, a few of
them, not one per township. The machine's cores are shared by the database server and the
workers.

The dashboard pages are measured with the measured month and the twelve before it computed (the
trend lines, last month's change, the same month a year before, the year so far), as `seed_demo`
leaves the demo; the year's pages show the measured month's calendar year.
"""


def write_doc(result: dict) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    write_section(text, BEGIN, END, f"{BEGIN}\n{SECTION.format(table=render(result)).rstrip()}\n{END}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the rollup (pages: 10× as many)")
    parser.add_argument("--scale", choices=SCALES, default="city",
                        help="the tree to measure (default city); the smaller ones count queries only")
    parser.add_argument("--reuse", metavar="URL", help="an already seeded database of --scale: measure only")
    parser.add_argument("--trees", metavar="URL", nargs="*", default=None,
                        help="already seeded databases of the smaller scales for the query counts (with --reuse)")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases (and their server)")
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--rollup", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--queries", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--pages", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--enqueue", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--broker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rollup:
        print(json.dumps(measure_rollup(args.rollup, args.runs)))
        return
    if args.queries:
        print(json.dumps(measure_queries(args.queries)))
        return
    if args.pages:
        print(json.dumps(measure_pages(args.pages, args.runs)))
        return
    if args.enqueue:
        print(json.dumps(measure_enqueue(args.enqueue, args.broker)))
        return

    # A database to reuse names its server: the smaller trees are seeded there too.
    server = PostgresServer(args.reuse) if args.reuse else PostgresServer.from_env_or_start()
    made = []
    try:
        url = args.reuse
        if url is None:
            url = seeded_database(server, f"bench_rollup_{args.scale}", args.scale)
            made.append(f"bench_rollup_{args.scale}")
        trees = []
        if args.trees is not None:
            tree_urls = [(u.rsplit("/", 1)[1].removeprefix("bench_rollup_"), u) for u in args.trees]
        else:
            tree_urls = []
            for scale in SCALES[:SCALES.index(args.scale)]:
                tree_urls.append((scale, seeded_database(server, f"bench_rollup_{scale}", scale)))
                made.append(f"bench_rollup_{scale}")
        for scale, tree_url in [*tree_urls, (args.scale, url)]:
            trees.append({"scale": scale, **_child("queries", tree_url, 1)})
            print(f"  queries on {scale}: {trees[-1]}", file=sys.stderr)
        rollup = _child("rollup", url, args.runs)
        print(f"  rollup: {rollup['total_s']} s", file=sys.stderr)
        workers = {}
        if not args.skip_workers:
            for concurrency in (1, 2, 4):
                workers[str(concurrency)] = measure_workers(url, concurrency)
                print(f"  {concurrency} worker process(es): {workers[str(concurrency)]}", file=sys.stderr)
        pages = _child("pages", url, args.runs * 10)["pages"]
        result = {"scale": args.scale, "runs": args.runs, "rollup": rollup, "trees": trees, "workers": workers,
                  "pages": pages, "db_version": server.version, "machine": _machine(),
                  "load": f"{os.getloadavg()[0]:.1f}", "date": date.today().isoformat()}
        print(render(result))
        if args.scale != "city":
            print("docs/benchmarks.md left alone: it publishes the city's figures", file=sys.stderr)
        elif not args.no_doc:
            write_doc(result)
        if not args.keep:
            for name in made:
                server.drop_database(name)
    finally:
        if args.keep or args.reuse:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            server.stop()


if __name__ == "__main__":
    main()
