"""The backup archive shared by `manage.py backup` and `manage.py restore` (not a command itself).

One .tar.gz holds:
    manifest.json        format marker, time, database kind, row counts per table, version
    database.dump        PostgreSQL: pg_dump -Fc (custom format, for pg_restore --clean)
    database.sqlite3     SQLite: a consistent copy made with SQLite's online backup API
    private/...          PRIVATE_MEDIA_ROOT (case attachments and other scoped files)
    media/...            MEDIA_ROOT

PostgreSQL's dump and the row counts come from one snapshot (a REPEATABLE READ transaction
exports it, pg_dump --snapshot uses it), so the manifest counts exactly what the dump holds.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "yiwang-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Which settings' folders the archive carries, under which name.
FILE_ROOTS = {"private": "PRIVATE_MEDIA_ROOT", "media": "MEDIA_ROOT"}


def database_kind() -> str:
    return {"postgresql": "postgresql", "sqlite": "sqlite"}.get(connection.vendor, connection.vendor)


def table_names(cursor, kind: str) -> list[str]:
    """Every table of the database, Django's or not (SQLite's own sqlite_* excepted)."""
    if kind == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def table_counts(cursor, kind: str) -> dict[str, int]:
    """Rows of every table, by name (``cursor`` may be a plain DB-API cursor of another connection)."""
    counts = {}
    for table in table_names(cursor, kind):
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def table_checksum(cursor, table: str) -> str:
    """SHA-256 of a table's rows, ordered by id, all columns (the restore test compares it)."""
    cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY id")
    digest = hashlib.sha256()
    for row in cursor.fetchall():
        digest.update(repr(tuple(str(v) for v in row)).encode())
    return digest.hexdigest()


def applied_migrations() -> list[str]:
    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def code_version() -> str:
    """The commit of the code that wrote the backup, when it runs from a git checkout."""
    try:
        done = subprocess.run(["git", "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)
    except OSError:
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def pg_env() -> tuple[list[str], dict]:
    """libpq connection options of the default database, for pg_dump and pg_restore."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def pg_tool(name: str) -> str:
    """pg_dump/pg_restore of the server's major version when the distro has several, else the one on PATH."""
    major = connection.pg_version // 10000 if connection.pg_version else 0
    candidate = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(name)
    return found


def count_files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0
