"""manage.py export_roster KIND OUT.xlsx [--user USERNAME]: export a roster to an Excel file."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from governance.models import User
from governance.rosters import all_specs, get_spec, roster_export


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Export a roster to an Excel (.xlsx) file. With --user, only that user's scope is exported, "
            "personal data masked as his role requires, and the export is logged."
        )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(spec.kind for spec in all_specs()), help=_("Which roster."))
        parser.add_argument("out", help=_("The .xlsx file to write."))
        parser.add_argument("--user", help=_("Export as this user (his scope, his masking; logged)."))

    def handle(self, *args, kind, out, user=None, **options):
        exporter = None
        if user:
            exporter = User.objects.filter(username=user, is_active=True).first()
            if exporter is None:
                raise CommandError(_("There is no active user %(user)s.") % {"user": user})
        started = time.monotonic()
        try:
            spec = get_spec(kind)
            content = roster_export(kind=kind, queryset=spec.model._default_manager.all(), user=exporter)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        try:
            with open(out, "wb") as handle:
                handle.write(content)
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(error)s") % {"file": out, "error": exc.strerror}) from None
        self.stdout.write(
            _("%(file)s written (%(size)d KB) in %(seconds).1f s.")
            % {"file": out, "size": len(content) // 1024, "seconds": time.monotonic() - started}
        )
