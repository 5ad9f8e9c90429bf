"""API of the grid rosters, registered on the shared router (/api/v1/):

- ``grid-workers/``: list, detail, create, update; ``POST grid-workers/{id}/end/`` ends a worker's service;
- ``liaison-households/``: which household each liaison looks after; create assigns, delete releases;
- ``vacancies/``: grids and micro-grids in the caller's scope with no current worker (read-only).

Scope comes from ``ScopedViewSetMixin`` (or, for vacancies, from the selector, which takes the
user): out of scope answers 404. Writes go through ``grid.services.workers``; a refused rule is a 400
with the field's message. ID numbers and phones are masked unless the caller's role allows them.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.masking import mask_id_number, mask_phone
from governance.models import Household, Level, OrgUnit, Resident
from governance.portal.api import (
    ModelChangePermission,
    ModelWritePermission,
    PersonalDataSerializerMixin,
    ScopedIdField,
    ScopedRelatedField,
    ScopedViewSetMixin,
    router,
    run_write,
)
from governance.selectors import unit_for_level_display
from governance.validators import normalize_id_number
from grid.filters import GridWorkerFilterSet, LiaisonHouseholdFilterSet, VacancyFilterSet
from grid.models import GridWorker, LiaisonHousehold
from grid.selectors.workers import vacancies, worker_list_queryset
from grid.services.workers import gridworker_create, gridworker_end, gridworker_update, liaison_assign, liaison_unassign
from partybuild.models import PartyMember

# --- Serializers --------------------------------------------------------------------------


class GridWorkerSerializer(PersonalDataSerializerMixin, serializers.ModelSerializer):
    """A grid worker; ID number and phone are masked unless the caller's role allows the full view."""

    personal_fields = {"id_number": ("id_number", mask_id_number), "phone": ("phone", mask_phone)}

    unit = ScopedRelatedField(
        model=OrgUnit, key_field="code", help_text=_("Code (or id) of the grid or micro-grid served.")
    )
    unit_name = serializers.CharField(source="unit.display_name", read_only=True)
    village = serializers.SerializerMethodField(help_text=_("The village or community the unit belongs to."))
    township = serializers.SerializerMethodField()
    id_number = serializers.CharField(
        max_length=18, help_text=_("Masked (513424********1234) unless your role allows the full view.")
    )
    phone = serializers.CharField(max_length=20, help_text=_("Masked unless your role allows the full view."))
    resident = ScopedIdField(
        model=Resident, required=False, allow_null=True, help_text=_("Id of the resident record, if any.")
    )
    party_member = ScopedIdField(
        model=PartyMember,
        required=False,
        allow_null=True,
        help_text=_("Id of the party member record; linking one marks the worker a party member."),
    )
    backup = ScopedIdField(
        model=GridWorker,
        required=False,
        allow_null=True,
        help_text=_("Id of the backup worker (互为顶岗): the pair is mutual and takes the other post."),
    )
    backup_name = serializers.CharField(source="backup.name", read_only=True, default=None, allow_null=True)
    is_current = serializers.BooleanField(read_only=True)
    households_count = serializers.SerializerMethodField(help_text=_("Households a liaison looks after."))

    class Meta:
        model = GridWorker
        fields = [
            "id",
            "name",
            "id_number",
            "phone",
            "worker_type",
            "unit",
            "unit_name",
            "village",
            "township",
            "start_date",
            "end_date",
            "is_current",
            "resident",
            "is_party_member",
            "party_member",
            "post",
            "backup",
            "backup_name",
            "households_count",
        ]

    def get_village(self, worker) -> str | None:
        unit = unit_for_level_display(worker.unit, Level.VILLAGE)
        return unit.display_name if unit else None

    def get_township(self, worker) -> str | None:
        unit = unit_for_level_display(worker.unit, Level.TOWNSHIP)
        return unit.display_name if unit else None

    def get_households_count(self, worker) -> int:
        count = getattr(worker, "n_households", None)
        return worker.liaison_households.count() if count is None else count

    def validate_id_number(self, value):
        return normalize_id_number(value)

    def validate_phone(self, value):
        return value.strip()

    def create(self, validated_data):
        return run_write(gridworker_create, **validated_data)

    def update(self, instance, validated_data):
        return run_write(gridworker_update, worker=instance, **validated_data)


class GridWorkerEndSerializer(serializers.Serializer):
    end_date = serializers.DateField(help_text=_("The last day of service (today at the latest)."))


class LiaisonHouseholdSerializer(serializers.ModelSerializer):
    liaison = ScopedIdField(model=GridWorker, help_text=_("Id of the household liaison."))
    liaison_name = serializers.CharField(source="liaison.name", read_only=True)
    household = ScopedRelatedField(model=Household, key_field="number", help_text=_("Household number (or id)."))
    household_address = serializers.CharField(source="household.address", read_only=True)
    grid = serializers.CharField(source="household.grid.code", read_only=True)
    since = serializers.DateField(required=False, allow_null=True, help_text=_("Today when left out."))
    replace = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=_("Move the household over from its current liaison instead of refusing."),
    )

    class Meta:
        model = LiaisonHousehold
        fields = ["id", "liaison", "liaison_name", "household", "household_address", "grid", "since", "replace"]

    def create(self, validated_data):
        return run_write(liaison_assign, **validated_data)


class VacancySerializer(serializers.ModelSerializer):
    """A grid or micro-grid with no current worker serving it."""

    display_name = serializers.CharField(read_only=True)
    grid_name = serializers.CharField(read_only=True, help_text=_("A micro-grid's grid; empty for a grid."))
    village_name = serializers.CharField(read_only=True)
    township_name = serializers.CharField(read_only=True)

    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "display_name", "level", "grid_name", "village_name", "township_name"]


# --- Viewsets -----------------------------------------------------------------------------



class GridWorkerViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Grid workers of the caller's subtree. Search matches a name, a whole ID number or the start of a unit code.

    A worker leaves through ``end/``, which dissolves his A/B pair and releases his liaison households.
    """

    model = GridWorker
    serializer_class = GridWorkerSerializer
    filterset_class = GridWorkerFilterSet
    permission_classes = [ModelWritePermission]
    # An ID number matches only whole: a partial match would reveal masked digits.
    search_fields = ["name", "=id_number", "^unit__code"]
    ordering_fields = ["name", "start_date", "unit__code"]

    def optimise(self, queryset):
        return worker_list_queryset(queryset)

    @extend_schema(request=GridWorkerEndSerializer, responses=GridWorkerSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ModelChangePermission])
    def end(self, request, pk=None):
        worker = self.get_object()
        payload = GridWorkerEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        worker = run_write(gridworker_end, worker=worker, end_date=payload.validated_data["end_date"])
        worker = self.get_queryset().get(pk=worker.pk)
        return Response(self.get_serializer(worker).data)


class LiaisonHouseholdViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Households and their liaisons (联户长) in the caller's subtree. Creating assigns, deleting releases."""

    model = LiaisonHousehold
    serializer_class = LiaisonHouseholdSerializer
    filterset_class = LiaisonHouseholdFilterSet
    permission_classes = [ModelWritePermission]
    search_fields = ["household__number", "household__address", "liaison__name"]
    ordering_fields = ["household__number", "since"]
    ordering = ["household__number"]

    def optimise(self, queryset):
        return queryset.select_related("liaison", "household__grid")

    def perform_destroy(self, instance):
        liaison_unassign(household=instance.household)


class VacancyViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Grids and micro-grids of the caller's subtree that no current worker serves.

    A micro-grid needs a current micro-grid worker, a grid a current full-time or part-time one.
    """

    serializer_class = VacancySerializer
    filterset_class = VacancyFilterSet
    search_fields = ["code", "name", "short_name"]
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        # The selector applies the caller's scope.
        return vacancies(fetched_by=self.request.user)


router.register("grid-workers", GridWorkerViewSet, basename="gridworker")
router.register("liaison-households", LiaisonHouseholdViewSet, basename="liaisonhousehold")
router.register("vacancies", VacancyViewSet, basename="vacancy")
