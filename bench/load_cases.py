#!/usr/bin/env python3
"""Load test: 50 township clerks reporting cases and taking them round the loop for 5 minutes.

    .venv/bin/python bench/load_cases.py                      # the full run (~7 min with the set-up)
    .venv/bin/python bench/load_cases.py --run-time 30s --no-doc
    LOAD_RUN_TIME=1m .venv/bin/python bench/load_cases.py --users 10

It starts a production-like stack on loopback by itself: PostgreSQL and Redis (throwaway servers
of ``scripts/with-servers.sh``), the portal under gunicorn (``--workers``, default 3) with
``DEBUG=0``, and a Celery worker (the outbox's follow-up work of every step). The database is
migrated and seeded with the demo county (``seed_demo --scale county --no-rollup``: 14 townships,
138 grids, 2,218 micro-grids, a year of cases), and ``--users`` (default 50) township clerks are
added, spread over the townships in turn, each with his own password.

Then locust (``bench/locustfile.py``) runs headless on 127.0.0.1 only, ``--users`` users for
``--run-time`` (default 5m, or ``LOAD_RUN_TIME``): each logs in as one clerk and, again and again,
reports a case through the portal's form and takes it through accept → dispatch → take and start
→ resolve → verify → rate → close, each step by the case page's real form.

Afterwards it checks, and exits non-zero unless all hold:

- no request failed (no 4xx/5xx where a redirect was due, no step refused, no login refused);
- every case a report created (its 302) is in the database exactly once, with its form's token;
- case numbers are unique, and for every township and month they run 1..N without a gap, N being
  the township's counter (``CaseCounter.last``): the seeded history and the new cases alike;
- the gunicorn and worker logs hold no traceback.

The median, 95th percentile, maximum and requests per second of each step go to the
"Load: 50 clerks for 5 minutes" section of docs/benchmarks.md (``--no-doc``: printed only).
"""

import argparse
import csv
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_steps import STEP_NAMES  # noqa: E402
from seed_demo import DOC, write_section  # noqa: E402

BEGIN, END = "<!-- load_cases:begin -->", "<!-- load_cases:end -->"
PASSWORD = "load-test-2026"
# gunicorn's access log: method, path, status and the time the worker spent on the request (µs),
# which leaves out the time a request waited for a free worker.
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
STEP_OF = [  # (method, path pattern, the locust name of the step)
    ("GET", re.compile(r"^/login/$"), "0 login page"),
    ("POST", re.compile(r"^/login/$"), "0 login"),
    ("GET", re.compile(r"^/grid/cases/new/$"), "1 report: open the form"),
    ("POST", re.compile(r"^/grid/cases/new/$"), "2 report: submit (上报)"),
    ("GET", re.compile(r"^/grid/cases/\d+/$"), "case page (after each step)"),
    ("GET", re.compile(r"^/grid/cases/$"), "10 case list"),
]


# --- In a Django child process: the clerks, then the check ------------------------------------------


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()


def make_clerks(count: int, out: Path) -> None:
    """``count`` township clerks over the townships in turn, written (with their grids) to ``out``."""
    django_setup()
    from django.contrib.auth.hashers import make_password

    from governance.models import Level, OrgUnit, Role, User
    from governance.roles import user_sync_permissions
    from governance.selectors import subtree_q
    from grid.models import CaseCategory

    townships = list(OrgUnit.objects.filter(level=Level.TOWNSHIP, is_active=True).order_by("code"))
    category = (CaseCategory.objects.filter(is_active=True, children__isnull=True, parent__isnull=False)
                .order_by("pk").first())
    hashed = make_password(PASSWORD)
    clerks = []
    for n in range(count):
        township = townships[n % len(townships)]
        user = User.objects.create(username=f"load_clerk_{n:02d}", password=hashed, role=Role.TOWNSHIP,
                                   home_unit=township, first_name=f"文员{n:02d}")
        user_sync_permissions(user)
        grids = list(OrgUnit.objects.filter(subtree_q(township), level__in=(Level.GRID, Level.MICRO_GRID),
                                            is_active=True).order_by("code").values_list("pk", flat=True)[:40])
        clerks.append({"username": user.username, "password": PASSWORD, "id": user.pk, "township": township.pk,
                       "grids": grids, "category": category.pk})
    out.write_text(json.dumps(clerks), encoding="utf-8")
    print(f"{count} clerks over {len(townships)} townships; category {category.code}")


def check(created_file: Path, out: Path) -> None:
    """The database after the run: every created case once, numbers unique and gapless per township-month."""
    django_setup()
    from collections import defaultdict

    from django.db.models import Count

    from grid.models import Case, CaseCounter, CaseEvent, CaseState

    created = [json.loads(line) for line in created_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    problems = []
    by_id = {row["id"]: row for row in created}
    if len(by_id) != len(created):
        problems.append(f"{len(created) - len(by_id)} case ids answered twice to different reports")
    found = {pk: str(token) for pk, token in Case.objects.filter(pk__in=by_id).values_list("pk", "token")}
    missing = sorted(set(by_id) - set(found))
    if missing:
        problems.append(f"{len(missing)} created cases missing from the database, e.g. {missing[:5]}")
    wrong_token = [pk for pk, token in found.items() if token != by_id[pk]["token"]]
    if wrong_token:
        problems.append(f"{len(wrong_token)} cases whose token is not their form's, e.g. {wrong_token[:5]}")
    tokens = [row["token"] for row in created]
    if len(set(tokens)) != len(tokens):
        problems.append("one form token created two cases")
    duplicates = list(Case.objects.values("number").annotate(n=Count("pk")).filter(n__gt=1)[:5])
    if duplicates:
        problems.append(f"duplicate case numbers: {duplicates}")
    # Every township-month: the sequence numbers 1..last, each once.
    sequences = defaultdict(list)
    for number in Case.objects.values_list("number", flat=True).iterator(chunk_size=20_000):
        sequences[number[:-5]].append(int(number[-5:]))
    counters = {f"{code[:9]}{month}": last for code, month, last in
                CaseCounter.objects.values_list("township__code", "month", "last")}
    gaps = []
    for prefix, seqs in sequences.items():
        last = counters.get(prefix)
        if last is None:
            gaps.append(f"{prefix}: no counter")
        elif sorted(seqs) != list(range(1, last + 1)):
            missing_seqs = sorted(set(range(1, last + 1)) - set(seqs))
            gaps.append(f"{prefix}: {len(seqs)} numbers up to {max(seqs)}, counter {last}, missing {missing_seqs[:5]}")
    for prefix, last in counters.items():
        if last and prefix not in sequences:
            gaps.append(f"{prefix}: counter {last} but no case")
    if gaps:
        problems.append(f"numbering gaps in {len(gaps)} township-months: {gaps[:5]}")
    states = dict(Case.objects.filter(pk__in=by_id).values_list("state").annotate(n=Count("pk")))
    closed = states.get(CaseState.CLOSED, 0)
    # Each case's loop: one event per step, in order, none twice (a step taken twice would show here).
    twice = (CaseEvent.objects.filter(case_id__in=by_id).values("case_id", "action").annotate(n=Count("pk"))
             .filter(n__gt=1).exclude(action="create").count())
    if twice:
        problems.append(f"{twice} (case, step) pairs recorded twice")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0].split()[0]
    result = {"pg": server_version, "created": len(created), "closed": closed, "states": states, "problems": problems,
              "numbers_checked": sum(len(s) for s in sequences.values()), "township_months": len(sequences)}
    out.write_text(json.dumps(result), encoding="utf-8")


# --- The run -------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict, **kwargs) -> None:
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, **kwargs)


def wait_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the portal did not answer at {url}")
        time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_times(path: Path) -> dict[str, tuple[float, float]]:
    """(median, p95) in ms of the worker's own time per step, from gunicorn's access log."""
    times: dict[str, list[float]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        method, url, _status, micros = parts
        name = next((n for m, pattern, n in STEP_OF if m == method and pattern.match(url)), None)
        step = re.match(r"^/grid/cases/\d+/([a-z]+)/$", url)
        if name is None and method == "POST" and step and step.group(1) in STEP_NAMES:
            name = STEP_NAMES[step.group(1)]
        if name is not None:
            times.setdefault(name, []).append(int(micros) / 1000)
            times.setdefault("Aggregated", []).append(int(micros) / 1000)

    def pick(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    return {name: (pick(values, 0.5), pick(values, 0.95)) for name, values in times.items()}


def read_stats(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def render(stats: list[dict], server: dict, args, elapsed: float) -> str:
    lines = [
        "| Step | Requests | Failures | Median (ms) | p95 (ms) | Max (ms) | Requests/s | Server median (ms) "
        "| Server p95 (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    def order(row):  # the steps in the loop's order (their names start with it), then the case page, then all
        number = row["Name"].split(" ", 1)[0]
        return (row["Name"] == "Aggregated", not number.isdigit(), int(number) if number.isdigit() else 0)

    for row in sorted(stats, key=order):
        name = "**All requests**" if row["Name"] == "Aggregated" else row["Name"]
        lines.append(
            f"| {name} | {int(row['Request Count']):,} | {int(row['Failure Count'])} | {row['50%']} | {row['95%']} "
            f"| {float(row['Max Response Time']):.0f} | {float(row['Requests/s']):.1f} "
            f"| {_ms(server, row['Name'], 0)} | {_ms(server, row['Name'], 1)} |"
        )
    return "\n".join(lines)


def _ms(server: dict, name: str, which: int) -> str:
    return f"{server[name][which]:.0f}" if name in server else "—"


SECTION = """## Load: 50 clerks for 5 minutes (`bench/load_cases.py`)

{users} township clerks (locust users, {think} s between two clicks) on the demo county, each
reporting a case through the portal's form and taking it round the whole loop on the case's page
(accept as a major matter → dispatch to his township, to himself → take and start → resolve →
verify → rate → close); after each step the browser loads the case page again, timed as its own
line. "Server" columns: the time a gunicorn worker spent on the request (its access log), without
the wait for a free worker. Stack on loopback: gunicorn with {workers} sync workers (`DEBUG=0`), PostgreSQL {pg} and
Redis (throwaway, `fsync=off`), one Celery worker (the outbox's follow-up of every step), on this
2-core machine, which also ran locust itself ({elapsed}; run of {date}; load average {load} before
and after the run, other work on the machine included).

{table}

Cases reported: {created:,}, of which {closed:,} went round to "closed" (the others were still in
the loop when the run stopped). Checks after the run: {failures} failed requests; every case a
report created is in the database once with its form's token; {numbers:,} case numbers over
{months} township-months are unique and run 1..N without a gap to each township's counter;
no step recorded twice; no traceback in the gunicorn or worker logs.{problems}

Reading it: one loop is 17 requests (the form, the report, 7 steps and 8 case pages, the list).
Each step locks the case's row; the report also locks its township's counter row for the month
(so that numbers have no gap), which serialises the reports of one township — 50 clerks over 14
townships, so 3-4 clerks share a counter.
"""


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    write_section(doc, BEGIN, END, f"{BEGIN}\n{text.rstrip()}\n{END}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="clerks (locust users); default 50")
    parser.add_argument("--spawn-rate", type=float, default=1,
                        help="users started a second; default 1 (50 clerks log in over 50 s, not at one instant)")
    parser.add_argument("--run-time", default=os.environ.get("LOAD_RUN_TIME", "5m"),
                        help="how long locust runs (e.g. 5m, 90s); default 5m or LOAD_RUN_TIME")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (2-4); default 3")
    parser.add_argument("--think", default="0.5,1.5", help="seconds between two clicks, min,max")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--make-clerks", nargs=2, metavar=("N", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--check", nargs=2, metavar=("CREATED", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_clerks:
        make_clerks(int(args.make_clerks[0]), Path(args.make_clerks[1]))
        return 0
    if args.check:
        check(Path(args.check[0]), Path(args.check[1]))
        return 0

    if not os.environ.get("LOAD_CASES_SERVERS"):
        # Once more, inside throwaway PostgreSQL + Redis servers (they stop when this run ends).
        os.environ["LOAD_CASES_SERVERS"] = "1"
        script = str(ROOT / "scripts" / "with-servers.sh")
        os.execv(script, [script, sys.executable, *sys.argv])
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("CELERY_BROKER_URL"):
        print("load_cases: PostgreSQL and Redis are needed (apt-get install postgresql redis-server)", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="yiwang-load-"))
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "STATIC_ROOT": str(tmp / "static"),
           "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
           "SECURE_HSTS_SECONDS": "0", "PYTHONUNBUFFERED": "1"}
    py = sys.executable
    t0 = time.monotonic()
    print("load_cases: migrate, collectstatic, seed the demo county ...", flush=True)
    run([py, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    run([py, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    run([py, "manage.py", "seed_demo", "--scale", "county", "--no-rollup", "--password", PASSWORD], env,
        stdout=subprocess.DEVNULL)
    clerks = tmp / "clerks.json"
    run([py, __file__, "--make-clerks", str(args.users), str(clerks)], env)
    print(f"load_cases: set up in {time.monotonic() - t0:.0f} s", flush=True)

    port = free_port()
    logs = {name: (tmp / f"{name}.log").open("w") for name in ("gunicorn", "worker")}
    worker = subprocess.Popen(
        [py, "-m", "celery", "-A", "governance", "worker", "--loglevel=WARNING", "--concurrency=1",
         "--without-gossip", "--without-mingle"],
        env=env, cwd=ROOT, stdout=logs["worker"], stderr=subprocess.STDOUT,
    )
    gunicorn = subprocess.Popen(
        [py, "-m", "gunicorn", "governance.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--timeout", "60", "--access-logfile", str(tmp / "access.log"),
         "--access-logformat", ACCESS_FORMAT],
        env=env, cwd=ROOT, stdout=logs["gunicorn"], stderr=subprocess.STDOUT,
    )
    host = f"http://127.0.0.1:{port}"
    created = tmp / "created.jsonl"
    created.touch()
    try:
        wait_up(f"{host}/login/")
        print(f"load_cases: locust, {args.users} users for {args.run_time} on {host} ...", flush=True)
        started = time.monotonic()
        load_before = os.getloadavg()[0]
        locust = subprocess.run(
            [py, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--users",
             str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", args.run_time, "--host", host,
             "--csv", str(tmp / "load"), "--stop-timeout", "20", "--only-summary", "--loglevel", "WARNING"],
            env={**env, "LOAD_CLERKS": str(clerks), "LOAD_CREATED": str(created), "LOAD_THINK": args.think},
            cwd=ROOT,
        )
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()[0]
    finally:
        stop(gunicorn)
        stop(worker)
        for log in logs.values():
            log.close()
    run([py, __file__, "--check", str(created), str(tmp / "check.json")], env)
    result = json.loads((tmp / "check.json").read_text(encoding="utf-8"))
    stats = read_stats(tmp / "load_stats.csv")
    failures = sum(int(row["Failure Count"]) for row in stats if row["Name"] != "Aggregated")
    problems = list(result["problems"])
    for name in ("gunicorn", "worker"):
        text = (tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        if "Traceback" in text:
            problems.append(f"tracebacks in the {name} log ({tmp / f'{name}.log'})")
    if failures:
        problems.append(f"{failures} failed requests (see {tmp / 'load_failures.csv'})")
    if locust.returncode not in (0, 1):
        problems.append(f"locust exited with {locust.returncode}")

    table = render(stats, server_times(tmp / "access.log"), args, elapsed)
    print(table)
    print(json.dumps({k: v for k, v in result.items() if k != "problems"}, ensure_ascii=False))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if not args.no_doc:
        write_doc(SECTION.format(
            users=args.users, think=args.think.replace(",", "–"), workers=args.workers, pg=result["pg"],
            elapsed=f"{elapsed / 60:.1f} min of load", load=f"{load_before:.1f} / {load_after:.1f}",
            date=time.strftime("%Y-%m-%d"), table=table,
            created=result["created"], closed=result["closed"], failures=failures,
            numbers=result["numbers_checked"], months=result["township_months"],
            problems="" if not problems else "\n\n**Problems:** " + "; ".join(problems),
        ))
        print(f"written to {DOC.relative_to(ROOT)}")
    print(f"load_cases: logs and CSVs in {tmp}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
