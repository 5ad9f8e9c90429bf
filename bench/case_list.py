#!/usr/bin/env python3
"""Benchmark the case list page and the cases API at ``city`` scale (about 2,000,000 cases).

    .venv/bin/python bench/case_list.py                    # throwaway PostgreSQL, seeds the city, measures
    .venv/bin/python bench/case_list.py --keep             # ... and keeps the database (prints its URL)
    .venv/bin/python bench/case_list.py --reuse URL        # measure an already seeded database again
    .venv/bin/python bench/case_list.py --scale county --no-doc

A fresh PostgreSQL database is migrated and filled by ``manage.py seed_demo --scale city``
(its cases step writes four years of cases with their events). Then, in a child process
with ``DEBUG`` off, each request below is sent through Django's test client as a logged-in
demo user: the whole server side (middleware, session, scope, queries, template or JSON
rendering), without the network and the browser. Each request runs once to count its
queries, once to warm up, then ``--runs`` times for the timings (median and 95th
percentile). The results are printed and written to the case_list section of
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
BEGIN, END = "<!-- case_list:begin -->", "<!-- case_list:end -->"

# (label, user, path): the page as a township clerk opens it first, then what he clicks next;
# the same through the API; then the wider areas of a county official and the city's administrator.
REQUESTS = [
    ("Case list, first page (as it opens)", "township_a", "/grid/cases/"),
    ("Case list, page 20", "township_a", "/grid/cases/?page=20"),
    ("Case list, tab 'dispatched', by due time", "township_a", "/grid/cases/?state=dispatched&sort=due"),
    ("Case list, overdue only", "township_a", "/grid/cases/?overdue=on"),
    ("Case list, category + colour + month", "township_a",
     "/grid/cases/?category={category}&colour=red&reported_from={month_start}&reported_to={today}"),
    ("Case list, search a word (2 characters)", "township_a", "/grid/cases/?q=%E7%BA%A0%E7%BA%B7"),
    ("Case list, search a case number", "township_a", "/grid/cases/?q={number}"),
    ("Case list, assigned to me", "village_a", "/grid/cases/?mine=on"),
    ("Case detail", "township_a", "/grid/cases/{case_id}/"),
    ("My work", "village_a", "/grid/work/"),
    ("API list, first page", "township_a", "/api/v1/cases/"),
    ("API list, open + red", "township_a", "/api/v1/cases/?open=true&colour=red"),
    ("API list, search", "township_a", "/api/v1/cases/?search=%E7%BA%A0%E7%BA%B7"),
    ("Case list, county official", "county", "/grid/cases/"),
    ("API list, county official", "county", "/api/v1/cases/"),
    ("Case list, city administrator", "admin", "/grid/cases/"),
]


def measure(url: str, runs: int) -> dict:
    """In this (child) process: Django on ``url``, every request timed through the test client."""
    os.environ["DATABASE_URL"] = url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("REQUIRE_PII_KEYS", "0")  # the development keys of personal data: encryption costs the same
    os.environ.pop("DEBUG", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from governance.models import User
    from grid.models import Case, CaseCategory

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    township = User.objects.get(username="township_a").home_unit
    mine = Case.objects.filter(handling_unit=township).order_by("-reported_at").first()
    today = timezone.localdate()
    values = {
        "category": CaseCategory.objects.get(code="dispute").pk,
        "month_start": today.replace(day=1).isoformat(),
        "today": today.isoformat(),
        "number": mine.number if mine else "0",
        "case_id": mine.pk if mine else 0,
    }
    clients = {}
    rows = []
    for label, username, path in REQUESTS:
        path = path.format(**values)
        client = clients.get(username)
        if client is None:
            client = clients[username] = Client()
            client.force_login(User.objects.get(username=username))
        reset_queries()  # each request resets the log at its start: count from an empty one
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, secure=True)  # as behind the HTTPS proxy (no redirect)
        assert response.status_code == 200, (path, response.status_code)
        query_count = len(queries)  # now: the log it reads is cleared by the next request
        client.get(path, secure=True)  # warm up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            client.get(path, secure=True)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        rows.append({
            "label": label, "user": username, "path": path, "queries": query_count,
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        })
        print(f"  {label}: {rows[-1]['median_ms']} ms median, {rows[-1]['queries']} queries", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM grid_case")
        cases = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM grid_caseevent")
        events = cursor.fetchone()[0]
    township_cases = Case.objects.visible_to(User.objects.get(username="township_a")).count()
    return {"cases": cases, "events": events, "township_cases": township_cases, "rows": rows}


def render(result: dict) -> str:
    lines = [
        f"{result['cases']:,} cases ({result['events']:,} events) at `{result['scale']}` scale on "
        f"{result['db_version']}; township A (the clerk's area) holds {result['township_cases']:,} of them. "
        f"{result['runs']} timed runs per request; {result['machine']}, load {result['load']}; {result['date']}.",
        "",
        "| request | user | median ms | p95 ms | queries |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['label']} | {row['user']} | {row['median_ms']} | {row['p95_ms']} | {row['queries']} |")
    return "\n".join(lines)


SECTION = """## Case list and cases API (`bench/case_list.py`)

Server time of the case pages and the cases API, measured through Django's test client with
`DEBUG` off as the demo users (no network, no browser). Target: a township clerk's first page
of the case list, as the page opens it, under 100 ms median with 2,000,000 cases.

{table}

How the list stays fast: a user sees the cases of the grids in his subtree (a range join on
the org tree, `(tree_id, lft)`), newest first through the `(-reported_at, -id)` index, so a
first page reads one page of rows; the tab counts are one `GROUP BY state` over the user's
cases, answered from the `(grid, state)` index alone (index-only scan: 6 ms for a township's
24,000 cases, against 30-45 ms when each case row had to be read); the page has a fixed
number of queries whatever the rows. About half of a page's time is Python (the template),
the rest the database.

Text search is a substring match (`icontains`) on title and description, which reads every
case of the user's area (a township: 24,000 rows, about 0.1-0.2 s); a text that can only be a
case number (six or more letters, digits, dashes) is a prefix lookup on the number's index.
Deep pages (`OFFSET`) and wide areas (a county official's tab counts over 200,000+ cases, the
city administrator's over 2,000,000) cost more and are listed for that reason. This machine
is a shared 2-core VM: the same request measured 1.5-2× apart between runs minutes apart, so
compare rows of one run with each other.
"""


def write_doc(result: dict) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    write_section(text, BEGIN, END, f"{BEGIN}\n{SECTION.format(table=render(result)).rstrip()}\n{END}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="city")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", metavar="URL", help="an already seeded database: measure only")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (and its server)")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return

    server = PostgresServer.from_env_or_start()
    try:
        url = args.reuse
        if url is None:
            name = f"bench_cases_{args.scale}"
            url = seeded_database(server, name, args.scale)
        result = measure_in_child(__file__, server, url, args.runs, args.scale)
        print(render(result))
        if not args.no_doc:
            write_doc(result)
        if not (args.keep or args.reuse):
            server.drop_database(name)
    finally:
        if args.keep or args.reuse:
            print(f"database kept: {url}", file=sys.stderr)  # and its server left running
        else:
            server.stop()


if __name__ == "__main__":
    main()
