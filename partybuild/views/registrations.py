"""The double report's pages (双报到): registered members and units, registering a member or a unit."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from governance.portal.guard import parse_id
from governance.portal.views import ExportMixin, RosterListMixin, ScopedListView
from partybuild.forms.registrations import (
    MemberRegistrationFilterForm,
    MemberRegistrationForm,
    UnitRegistrationFilterForm,
    UnitRegistrationForm,
)
from partybuild.models import MemberRegistration, UnitRegistration
from partybuild.services.registrations import member_registration_create, unit_registration_create
from partybuild.views.common import ScopedFormView, TabMixin


class MemberRegistrationListView(TabMixin, ExportMixin, RosterListMixin, ScopedListView):
    tab = "members"
    model = MemberRegistration
    personal_data = False  # its rows show no ID number or phone
    filter_form_class = MemberRegistrationFilterForm
    template_name = "partybuild/registration_list.html"
    export_kind = "member_registrations"
    sort_fields = {
        "registered_on": "registered_on",
        "name": "member__resident__name",
        "community": "community__code",
        "status": "status",
    }
    default_sort = "-registered_on"

    def list_queryset(self, queryset):
        return (
            queryset.distinct()
            .select_related("member__resident", "member__organization", "community", "community__parent")
            .prefetch_related("claims")
        )


class UnitRegistrationListView(TabMixin, ExportMixin, RosterListMixin, ScopedListView):
    tab = "units"
    model = UnitRegistration
    filter_form_class = UnitRegistrationFilterForm
    template_name = "partybuild/unit_registration_list.html"
    export_kind = "unit_registrations"
    sort_fields = {
        "registered_on": "registered_on",
        "unit_name": "unit_name",
        "community": "community__code",
        "status": "status",
    }
    default_sort = "-registered_on"

    def list_queryset(self, queryset):
        return queryset.select_related("community", "community__parent").prefetch_related("offers")


class MemberRegistrationCreateView(TabMixin, ScopedFormView):
    tab = "members"
    permission_required = "partybuild.add_memberregistration"
    form_class = MemberRegistrationForm
    service = staticmethod(member_registration_create)
    template_name = "partybuild/registration_form.html"

    def get_initial(self):
        # "Register" from a member's page brings the member along.
        member = parse_id(self.request.GET.get("member"))
        return {"member": member} if member is not None else {}

    def written(self, registration):
        messages.success(
            self.request,
            _("%(member)s is registered with %(community)s.")
            % {"member": registration.member, "community": registration.community.display_name},
        )
        return redirect("partybuild:member-detail", pk=registration.member_id)


class UnitRegistrationCreateView(TabMixin, ScopedFormView):
    tab = "units"
    permission_required = "partybuild.add_unitregistration"
    form_class = UnitRegistrationForm
    service = staticmethod(unit_registration_create)
    template_name = "partybuild/unit_registration_form.html"

    def service_arguments(self, form):
        lists = ("resources", "needs", "projects")  # one textarea each, given to the service as offers
        return {**{name: value for name, value in form.cleaned_data.items() if name not in lists},
                "offers": form.offers()}

    def written(self, registration):
        messages.success(
            self.request,
            _("%(unit)s is registered with %(community)s.")
            % {"unit": registration.unit_name, "community": registration.community.display_name},
        )
        return redirect("partybuild:unit-registration-list")
