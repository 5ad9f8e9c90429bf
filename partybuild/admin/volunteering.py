"""Admin of the volunteer service records: hours and points are computed; seen where done and by the branch."""

from django.contrib import admin

from governance.portal.admin import RuleCheckedForm, ScopedAdminMixin
from governance.rosters.admin import RosterAdminMixin
from partybuild.admin.common import (
    CommunityTownshipFilter,
    CommunityVillageFilter,
    PartyWriteAdminMixin,
    ServiceBranchTownshipFilter,
    changed_fields,
)
from partybuild.models import ServiceRecord
from partybuild.services.volunteering import (
    SERVICE_RECORD_FIELDS,
    service_record_check,
    service_record_create,
    service_record_update,
)


class ServiceRecordForm(RuleCheckedForm):
    def check_rules(self):
        service_record_check(record=self.instance)


@admin.register(ServiceRecord)
class ServiceRecordAdmin(PartyWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    """Volunteer services: hours and points are computed; seen by the community and the member's branch."""

    roster_kind = "service_records"
    form = ServiceRecordForm
    list_display = ("member", "community", "date", "start_time", "end_time", "hours", "points", "kind", "wish")
    list_select_related = ("member__resident", "community", "wish")
    list_filter = ("kind", CommunityTownshipFilter, CommunityVillageFilter, ServiceBranchTownshipFilter)
    search_fields = ("member__resident__name", "=member__resident__id_number", "description")
    autocomplete_fields = ("member", "community", "wish")
    fields = ("member", "community", "date", "start_time", "end_time", "kind", "wish", "description", "hours",
              "points")
    readonly_fields = ("hours", "points")
    date_hierarchy = "date"

    def get_readonly_fields(self, request, obj=None):
        return ("member", *self.readonly_fields) if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        names = SERVICE_RECORD_FIELDS
        if change:
            saved = service_record_update(record=obj, **changed_fields(obj, form, names))
        else:
            saved = service_record_create(member=obj.member, **{name: getattr(obj, name) for name in names})
        self.became(obj, saved)
