"""manage.py import_divisions FILE [--county CODE] [--dry-run]: onboard a county from the official code list."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from governance.divisions import divisions_import


class Command(BaseCommand):
    help = (
        "Import the statistical division code list (CSV with code and name columns, UTF-8 or GB18030): "
        "creates or updates counties, townships and villages/communities. All or nothing per file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file of the division code list.")
        parser.add_argument(
            "--county", help="Import only this county (6 or 12 digits) from a province-wide file."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")

    def handle(self, *args, file, county=None, dry_run=False, **options):
        try:
            with open(file, "rb") as handle:
                report = divisions_import(file=handle, county=county, dry_run=dry_run)
        except OSError as exc:
            message = gettext("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror}
            raise CommandError(message) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(str(report))
        if report.rejected:
            raise CommandError(
                ngettext(
                    "%(count)d row rejected: nothing was written.",
                    "%(count)d rows rejected: nothing was written.",
                    report.rejected_row_count,
                )
                % {"count": report.rejected_row_count}
            )
