#!/usr/bin/env python3
"""Where a case family's time goes: its one statement taken apart, step by step, against its floor.

    .venv/bin/python bench/province.py --keep            # prepare a province (minutes), note the URL
    .venv/bin/python bench/anatomy.py --reuse URL        # measure, print, write docs/benchmarks.md
    .venv/bin/python bench/anatomy.py --reuse URL --no-doc --runs 3

Issue 17 asks each case family to stay within 3× its floor (the plain scan of the rows it reads)
and the whole month, writes included, within 4× the floors' sum. This script shows what stands
between the two, on the database ``bench/province.py`` prepared. Each step is a prefix of the
engine's own statement (``engine.family_statement``), timed on the server (EXPLAIN ANALYZE's
Execution Time, the median of ``--runs``) and counted:

1. *floor*: bench/rollup.py's plain scan of the rows the family reads;
2. *leaf*: the family's leaf query alone, as the engine compiles it (a row per unit with records);
3. *+ sums up the tree*: the common tables up to ``r`` (a row per unit with something below it);
4. *+ rows to store*: the union of one SELECT of ``r`` per key (what the INSERT would write).

Then the same rows are written, each in a transaction that is rolled back, into a fresh
table shaped like ``IndicatorValue``: without an index, with its unique (unit, month, key)
index, and with both of its indexes (wall time in this process; the table is a plain one, its
rows written to the WAL as the values' table's are, and dropped by the rollback). The median
(Python over samples) is left out: its anatomy is its samples' scan and its Python step, which
bench/rollup.py already shows.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rollup  # noqa: E402
from seed_demo import PostgresServer, measure_in_child, write_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- anatomy:begin -->", "<!-- anatomy:end -->"
FAMILIES = ("case_counts", "case_cohorts", "rating_counts")
COPY = "anatomy_values"


def _server_seconds(cursor, sql: str, params, runs: int) -> tuple[float, int]:
    """The median Execution Time of ``sql`` (a count of rows), and the count.

    The steps count whole rows (``count(x.*)``), not ``count(*)``: PostgreSQL leaves out the
    columns of a subquery that nothing reads, and the sums would then not be computed at all."""
    times = []
    for _ in range(runs):
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0][0]
        times.append(plan["Execution Time"] / 1000)
    cursor.execute(sql, params)
    rows = cursor.fetchone()[0]
    return statistics.median(times), rows


def _written(connection, insert_sql: str, params, indexes: list[str], runs: int) -> float:
    """The median wall time of the INSERT into a fresh copy of the values' table with ``indexes``."""
    from django.db import transaction

    from governance.models import IndicatorValue

    table = connection.ops.quote_name(IndicatorValue._meta.db_table)
    times = []
    for _ in range(runs):
        with transaction.atomic():
            with connection.cursor() as cursor:
                # A plain table (written to the WAL as the values' table is), gone with the rollback.
                cursor.execute(f"CREATE TABLE {COPY} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
                for index in indexes:
                    cursor.execute(f"CREATE {index}")
                began = time.perf_counter()
                cursor.execute(insert_sql.replace(f"INSERT INTO {table}", f"INSERT INTO {COPY}", 1), params)
                times.append(time.perf_counter() - began)
            transaction.set_rollback(True)
    return statistics.median(times)


def measure(url: str, runs: int) -> dict:
    rollup._setup(url)
    from django.db import connection
    from django.utils import timezone

    from governance.indicators import engine
    from governance.indicators.months import month_bounds
    from governance.indicators.registry import all_indicators

    period = rollup._period()
    start, end = month_bounds(period)
    key = connection.ops.quote_name("key")
    indexes = {
        "no index": [],
        "unique (unit, month, key)": [f"UNIQUE INDEX {COPY}_once ON {COPY} (org_unit_id, period, {key})"],
        "both indexes (+ month, key)": [f"UNIQUE INDEX {COPY}_once ON {COPY} (org_unit_id, period, {key})",
                                        f"INDEX {COPY}_period_key ON {COPY} (period, {key})"],
    }
    units, where, where_params = engine._scope(None)
    now = timezone.now()
    families = {}
    with connection.cursor() as cursor:
        for family in FAMILIES:
            members = [i for i in all_indicators() if i.leaf is not None and i.leaf.__name__ == family]
            statement = engine.family_statement(members[0].leaf, members, period, start, end, units, where,
                                                where_params, now)
            floor_name = rollup.FAMILY_FLOORS[family]
            floor_sql = f"SELECT count(f.*) FROM ({rollup.FLOORS[floor_name][1]}) f"
            steps = {
                "floor": _server_seconds(cursor, floor_sql, rollup._floor_params(start, end), runs),
                "leaf": _server_seconds(cursor, f"SELECT count(l.*) FROM ({statement.leaf_sql}) l",
                                        statement.leaf_params, runs),
                "sums": _server_seconds(cursor, f"WITH {statement.ctes} SELECT count(r.*) FROM r",
                                        statement.ctes_params, runs),
                "rows": _server_seconds(cursor,
                                        f"WITH {statement.ctes} SELECT count(q.*) FROM ({statement.rows_sql}) q",
                                        [*statement.ctes_params, *statement.rows_params], runs),
            }
            insert_sql, insert_params = statement.insert
            written = {label: _written(connection, insert_sql, insert_params, sql, runs)
                       for label, sql in indexes.items()}
            families[family] = {"keys": len(members), "steps": steps, "written": written}
            print(f"  {family}: {json.dumps(families[family])}", file=sys.stderr, flush=True)
        cursor.execute("SELECT count(*) FROM governance_orgunit")
        unit_count = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM grid_case WHERE reported_at >= %s AND reported_at < %s", [start, end])
        month_cases = cursor.fetchone()[0]
    return {"period": f"{period:%Y-%m}", "units": unit_count, "month_cases": month_cases, "families": families,
            "runs": runs}


def _s(seconds: float) -> str:
    return f"{seconds:.2f}"


def render(result: dict) -> str:
    lines = [
        f"{result['units']:,} org units, {result['month_cases']:,} cases raised in {result['period']} "
        f"(the database `bench/province.py` prepares); {result['machine']}, load {result['load']}; "
        f"{result['date']}. Server time, median of {result['runs']}.",
        "",
        "| family | keys | floor (s) | leaf (s) | + sums up the tree (s) | + rows to store (s) "
        "| rows: floor · leaf · units · to store | write, no index (s) | unique index (s) | both indexes (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for family, found in result["families"].items():
        steps, written = found["steps"], found["written"]
        counts = " · ".join(f"{steps[name][1]:,}" for name in ("floor", "leaf", "sums", "rows"))
        lines.append(
            f"| {family} | {found['keys']} | {_s(steps['floor'][0])} | {_s(steps['leaf'][0])} "
            f"| {_s(steps['sums'][0])} | {_s(steps['rows'][0])} | {counts} "
            f"| {_s(written['no index'])} | {_s(written['unique (unit, month, key)'])} "
            f"| {_s(written['both indexes (+ month, key)'])} |")
    return "\n".join(lines)


def write_doc(result: dict) -> None:
    section = "\n".join([
        BEGIN,
        "### Where a case family's time goes (`bench/anatomy.py`)",
        "",
        "Each case family's one statement taken apart on the province: its leaf alone, then with the",
        "sums up the tree, then with the rows it stores, each a prefix of the engine's statement, timed",
        "on the server; then those rows written into a fresh copy of the values' table without an index,",
        "with its unique index and with both (rolled back each time). The floor is bench/rollup.py's.",
        "",
        render(result),
        END,
    ])
    write_section(DOC.read_text(encoding="utf-8"), BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", metavar="URL", help="a database bench/province.py --keep prepared (required)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    if args.reuse is None:
        parser.error("--reuse URL is required: a database bench/province.py --keep prepared")
    # Django is set up in a child process, as the other benchmarks do: this one only reports.
    result = measure_in_child(__file__, PostgresServer(args.reuse), args.reuse, args.runs, "province")
    print(render(result))
    if not args.no_doc:
        write_doc(result)


if __name__ == "__main__":
    main()
