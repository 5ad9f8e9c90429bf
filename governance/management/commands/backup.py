"""manage.py backup [--output-dir DIR]: the database and the attachments in one .tar.gz (make backup)."""

import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.management.commands import _archive as archive


class Command(BaseCommand):
    help = "Back up the database (pg_dump -Fc or a SQLite copy) and the attachments into one .tar.gz with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", default=str(settings.BASE_DIR / "var" / "backups"),
                            help="Where the archive is written (default var/backups/).")

    def handle(self, *args, output_dir, **options):
        kind = archive.database_kind()
        if kind not in {"postgresql", "sqlite"}:
            raise CommandError(_("Backups support PostgreSQL and SQLite, not %(kind)s.") % {"kind": kind})
        out_dir = Path(output_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        target = out_dir / f"yiwang-{kind}-{now:%Y%m%d-%H%M%S}.tar.gz"
        with tempfile.TemporaryDirectory(prefix="yiwang-backup-") as tmp:
            work = Path(tmp)
            if kind == "postgresql":
                counts = self.dump_postgresql(work / "database.dump")
            else:
                counts = self.copy_sqlite(work / "database.sqlite3")
            files = {name: archive.count_files(Path(getattr(settings, setting)))
                     for name, setting in archive.FILE_ROOTS.items()}
            manifest = {
                "format": archive.FORMAT,
                "format_version": archive.FORMAT_VERSION,
                "created": now.isoformat(),
                "database": kind,
                "database_file": "database.dump" if kind == "postgresql" else "database.sqlite3",
                "tables": counts,
                "files": files,
                "version": {"code": archive.code_version(), "django": django.get_version(),
                            "migrations": archive.applied_migrations()},
            }
            (work / archive.MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
            partial = target.with_name(target.name + ".part")
            # Backups hold personal data: readable by their owner only.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                tar.add(work / archive.MANIFEST, arcname=archive.MANIFEST)  # first: restore checks it first
                tar.add(work / manifest["database_file"], arcname=manifest["database_file"])
                for name, setting in archive.FILE_ROOTS.items():
                    root = Path(getattr(settings, setting))
                    if root.is_dir():
                        tar.add(root, arcname=name)
            partial.rename(target)
        rows = sum(counts.values())
        self.stdout.write(_("Backup written: %(file)s (%(tables)d tables, %(rows)d rows, %(files)d files, %(size)s)")
                          % {"file": target, "tables": len(counts), "rows": rows, "files": sum(files.values()),
                             "size": _size(target.stat().st_size)})
        return None

    def dump_postgresql(self, path: Path) -> dict[str, int]:
        """pg_dump -Fc from the snapshot the row counts are read in."""
        connection.ensure_connection()
        try:
            pg_dump = archive.pg_tool("pg_dump")
        except FileNotFoundError:
            raise CommandError(_("pg_dump is not installed (apt-get install postgresql-client).")) from None
        args, env = archive.pg_env()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = archive.table_counts(cursor, "postgresql")
            done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                                   "--file", str(path), *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise CommandError(_("pg_dump failed: %(error)s") % {"error": done.stderr.strip()[-2000:]})
        return counts

    def copy_sqlite(self, path: Path) -> dict[str, int]:
        """SQLite's online backup API: a consistent copy even while the portal writes."""
        connection.ensure_connection()
        copy = sqlite3.connect(path)
        try:
            connection.connection.backup(copy)
            counts = archive.table_counts(copy.cursor(), "sqlite")
        finally:
            copy.close()
        return counts


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)

