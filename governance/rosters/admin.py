"""Roster import and export in the admin: template download, import with preview, Excel export.

``RosterAdminMixin`` goes on a ``ScopedAdminMixin``-based ModelAdmin with ``roster_kind`` set to
a roster of ``governance.rosters``. It adds to the change list the buttons 下载模板 / 导入 /
导出Excel (keeping the buttons the list already has), an "export selected" action, and:

- the import page: the uploaded file is kept under ``MEDIA_ROOT/imports/`` with a random
  name recorded in the user's session, checked in full (a dry run) and shown as a preview:
  counts of new / changed / unchanged / error rows, every error with its row, column and
  message, the value read and the row's name, the first new and changed rows. Confirming imports
  the kept file (checked again, all or nothing) and deletes it, then opens the change list on
  the rows just written (``ImportedRowsFilter``). Only users with both add and change permission on
  the model may import; the rows they may name or change are those of their scope.
- the export of every row of the change list as currently filtered and searched (within
  the user's scope), for users with view permission.
"""

import os
import secrets
import time
from datetime import datetime
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.loader import get_template, select_template
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.rosters.checking import roster_import
from governance.rosters.export import export_response, template_response
from governance.rosters.report import SAMPLE_ROWS
from governance.rosters.specs import get_spec

MAX_UPLOAD = 64 * 1024 * 1024
ERRORS_SHOWN = 500
SESSION_KEY = "roster_imports"
UPLOAD_DIR = "imports"
STALE_AFTER = 24 * 3600  # kept files nobody confirmed are removed after a day
IMPORT_TEMPLATE = "admin/roster/import.html"
CHANGE_LIST_TEMPLATE = "admin/roster/change_list.html"
WRITTEN_SESSION_KEY = "roster_written"
WRITTEN_KEPT = 5  # the imports a user can still pick in the change list's filter
# How the rows an import wrote are filtered: runs of consecutive ids (a new batch is one run) and
# single ids. Beyond these the list opens unfiltered: an OR of thousands of ranges is slower than
# looking, and SQLite refuses expressions that deep.
WRITTEN_MAX_RUNS = 200
WRITTEN_MAX_SINGLES = 5000


def _runs(pks) -> list[list[int]]:
    """Sorted ids as [first, last] runs of consecutive ids."""
    runs: list[list[int]] = []
    for pk in sorted(set(pks)):
        if runs and pk == runs[-1][1] + 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return runs


def _remember_written(request, kind: str, pks) -> str | None:
    """Keep the ids an import wrote in the session; the token names them in the change list's filter
    (None when they are too scattered to filter by)."""
    runs = _runs(pks)
    ranges = sum(1 for first, last in runs if last > first)
    singles = len(runs) - ranges
    if not runs or ranges > WRITTEN_MAX_RUNS or singles > WRITTEN_MAX_SINGLES:
        return None
    token = secrets.token_urlsafe(6)
    entries = request.session.get(WRITTEN_SESSION_KEY, {})
    entries[token] = {"kind": kind, "runs": runs, "count": len(set(pks)), "at": timezone.now().isoformat()}
    newest = sorted(entries.items(), key=lambda item: item[1]["at"])[-WRITTEN_KEPT:]
    request.session[WRITTEN_SESSION_KEY] = dict(newest)
    return token


class ImportedRowsFilter(admin.SimpleListFilter):
    """The rows one of the user's recent imports added or changed (ids kept in his session)."""

    title = _("import")
    parameter_name = "imported"

    def lookups(self, request, model_admin):
        entries = request.session.get(WRITTEN_SESSION_KEY, {})
        kind = getattr(model_admin, "roster_kind", None)
        choices = [
            (token, gettext("%(at)s, %(count)d rows") % {
                "at": date_format(timezone.localtime(datetime.fromisoformat(entry["at"])), "Y-m-d H:i"),
                "count": entry["count"],
            })
            for token, entry in sorted(entries.items(), key=lambda item: item[1]["at"], reverse=True)
            if entry.get("kind") == kind
        ]
        asked = request.GET.get(self.parameter_name)
        if asked and asked not in entries:
            # Still a choice, so that the list filters (to nothing) rather than drop the parameter.
            choices.append((asked, gettext("An import this session no longer knows")))
        return choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        entry = request.session.get(WRITTEN_SESSION_KEY, {}).get(self.value())
        if entry is None:
            return queryset.none()  # an import of another session, or one long forgotten
        singles = [first for first, last in entry["runs"] if first == last]
        condition = Q(pk__in=singles)
        for first, last in entry["runs"]:
            if last > first:
                condition |= Q(pk__range=(first, last))
        return queryset.filter(condition)


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("An Excel workbook (.xlsx) or a CSV file with the template's columns."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise ValidationError(
                gettext("The file is larger than %(size)d MB.") % {"size": MAX_UPLOAD // (1024 * 1024)}
            )
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise ValidationError(gettext("Upload an .xlsx or .csv file."))
        return upload


def _upload_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _remove_stale_uploads(folder: Path) -> None:
    limit = time.time() - STALE_AFTER
    for entry in folder.iterdir():
        try:
            if entry.is_file() and entry.stat().st_mtime < limit:
                entry.unlink()
        except OSError:
            pass


class RosterAdminMixin:
    """Adds template download, import with preview, and Excel export to a scoped ModelAdmin."""

    roster_kind: str | None = None

    # --- URLs, buttons, action ----------------------------------------------------------

    def _roster_url_name(self, action: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_roster_{action}"

    def get_urls(self):
        urls = super().get_urls()
        if not self.roster_kind:
            return urls
        wrap = self.admin_site.admin_view
        return [
            path("roster/template/", wrap(self.roster_template_view), name=self._roster_url_name("template")),
            path("roster/import/", wrap(self.roster_import_view), name=self._roster_url_name("import")),
            path("roster/export/", wrap(self.roster_export_view), name=self._roster_url_name("export")),
        ] + urls

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return (*filters, ImportedRowsFilter) if self.roster_kind else filters

    def may_import_roster(self, request) -> bool:
        return bool(self.roster_kind) and get_spec(self.roster_kind).importable and (
            self.has_add_permission(request) and self.has_change_permission(request)
        )

    def may_export_roster(self, request) -> bool:
        return bool(self.roster_kind) and self.has_view_permission(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.may_export_roster(request):
            actions["export_roster_selected"] = (
                RosterAdminMixin.export_roster_selected,
                "export_roster_selected",
                gettext("Export selected %(items)s to Excel") % {"items": self.opts.verbose_name_plural},
            )
        return actions

    def export_roster_selected(self, request, queryset):
        if not self.may_export_roster(request):
            raise PermissionDenied
        return export_response(
            request=request, kind=self.roster_kind, queryset=queryset,
            filters={"selected": [str(pk) for pk in queryset.values_list("pk", flat=True)[:1000]]},
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if not self.roster_kind or not isinstance(response, TemplateResponse) or response.is_rendered:
            return response
        base = response.template_name
        # The list keeps its own template (the mptt tree, the division import button ...): ours extends it.
        parent = select_template(base) if isinstance(base, list | tuple) else get_template(base)
        response.context_data.update(
            roster_base_template=parent,
            roster_may_import=self.may_import_roster(request),
            roster_may_export=self.may_export_roster(request),
            roster_template_url=reverse(f"admin:{self._roster_url_name('template')}"),
            roster_import_url=reverse(f"admin:{self._roster_url_name('import')}"),
            roster_export_url=reverse(f"admin:{self._roster_url_name('export')}"),
            roster_query=request.GET.urlencode(),
        )
        response.template_name = CHANGE_LIST_TEMPLATE
        return response

    # --- Views ---------------------------------------------------------------------------

    def roster_template_view(self, request):
        if not self.may_export_roster(request) and not self.may_import_roster(request):
            raise PermissionDenied
        return template_response(self.roster_kind, request.user)

    def roster_export_view(self, request):
        if not self.may_export_roster(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(self._changelist_url())
        return export_response(request=request, kind=self.roster_kind, queryset=changelist.queryset)

    def _changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def _context(self, request, **extra):
        spec = get_spec(self.roster_kind)
        return {
            **self.admin_site.each_context(request),
            "title": gettext("Import %(roster)s") % {"roster": spec.label},
            "opts": self.opts,
            "spec": spec,
            "changelist_url": self._changelist_url(),
            "template_url": reverse(f"admin:{self._roster_url_name('template')}"),
            "errors_shown": ERRORS_SHOWN,
            "sample_rows": SAMPLE_ROWS,
            **extra,
        }

    def roster_import_view(self, request):
        if not self.may_import_roster(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("token"):
            return self._roster_confirm(request, request.POST["token"])
        if request.method == "POST":
            form = RosterUploadForm(request.POST, request.FILES)
            if form.is_valid():
                return self._roster_preview(request, form.cleaned_data["file"])
        else:
            form = RosterUploadForm()
        return TemplateResponse(request, IMPORT_TEMPLATE, self._context(request, form=form))

    def _roster_preview(self, request, upload):
        folder = _upload_dir()
        _remove_stale_uploads(folder)
        token = secrets.token_urlsafe(18)
        suffix = Path(upload.name).suffix.lower()
        stored = folder / f"{token}{suffix}"
        with open(stored, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        report = roster_import(
            kind=self.roster_kind, file=str(stored), user=request.user, dry_run=True, filename=upload.name
        )
        context = {
            "report": report, "form": RosterUploadForm(), "errors_hidden": max(0, len(report.errors) - ERRORS_SHOWN)
        }
        if report.ok and (report.new or report.changed):
            entries = request.session.get(SESSION_KEY, {})
            entries[token] = {"kind": self.roster_kind, "path": stored.name, "name": upload.name}
            request.session[SESSION_KEY] = entries
            context["token"] = token
        else:
            stored.unlink(missing_ok=True)
        return TemplateResponse(request, IMPORT_TEMPLATE, self._context(request, **context))

    def _roster_confirm(self, request, token: str):
        entries = request.session.get(SESSION_KEY, {})
        entry = entries.get(token)
        if not entry or entry.get("kind") != self.roster_kind:
            self.message_user(request, gettext("That upload has expired: upload the file again."), messages.ERROR)
            return HttpResponseRedirect(request.path)
        stored = _upload_dir() / os.path.basename(entry["path"])
        if not stored.exists():
            entries.pop(token, None)
            request.session[SESSION_KEY] = entries
            self.message_user(request, gettext("That upload has expired: upload the file again."), messages.ERROR)
            return HttpResponseRedirect(request.path)
        report = roster_import(kind=self.roster_kind, file=str(stored), user=request.user, filename=entry["name"])
        entries.pop(token, None)
        request.session[SESSION_KEY] = entries
        stored.unlink(missing_ok=True)
        if not report.ok:
            context = {"report": report, "form": RosterUploadForm(),
                       "errors_hidden": max(0, len(report.errors) - ERRORS_SHOWN)}
            return TemplateResponse(request, IMPORT_TEMPLATE, self._context(request, **context))
        token = _remember_written(request, self.roster_kind, report.written_pks)
        shown = gettext("The list shows the rows just written.") if token else ""
        self.message_user(request, f"{report.status()} {report.counts_line()} {shown}".strip(), messages.SUCCESS)
        url = self._changelist_url()
        return HttpResponseRedirect(f"{url}?{ImportedRowsFilter.parameter_name}={token}" if token else url)
