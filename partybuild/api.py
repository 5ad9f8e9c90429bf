"""REST API of the party-building app (/api/v1/), registered on the shared router.

Same rules as the org chain's API: every queryset is the caller's scope (``ScopedViewSetMixin``),
so a row outside it answers 404; related rows are looked up inside the scope too; writes go
through ``partybuild.services`` and a refused rule is a 400 with its message (``run_write``).
A wish moves only through its transition actions (``POST /wishes/{id}/dispatch/`` …), which
answer 400 with the message when the step is out of order. ID numbers and phones are masked
unless the caller's role allows the full view.
"""

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.masking import can_view_personal_data, mask_id_number, mask_phone
from governance.models import Household, OrgUnit, Resident
from governance.portal.api import ModelWritePermission, ScopedRelatedField, ScopedViewSetMixin, router, run_write
from governance.selectors import count_subquery
from partybuild import services
from partybuild.filters import (
    CentralHouseholdFilterSet,
    MemberRegistrationFilterSet,
    PartyMemberFilterSet,
    PartyOrganizationFilterSet,
    ServiceRecordFilterSet,
    UnitRegistrationFilterSet,
    WishFilterSet,
)
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    OfferKind,
    PartyMember,
    PartyOrganization,
    PostClaim,
    RegistrationStatus,
    ServicePost,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
)

# --- Fields --------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(ScopedRelatedField):
    """A related row given by its id, looked up inside the caller's scope; shown as its id."""

    default_error_messages = {
        **ScopedRelatedField.default_error_messages,
        "incorrect_type": _("Give an id, not {data_type}."),
    }

    def __init__(self, *, model, **kwargs):
        super().__init__(model=model, key_field="pk", **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        value = str(data).strip()
        # Ids are bigints; anything else is simply not found.
        row = self.get_queryset().filter(pk=int(value)).first() if value.isdigit() and len(value) < 19 else None
        if row is None:
            self.fail("does_not_exist", value=value)
        return row

    def use_pk_only_optimization(self):
        return True  # shown as the id: no need to load the row

    def to_representation(self, value):
        return value.pk


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "Id, or the whole ID number of the person."}
)
class ScopedPersonField(ScopedRelatedField):
    """A member or resident given by the person's whole ID number or by id; shown as its id."""

    def use_pk_only_optimization(self):
        return True  # shown as the id: no need to load the row

    def to_representation(self, value):
        return value.pk


def _full_view(serializer) -> bool:
    request = serializer.context.get("request")
    return can_view_personal_data(getattr(request, "user", None))


def _unchanged(instance, validated_data: dict, names) -> None:
    """Refuse a change of fields fixed after creation; drop them when sent back unchanged."""
    for name in names:
        if name in validated_data:
            if validated_data.pop(name) != getattr(instance, name):
                raise serializers.ValidationError({name: [_("This cannot be changed once created.")]})


# --- Party organisations -------------------------------------------------------------------


class PartyOrganizationSerializer(serializers.ModelSerializer):
    parent = ScopedIdField(model=PartyOrganization, required=False, allow_null=True, help_text=_("Id of the parent."))
    org_unit = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the unit covered."))
    org_unit_name = serializers.CharField(source="org_unit.display_name", read_only=True)
    depth = serializers.IntegerField(source="mptt_level", read_only=True, help_text=_("0 for a top organisation."))
    members_count = serializers.IntegerField(read_only=True, help_text=_("Active members of this organisation."))

    class Meta:
        model = PartyOrganization
        fields = [
            "id", "name", "kind", "parent", "org_unit", "org_unit_name", "work_unit", "is_active", "depth",
            "members_count",
        ]

    def create(self, validated_data):
        return run_write(services.party_organization_create, **validated_data)

    def update(self, instance, validated_data):
        return run_write(services.party_organization_update, organization=instance, **validated_data)


# --- Party members -------------------------------------------------------------------------


class PartyMemberSerializer(serializers.ModelSerializer):
    """A party member; the person's ID number and phone are masked unless the caller's role allows them."""

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

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _full_view(self):
            data["id_number"] = mask_id_number(instance.resident.id_number)
            data["phone"] = mask_phone(instance.resident.phone)
        return data

    def create(self, validated_data):
        validated_data.pop("is_active", None)  # a new member is active
        return run_write(services.party_member_create, **validated_data)

    def update(self, instance, validated_data):
        _unchanged(instance, validated_data, ["resident"])
        return run_write(services.party_member_update, member=instance, **validated_data)


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
        return run_write(services.central_household_set, **validated_data)

    def update(self, instance, validated_data):
        _unchanged(instance, validated_data, ["household"])
        fields = {"member": instance.member, "since": instance.since, **validated_data}
        return run_write(services.central_household_set, household=instance.household, **fields)


# --- Double report -------------------------------------------------------------------------


class UnitOfferSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=OfferKind.choices)

    class Meta:
        model = UnitOffer
        fields = ["id", "kind", "description"]


class UnitRegistrationSerializer(serializers.ModelSerializer):
    community = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the community."))
    community_name = serializers.CharField(source="community.display_name", read_only=True)
    contact_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text=_("Masked unless your role allows the full view.")
    )
    offers = UnitOfferSerializer(
        many=True, required=False, help_text=_("Resource, need and project list entries (given on creation).")
    )

    class Meta:
        model = UnitRegistration
        fields = [
            "id", "unit_name", "party_organization", "community", "community_name", "registered_on", "contact_name",
            "contact_phone", "status", "offers",
        ]
        read_only_fields = ["status"]
        # The service checks "one active registration" and says so; DRF's generated validator would not.
        validators = []

    def validate_contact_phone(self, value):
        # A masked caller who sends back what he was shown keeps the stored number.
        if self.instance is not None and value and value == mask_phone(self.instance.contact_phone):
            return self.instance.contact_phone
        return value.strip()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _full_view(self):
            data["contact_phone"] = mask_phone(instance.contact_phone)
        return data

    def create(self, validated_data):
        offers = [(offer["kind"], offer["description"]) for offer in validated_data.pop("offers", [])]
        return run_write(services.unit_registration_create, offers=offers, **validated_data)

    def update(self, instance, validated_data):
        if "offers" in validated_data:
            raise serializers.ValidationError({"offers": [_("Add list entries with POST …/offers/.")]})
        return run_write(services.unit_registration_update, registration=instance, **validated_data)


class PostClaimSerializer(serializers.ModelSerializer):
    post = serializers.ChoiceField(choices=ServicePost.choices)

    class Meta:
        model = PostClaim
        fields = ["id", "post", "claimed_on"]


class MemberRegistrationSerializer(serializers.ModelSerializer):
    member = ScopedPersonField(
        model=PartyMember, key_field="resident__id_number", help_text=_("The in-service member (id or ID number).")
    )
    member_name = serializers.CharField(source="member.resident.name", read_only=True)
    community = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the community."))
    community_name = serializers.CharField(source="community.display_name", read_only=True)
    posts = serializers.ListField(
        child=serializers.ChoiceField(choices=ServicePost.choices), write_only=True, required=False,
        help_text=_("Service posts claimed on registering."),
    )
    claims = PostClaimSerializer(many=True, read_only=True)

    class Meta:
        model = MemberRegistration
        fields = [
            "id", "member", "member_name", "community", "community_name", "registered_on", "status", "ended_on",
            "posts", "claims",
        ]
        read_only_fields = ["status", "ended_on"]
        # The service checks "one active registration" and says so; DRF's generated validator would not.
        validators = []

    def create(self, validated_data):
        return run_write(services.member_registration_create, **validated_data)


class EndSerializer(serializers.Serializer):
    ended_on = serializers.DateField()


# --- Micro-wishes --------------------------------------------------------------------------


class WishSerializer(serializers.ModelSerializer):
    community = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the community."))
    community_name = serializers.CharField(source="community.display_name", read_only=True)
    household = ScopedRelatedField(
        model=Household, key_field="number", required=False, allow_null=True, help_text=_("Household number (or id).")
    )
    resident = ScopedPersonField(
        model=Resident, key_field="id_number", required=False, allow_null=True,
        help_text=_("The resident (id or ID number), when the wish is a person's."),
    )
    resident_name = serializers.CharField(source="resident.name", read_only=True, allow_null=True)
    dispatched_to = serializers.IntegerField(source="dispatched_to_id", read_only=True, allow_null=True)
    dispatched_to_name = serializers.CharField(source="dispatched_to.resident.name", read_only=True, allow_null=True)
    taken_by = serializers.IntegerField(source="taken_by_id", read_only=True, allow_null=True)
    taken_by_name = serializers.CharField(source="taken_by.resident.name", read_only=True, allow_null=True)

    class Meta:
        model = Wish
        fields = [
            "id", "community", "community_name", "household", "resident", "resident_name", "title", "content",
            "category", "state", "dispatched_to", "dispatched_to_name", "taken_by", "taken_by_name", "result",
            "posted_at", "dispatched_at", "taken_at", "done_at", "verified_at", "published_at",
        ]
        read_only_fields = ["state", "result"]

    def create(self, validated_data):
        return run_write(services.wish_post, **validated_data)

    def update(self, instance, validated_data):
        _unchanged(instance, validated_data, ["community", "household", "resident"])
        return run_write(services.wish_update, wish=instance, **validated_data)


class WishMemberSerializer(serializers.Serializer):
    member = ScopedPersonField(
        model=PartyMember, key_field="resident__id_number", help_text=_("The member (id or ID number).")
    )


class WishDispatchSerializer(serializers.Serializer):
    member = ScopedPersonField(
        model=PartyMember, key_field="resident__id_number", allow_null=True, required=False,
        help_text=_("The member (id or ID number); null or absent: any eligible member may take it."),
    )


class WishResultSerializer(serializers.Serializer):
    result = serializers.CharField(help_text=_("What was done."))


# --- Service records -----------------------------------------------------------------------


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

    class Meta:
        model = ServiceRecord
        fields = [
            "id", "member", "member_name", "branch", "community", "community_name", "date", "start_time", "end_time",
            "hours", "points", "kind", "wish", "description",
        ]
        read_only_fields = ["hours", "points"]

    def create(self, validated_data):
        return run_write(services.service_record_create, **validated_data)

    def update(self, instance, validated_data):
        _unchanged(instance, validated_data, ["member"])
        return run_write(services.service_record_update, record=instance, **validated_data)


# --- Viewsets ------------------------------------------------------------------------------


class ActionPermission(ModelWritePermission):
    """The model permissions of the standard actions, and those a viewset names for its own actions."""

    def has_permission(self, request, view):
        needed = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if needed is None:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(needed))


class _ViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
               viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    action_permissions: dict[str, list[str]] = {}


class PartyOrganizationViewSet(mixins.UpdateModelMixin, _ViewSet):
    """Party organisations of the caller's scope, in tree order."""

    model = PartyOrganization
    serializer_class = PartyOrganizationSerializer
    filterset_class = PartyOrganizationFilterSet
    search_fields = ["name", "work_unit"]
    ordering_fields = ["name"]

    def optimise(self, queryset):
        members = PartyMember.objects.filter(organization=OuterRef("pk"), is_active=True)
        return (
            queryset.select_related("org_unit")
            .annotate(members_count=count_subquery(members))
            .order_by("tree_id", "lft")
        )


class PartyMemberViewSet(mixins.UpdateModelMixin, _ViewSet):
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


class CentralHouseholdViewSet(mixins.UpdateModelMixin, mixins.DestroyModelMixin, _ViewSet):
    """Party-member households (党员中心户) of the caller's scope."""

    model = CentralHousehold
    serializer_class = CentralHouseholdSerializer
    filterset_class = CentralHouseholdFilterSet
    search_fields = ["household__number", "member__resident__name"]
    ordering_fields = ["household__number", "since"]

    def optimise(self, queryset):
        return queryset.select_related("household", "member__resident").order_by("household__number")

    def perform_destroy(self, instance):
        services.central_household_clear(household=instance.household)


class UnitRegistrationViewSet(mixins.UpdateModelMixin, _ViewSet):
    """Work units' party organisations registered with the communities of the caller's scope (单位报到)."""

    model = UnitRegistration
    serializer_class = UnitRegistrationSerializer
    filterset_class = UnitRegistrationFilterSet
    search_fields = ["unit_name", "party_organization"]
    ordering_fields = ["registered_on", "unit_name"]
    action_permissions = {
        "end": ["partybuild.change_unitregistration"],
        "add_offer": ["partybuild.add_unitoffer"],
    }

    def optimise(self, queryset):
        return queryset.select_related("community").prefetch_related("offers")

    @extend_schema(request=None, responses=UnitRegistrationSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the registration (the unit moved or merged)."""
        registration = run_write(services.unit_registration_end, registration=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=registration.pk)).data)

    @extend_schema(request=UnitOfferSerializer, responses={201: UnitOfferSerializer})
    @action(detail=True, methods=["post"], url_path="offers")
    def add_offer(self, request, pk=None):
        """Add an entry to the unit's resource, need or project list."""
        payload = UnitOfferSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        offer = run_write(services.unit_offer_add, registration=self.get_object(), **payload.validated_data)
        return Response(UnitOfferSerializer(offer).data, status=201)


class MemberRegistrationViewSet(_ViewSet):
    """In-service members registered with communities (在职党员报到), seen by the community and the member's branch."""

    model = MemberRegistration
    serializer_class = MemberRegistrationSerializer
    filterset_class = MemberRegistrationFilterSet
    search_fields = ["member__resident__name", "=member__resident__id_number"]
    ordering_fields = ["registered_on"]
    action_permissions = {
        "end": ["partybuild.change_memberregistration"],
        "claim": ["partybuild.add_postclaim"],
    }

    def optimise(self, queryset):
        return queryset.select_related("member__resident", "community").prefetch_related("claims")

    @extend_schema(request=EndSerializer, responses=MemberRegistrationSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the registration; the member may then register elsewhere."""
        registration = self.get_object()
        payload = EndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        run_write(services.member_registration_end, registration=registration, **payload.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=registration.pk)).data)

    @extend_schema(request=PostClaimSerializer, responses={201: PostClaimSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Claim one more service post (认领岗位)."""
        registration = self.get_object()
        payload = PostClaimSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        claim = run_write(services.post_claim_add, registration=registration, **payload.validated_data)
        return Response(PostClaimSerializer(claim).data, status=201)


class WishViewSet(mixins.UpdateModelMixin, _ViewSet):
    """Micro-wishes of the caller's communities; moved only by the transition actions (派单 … 晒单)."""

    model = Wish
    serializer_class = WishSerializer
    filterset_class = WishFilterSet
    search_fields = ["title", "household__number"]
    ordering_fields = ["posted_at", "state"]
    # ``dispatch`` is APIView's request handler, hence the method name ``dispatch_wish``.
    action_permissions = {
        name: ["partybuild.change_wish"] for name in ("dispatch_wish", "take", "complete", "verify", "publish")
    }

    def optimise(self, queryset):
        return queryset.select_related(
            "community", "household", "resident", "dispatched_to__resident", "taken_by__resident"
        )

    def _step(self, request, step, payload_class=None):
        wish = self.get_object()
        arguments = {}
        if payload_class is not None:
            payload = payload_class(data=request.data, context=self.get_serializer_context())
            payload.is_valid(raise_exception=True)
            arguments = dict(payload.validated_data)
        function, _state = services.WISH_STEPS[step]
        run_write(function, wish=wish, **arguments)
        return Response(self.get_serializer(self.get_queryset().get(pk=wish.pk)).data)

    @extend_schema(request=WishDispatchSerializer, responses=WishSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_wish(self, request, pk=None):
        """派单: to a member registered with the community or of its branches, or to any of them (no member)."""
        wish = self.get_object()
        payload = WishDispatchSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        run_write(services.wish_dispatch, wish=wish, member=payload.validated_data.get("member"))
        return Response(self.get_serializer(self.get_queryset().get(pk=wish.pk)).data)

    @extend_schema(request=WishMemberSerializer, responses=WishSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        """接单: by the member it was dispatched to, or by any eligible member if dispatched to nobody."""
        return self._step(request, "take", WishMemberSerializer)

    @extend_schema(request=WishResultSerializer, responses=WishSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """消单: what was done."""
        return self._step(request, "complete", WishResultSerializer)

    @extend_schema(request=None, responses=WishSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """核单: the community checked the result."""
        return self._step(request, "verify")

    @extend_schema(request=None, responses=WishSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """晒单: the organisation shows it."""
        return self._step(request, "publish")


class ServiceRecordViewSet(mixins.UpdateModelMixin, _ViewSet):
    """Volunteer services: seen by the community where done and by the member's branch (双积分)."""

    model = ServiceRecord
    serializer_class = ServiceRecordSerializer
    filterset_class = ServiceRecordFilterSet
    search_fields = ["member__resident__name", "description"]
    ordering_fields = ["date", "hours", "points"]

    def optimise(self, queryset):
        return queryset.select_related("member__resident", "community")


router.register("party-organizations", PartyOrganizationViewSet, basename="partyorganization")
router.register("party-members", PartyMemberViewSet, basename="partymember")
router.register("central-households", CentralHouseholdViewSet, basename="centralhousehold")
router.register("unit-registrations", UnitRegistrationViewSet, basename="unitregistration")
router.register("member-registrations", MemberRegistrationViewSet, basename="memberregistration")
router.register("wishes", WishViewSet, basename="wish")
router.register("service-records", ServiceRecordViewSet, basename="servicerecord")
