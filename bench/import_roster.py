#!/usr/bin/env python3
"""Benchmark the roster import and export: rows per second of ``manage.py import_roster``.

    .venv/bin/python bench/import_roster.py                      # PostgreSQL (throwaway server), 100,000 residents
    scripts/with-servers.sh .venv/bin/python bench/import_roster.py
    .venv/bin/python bench/import_roster.py --db sqlite --residents 20000 --no-doc

A fresh database is migrated and given a county (``import_divisions``: 10 townships of 10
villages). Then files are generated the way a clerk would fill the templates (.xlsx, the
headers in Chinese) and imported one after the other, each command in a child process:
grids and micro-grids, households, residents (about 2.9 per household, 1 in 10 with a tag),
party organisations and party members. Residents and party members are imported three
times: fresh inserts, the same file again (every row unchanged), and a file where every row
changed (a new phone number / work unit). Finally ``export_roster residents`` writes all
residents to an .xlsx file.

The files are written as Excel or WPS save a filled-in template: text in the shared-string
table, dates as date cells. *Import s* is the time the import reports itself (reading the file, every check, the
writes, the commit); *rows/s* is rows over that time. *Wall s* adds the interpreter and
Django start-up of the command. The results are printed and written to the
import_roster section of docs/benchmarks.md.
"""

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_demo import PostgresServer, _machine, write_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- import_roster:begin -->", "<!-- import_roster:end -->"
COUNTY = "513424"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(birth: date, seq: int) -> str:
    first17 = f"{COUNTY}{birth:%Y%m%d}{seq:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def write_xlsx(path: Path, headers: list[str], rows) -> int:
    """An .xlsx file as Excel or WPS saves a filled-in template: text in the shared-string table,
    dates as date cells (serial numbers with a date format)."""
    strings: dict[str, int] = {}
    body = []

    def ref(col: int, number: int) -> str:
        letters = ""
        col += 1
        while col:
            col, rest = divmod(col - 1, 26)
            letters = chr(65 + rest) + letters
        return f"{letters}{number}"

    def cell(col: int, number: int, value) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, date):
            return f'<c r="{ref(col, number)}" s="1"><v>{(value - date(1899, 12, 30)).days}</v></c>'
        text = str(value)
        index = strings.setdefault(text, len(strings))
        return f'<c r="{ref(col, number)}" t="s"><v>{index}</v></c>'

    count = 0
    for number, row in enumerate([headers, *rows], start=1):
        body.append(f'<row r="{number}">' + "".join(cell(i, number, v) for i, v in enumerate(row)) + "</row>")
        count += 1
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName='
            '"/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {main} xmlns:r="{rel}"><sheets><sheet name="Sheet1" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/styles" Target="styles.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {main}><fonts count="1"><font><sz val="11"/></font>'
            '</fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1">'
            '<border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="2">'
            '<xf numFmtId="0" xfId="0"/><xf numFmtId="14" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {main}><sheetData>{"".join(body)}</sheetData>'
            "</worksheet>",
        )
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst {main} count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{shared}</sst>',
        )
    return count - 1


class Files:
    """The generated county and its roster files (deterministic for a seed)."""

    def __init__(self, workdir: Path, residents: int, members: int, seed: int, headers: dict):
        self.dir = workdir
        self.headers = headers
        self.rng = random.Random(seed)
        self.villages = [(t, v) for t in range(1, 11) for v in range(1, 11)]
        self.micro_grids = []
        self.households = []
        self.people = []  # (id number, household number, name)
        self.n_residents = residents
        self.n_members = members

    def header(self, kind: str, names: str) -> list[str]:
        return [self.headers[kind][name] for name in names.split()]

    def village_code(self, t, v):
        return f"{COUNTY}{100 + t:03d}{200 + v:03d}"

    def divisions(self) -> Path:
        path = self.dir / "divisions.csv"
        lines = ["code,name", f"{COUNTY}000000,德昌县"]
        for t in range(1, 11):
            lines.append(f"{COUNTY}{100 + t:03d}000,第{t}镇")
        for t, v in self.villages:
            lines.append(f"{self.village_code(t, v)},第{t}镇第{v}村村民委员会")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def grids(self) -> Path:
        rows = []
        for t, v in self.villages:
            village = self.village_code(t, v)
            for g in range(1, 3):
                grid = f"{village}{g:03d}"
                rows.append([grid, f"第{t}镇第{v}村第{g}网格", "grid_standard", village, None, None, None, "是"])
                for m in range(1, 6):
                    micro = f"{grid}{m:02d}"
                    self.micro_grids.append(micro)
                    rows.append([micro, f"第{g}网格第{m}微网格", "micro_grid", grid, None, "27.4" + f"{m:04d}",
                                 "102.1" + f"{g:04d}", "是"])
        path = self.dir / "grids.xlsx"
        write_xlsx(path, self.header("grids", "code name kind parent short_name latitude longitude is_active"), rows)
        return path

    def households_file(self) -> Path:
        sizes = []
        total = 0
        while total < self.n_residents:
            size = min(self.rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)), self.n_residents - total)
            sizes.append(size)
            total += size
        rows = []
        for i, size in enumerate(sizes):
            micro = self.micro_grids[i % len(self.micro_grids)]
            number = f"{micro}{i // len(self.micro_grids) + 1:04d}"
            self.households.append((number, size))
            rows.append([number, f"{i % 12 + 1}组{i + 1}号", micro, "低保户" if i % 17 == 0 else None, "是"])
        path = self.dir / "households.xlsx"
        write_xlsx(path, self.header("households", "number address grid tags is_active"), rows)
        return path

    def residents_file(self, name: str, phone_offset: int = 0) -> Path:
        relations = ["head", "spouse", "child", "child", "parent"]
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
        given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
        if not self.people:
            seq = 0
            rng = random.Random(7)
            for number, size in self.households:
                for k in range(size):
                    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 30000))
                    seq += 1
                    person = id_number(birth, seq % 1000)
                    self.people.append((person, number, rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                                        relations[min(k, 4)]))
            # ID numbers must be unique: the sequence wraps at 1000 per birth date, so drop repeats.
            seen = set()
            unique = []
            for person in self.people:
                if person[0] not in seen:
                    seen.add(person[0])
                    unique.append(person)
            self.people = unique
        rows = (
            [person_name, person_id, household, f"138{(i + phone_offset) % 100_000_000:08d}", relation,
             "独居老人" if i % 10 == 0 else None, "是"]
            for i, (person_id, household, person_name, relation) in enumerate(self.people)
        )
        path = self.dir / name
        write_xlsx(path, self.header("residents", "name id_number household phone relation tags is_active"), rows)
        return path

    def party_organizations(self) -> Path:
        rows = []
        for t in range(1, 11):
            rows.append([f"第{t}镇党委", "committee", f"{COUNTY}{100 + t:03d}000", None, None, None, "是"])
        for t, v in self.villages:
            rows.append([f"第{t}镇第{v}村党支部", "branch", self.village_code(t, v), f"第{t}镇党委", None, None, "是"])
        path = self.dir / "party_organizations.xlsx"
        columns = "name kind org_unit parent parent_unit work_unit is_active"
        write_xlsx(path, self.header("party_organizations", columns), rows)
        return path

    def party_members(self, name: str, unit_suffix: str = "", shift: int = 0) -> Path:
        step = max(1, len(self.people) // self.n_members)
        chosen = self.people[::step][: self.n_members]
        rows = []
        for i, (person_id, household, _name, _relation) in enumerate(chosen):
            t, v = int(household[6:9]) - 100, int(household[9:12]) - 200
            in_service = i % 4 == 0
            rows.append([
                person_id, f"第{t}镇第{v}村党支部", None, "full" if i % 9 else "probationary",
                date(1980, 1, 1) + timedelta(days=i % 15000 + shift), "是" if in_service else "否",
                f"县财政局{unit_suffix}" if in_service else None, "否", "是",
            ])
        path = self.dir / name
        columns = "resident organization organization_unit status joined_on in_service work_unit is_mobile is_active"
        write_xlsx(path, self.header("party_members", columns), rows)
        return path


def run(manage, env, *args, stats=None) -> tuple[float, dict]:
    started = time.monotonic()
    result = subprocess.run([*manage, *args, *(["--stats-file", str(stats)] if stats else [])], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-5000:] + result.stderr[-5000:])
        raise SystemExit(f"failed: {' '.join(args)}")
    data = json.loads(Path(stats).read_text()) if stats else {"out": result.stdout}
    return wall, data


def bench(db: str, residents: int, members: int, seed: int, server, keep: bool = False) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix="yiwang-roster-bench-"))
    try:
        if db == "sqlite":
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            version = f"SQLite {sqlite3.sqlite_version}"
        else:
            url = server.fresh_database("bench_roster")
            version = server.version
        # DEBUG off as in production; the development keys of personal data (encryption costs the same).
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "REQUIRE_SECRET_KEY": "0", "REQUIRE_PII_KEYS": "0"}
        env.pop("CELERY_BROKER_URL", None)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
        subprocess.run(
            [*manage, "shell", "-c",
             "from governance.models import Tag\n"
             "Tag.objects.get_or_create(code='dibao', defaults={'name': '低保户', 'applies_to': 'household'})\n"
             "Tag.objects.get_or_create(code='alone', defaults={'name': '独居老人', 'applies_to': 'resident'})"],
            env=env, cwd=ROOT, check=True,
        )
        # The templates' headers, in the portal's language (as a clerk's filled-in template has them).
        printed = subprocess.run(
            [*manage, "shell", "-c",
             "import json\nfrom governance.rosters import all_specs\n"
             "print(json.dumps({s.kind: {c.name: str(c.header) for c in s.import_columns} for s in all_specs()}))"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )
        headers = json.loads(printed.stdout.strip().splitlines()[-1])
        files = Files(workdir, residents, members, seed, headers)
        subprocess.run([*manage, "import_divisions", str(files.divisions())], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        print("    generating files ...", flush=True)
        steps = [
            ("grids", files.grids(), "grids and micro-grids"),
            ("households", files.households_file(), "households"),
            ("residents", files.residents_file("residents.xlsx"), "residents, new"),
            ("residents", workdir / "residents.xlsx", "residents, unchanged"),
            ("residents", files.residents_file("residents_changed.xlsx", phone_offset=1), "residents, all changed"),
            ("party_organizations", files.party_organizations(), "party organisations"),
            ("party_members", files.party_members("members.xlsx"), "party members, new"),
            ("party_members", workdir / "members.xlsx", "party members, unchanged"),
            ("party_members", files.party_members("members_changed.xlsx", "二科", 1), "party members, all changed"),
        ]
        results = []
        load = os.getloadavg()[0]
        for kind, path, label in steps:
            stats = workdir / "stats.json"
            wall, data = run(manage, env, "import_roster", kind, str(path), stats=stats)
            results.append({
                "db": db, "db_version": version, "step": label, "rows": data["rows"], "new": data["new"],
                "changed": data["changed"], "unchanged": data["unchanged"], "import_s": data["seconds"],
                "rows_per_s": data["rows_per_s"], "wall_s": round(wall, 2),
                "steps": " · ".join(f"{name} {seconds:.1f}" for name, seconds in data.get("phases", {}).items()),
                "size_mb": round(path.stat().st_size / 2**20, 1), "load": round(load, 1),
                "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            })
            print(f"    {label}: {data['rows']:,} rows in {data['seconds']:.2f} s = {data['rows_per_s']:,} rows/s "
                  f"(wall {wall:.1f} s; {results[-1]['steps']})", flush=True)
        out = workdir / "export.xlsx"
        wall, data = run(manage, env, "export_roster", "residents", str(out))
        # The command reports its own time in the portal's language: take the last decimal number.
        seconds = float(re.findall(r"\d+\.\d+", data["out"])[-1])
        rows = len(files.people)
        results.append({
            "db": db, "db_version": version, "step": "export residents", "rows": rows, "new": "", "changed": "",
            "unchanged": "", "import_s": seconds, "rows_per_s": round(rows / seconds), "wall_s": round(wall, 2),
            "size_mb": round(out.stat().st_size / 2**20, 1), "load": round(load, 1),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        })
        print(f"    export residents: {rows:,} rows in {seconds:.2f} s (wall {wall:.1f} s)", flush=True)
        return results
    finally:
        if keep:
            print(f"    kept: DATABASE_URL={url} files in {workdir}", flush=True)
        else:
            if db == "postgres" and server:
                server.drop_database("bench_roster")
            shutil.rmtree(workdir, ignore_errors=True)


COLUMNS = [
    ("db", "database", "{}"),
    ("step", "file", "{}"),
    ("rows", "rows", "{:,}"),
    ("new", "new", "{:,}"),
    ("changed", "changed", "{:,}"),
    ("unchanged", "unchanged", "{:,}"),
    ("size_mb", "file MiB", "{:.1f}"),
    ("import_s", "import s", "{:.2f}"),
    ("rows_per_s", "rows/s", "{:,}"),
    ("wall_s", "wall s", "{:.1f}"),
    ("steps", "steps (s)", "{}"),
    ("load", "load avg", "{:.1f}"),
    ("db_version", "server", "{}"),
    ("date", "date", "{}"),
]


def _fmt(fmt: str, value) -> str:
    if value == "" or value is None:
        return ""
    return fmt.format(value)


def render_table(results: list[dict]) -> str:
    header = "| " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---:" if fmt.startswith("{:") else "---" for _, _, fmt in COLUMNS) + "|"
    lines = [header, rule]
    for result in results:
        lines.append("| " + " | ".join(_fmt(fmt, result.get(key, "")) for key, _, fmt in COLUMNS) + " |")
    return "\n".join(lines)


SECTION = """{begin}
## Roster import and export (`import_roster`, `export_roster`)

What is measured: `manage.py import_roster KIND FILE` for generated .xlsx files shaped like
the downloadable templates (their headers, and as Excel or WPS save them: text in the
shared-string table, dates as date cells), one after the other into a freshly migrated
database with one county (10 townships, 100 villages), run by `bench/import_roster.py`.
*Import s* is the time the import reports itself: reading the workbook, parsing and checking
every row (the model's `clean_fields()`/`clean()`, references, keys, scope, the rosters'
bulk rules), writing, committing; *rows/s* is rows over that time. *Wall s* adds the start
of the command (Python and Django). Residents and party members are imported fresh, then the
same file again (every row unchanged, nothing written), then a file where every row changed.
*Steps* split the import's own time: read (the workbook and every cell parsed), resolve
(references and existing rows loaded in bulk), check (instances built, `clean_fields()`,
`clean()`, the bulk rules, classification), write, commit (with the deferred foreign-key
checks). The last row is `export_roster residents` (all residents to .xlsx). PostgreSQL ran with
stock settings apart from `max_wal_size=4GB` (or the throwaway server of
`scripts/with-servers.sh`), on the same machine.

Machine: {machine}.

{table}

How it is fast (details in `governance/rosters.py` and `governance/tabular.py`):

- The workbook is read without openpyxl: its read-only mode spends about 20 µs per cell
  here (11-16 s for 100,000 rows of 7 columns, more than the whole budget); a regular
  expression over the sheet's XML, verified against the number of cells (with an expat
  fallback for unusual files), reads the same rows in about 2 s. `import_roster` reads a
  workbook over 1 MiB in a forked child process that sends the rows back in pickled
  batches, so the XML is parsed on the second core while the rows already read are checked.
- References (household numbers, codes, ID numbers) are resolved with one query per chunk
  of keys (`= ANY('{{...}}')`), existing rows loaded by key the same way: no query per
  row. Each row is still built as a model instance and checked field by field as
  `clean_fields()` would (a shortcut for valid text, Django's own `Field.clean()` for
  everything else, a choice or yes/no field once per distinct value) and by the model's
  `clean()`.
- The big rosters (households, residents, party members) are read, resolved and checked in
  chunks of 10,000 rows, and each checked chunk is written from a second thread while the
  next is read and checked (same connection and transaction, taking turns statement by
  statement: an error anywhere rolls everything back). New rows get their ids from the
  sequence and go in with `COPY`; changed rows are `COPY`-ed into a temporary table and
  written by one `UPDATE ... FROM` per chunk; foreign keys are checked as each chunk goes
  in rather than all at the commit; the history records are copied by the database itself
  (`INSERT ... SELECT`), into history tables indexed only by record and date.

Where the time goes (residents): with the reading moved to the child, Python spends about
3-5 s checking 100,000 rows (instances, field checks, the GB 11643 check digit and birth
date of `Resident.clean()`, comparisons with the stored rows). For new and changed rows the
server's own work (indexes, foreign-key checks, 100,000 history records; for changed rows
a non-HOT update of every row) is about as long again and is now the limit: the checking is
done first and waits for the writer (the *check* step includes that wait). Unchanged files
write nothing and are bound by Python alone. On this shared two-core VM the figures move
by about 10% between runs, and by more between days: the run of 2026-11-23 gave 9,600-11,000
rows/s for new and changed residents where the table's run gives 14,800-16,000.
- The export streams `values_list` rows in chunks of 2,000 into an .xlsx writer that
  writes the sheet XML directly (openpyxl's write-only mode takes about 15 s for 100,000
  rows here).

With personal data encrypted and every write audited (issue 16, measured 2026-12-06 on a quiet
machine, load average 0.9): every ID number and phone is encrypted (AES-256-GCM) and hashed
(HMAC-SHA256, the lookup column) as the row is written, and each new or changed row gets an audit
event from the table's trigger. The table above is this run. The machine itself was slower that
day than on 2026-12-02: the code as it was before issue 16 (commit 0a7331f), run the same hour, gave

| residents (PostgreSQL, 2026-12-06) | before issue 16 | first run with it | now | now / before |
|---|---:|---:|---:|---:|
| new | 10.3 s, 9,710 rows/s | 16.4 s, 6,081 rows/s | 14.4 s, 6,922 rows/s | 1.40× |
| unchanged | 7.4 s, 13,541 rows/s | 8.9 s, 11,221 rows/s | 9.0 s, 11,123 rows/s | 1.22× |
| all changed | 9.1 s, 11,028 rows/s | 31.3 s, 3,193 rows/s | 13.7 s, 7,308 rows/s | 1.51× |
| export | 2.9 s | 4.7 s | 4.6 s | 1.59× |

What the first run paid and what was changed (py-spy on both threads, PostgreSQL's statement log):

- The audit trigger's generic column diff (both rows as jsonb, compared key by key): 14 s of the
  31 s for 100,000 changed rows. Each table now has its own generated function that compares its
  columns directly (see "The audit triggers" below): +1.5 s per 100,000 updated rows.
- One `os.urandom()` per encrypted value: a system call that releases the interpreter lock, so the
  writer thread waited for the lock 200,000 times while the checking thread held it (1.2-2 s).
  Nonces now come from a per-thread pool filled 4,096 at a time (reset in a forked child).
- A changed row rewrote every column of the file, so every ID number was encrypted again and sent
  back; a batch now writes the columns that changed in any of its rows (a file of new phones
  rewrites phones and their hashes).
- Existing rows were decrypted to be compared (200,000 AES-GCM decryptions and the key decrypted
  twice): an encrypted column the file gives is no longer loaded, its value is compared with the
  stored lookup hash, and the rows are found by the hash of their key.

What is left is the work itself: 200,000 encryptions and hashes in the writer (about 1.3 s of
interpreter time next to the checking, on two cores that the reading child and the server share),
100,000 audit events with their four indexes (+0.6-1.9 s), and for existing rows the lookup by
100,000 hashes (64-character keys) in place of the ID numbers. Against the target of 10,000 rows/s
for 100,000 residents: unchanged files keep it (11,123 rows/s); new and changed rows reach 6,900 and
7,300 rows/s on this machine this day, where the code before issue 16 reached 9,710 and 11,028; on
the 2026-12-02 machine (1.6× faster for the same code) the same ratios give about 11,500 and 9,800.

{data}
{end}"""

DATA_PREFIX = "<!-- import_roster:data "


def update_doc(results: list[dict]) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\n"
    merged: dict[tuple[str, str], dict] = {}
    if BEGIN in text and END in text:
        section = text[text.index(BEGIN) : text.index(END) + len(END)]
        if DATA_PREFIX in section:
            raw = section[section.index(DATA_PREFIX) + len(DATA_PREFIX) :]
            for row in json.loads(raw[: raw.index(" -->")]):
                merged[(row["db"], row["step"])] = row
    for row in results:
        merged[(row["db"], row["step"])] = row
    order = [row["step"] for row in results]
    rows = sorted(merged.values(), key=lambda r: (r["db"] != "postgres", order.index(r["step"])
                                                  if r["step"] in order else 99))
    section = SECTION.format(
        begin=BEGIN, end=END, machine=_machine(), table=render_table(rows),
        data=DATA_PREFIX + json.dumps(rows, ensure_ascii=False) + " -->",
    )
    write_section(text, BEGIN, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgres", help="comma-separated: postgres,sqlite (default postgres)")
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--keep", action="store_true",
                        help="keep the files and the database (to profile a step); implies --no-doc")
    args = parser.parse_args()
    results = []
    server = None
    try:
        for db in args.db.split(","):
            if db not in ("postgres", "sqlite"):
                parser.error(f"unknown database {db}")
            if db == "postgres" and server is None:
                server = PostgresServer.from_env_or_start()
            print(f"--- roster import on {db} ...", flush=True)
            results += bench(db, args.residents, args.members, args.seed, server, keep=args.keep)
    finally:
        if server:
            server.stop()
    print()
    print(render_table(results))
    if not (args.no_doc or args.keep):
        update_doc(results)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
