#!/usr/bin/env python3
"""Benchmark ``manage.py seed_demo`` (its cases included): wall time, peak memory and rows per second.

    .venv/bin/python bench/seed_demo.py                       # county on SQLite, county + city on PostgreSQL
    .venv/bin/python bench/seed_demo.py --scales county --db sqlite
    DATABASE_URL=postgres://user@host:5432/any .venv/bin/python bench/seed_demo.py --db postgres

Every run gets a fresh database: a new SQLite file, or a new PostgreSQL database created
on the server that DATABASE_URL names or, without DATABASE_URL, on a throwaway server this
script starts (initdb into a temp dir with the distro's binaries, stopped and deleted at
the end). The fresh database is migrated first (not timed), then ``seed_demo`` runs in a
child process: its wall time and its peak RSS (``wait4`` rusage of that child alone; the
PostgreSQL server's own memory is not included) are measured. The results are printed and
merged into the seed_demo section of docs/benchmarks.md (other sections are left as they are).

Every seed here (and in the benchmarks that seed through ``seeded_database``: case_list, rollup)
is pinned to the same day, ``BENCH_TODAY`` (``seed_demo --today``): the demo's data depend on
the day seeded for, and runs on different days must measure the same rows.
"""

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- seed_demo:begin -->", "<!-- seed_demo:end -->"
DATA_PREFIX = "<!-- seed_demo:data "
DEFAULT_RUNS = [("sqlite", "county"), ("postgres", "county"), ("postgres", "city")]
PG_PORT = 55433
# The day every benchmark seeds for: its records run up to 2025-06-30, its indicators to June 2025.
BENCH_TODAY = "2025-07-01"
# The demo's cases and their steps (events), counted apart from the other rosters.
CASES, CASE_STEPS = "grid.Case", "grid.CaseEvent"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", help="comma-separated: small,county,city (default: see above)")
    parser.add_argument("--db", help="comma-separated: sqlite,postgres (default: see above)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    if args.scales is None and args.db is None:
        runs = DEFAULT_RUNS
    else:
        scales = (args.scales or "county,city").split(",")
        dbs = (args.db or "sqlite,postgres").split(",")
        runs = [(db, scale) for db in dbs for scale in scales]
    for db, scale in runs:
        if db not in ("sqlite", "postgres") or scale not in ("small", "county", "city"):
            parser.error(f"unknown database or scale: {db} {scale}")

    results = []
    server = None
    try:
        for db, scale in runs:
            if db == "postgres" and server is None:
                server = PostgresServer.from_env_or_start()
            print(f"--- seed_demo --scale {scale} on {db} ...", flush=True)
            result = run_one(db, scale, args.seed, server)
            results.append(result)
            print(f"    {result['wall_s']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MiB, "
                  f"{result['rows']:,} rows, {result['rows_per_s']:,.0f} rows/s", flush=True)
        if server:
            for result in results:
                if result["db"] == "postgres":
                    result["db_version"] = server.version
    finally:
        if server:
            server.stop()

    print()
    print(render_table(results))
    if not args.no_doc:
        update_doc(results)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0


def run_one(db: str, scale: str, seed: int, server: "PostgresServer | None") -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="yiwang-bench-"))
    try:
        if db == "sqlite":
            db_file = workdir / "bench.sqlite3"
            url = f"sqlite:///{db_file}"
            version = f"SQLite {sqlite3.sqlite_version}"
        else:
            url = server.fresh_database(f"bench_{scale}")
            version = server.version
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "REQUIRE_SECRET_KEY": "0", "REQUIRE_PII_KEYS": "0"}
        env.pop("CELERY_BROKER_URL", None)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)

        stats_file = workdir / "stats.json"
        log = workdir / "seed.log"
        command = [*manage, "seed_demo", "--scale", scale, "--seed", str(seed), "--today", BENCH_TODAY, "--no-rollup",
                   "--stats-file", str(stats_file)]
        load = os.getloadavg()[0]
        with open(log, "w") as out:
            started = time.monotonic()
            child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix in migrate's).
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.monotonic() - started
            child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.stdout.write(log.read_text())
            raise SystemExit(f"seed_demo --scale {scale} on {db} failed (exit {child.returncode})")
        stats = json.loads(stats_file.read_text())
        rosters = stats.get("rosters", {})
        cases, case_steps = rosters.get(CASES, 0), rosters.get(CASE_STEPS, 0)
        if db == "sqlite":
            size = db_file.stat().st_size
        else:
            size = server.database_size(f"bench_{scale}")
        return {
            "db": db,
            "db_version": version,
            "scale": scale,
            "seed": seed,
            "units": sum(stats["units"].values()),
            "households": stats["households"],
            "residents": stats["residents"],
            "cases": cases,
            "case_steps": case_steps,
            "roster_rows": sum(rosters.values()) - cases - case_steps,
            "rows": stats["rows"],
            "seed_s": stats["seconds"],
            "wall_s": round(wall, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
            "rows_per_s": round(stats["rows"] / wall),
            "db_size_mb": round(size / 2**20, 1),
            "steps": " · ".join(f"{name} {seconds:.1f}" for name, seconds in stats.get("phases", {}).items()),
            "load": round(load, 1),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        }
    finally:
        if db == "postgres" and server:
            server.drop_database(f"bench_{scale}")
        shutil.rmtree(workdir, ignore_errors=True)


class PostgresServer:
    """A PostgreSQL server to create benchmark databases on: DATABASE_URL's, or a throwaway one."""

    def __init__(self, admin_url: str, tmpdir: Path | None = None, bindir: Path | None = None, as_pg=()):
        self.admin_url = admin_url  # a URL whose database we can CREATE DATABASE from
        self.tmpdir = tmpdir
        self.bindir = bindir
        self._as_pg = list(as_pg)
        self.version = "PostgreSQL " + self._query("SHOW server_version").split()[0]

    @classmethod
    def from_env_or_start(cls) -> "PostgresServer":
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://", "pgsql://")):
            print(f"using the PostgreSQL server of DATABASE_URL ({urlsplit(url).hostname})")
            return cls(url)
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
        if not bins:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql) and DATABASE_URL is not set.")
        bindir = bins[-1].parent
        tmpdir = Path(tempfile.mkdtemp(prefix="yiwang-bench-pg-"))
        tmpdir.chmod(0o755)
        as_pg = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(tmpdir, "postgres")
            as_pg = ["runuser", "-u", "postgres", "--"]
        port = _free_port(PG_PORT)
        data = tmpdir / "data"
        subprocess.run(
            [*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "yiwang", "-A", "trust", "-E", "UTF8",
             "--locale=C.UTF-8"],
            check=True, stdout=subprocess.DEVNULL,
        )
        # Stock durability settings (fsync on); only the checkpoint distance is raised, as
        # any server that takes bulk loads would be configured.
        options = f"-p {port} -k {tmpdir} -c listen_addresses=127.0.0.1 -c max_wal_size=4GB"
        subprocess.run(
            [*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmpdir / "server.log"), "-w", "-t", "60",
             "-o", options, "start"],
            check=True, stdout=subprocess.DEVNULL,
        )
        print(f"started a throwaway PostgreSQL in {tmpdir} on port {port}")
        return cls(f"postgres://yiwang@127.0.0.1:{port}/postgres", tmpdir, bindir, as_pg)

    def _connect(self, url: str | None = None):
        import psycopg2

        parts = urlsplit(url or self.admin_url)
        connection = psycopg2.connect(
            host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password,
            dbname=parts.path.lstrip("/") or "postgres",
        )
        connection.autocommit = True
        return connection

    def _query(self, sql: str, params=()):
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()[0] if cursor.description else None
        finally:
            connection.close()

    def fresh_database(self, name: str) -> str:
        self.drop_database(name)
        self._query(f'CREATE DATABASE "{name}"')
        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))

    def drop_database(self, name: str) -> None:
        self._query(f'DROP DATABASE IF EXISTS "{name}"')

    def database_size(self, name: str) -> int:
        return self._query("SELECT pg_database_size(%s)", [name])

    def stop(self) -> None:
        if self.tmpdir is None:
            return
        subprocess.run(
            [*self._as_pg, str(self.bindir / "pg_ctl"), "-D", str(self.tmpdir / "data"), "-m", "fast", "stop"],
            check=False, stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def seeded_database(server: PostgresServer, name: str, scale: str) -> str:
    """A fresh database ``name`` on ``server``, migrated, filled by ``seed_demo --scale`` (for ``BENCH_TODAY``)
    and analysed; its URL.

    The demo users' password is ``bench``. Runs without a broker (the seed queues nothing).
    """
    python = str(ROOT / ".venv" / "bin" / "python")
    url = server.fresh_database(name)
    env = {**os.environ, "DATABASE_URL": url}
    for variable in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL"):
        env.pop(variable, None)
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    start = time.perf_counter()
    subprocess.run([python, "manage.py", "seed_demo", "--scale", scale, "--today", BENCH_TODAY, "--password", "bench",
                    "--no-rollup"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"seeded {scale} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    subprocess.run([python, "manage.py", "shell", "-c",
                    "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')"],
                   cwd=ROOT, env=env, check=True)
    return url


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise SystemExit("no free port")


COLUMNS = [
    ("db", "database", "{}"),
    ("scale", "scale", "{}"),
    ("units", "org units", "{:,}"),
    ("households", "households", "{:,}"),
    ("residents", "residents", "{:,}"),
    ("cases", "cases", "{:,}"),
    ("case_steps", "case steps", "{:,}"),
    ("roster_rows", "other roster rows", "{:,}"),
    ("rows", "rows inserted", "{:,}"),
    ("wall_s", "wall time (s)", "{:.1f}"),
    ("seed_s", "in seed (s)", "{:.1f}"),
    ("rows_per_s", "rows/s", "{:,}"),
    ("peak_rss_mb", "peak RSS (MiB)", "{:.0f}"),
    ("db_size_mb", "DB size (MiB)", "{:.0f}"),
    ("steps", "steps in seed (s)", "{}"),
    ("load", "load avg", "{:.1f}"),
    ("db_version", "server", "{}"),
    ("date", "date", "{}"),
]


def render_table(results: list[dict]) -> str:
    header = "| " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---:" if fmt.startswith("{:") else "---" for _, _, fmt in COLUMNS) + "|"
    lines = [header, rule]
    for result in results:
        lines.append("| " + " | ".join("–" if result.get(key) is None else fmt.format(result[key])
                                       for key, _, fmt in COLUMNS) + " |")
    return "\n".join(lines)


SECTION = """{begin}
## Seeding the demo data (`seed_demo`)

What is measured: `manage.py seed_demo --scale SCALE --no-rollup` into a freshly migrated,
empty database, run by `bench/seed_demo.py` (see bench/README.md): the whole demo, its cases
included. *Wall time* is the whole command, interpreter start-up included; *in seed* is the
time the command itself reports (tree, tags, households, residents, tag links, the rosters,
the cases, demo users, in one transaction). *Cases* and *case steps* are the demo's case
history (a year of cases up to the demo's "today", four years at `city` scale, about one case
a year for every two households) and the steps each went through (`CaseEvent`). *Other roster
rows* are the rest of what the apps' demo modules add: party organisations, members,
party-member households, double-report registrations and lists, micro-wishes, service
records, grid workers and liaison households, mediation records and case-number counters.
*Rows/s* is every inserted row (org units, households, residents, tag links, tags, rosters,
cases and their steps, users) divided by the wall time. *Peak RSS* is the seeding process
alone (the database server's memory is not counted). Not included: the thirteen months of
indicators `seed_demo` computes after the seed unless told `--no-rollup` (`make run` computes
them; a month costs what the rollup section below says). PostgreSQL ran with stock settings
apart from `max_wal_size=4GB`, on the same machine; SQLite is a local file.

Machine: {machine}.

{table}
{before_cases}
How the seed is fast (details in `governance/demo/writer.py`):

- The org tree goes in with one `bulk_create` per level, its MPTT `lft`/`rght` numbering
  computed in Python while planning: the same numbering `rebuild()` would give (a test
  compares them), so no rebuild runs.
- Households, residents and tag links get explicit ids and are streamed in chunks of 5,000
  households, so memory stays flat whatever the scale: `COPY ... FROM STDIN` on PostgreSQL,
  one prepared `executemany` INSERT on SQLite.
- On PostgreSQL the COPY runs in a writer thread, so the server ingests one chunk while
  Python generates the next, and the four tables' secondary indexes, unique constraints
  and foreign keys are dropped for the load and rebuilt once at the end (as pg_restore
  does), inside the same transaction.
- The rosters and the cases (`partybuild/demo/`, `grid/demo/`, plugged in through
  `governance/demo/hooks.py`) go in the same way: explicit ids, the same COPY/executemany
  writer, their tables' indexes and foreign keys dropped and rebuilt once on PostgreSQL.
  They read back only what they need (the residents tagged 党员, the tagged households,
  one township's adults at a time for the grid posts): the party members of the whole
  place are held in memory, never all its residents. The cases are planned and written one
  township at a time, each with its steps, from the plan and the seed alone.
- What remains is mostly Python generating the people (names, GB 11643 ID numbers,
  families) and the cases with their steps: the *households* and *cases* steps. *Steps*
  splits the seed's own time: tree (plan + org units), households (generate + load), indexes
  (PostgreSQL rebuild), the roster steps (party members, double report, wishes and services,
  grid workers), cases, roster indexes (PostgreSQL rebuild of the rosters' and cases'
  indexes), users (one password hash), commit. *Load avg* is the machine's 1-minute load
  before the run (other work shares the two cores).

{data}
{end}"""


def update_doc(results: list[dict]) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\n"
    merged: dict[tuple[str, str], dict] = {}
    if BEGIN in text and END in text:
        section = text[text.index(BEGIN) : text.index(END) + len(END)]
        if DATA_PREFIX in section:
            raw = section[section.index(DATA_PREFIX) + len(DATA_PREFIX) :]
            for row in json.loads(raw[: raw.index(" -->")]):
                merged[(row["db"], row["scale"])] = row
    for row in results:
        merged[(row["db"], row["scale"])] = row
    order = {"small": 0, "county": 1, "city": 2}
    rows = sorted(merged.values(), key=lambda r: (order[r["scale"]], r["db"] != "sqlite"))
    older = [f"{row['db']} {row['scale']}" for row in rows if row.get("cases") is None]
    before_cases = ""
    if older:
        before_cases = (f"\nThe rows with – for cases ({', '.join(older)}) were measured before the demo seeded "
                        "cases and predate them; the next run of `bench/seed_demo.py` replaces them.\n")
    section = SECTION.format(
        begin=BEGIN,
        end=END,
        machine=_machine(),
        table=render_table(rows),
        before_cases=before_cases,
        data=DATA_PREFIX + json.dumps(rows, ensure_ascii=False) + " -->",
    )
    write_section(text, BEGIN, END, section)


def write_section(text: str, begin: str, end: str, section: str) -> None:
    """Write docs/benchmarks.md (``text``) with ``section`` (its markers included) in place of the
    one between ``begin`` and ``end``, or appended; the other scripts' sections stay as they are."""
    if begin in text and end in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


def measure_in_child(script: str, server: "PostgresServer", url: str, runs: int, scale: str) -> dict:
    """Run ``script --measure URL --runs N`` in a child process (Django set up there, not here) and
    return the JSON it prints, with the run's circumstances: scale, runs, server, machine, load, day."""
    python = str(ROOT / ".venv" / "bin" / "python")
    child = subprocess.run([python, script, "--measure", url, "--runs", str(runs)],
                           cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    result = json.loads(child.stdout)
    result.update(scale=scale, runs=runs, db_version=server.version, machine=_machine(),
                  load=f"{os.getloadavg()[0]:.1f}", date=datetime.now().date().isoformat())
    return result


def _machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo") as fh:
            kib = int(fh.readline().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores{memory}, Python {platform.python_version()}, {platform.system()}"


if __name__ == "__main__":
    sys.exit(main())
