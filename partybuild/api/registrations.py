"""API of the double report (双报到): work units and in-service members registered with communities.

Registering and ending take the caller as the acting user: a role that does not take the step,
or a community outside the caller's area, is a 400 with the reason.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.masking import mask_phone
from governance.models import OrgUnit
from governance.portal.api import PersonalDataSerializerMixin, ScopedRelatedField, router, run_write
from partybuild.api.common import PartyViewSet, ScopedPersonField, acting_user
from partybuild.filters import MemberRegistrationFilterSet, UnitRegistrationFilterSet
from partybuild.models import (
    MemberRegistration,
    OfferKind,
    PartyMember,
    PostClaim,
    ServicePost,
    UnitOffer,
    UnitRegistration,
)
from partybuild.services.registrations import (
    member_registration_create,
    member_registration_end,
    post_claim_add,
    unit_offer_add,
    unit_registration_create,
    unit_registration_end,
    unit_registration_update,
)


class UnitOfferSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=OfferKind.choices)

    class Meta:
        model = UnitOffer
        fields = ["id", "kind", "description"]


class UnitRegistrationSerializer(PersonalDataSerializerMixin, serializers.ModelSerializer):
    """A work unit's registration with a community; the contact's phone is masked unless the role allows it."""

    personal_fields = {"contact_phone": ("contact_phone", mask_phone)}
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
        return value.strip()

    def create(self, validated_data):
        offers = [(offer["kind"], offer["description"]) for offer in validated_data.pop("offers", [])]
        return run_write(unit_registration_create, user=acting_user(self), offers=offers, **validated_data)

    def update(self, instance, validated_data):
        if "offers" in validated_data:
            raise serializers.ValidationError({"offers": [_("Add list entries with POST …/offers/.")]})
        return run_write(unit_registration_update, registration=instance, **validated_data)


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
        return run_write(member_registration_create, user=acting_user(self), **validated_data)


class EndSerializer(serializers.Serializer):
    ended_on = serializers.DateField()



class UnitRegistrationViewSet(mixins.UpdateModelMixin, PartyViewSet):
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
        registration = run_write(unit_registration_end, registration=self.get_object(), user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=registration.pk)).data)

    @extend_schema(request=UnitOfferSerializer, responses={201: UnitOfferSerializer})
    @action(detail=True, methods=["post"], url_path="offers")
    def add_offer(self, request, pk=None):
        """Add an entry to the unit's resource, need or project list."""
        offer = run_write(unit_offer_add, registration=self.get_object(), **self.payload(UnitOfferSerializer))
        return Response(UnitOfferSerializer(offer).data, status=201)


class MemberRegistrationViewSet(PartyViewSet):
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
        run_write(member_registration_end, registration=registration, user=request.user, **self.payload(EndSerializer))
        return Response(self.get_serializer(self.get_queryset().get(pk=registration.pk)).data)

    @extend_schema(request=PostClaimSerializer, responses={201: PostClaimSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Claim one more service post (认领岗位)."""
        registration = self.get_object()
        claim = run_write(post_claim_add, registration=registration, **self.payload(PostClaimSerializer))
        return Response(PostClaimSerializer(claim).data, status=201)



router.register("unit-registrations", UnitRegistrationViewSet, basename="unitregistration")
router.register("member-registrations", MemberRegistrationViewSet, basename="memberregistration")
