"""make backup / make restore: a county backed up, lost, and put back as it was (SQLite and PostgreSQL).

The database is really lost between the two (every table dropped, the attachments deleted), so the
restore has to bring back the schema, the rows, the sequences and the files.
"""

import io
import json
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from governance.management.commands import _archive as archive
from grid.models import Case, CaseAttachment

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot() -> dict:
    """What a restore must bring back: rows of every table, the cases' checksum, every file's bytes."""
    with connection.cursor() as cursor:
        counts = archive.table_counts(cursor, archive.database_kind())
        checksum = archive.table_checksum(cursor, Case._meta.db_table)
    files = {}
    for name, setting in archive.FILE_ROOTS.items():
        root = Path(getattr(settings, setting))
        files |= {f"{name}/{p.relative_to(root)}": p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return {"counts": counts, "cases": checksum, "files": files}


def lose_everything():
    """The disaster: every table dropped, every attachment deleted."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in archive.table_names(cursor, "sqlite"):
                cursor.execute(f'DROP TABLE "{table}"')
            cursor.execute("PRAGMA foreign_keys = ON")
    for setting in archive.FILE_ROOTS.values():
        for p in sorted(Path(getattr(settings, setting)).rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()


@pytest.fixture
def media(settings, tmp_path):
    """MEDIA_ROOT in a temp folder (the restore replaces it), with a file in it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "logos").mkdir(parents=True)
    (settings.MEDIA_ROOT / "logos" / "county.png").write_bytes(b"\x89PNG logo")
    return settings.MEDIA_ROOT


def test_a_backup_brings_back_every_row_and_attachment(county, media, tmp_path):
    attachment = CaseAttachment.objects.first()
    assert attachment is not None and Case.objects.count() >= 2
    attachment_bytes = attachment.file.read()
    attachment.file.close()
    last_id = Case.objects.order_by("-id").first().pk
    before = snapshot()
    assert before["counts"][Case._meta.db_table] == Case.objects.count()

    out = io.StringIO()
    call_command("backup", output_dir=str(tmp_path / "backups"), stdout=out)
    [backup] = (tmp_path / "backups").glob("yiwang-*.tar.gz")
    assert oct(backup.stat().st_mode & 0o777) == "0o600"  # personal data: its owner only
    with tarfile.open(backup) as tar:
        manifest = json.load(tar.extractfile(tar.getmembers()[0]))
        names = tar.getnames()
    assert manifest["format"] == "yiwang-backup" and manifest["database"] == archive.database_kind()
    assert manifest["tables"] == before["counts"]
    assert f"private/{attachment.file.name}" in names and "media/logos/county.png" in names

    lose_everything()
    with connection.cursor() as cursor:
        assert archive.table_names(cursor, archive.database_kind()) == []
    assert snapshot_files() == set()

    call_command("restore", str(backup), yes=True, stdout=io.StringIO())

    after = snapshot()
    assert after["counts"] == before["counts"]
    assert after["cases"] == before["cases"]
    assert after["files"] == before["files"]
    restored = CaseAttachment.objects.get(pk=attachment.pk)
    assert restored.file.read() == attachment_bytes
    restored.file.close()
    # The sequences came back too: a new case does not collide with a restored one.
    case = Case.objects.order_by("-id").first()
    case.pk = None
    case.number = "R0000000001"
    case.save()
    assert case.pk > last_id


def snapshot_files():
    return {p for s in archive.FILE_ROOTS.values() for p in Path(getattr(settings, s)).rglob("*") if p.is_file()}


@pytest.mark.parametrize("content", [
    b"not an archive at all",
    "tar without manifest",
    "tar with another manifest",
])
def test_restore_refuses_a_file_that_is_not_a_yiwang_backup(county, tmp_path, content):
    path = tmp_path / "suspicious.tar.gz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with tarfile.open(path, "w:gz") as tar:
            payload = json.dumps({"format": "something-else"}).encode()
            info = tarfile.TarInfo("manifest.json" if "another" in content else "database.sqlite3")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    cases = Case.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(path), yes=True)
    assert "suspicious.tar.gz" in str(refused.value) and "manage.py backup" in str(refused.value)
    assert Case.objects.count() == cases  # nothing touched
