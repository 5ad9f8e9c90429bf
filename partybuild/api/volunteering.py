"""API of the volunteer service records: seen by the community where done and by the member's branch (双积分)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers

from governance.models import OrgUnit
from governance.portal.api import LocalTimeField, ScopedIdField, ScopedRelatedField, router, run_write
from partybuild.api.common import PartyViewSet, ScopedPersonField, unchanged
from partybuild.filters import ServiceRecordFilterSet
from partybuild.models import PartyMember, ServiceRecord, Wish
from partybuild.services.volunteering import service_record_create, service_record_update


class ServiceRecordSerializer(serializers.ModelSerializer):
    member = ScopedPersonField(
        model=PartyMember, key_field="resident__id_number", help_text=_("The member (id or ID number).")
    )
    member_name = serializers.CharField(source="member.resident.name", read_only=True)
    community = ScopedRelatedField(
        model=OrgUnit, key_field="code", help_text=_("Code (or id) of the community where it was done.")
    )
    community_name = serializers.CharField(source="community.display_name", read_only=True)
    wish = ScopedIdField(model=Wish, required=False, allow_null=True, help_text=_("Id of the micro-wish served."))
    branch = serializers.IntegerField(source="member.organization_id", read_only=True)
    start_time = LocalTimeField(help_text=_("When the service started (local time)."))
    end_time = LocalTimeField(help_text=_("When the service ended (local time)."))

    class Meta:
        model = ServiceRecord
        fields = [
            "id", "member", "member_name", "branch", "community", "community_name", "date", "start_time", "end_time",
            "hours", "points", "kind", "wish", "description",
        ]
        read_only_fields = ["hours", "points"]

    def create(self, validated_data):
        return run_write(service_record_create, **validated_data)

    def update(self, instance, validated_data):
        unchanged(instance, validated_data, ["member"])
        return run_write(service_record_update, record=instance, **validated_data)



class ServiceRecordViewSet(mixins.UpdateModelMixin, PartyViewSet):
    """Volunteer services: seen by the community where done and by the member's branch (双积分)."""

    model = ServiceRecord
    serializer_class = ServiceRecordSerializer
    filterset_class = ServiceRecordFilterSet
    search_fields = ["member__resident__name", "description"]
    ordering_fields = ["date", "hours", "points"]

    def optimise(self, queryset):
        return queryset.select_related("member__resident", "community")



router.register("service-records", ServiceRecordViewSet, basename="servicerecord")
