"""API of party organisations, party members and party-member households (党员中心户)."""

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers

from governance.masking import mask_id_number, mask_phone
from governance.models import Household, OrgUnit, Resident
from governance.portal.api import PersonalDataSerializerMixin, ScopedIdField, ScopedRelatedField, router, run_write
from governance.selectors import count_subquery
from partybuild.api.common import PartyViewSet, ScopedPersonField, unchanged
from partybuild.filters import CentralHouseholdFilterSet, PartyMemberFilterSet, PartyOrganizationFilterSet
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    PartyMember,
    PartyOrganization,
    PartyOrganizationKind,
    RegistrationStatus,
)
from partybuild.services.organizations import (
    central_household_clear,
    central_household_set,
    party_member_create,
    party_member_update,
    party_organization_create,
    party_organization_update,
)


class PartyOrganizationSerializer(serializers.ModelSerializer):
    parent = ScopedIdField(model=PartyOrganization, required=False, allow_null=True, help_text=_("Id of the parent."))
    org_unit = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the unit covered."))
    org_unit_name = serializers.CharField(source="org_unit.display_name", read_only=True)
    kind = serializers.CharField(max_length=20, help_text=_("Code of the kind (the kinds are kept in the admin)."))
    kind_name = serializers.CharField(read_only=True, allow_null=True, help_text=_("Name of the kind."))
    depth = serializers.IntegerField(source="mptt_level", read_only=True, help_text=_("0 for a top organisation."))
    members_count = serializers.IntegerField(read_only=True, help_text=_("Active members of this organisation."))

    class Meta:
        model = PartyOrganization
        fields = [
            "id", "name", "kind", "kind_name", "parent", "org_unit", "org_unit_name", "work_unit", "is_active",
            "depth", "members_count",
        ]

    def create(self, validated_data):
        return run_write(party_organization_create, **validated_data)

    def update(self, instance, validated_data):
        return run_write(party_organization_update, organization=instance, **validated_data)


# --- Party members --------------------------------------------------------------------------


class PartyMemberSerializer(PersonalDataSerializerMixin, serializers.ModelSerializer):
    """A party member; the person's ID number and phone are masked unless the caller's role allows them."""

    personal_fields = {"id_number": ("resident.id_number", mask_id_number), "phone": ("resident.phone", mask_phone)}

    resident = ScopedPersonField(model=Resident, key_field="id_number", help_text=_("The resident (id or ID number)."))
    name = serializers.CharField(source="resident.name", read_only=True)
    id_number = serializers.CharField(source="resident.id_number", read_only=True, help_text=_("Masked."))
    phone = serializers.CharField(source="resident.phone", read_only=True, help_text=_("Masked."))
    household = serializers.CharField(source="resident.household.number", read_only=True)
    organization = ScopedIdField(model=PartyOrganization, help_text=_("Id of the party organisation."))
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    registered_with = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("Code of the community of the active registration, if any.")
    )

    class Meta:
        model = PartyMember
        fields = [
            "id", "resident", "name", "id_number", "phone", "household", "organization", "organization_name",
            "status", "joined_on", "in_service", "work_unit", "is_mobile", "is_active", "registered_with",
        ]

    def create(self, validated_data):
        validated_data.pop("is_active", None)  # a new member is active
        return run_write(party_member_create, **validated_data)

    def update(self, instance, validated_data):
        unchanged(instance, validated_data, ["resident"])
        return run_write(party_member_update, member=instance, **validated_data)


class CentralHouseholdSerializer(serializers.ModelSerializer):
    household = ScopedRelatedField(model=Household, key_field="number", help_text=_("Household number (or id)."))
    member = ScopedPersonField(
        model=PartyMember, key_field="resident__id_number", help_text=_("The member running it (id or ID number).")
    )
    member_name = serializers.CharField(source="member.resident.name", read_only=True)

    class Meta:
        model = CentralHousehold
        fields = ["id", "household", "member", "member_name", "since"]

    def create(self, validated_data):
        return run_write(central_household_set, **validated_data)

    def update(self, instance, validated_data):
        unchanged(instance, validated_data, ["household"])
        fields = {"member": instance.member, "since": instance.since, **validated_data}
        return run_write(central_household_set, household=instance.household, **fields)



class PartyOrganizationViewSet(mixins.UpdateModelMixin, PartyViewSet):
    """Party organisations of the caller's scope, in tree order."""

    model = PartyOrganization
    serializer_class = PartyOrganizationSerializer
    filterset_class = PartyOrganizationFilterSet
    search_fields = ["name", "work_unit"]
    ordering_fields = ["name"]

    def optimise(self, queryset):
        members = PartyMember.objects.filter(organization=OuterRef("pk"), is_active=True)
        names = PartyOrganizationKind.objects.filter(code=OuterRef("kind")).values("name")[:1]
        return (
            queryset.select_related("org_unit")
            .annotate(members_count=count_subquery(members), kind_name=Subquery(names))
            .order_by("tree_id", "lft")
        )


class PartyMemberViewSet(mixins.UpdateModelMixin, PartyViewSet):
    """Party members of the caller's scope (by their branch or where they live). Search: name or whole ID number."""

    model = PartyMember
    serializer_class = PartyMemberSerializer
    filterset_class = PartyMemberFilterSet
    search_fields = ["resident__name", "=resident__id_number", "work_unit"]
    ordering_fields = ["joined_on", "resident__name"]

    def optimise(self, queryset):
        active = MemberRegistration.objects.filter(member=OuterRef("pk"), status=RegistrationStatus.ACTIVE)
        return queryset.select_related("resident__household", "organization").annotate(
            registered_with=Subquery(active.values("community__code")[:1])
        )


class CentralHouseholdViewSet(mixins.UpdateModelMixin, mixins.DestroyModelMixin, PartyViewSet):
    """Party-member households (党员中心户) of the caller's scope."""

    model = CentralHousehold
    serializer_class = CentralHouseholdSerializer
    filterset_class = CentralHouseholdFilterSet
    search_fields = ["household__number", "member__resident__name"]
    ordering_fields = ["household__number", "since"]

    def optimise(self, queryset):
        return queryset.select_related("household", "member__resident").order_by("household__number")

    def perform_destroy(self, instance):
        central_household_clear(household=instance.household)



router.register("party-organizations", PartyOrganizationViewSet, basename="partyorganization")
router.register("party-members", PartyMemberViewSet, basename="partymember")
router.register("central-households", CentralHouseholdViewSet, basename="centralhousehold")
