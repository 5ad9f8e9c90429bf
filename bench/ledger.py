#!/usr/bin/env python3
"""Benchmark the collective-economy books (part 8) on PostgreSQL: a township of 20 villages with 5 years of
books and 1,000,000 posted voucher lines.

    .venv/bin/python bench/ledger.py                      # throwaway PostgreSQL, prepare, measure (~5 min)
    .venv/bin/python bench/ledger.py --quick --no-doc     # 4 villages, 2 years, 16,000 lines: a smoke run
    scripts/with-servers.sh .venv/bin/python bench/ledger.py   # on the servers that script starts
    .venv/bin/python bench/ledger.py --keep / --reuse URL # keep the prepared database / measure it again

Preparation (timed): a fresh database, migrated; a county, a township and its villages, a book per village
with a year per year (2021-2023 under the 2004 chart, 2024-2025 under the 2023 one, twelve months each),
then per batch of book years, set-based: the vouchers inserted as drafts with their totals
(``INSERT ... SELECT ... generate_series``), their four lines each (``INSERT ... SELECT`` from the vouchers
and a table of account patterns), and one ``UPDATE`` to posted with their numbers (``row_number()`` per
month in date order), which the ledger's triggers check row by row (the lines balance, the month is
open). Then ``VACUUM ANALYZE``.

Measures (median of ``--runs`` runs after a warm-up, and the query count of one run), in a child process
with ``DEBUG`` off:

- the trial balance, the balance sheet and the income statement for one village's year and for the
  township's year (``collective_economy.selectors.statements``: ``statement_scope`` then the statement;
  targets: under 200 ms for a village, under 1 s for the township);
- posting 1,000 reviewed vouchers through ``services.vouchers.voucher_post`` (per voucher and total);
- the monthly rollup's ledger families (the ``Indicator.leaf`` functions of the indicators whose key starts
  with ``collective_economy.``): each leaf queryset for the township's units, run to its last row, against
  a plain ``SELECT village, SUM(credit) - SUM(debit) ... GROUP BY village`` of the same lines (target ≤ 2×);
  and ``compute_month`` of those indicators alone for the township (leaf, roll-up and writes);
- importing 10,000 voucher lines (2,500 vouchers) through the ``vouchers`` roster, dry run and real.

The results are printed and written to the ledger section of docs/benchmarks.md.
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_demo import PostgresServer, measure_in_child, write_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- ledger:begin -->", "<!-- ledger:end -->"
SCALES = {  # villages, years, vouchers per book year (four lines each)
    "full": (20, (2021, 2022, 2023, 2024, 2025), 2500),
    "quick": (4, (2024, 2025), 500),
}
YEAR = 2025
POSTING = 1000
IMPORT_LINES = 10_000
# (debit, debit, credit, credit) account codes of the generated vouchers, by chart.
PATTERNS = {
    "2004": [("102", "101", "501", "511"), ("541", "502", "102", "101"), ("112", "102", "522", "561"),
             ("102", "101", "112", "201")],
    "2023": [("102", "101", "501", "502"), ("513", "511", "102", "101"), ("112", "102", "503", "504"),
             ("102", "101", "112", "201")],
}


# --- Preparation (in the child, Django set up) -----------------------------------------------------


def prepare(scale: str) -> dict:
    from django.db import connection, transaction

    from collective_economy.models import Book, BookYear, Chart
    from collective_economy.services.books import book_create, book_year_open
    from collective_economy.services.charts import charts_load_shipped
    from governance.models import Level, Role, User
    from governance.services import orgunit_create

    villages_n, years, per_year = SCALES[scale]
    if Book.objects.filter(name__startswith="bench").exists():
        return {"prepared_s": None}
    started = time.perf_counter()
    if Chart.objects.count() < 2:
        charts_load_shipped()
    charts = {chart.code: chart for chart in Chart.objects.all()}
    county = orgunit_create(code="519901000000", name="基准县", level=Level.COUNTY, kind="county")
    township = orgunit_create(code="519901100000", name="基准镇", level=Level.TOWNSHIP, kind="town", parent=county)
    villages = [orgunit_create(code=f"519901100{201 + i:03d}", name=f"基准{i + 1}村村民委员会",
                               short_name=f"基准{i + 1}村", level=Level.VILLAGE, kind="village", parent=township)
                for i in range(villages_n)]
    officer = User.objects.create_user(username="bench_township", password="bench", role=Role.TOWNSHIP,
                                       home_unit=township, is_staff=True)
    keeper = User.objects.create_user(username="bench_village", password="bench", role=Role.VILLAGE,
                                      home_unit=villages[0], is_staff=True)
    from governance.roles import user_sync_permissions

    user_sync_permissions(officer)
    user_sync_permissions(keeper)

    def chart_of(year):
        return charts["2004"] if year < 2024 else charts["2023"]

    for i, village in enumerate(villages):
        book = book_create(village=village, name=f"bench {i + 1}", chart=chart_of(years[0]), year=years[0],
                           bookkeepers=[keeper], separate_review=False)
        for year in years[1:]:
            book_year_open(book=book, year=year, chart=chart_of(year))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_pattern (chart_id int, pattern int, position int, "
                       "account_id int)")
        rows = []
        for code, patterns in PATTERNS.items():
            accounts = dict(charts[code].accounts.values_list("code", "pk"))
            for n, pattern in enumerate(patterns):
                rows += [(charts[code].pk, n, position, accounts[account])
                         for position, account in enumerate(pattern, start=1)]
        cursor.executemany("INSERT INTO bench_pattern VALUES (%s, %s, %s, %s)", rows)
    book_years = list(BookYear.objects.filter(book__name__startswith="bench").values_list("pk", flat=True))
    lines = 0
    for start in range(0, len(book_years), 10):
        batch = book_years[start:start + 10]
        with transaction.atomic(), connection.cursor() as cursor:
            lines += _vouchers(cursor, batch, per_year, officer.pk, status="posted")
    timings = {"prepared_s": round(time.perf_counter() - started, 1), "lines": lines,
               "vouchers": lines // 4, "villages": villages_n, "years": len(years)}
    # The 1,000 vouchers to post: reviewed, in December of the last year, spread over the villages.
    last = list(BookYear.objects.filter(book__name__startswith="bench", year=years[-1]).values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        _vouchers(cursor, last, POSTING // len(last), officer.pk, status="reviewed", month=12)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return timings


def _vouchers(cursor, book_years: list[int], per_year: int, user: int, *, status: str, month: int | None = None) -> int:
    """``per_year`` vouchers of four lines in each book year, as drafts; then posted (numbered) or reviewed."""
    month_sql = f"{month}" if month else f"1 + ((g - 1) * 12) / {per_year}"
    cursor.execute(f"""
        INSERT INTO collective_economy_voucher (book_id, book_year_id, month, date, number, status, kind,
            attachments, summary, prepared_by_id, prepared_at, debit_total, credit_total)
        SELECT y.book_id, y.id, x.m, make_date(y.year, x.m, 1 + g %% 28), NULL, 'draft', 'normal', 1 + g %% 3,
               '业务' || g, %s, now(), x.amount, x.amount
        FROM collective_economy_bookyear y, generate_series(1, %s) g,
             LATERAL (SELECT {month_sql} AS m, ((g * 7919 + y.id * 104729) %% 1000000)::numeric / 100 + 10
                      AS amount) x
        WHERE y.id = ANY(%s)""", [user, per_year, book_years])
    cursor.execute("""
        INSERT INTO collective_economy_voucherline (voucher_id, position, summary, account_id, sub_account_id,
                                                    debit, credit)
        SELECT v.id, p.position, v.summary, p.account_id, NULL,
               CASE p.position WHEN 1 THEN round(v.debit_total * 0.6, 2)
                               WHEN 2 THEN v.debit_total - round(v.debit_total * 0.6, 2) ELSE 0 END,
               CASE p.position WHEN 3 THEN round(v.debit_total * 0.7, 2)
                               WHEN 4 THEN v.debit_total - round(v.debit_total * 0.7, 2) ELSE 0 END
        FROM collective_economy_voucher v
        JOIN collective_economy_bookyear y ON y.id = v.book_year_id
        JOIN bench_pattern p ON p.chart_id = y.chart_id AND p.pattern = v.id %% 4
        WHERE v.book_year_id = ANY(%s) AND v.status = 'draft'""", [book_years])
    lines = cursor.rowcount
    if status == "posted":
        cursor.execute("""
            UPDATE collective_economy_voucher v
            SET status = 'posted', number = n.number, reviewed_by_id = %s, reviewed_at = now(),
                posted_by_id = %s, posted_at = now()
            FROM (SELECT id, row_number() OVER (PARTITION BY book_year_id, month ORDER BY date, id) AS number
                  FROM collective_economy_voucher WHERE book_year_id = ANY(%s) AND status = 'draft') n
            WHERE v.id = n.id""", [user, user, book_years])
    else:
        cursor.execute("""
            UPDATE collective_economy_voucher SET status = 'reviewed', reviewed_by_id = %s, reviewed_at = now()
            WHERE book_year_id = ANY(%s) AND status = 'draft'""", [user, book_years])
    return lines


# --- Measures (in the child) --------------------------------------------------------------------------


def measure(url: str, runs: int) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("REQUIRE_PII_KEYS", "0")  # the development keys of personal data: encryption costs the same
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scale = os.environ.get("LEDGER_BENCH_SCALE", "full")
    result = prepare(scale)
    from collective_economy.models import VoucherLine

    result["lines_total"] = VoucherLine.objects.filter(voucher__status="posted").count()

    def timed(read) -> dict:
        with CaptureQueriesContext(connection) as captured:
            read()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            read()
            times.append((time.perf_counter() - start) * 1000)
        return {"ms": round(statistics.median(times), 1), "queries": len(captured.captured_queries)}

    result["statements"] = _statements(timed)
    result["posting"] = _posting()
    result["rollup"] = _rollup(timed, runs)
    result["import"] = _import()
    return result


def _statements(timed) -> list[dict]:
    from collective_economy.selectors.statements import (
        balance_sheet,
        income_statement,
        statement_scope,
        trial_balance,
    )
    from governance.models import Level, OrgUnit, User

    officer = User.objects.get(username="bench_township")
    township = OrgUnit.objects.get(level=Level.TOWNSHIP, code="519901100000")
    village = OrgUnit.objects.filter(parent=township).order_by("code").first()
    rows = []
    for label, unit, target in (("village", village, 200), ("township", township, 1000)):
        for name, statement in (("trial balance", lambda s: trial_balance(s, month=12)),
                                ("balance sheet", lambda s: balance_sheet(s, month=12)),
                                ("income statement", lambda s: income_statement(s, month=12))):
            found = timed(lambda unit=unit, statement=statement: statement(statement_scope(officer, unit, YEAR)))
            rows.append({"unit": label, "statement": name, "target_ms": target, **found})
            print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def _posting() -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from collective_economy.models import Voucher, VoucherStatus
    from collective_economy.services.vouchers import voucher_post
    from governance.models import User

    keeper = User.objects.get(username="bench_village")
    vouchers = list(Voucher.objects.filter(status=VoucherStatus.REVIEWED).order_by("book_id", "date", "pk"))
    times = []
    with CaptureQueriesContext(connection) as captured:
        voucher_post(voucher=vouchers[0], user=keeper)
    queries = len(captured.captured_queries)
    started = time.perf_counter()
    for voucher in vouchers[1:]:
        start = time.perf_counter()
        voucher_post(voucher=voucher, user=keeper)
        times.append((time.perf_counter() - start) * 1000)
    total = time.perf_counter() - started
    result = {"vouchers": len(vouchers), "total_s": round(total, 2), "median_ms": round(statistics.median(times), 2),
              "p95_ms": round(sorted(times)[int(len(times) * 0.95)], 2), "queries": queries}
    print(f"  posting {result}", file=sys.stderr)
    return result


def _rollup(timed, runs: int) -> list[dict]:
    import datetime

    from django.db import connection

    from governance.indicators.engine import compute_month
    from governance.indicators.months import month_bounds
    from governance.indicators.registry import all_indicators
    from governance.models import Level, OrgUnit

    period = datetime.date(YEAR, 6, 1)
    start, end = month_bounds(period)
    township = OrgUnit.objects.get(level=Level.TOWNSHIP, code="519901100000")
    units = OrgUnit.objects.filter(tree_id=township.tree_id, lft__gte=township.lft, lft__lte=township.rght)
    ledger = [indicator for indicator in all_indicators() if indicator.key.startswith("collective_economy.")]
    leaves = {}
    for indicator in ledger:
        if indicator.leaf is not None:
            leaves.setdefault(indicator.leaf, []).append(indicator.key)
    # The plain GROUP BY of the lines each family reads: the month's, January to the month's, last year's.
    floor_sql = """
        SELECT b.village_id, SUM(l.credit) - SUM(l.debit)
        FROM collective_economy_voucherline l
        JOIN collective_economy_voucher v ON v.id = l.voucher_id
        JOIN collective_economy_book b ON b.id = v.book_id
        JOIN collective_economy_bookyear y ON y.id = v.book_year_id
        JOIN collective_economy_chartaccount a ON a.id = l.account_id
        WHERE v.status = 'posted' AND v.kind <> 'closing' AND a.account_class = 'income'
          AND y.year = %s AND v.month BETWEEN %s AND %s
        GROUP BY b.village_id"""
    floors = {"month_income": (YEAR, 6, 6), "year_to_date": (YEAR, 1, 6), "last_year": (YEAR - 1, 1, 12)}

    def run_sql(sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    rows = []
    month_floor = timed(lambda: run_sql(floor_sql, floors["month_income"]))
    for leaf, keys in leaves.items():
        name = leaf.__name__
        found = timed(lambda leaf=leaf: list(leaf(start, end, units).order_by()))
        floor = timed(lambda name=name: run_sql(floor_sql, floors.get(name, floors["month_income"])))
        rows.append({"family": f"{leaf.__module__}.{name}", "indicators": len(keys), "ms": found["ms"],
                     "queries": found["queries"], "floor_ms": floor["ms"], "month_floor_ms": month_floor["ms"],
                     "ratio": round(found["ms"] / floor["ms"], 2) if floor["ms"] else None})
        print(f"  {rows[-1]}", file=sys.stderr)
    whole = timed(lambda: compute_month(period, org=township, indicators=ledger))
    rows.append({"family": "compute_month (these indicators, township: leaves, roll-up, writes)",
                 "indicators": len(ledger), "ms": whole["ms"], "queries": whole["queries"], "floor_ms": None,
                 "month_floor_ms": month_floor["ms"], "ratio": None})
    print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def _import() -> dict:
    import openpyxl
    from django.db import connection

    from collective_economy.models import Book, Chart, Voucher
    from collective_economy.services.books import book_year_open
    from governance.models import User
    from governance.rosters import get_spec, roster_import

    officer = User.objects.get(username="bench_township")
    book = Book.objects.filter(name__startswith="bench").select_related("village").order_by("village__code").first()
    year = 2026
    if not book.years.filter(year=year).exists():
        book_year_open(book=book, year=year, chart=Chart.objects.get(code="2023"))
    spec = get_spec("vouchers")
    names = ["village", "date", "number", "summary", "account", "sub_account", "debit", "credit", "attachments"]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([str(spec.column(name).header) for name in names])
    vouchers = IMPORT_LINES // 4
    for n in range(vouchers):
        month = 1 + n * 12 // vouchers
        date = f"{year}-{month:02d}-{1 + n % 28:02d}"
        amount = f"{(n * 7919) % 100000 / 100 + 10:.2f}"
        for code, debit, credit in (("102", amount, None), ("101", "5.00", None), ("501", None, amount),
                                    ("504", None, "5.00")):
            sheet.append([book.village.code, date, str(n + 1), f"业务{n + 1}", code, None, debit, credit, 1])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    result = {}
    for label, dry_run in (("dry run", True), ("import", False)):
        count = [0]

        def counted(execute, sql, params, many, context, count=count):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            report = roster_import(kind="vouchers", file=content, user=officer, dry_run=dry_run)
        assert report.ok, str(report)
        result[label] = {"s": round(report.elapsed, 2), "queries": count[0],
                         "rows_per_s": round(report.rows_per_second), "phases": report.phases}
    result["lines"] = IMPORT_LINES
    result["vouchers"] = Voucher.objects.filter(book_year__book=book, book_year__year=year, status="posted").count()
    result["queries_per_voucher"] = round(result["import"]["queries"] / max(result["vouchers"], 1), 1)
    print(f"  import {result}", file=sys.stderr)
    return result


# --- Report ------------------------------------------------------------------------------------------


def render(result: dict) -> str:
    out = ["| statement | unit | median (ms) | queries | target (ms) |", "|---|---|---:|---:|---:|"]
    for row in result["statements"]:
        mark = "" if row["ms"] < row["target_ms"] else " **missed**"
        out.append(f"| {row['statement']} | {row['unit']} | {row['ms']}{mark} | {row['queries']} | "
                   f"< {row['target_ms']} |")
    posting = result["posting"]
    out += ["", "| posting through `voucher_post` | vouchers | total (s) | median per voucher (ms) | p95 (ms) | "
                "queries per voucher |", "|---|---:|---:|---:|---:|---:|",
            f"| reviewed → posted, numbered | {posting['vouchers']:,} | {posting['total_s']} | "
            f"{posting['median_ms']} | {posting['p95_ms']} | {posting['queries']} |"]
    out += ["", "| rollup family (township, June) | indicators | median (ms) | queries | plain GROUP BY of the same "
                "lines (ms) | ratio (target ≤ 2) |", "|---|---:|---:|---:|---:|---:|"]
    for row in result["rollup"]:
        floor = row["floor_ms"] if row["floor_ms"] is not None else f"(month: {row['month_floor_ms']})"
        ratio = row["ratio"] if row["ratio"] is not None else ""
        out.append(f"| `{row['family']}` | {row['indicators']} | {row['ms']} | {row['queries']} | {floor} | "
                   f"{ratio} |")
    found = result["import"]
    out += ["", f"| import of {found['lines']:,} voucher lines ({found['vouchers']:,} vouchers) | seconds | "
                "queries | rows/s |", "|---|---:|---:|---:|"]
    for label in ("dry run", "import"):
        out.append(f"| {label} | {found[label]['s']} | {found[label]['queries']:,} | "
                   f"{found[label]['rows_per_s']:,} |")
    return "\n".join(out)


SECTION = """## The collective-economy books (`bench/ledger.py`)

{scale} run: {villages} villages, {years} years, {lines_total:,} posted voucher lines, prepared set-based in
{prepared_s} s (vouchers as drafts with their totals, their lines, one UPDATE to posted per batch of book
years, checked row by row by the triggers); {db_version}, {machine}; median of {runs} runs, {date} (load {load}).
Statements are `statement_scope` + the selector of `collective_economy.selectors.statements` for {year}
(the township's are the sum of its books under one chart). The rollup rows time each ledger family's leaf
queryset (`Indicator.leaf` of the `collective_economy.*` indicators) for the township's units, run to its
last row, against a plain `SELECT village, SUM(credit) - SUM(debit) ... GROUP BY village` of the lines
that family reads (the month's, January to the month's, last year's); the last row is `compute_month`
of those indicators alone. The import checks the file in bulk, writes the drafts in bulk and posts each
voucher through `voucher_post_system` in date order (about five queries per voucher).

{table}

How the families reached their floor: `year_to_date` and `last_year` first summed each village's
income with two correlated subqueries (one per figure), and each village's subplan read the posted
vouchers of *every* book of the year before keeping its own: 2,027 and 515 ms against floors of 121
and 207 ms (16.8× and 2.5×). Now `last_year` is the same one grouped pass over the year's income lines
as `month_income` (a village without income has no row, read as 0.00), and `year_to_date` — whose
bands need a row of 0.00 for a village whose book has no income yet — is one grouped pass from the
book years, LEFT JOINed to their counted vouchers of the months (the join's own condition) and their
lines, read through `ce_voucher_year_status` (book_year, status, month). No new index was needed.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 villages, 2 years, 16,000 lines")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", metavar="URL", help="an already prepared database: measure only")
    parser.add_argument("--keep", action="store_true", help="keep the database (and its server)")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs), default=str))
        return
    scale = "quick" if args.quick else "full"
    os.environ["LEDGER_BENCH_SCALE"] = scale
    server = PostgresServer.from_env_or_start()
    name = f"bench_ledger_{scale}"
    started = time.perf_counter()
    try:
        url = args.reuse
        if not url:
            import subprocess

            url = server.fresh_database(name)
            env = {**os.environ, "DATABASE_URL": url}
            subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", "migrate", "-v", "0"], cwd=ROOT,
                           env=env, check=True)
        result = measure_in_child(__file__, server, url, args.runs, scale)
        table = render(result)
        print(table)
        print(f"whole run: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if not args.no_doc:
            text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
            section = SECTION.format(table=table, year=YEAR, **{k: v for k, v in result.items()
                                                                 if k not in ("statements", "posting", "rollup")})
            write_section(text, BEGIN, END, f"{BEGIN}\n{section.rstrip()}\n{END}")
        if not args.reuse and not args.keep:
            server.drop_database(name)
    finally:
        if not args.reuse and not args.keep:
            server.stop()


if __name__ == "__main__":
    main()
