"""manage.py import_roster KIND FILE [--dry-run] [--user USERNAME]: import a roster file (.xlsx or .csv)."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.models import User
from governance.rosters import all_specs, roster_import


class Command(BaseCommand):
    @property
    def help(self):  # translated when the parser is built (argparse cannot take a lazy string)
        return _(
            "Import a roster from an Excel (.xlsx) or CSV file, all or nothing: every row is checked, "
            "and if any row has an error nothing is written. Rows are matched by their key (ID number, "
            "code, household number ...): existing rows are updated, never duplicated."
        )

    def add_arguments(self, parser):
        kinds = sorted(spec.kind for spec in all_specs() if spec.importable)
        parser.add_argument("kind", choices=kinds, help=_("Which roster the file holds."))
        parser.add_argument("file", help=_("The .xlsx or .csv file."))
        parser.add_argument("--dry-run", action="store_true", help=_("Check and report; write nothing."))
        parser.add_argument(
            "--user",
            help=_("Import as this user: only units and rows within his scope may be named or changed."),
        )
        parser.add_argument("--stats-file", help=_("Also write the counts and timing as JSON (for benchmarks)."))

    def handle(self, *args, kind, file, dry_run=False, user=None, stats_file=None, **options):
        importer = None
        if user:
            importer = User.objects.filter(username=user, is_active=True).first()
            if importer is None:
                raise CommandError(_("There is no active user %(user)s.") % {"user": user})
        try:
            with open(file, "rb") as handle:
                report = roster_import(
                    kind=kind, file=handle, user=importer, dry_run=dry_run, filename=file, parallel_read=True
                )
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror}) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(str(report))
        if stats_file:
            with open(stats_file, "w", encoding="utf-8") as out:
                json.dump(
                    {
                        "kind": report.kind, "rows": report.rows, "new": report.new, "changed": report.changed,
                        "unchanged": report.unchanged, "errors": len(report.errors), "written": report.written,
                        "seconds": round(report.elapsed, 3), "rows_per_s": round(report.rows_per_second),
                        "phases": report.phases,
                    },
                    out,
                )
        if report.errors:
            raise CommandError(
                ngettext(
                    "%(count)d error: nothing was written.", "%(count)d errors: nothing was written.",
                    len(report.errors),
                )
                % {"count": len(report.errors)}
            )
