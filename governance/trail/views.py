"""The administrators' audit trail page (/audit/): search, filter, page through and export (Excel).

Administrators only: anyone else gets a 403. The page reads a constant number of queries
whatever its length (the events, their count, the units they name, the township choices).
Nothing here writes an event except the export, which is recorded like every export.
"""

import io

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import ListView

from governance.audit import Action
from governance.audit.selectors import can_read_trail, trail_events, units_named
from governance.models import ExportLog
from governance.portal.views import ExportMixin
from governance.rosters import export_filters
from governance.rosters.xlsx import XlsxWriter, xlsx_response
from governance.trail.forms import TrailFilterForm

EXPORT_MAX_ROWS = 100_000
WIDTHS = [18, 22, 16, 12, 24, 10, 28, 60, 40, 8]


class TrailView(LoginRequiredMixin, ExportMixin, ListView):
    template_name = "audit/trail.html"
    paginate_by = 50
    export_kind = "audit-trail"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_read_trail(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        self.filter_form = TrailFilterForm(self.request.GET or None, user=self.request.user)
        return trail_events(fetched_by=self.request.user, **self.filter_form.filters())

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        events = list(context["object_list"])
        units = units_named(events)
        for event in events:
            event.unit = units.get(event.org_unit_id)
        context.update(events=events, filter_form=self.filter_form, actions=dict(Action.choices))
        page = context["page_obj"]
        context["page_range"] = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        return context

    def export(self):
        buffer = io.BytesIO()
        writer = XlsxWriter(buffer)
        headers = [_("At"), _("Actor"), _("Address"), _("Action"), _("Object type"), _("Object id"), _("Object"),
                   _("Changes"), _("Detail"), _("Source")]
        labels = dict(Action.choices)
        with writer.sheet(_("Audit trail"), headers, WIDTHS) as sheet:
            for event in self.get_queryset()[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
                sheet.append([
                    timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"), event.actor, event.address,
                    str(labels.get(event.action, event.action)), event.object_type, event.object_id,
                    event.object_repr, _changes_text(event.changes), event.detail, event.source,
                ])
        writer.close()
        # The export is an event of the trail too (ExportLog → Action.EXPORT).
        ExportLog.objects.create(user=self.request.user, kind=self.export_kind, rows=sheet.rows,
                                 with_personal_data=False, filters=export_filters(self.request))
        return xlsx_response(buffer.getvalue(), f"{self.export_kind}-{timezone.localdate():%Y%m%d}.xlsx")


def _changes_text(changes) -> str:
    if not changes:
        return ""
    return "; ".join(f"{name}: {pair[0]!s} → {pair[1]!s}" if isinstance(pair, list) and len(pair) == 2
                     else f"{name}: {pair!s}" for name, pair in changes.items())
