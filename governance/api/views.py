"""Viewsets of the org chain's API, registered on the shared router (``governance.portal.api``)."""

from django.db.models import OuterRef
from rest_framework import mixins, viewsets

from governance.api.serializers import HouseholdSerializer, OrgUnitSerializer, ResidentSerializer
from governance.filters import HouseholdFilterSet, OrgUnitFilterSet, ResidentFilterSet
from governance.models import Household, OrgUnit, Resident
from governance.portal.api import ModelWritePermission, ScopedViewSetMixin, router
from governance.selectors import count_subquery


class OrgUnitViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Org units of the caller's subtree, in tree order (county, township, village, grid ...)."""

    model = OrgUnit
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilterSet
    search_fields = ["code", "name", "short_name"]
    ordering_fields = ["code", "name"]

    def optimise(self, queryset):
        households = Household.objects.filter(
            grid__tree_id=OuterRef("tree_id"), grid__lft__gte=OuterRef("lft"), grid__lft__lt=OuterRef("rght")
        )
        return queryset.select_related("parent").annotate(
            children_count=count_subquery(OrgUnit.objects.filter(parent=OuterRef("pk"))),
            households_count=count_subquery(households),
        )


class _ListCreateUpdateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ModelWritePermission]


class HouseholdViewSet(ScopedViewSetMixin, _ListCreateUpdateViewSet):
    """Households of the caller's subtree. Search matches the household number or the address."""

    model = Household
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilterSet
    search_fields = ["number", "address"]
    ordering_fields = ["number", "created_at"]

    def optimise(self, queryset):
        return queryset.select_related("grid").prefetch_related("tags")


class ResidentViewSet(ScopedViewSetMixin, _ListCreateUpdateViewSet):
    """Residents of the caller's subtree. Search matches a name, a household number or a whole ID number."""

    model = Resident
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilterSet
    # An ID number matches only whole: a partial match would reveal masked digits.
    search_fields = ["name", "household__number", "=id_number"]
    ordering_fields = ["name", "household__number", "created_at"]

    def optimise(self, queryset):
        return queryset.select_related("household__grid").prefetch_related("tags")


router.register("org-units", OrgUnitViewSet, basename="orgunit")
router.register("households", HouseholdViewSet, basename="household")
router.register("residents", ResidentViewSet, basename="resident")
