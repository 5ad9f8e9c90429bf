#!/usr/bin/env python3
"""Benchmark the scope of rows seen from two places (part 7: a case is seen where it is and by
the unit handling it) against the one path it had before, at ``county`` scale by default.

    .venv/bin/python bench/scope_paths.py                  # throwaway PostgreSQL, seeds the county, measures
    .venv/bin/python bench/scope_paths.py --reuse URL      # measure an already seeded database
    .venv/bin/python bench/scope_paths.py --scale city --no-doc

For a county official, a township clerk and a village clerk it times (median of ``--runs``) the
three reads every case page makes: the count of the user's cases, the first page of the list
(newest first, with the row's joins) and the counts by state (the list's tabs), once with the
case scoped by its grid only and once by grid or handling unit (``InUnits`` in
``governance/scope.py``). The results are printed and written to the scope_paths section of
docs/benchmarks.md.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_demo import PostgresServer, measure_in_child, seeded_database, write_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- scope_paths:begin -->", "<!-- scope_paths:end -->"
USERS = ("county", "township_a", "village_a")
PATHS = (("grid only (before)", "grid"), ("grid or handling unit", ("grid", "handling_unit")))


def measure(url: str, runs: int) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("REQUIRE_PII_KEYS", "0")  # the development keys of personal data: encryption costs the same
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from governance.models import User
    from grid.models import Case
    from grid.selectors.cases import case_list, state_counts

    def median_ms(read) -> float:
        read()  # warm up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            read()
            times.append((time.perf_counter() - start) * 1000)
        return round(statistics.median(times), 1)

    rows = []
    for username in USERS:
        user = User.objects.get(username=username)
        for label, path in PATHS:
            Case.org_scope_field = path
            rows.append({
                "user": username, "scope": label, "cases": case_list(fetched_by=user).count(),
                "count_ms": median_ms(lambda u=user: case_list(fetched_by=u).count()),
                "page_ms": median_ms(lambda u=user: list(case_list(fetched_by=u).order_by("-reported_at", "-id")[:50])),
                "tabs_ms": median_ms(lambda u=user: state_counts(fetched_by=u)),
            })
            print(f"  {rows[-1]}", file=sys.stderr)
    return {"cases": Case.objects.count(), "rows": rows}


def render(result: dict) -> str:
    lines = ["| user | scope | cases seen | count (ms) | first page (ms) | tab counts (ms) |",
             "|---|---|---:|---:|---:|---:|"]
    for row in result["rows"]:
        lines.append(f"| {row['user']} | {row['scope']} | {row['cases']:,} | {row['count_ms']} | {row['page_ms']} "
                     f"| {row['tabs_ms']} |")
    return "\n".join(lines)


SECTION = """## Scope over two paths (`bench/scope_paths.py`)

{scale} scale, {cases:,} cases, PostgreSQL {db_version}, {machine}; median of {runs} runs, {date}
(load {load}). A case is seen where it is (its grid) and by the unit handling it (part 7). Two range
joins under OR made PostgreSQL read every case (a village clerk's count: about 42 ms against 3 ms
with one path); each path is now matched against the ids of the user's subtree with
`= ANY(ARRAY(subquery))`, which PostgreSQL answers with a BitmapOr of the two columns' indexes:

{table}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="county")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", metavar="URL", help="an already seeded database: measure only")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    server = PostgresServer.from_env_or_start()
    name = f"bench_scope_{args.scale}"
    try:
        url = args.reuse or seeded_database(server, name, args.scale)
        result = measure_in_child(__file__, server, url, args.runs, args.scale)
        table = render(result)
        print(table)
        if not args.no_doc:
            text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
            section = SECTION.format(table=table, **{k: v for k, v in result.items() if k != "rows"})
            write_section(text, BEGIN, END, f"{BEGIN}\n{section.rstrip()}\n{END}")
        if not args.reuse:
            server.drop_database(name)
    finally:
        if not args.reuse:
            server.stop()


if __name__ == "__main__":
    main()
