"""manage.py restore FILE [--yes]: put back the database and the attachments of a backup (make restore FILE=...).

Refuses, with a message and before touching anything, a file that is not a Yiwang backup, a
backup of the other database kind, and a backup written by newer code (migrations this code does
not have). PostgreSQL: pg_restore --clean in one transaction (all or nothing). SQLite: SQLite's
backup API copies the saved database over the live one. The attachment folders are replaced by
the backup's. The row counts are then checked against the manifest.
"""

import json
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

from governance.management.commands import _archive as archive


class Command(BaseCommand):
    help = "Replace the database and the attachments with those of a backup made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .tar.gz written by manage.py backup.")
        parser.add_argument("--yes", action="store_true", help="Do not ask: replace the current data.")

    def handle(self, *args, file, yes, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(file)s") % {"file": path})
        manifest = read_manifest(path)
        kind = archive.database_kind()
        if manifest["database"] != kind:
            raise CommandError(_("This backup is of a %(backup)s database; the portal runs on %(current)s. "
                                 "Restore it into a portal on %(backup)s.")
                               % {"backup": manifest["database"], "current": kind})
        connection.ensure_connection()
        newer = sorted(set(manifest["version"]["migrations"]) - known_migrations())
        if newer:
            raise CommandError(_("This backup was written by a newer version of the portal (migrations it does not "
                                 "have: %(names)s). Update the code first.") % {"names": ", ".join(newer[:5])})
        if not yes:
            self.confirm(path, manifest)

        with tempfile.TemporaryDirectory(prefix="yiwang-restore-") as tmp:
            work = Path(tmp)
            with tarfile.open(path, "r:gz") as tar:
                # The "data" filter refuses absolute paths, "..", links and devices: a crafted archive
                # cannot write outside the temp folder.
                tar.extractall(work, filter="data")
            database_file = work / manifest["database_file"]
            if not database_file.is_file():
                raise CommandError(_("The backup has no database file (%(name)s).") % {"name": database_file.name})
            if kind == "postgresql":
                restore_postgresql(database_file)
            else:
                restore_sqlite(database_file)
            for name, setting in archive.FILE_ROOTS.items():
                replace_folder(Path(getattr(settings, setting)), work / name)

        with connection.cursor() as cursor:
            counts = archive.table_counts(cursor, kind)
        wrong = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
        if wrong:
            details = "; ".join(f"{t}: {want} → {got}" for t, (want, got) in sorted(wrong.items())[:10])
            raise CommandError(_("Restored, but the row counts differ from the backup's: %(details)s")
                               % {"details": details})
        self.stdout.write(_("Restored %(file)s (made %(created)s): %(tables)d tables, %(rows)d rows, %(files)d files.")
                          % {"file": path.name, "created": manifest["created"], "tables": len(manifest["tables"]),
                             "rows": sum(manifest["tables"].values()), "files": sum(manifest["files"].values())})
        if known_migrations() - set(manifest["version"]["migrations"]):
            self.stdout.write(_("The code has migrations the backup predates: run `manage.py migrate` now."))

    def confirm(self, path: Path, manifest: dict):
        if not sys.stdin.isatty():
            raise CommandError(_("Restoring replaces the current database and attachments: add --yes "
                                 "(make restore FILE=... YES=1)."))
        self.stdout.write(_("This replaces the current database and attachments with the backup of %(created)s "
                            "(%(file)s). Type yes to go on: ") % {"created": manifest["created"], "file": path.name},
                          ending="")
        if input().strip().lower() != "yes":
            raise CommandError(_("Nothing was restored."))


def read_manifest(path: Path) -> dict:
    """The backup's manifest, or a clear refusal when the file is not a Yiwang backup."""
    refusal = CommandError(_("%(file)s is not a Yiwang backup (a .tar.gz written by `manage.py backup`, "
                             "with manifest.json first). Nothing was changed.") % {"file": path.name})
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != archive.MANIFEST or not first.isfile() or first.size > 10 * 2**20:
                raise refusal
            manifest = json.load(tar.extractfile(first))
    except (tarfile.TarError, OSError, EOFError, ValueError, UnicodeDecodeError):
        raise refusal from None
    if not isinstance(manifest, dict) or manifest.get("format") != archive.FORMAT:
        raise refusal
    if manifest.get("format_version", 0) > archive.FORMAT_VERSION:
        raise CommandError(_("This backup's format (%(version)s) is newer than this portal reads: update the code.")
                           % {"version": manifest.get("format_version")})
    for key in ("database", "database_file", "tables", "files", "version", "created"):
        if key not in manifest:
            raise refusal
    return manifest


def known_migrations() -> set[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def restore_postgresql(dump: Path):
    try:
        pg_restore = archive.pg_tool("pg_restore")
    except FileNotFoundError:
        raise CommandError(_("pg_restore is not installed (apt-get install postgresql-client).")) from None
    args, env = archive.pg_env()
    connections.close_all()  # our own session must not hold a lock on a table being replaced
    done = subprocess.run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                           "--exit-on-error", *args, str(dump)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise CommandError(_("pg_restore failed, nothing was changed: %(error)s")
                           % {"error": done.stderr.strip()[-2000:]})


def restore_sqlite(copy: Path):
    connection.ensure_connection()
    source = sqlite3.connect(copy)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def replace_folder(root: Path, saved: Path):
    """Make ``root`` hold exactly the backup's files (nothing when the backup had none)."""
    root.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if saved.is_dir():
        for child in saved.iterdir():
            shutil.move(str(child), str(root / child.name))
