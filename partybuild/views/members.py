"""The party-member list, and a member's page: registrations, services, hours, points, recording a service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import CharField, DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from governance.audit.reveal import full_view
from governance.portal.views import ExportMixin, RosterListMixin, ScopedDetailView, ScopedListView, require_perm
from partybuild import selectors
from partybuild.forms.members import MemberFilterForm
from partybuild.forms.volunteering import ServiceRecordForm
from partybuild.models import MemberRegistration, PartyMember, RegistrationStatus, ServiceRecord
from partybuild.services.volunteering import service_record_create

# The services the member page lists (the newest); the service list has them all.
MEMBER_PAGE_SERVICES = 20


def _display_name(prefix: str):
    return Coalesce(NullIf(f"{prefix}short_name", Value("")), f"{prefix}name", output_field=CharField())


class MemberListView(ExportMixin, RosterListMixin, ScopedListView):
    model = PartyMember
    filter_form_class = MemberFilterForm
    template_name = "partybuild/member_list.html"
    export_kind = "party_members"
    sort_fields = {
        "name": "resident__name",
        "organization": "organization__name",
        "joined_on": "joined_on",
        "status": "status",
        "hours": "total_hours",
    }
    default_sort = "organization"

    def list_queryset(self, queryset):
        user = self.request.user
        registered = MemberRegistration.objects.filter(member=OuterRef("pk"), status=RegistrationStatus.ACTIVE)
        # Only the services this user may see count (the community where served, or the member's branch).
        hours = (
            ServiceRecord.objects.visible_to(user)
            .filter(member=OuterRef("pk"))
            .order_by()
            .values("member")
            .annotate(total=Sum("hours"))
            .values("total")
        )
        return queryset.select_related(
            "resident", "resident__household", "resident__household__grid", "organization"
        ).annotate(
            registered_with=Subquery(registered.values(name=_display_name("community__"))[:1]),
            total_hours=Coalesce(Subquery(hours), Value(0), output_field=DecimalField(max_digits=10, decimal_places=1)),
        )


class MemberDetailView(ScopedDetailView):
    """The member's page: registrations, services, hours and points, and the form to log a service."""

    model = PartyMember
    template_name = "partybuild/member_detail.html"
    context_object_name = "member"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        summary = selectors.member_summary(member=self.object, fetched_by=user)
        context.update(summary)
        context["member"] = summary["member"]
        context["services"] = summary["services"][:MEMBER_PAGE_SERVICES]
        context["wishes_taken"] = summary["wishes_taken"][:MEMBER_PAGE_SERVICES]
        context["full_view"] = full_view(self.request, obj=self.object, detail="id_number phone")
        if "service_form" not in context:
            active = summary["active_registration"]
            initial = {"community": active.community_id} if active else {}
            context["service_form"] = ServiceRecordForm(user=user, member=self.object, initial=initial)
        return context

    def post(self, request, *args, **kwargs):
        """登记志愿服务: the form re-renders with the service's message next to the field it names."""
        self.object = member = self.get_object()
        require_perm(request, "partybuild.add_servicerecord")
        form = ServiceRecordForm(request.POST, user=request.user, member=member)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = service_record_create(
                    member=member,
                    community=data["community"],
                    date=data["date"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    kind=data["kind"],
                    wish=data["wish"],
                    description=data["description"],
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    _("Recorded %(hours)s hours of service on %(date)s (%(points)s points).")
                    % {"hours": record.hours, "date": record.date.isoformat(), "points": record.points},
                )
                return redirect("partybuild:member-detail", pk=member.pk)
        return self.render_to_response(self.get_context_data(service_form=form))
