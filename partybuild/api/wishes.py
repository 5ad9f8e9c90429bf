"""API of the micro-wishes: moved only by the step actions (``POST /wishes/{id}/dispatch/`` …).

Each step runs its service as the caller: a step out of order, a role that does not take it or
a member who may not serve the wish is a 400 with the reason; a wish outside the caller's area
is a 404. A wish's detail shows its history (``events``) and the steps the caller may take now
(``allowed_steps``, read from the services' rules).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.models import Household, OrgUnit, Resident
from governance.portal.api import ScopedRelatedField, router, run_write
from partybuild.api.common import PartyViewSet, ScopedPersonField, acting_user, unchanged
from partybuild.filters import WishFilterSet
from partybuild.models import PartyMember, Wish, WishEvent
from partybuild.services.wishes import WISH_STEPS, wish_allowed_steps, wish_post, wish_update

WISH_JOINS = ("community", "household", "resident", "dispatched_to__resident", "taken_by__resident")


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
        return run_write(wish_post, user=acting_user(self), **validated_data)

    def update(self, instance, validated_data):
        unchanged(instance, validated_data, ["community", "household", "resident"])
        return run_write(wish_update, wish=instance, user=acting_user(self), **validated_data)


class WishEventSerializer(serializers.ModelSerializer):
    """One step of a wish: who took it and when, from which state to which, for which member, what was done."""

    actor_name = serializers.SerializerMethodField()
    member_name = serializers.CharField(source="member.resident.name", read_only=True, default=None)
    # Plain strings in the schema: the states are the wish's ``state`` values (one enum, one name).
    from_state = serializers.CharField(read_only=True, help_text=_("The wish's state before the step."))
    to_state = serializers.CharField(read_only=True, help_text=_("The wish's state after the step."))

    class Meta:
        model = WishEvent
        fields = ["id", "action", "from_state", "to_state", "actor", "actor_name", "member", "member_name", "at",
                  "comment"]

    def get_actor_name(self, event) -> str | None:
        return None if event.actor is None else event.actor.get_full_name() or event.actor.username


class WishDetailSerializer(WishSerializer):
    """A wish with its history and the steps the caller may take now."""

    events = WishEventSerializer(many=True, read_only=True)
    allowed_steps = serializers.SerializerMethodField(
        help_text=_("The steps you may take now (the names of the step endpoints).")
    )

    class Meta(WishSerializer.Meta):
        fields = [*WishSerializer.Meta.fields, "events", "allowed_steps"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(WISH_STEPS))))
    def get_allowed_steps(self, wish) -> list[str]:
        request = self.context.get("request")
        if request is None or not request.user.has_perm("partybuild.change_wish"):
            return []
        return wish_allowed_steps(wish=wish, user=request.user)


class WishMemberSerializer(serializers.Serializer):
    member = ScopedPersonField(
        model=PartyMember, key_field="resident__id_number", help_text=_("The member (id or ID number).")
    )


class WishDispatchSerializer(serializers.Serializer):
    member = ScopedPersonField(
        model=PartyMember, key_field="resident__id_number", allow_null=True, default=None,
        help_text=_("The member (id or ID number); null or absent: any eligible member may take it."),
    )


class WishResultSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=Wish._meta.get_field("result").max_length, help_text=_("What was done."))


class WishViewSet(mixins.UpdateModelMixin, PartyViewSet):
    """Micro-wishes of the caller's communities; moved only by the step actions (派单 … 晒单)."""

    model = Wish
    filterset_class = WishFilterSet
    search_fields = ["title", "household__number"]
    ordering_fields = ["posted_at", "state"]
    # ``dispatch`` is APIView's request handler, hence the method name ``dispatch_wish``.
    action_permissions = {
        name: ["partybuild.change_wish"] for name in ("dispatch_wish", "take", "complete", "verify", "publish")
    }

    def get_serializer_class(self):
        return WishSerializer if self.action in ("list", "create", "update", "partial_update") else WishDetailSerializer

    def optimise(self, queryset):
        queryset = queryset.select_related(*WISH_JOINS)
        if self.action not in ("list", "create", "update", "partial_update"):
            queryset = queryset.prefetch_related("events__actor", "events__member__resident")
        return queryset

    def _step(self, request, step, payload_class=None):
        wish = self.get_object()
        arguments = self.payload(payload_class) if payload_class is not None else {}
        run_write(WISH_STEPS[step], wish=wish, user=request.user, **arguments)
        return Response(self.get_serializer(self.get_queryset().get(pk=wish.pk)).data)

    @extend_schema(request=WishDispatchSerializer, responses=WishDetailSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_wish(self, request, pk=None):
        """派单: to a member registered with the community or of its branches, or to any of them (no member)."""
        return self._step(request, "dispatch", WishDispatchSerializer)

    @extend_schema(request=WishMemberSerializer, responses=WishDetailSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        """接单: by the member it was dispatched to, or by any eligible member if dispatched to nobody."""
        return self._step(request, "take", WishMemberSerializer)

    @extend_schema(request=WishResultSerializer, responses=WishDetailSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """消单: what was done."""
        return self._step(request, "complete", WishResultSerializer)

    @extend_schema(request=None, responses=WishDetailSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """核单: the community checked the result."""
        return self._step(request, "verify")

    @extend_schema(request=None, responses=WishDetailSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """晒单: the party organisation above the community shows it."""
        return self._step(request, "publish")


router.register("wishes", WishViewSet, basename="wish")
