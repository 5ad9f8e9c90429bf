"""The volunteer service records (志愿服务): filtered, with the hours and points they add up to."""

from django.db.models import Sum

from governance.portal.guard import parse_id
from governance.portal.views import ExportMixin, RosterListMixin, ScopedListView
from partybuild.forms.volunteering import ServiceRecordFilterForm
from partybuild.models import PartyMember, ServiceRecord


class ServiceRecordListView(ExportMixin, RosterListMixin, ScopedListView):
    model = ServiceRecord
    personal_data = False  # its rows show no ID number or phone
    filter_form_class = ServiceRecordFilterForm
    template_name = "partybuild/service_list.html"
    export_kind = "service_records"
    sort_fields = {
        "date": "date",
        "name": "member__resident__name",
        "community": "community__code",
        "hours": "hours",
        "points": "points",
        "kind": "kind",
    }
    default_sort = "-date"

    def get_queryset(self):
        queryset = super().get_queryset()
        self.member = None
        member = parse_id(self.request.GET.get("member"))
        if member is not None:
            # The member page's "all services" link; a member out of scope simply matches nothing.
            self.member = PartyMember.objects.visible_to(self.request.user).select_related("resident").filter(
                pk=member
            ).first()
            queryset = queryset.filter(member_id=self.member.pk if self.member else 0)
        return queryset

    def list_queryset(self, queryset):
        return queryset.select_related("member__resident", "community", "community__parent", "wish")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["member"] = self.member
        context["totals"] = self.object_list.order_by().aggregate(hours=Sum("hours"), points=Sum("points"))
        return context
