import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance.audit.purge import audit_purge


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--before must be a date YYYY-MM-DD, got {text!r}") from None


class Command(BaseCommand):
    help = ("Delete audit events older than --before (YYYY-MM-DD). Refuses a date younger than "
            "AUDIT_RETENTION_DAYS (at least 180 days); the database refuses it too.")

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, type=_date, help="delete events before this day (YYYY-MM-DD)")

    def handle(self, *args, before, **options):
        try:
            deleted = audit_purge(before=before)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{deleted} audit events before {before.isoformat()} deleted")
