"""API of the three assets (三资) and the project library (4+N), under /api/v1/ledger/.

- ``ledger/assets/``: the registered assets; an asset is linked to a fixed-asset detail account of its
  own village's books (``asset_save``);
- ``ledger/resources/``: land, forest and water, each with its contracts in force (``resource_save``);
- ``ledger/projects/``: the projects; ``income`` is read from the books (the posted vouchers on the
  project's income detail accounts, ``project_income``) and cannot be written (``project_save``);
- ``ledger/project-categories/``: the four shipped categories and the caller's county's own; a county
  officer adds his county's; the shipped four are changed by no one but the system's administrator.

Same rules as the ledger's other endpoints: the caller's scope (outside it: 404), writes through the
services, a refused rule a 400 with its field's message; amounts are text in yuan ("1234.50").
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from collective_economy.api.common import MONEY_SCHEMA, LedgerViewSet, MoneyField
from collective_economy.models import (
    AccountClass,
    Asset,
    AssetKind,
    AssetStatus,
    Contract,
    ContractStatus,
    Decision,
    Project,
    ProjectCategory,
    ProjectStatus,
    Resource,
    ResourceKind,
    SubAccount,
)
from collective_economy.selectors.assets import categories_visible, contracted_q, with_income
from collective_economy.selectors.projects import project_income
from collective_economy.services import registers as services
from collective_economy.services.decisions import county_of
from governance.filters import subtree_filter
from governance.models import Level, OrgUnit
from governance.portal.api import ScopedIdField, ScopedRelatedField, router, run_write

NUMBER_TAKEN = _("Number %(code)s is already used in this village.")
AREA_POSITIVE = _("Enter an area above 0 mu.")
AMOUNT_NOT_NEGATIVE = _("Enter an amount of 0 yuan or more.")
SHIPPED_FIXED = _("The four categories every county has are changed by the system's administrator only.")
NO_COUNTY = _("Local categories are added by a county's officers.")

VILLAGE_HELP = _("Code (or id) of the village.")


def _not_negative(value: str) -> str:
    try:
        negative = Decimal(value) < 0
    except ArithmeticError:
        return value  # the service says what is wrong with it
    if negative:
        raise serializers.ValidationError(AMOUNT_NOT_NEGATIVE)
    return value


class RegisterSerializer(serializers.ModelSerializer):
    """A register's row: written through ``service`` (a function of ``user``, the row and its fields)."""

    village = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=VILLAGE_HELP)
    village_name = serializers.CharField(source="village.display_name", read_only=True)

    def service(self, **fields):
        raise NotImplementedError

    def validate(self, attrs):
        attrs = super().validate(attrs)
        village = attrs.get("village", getattr(self.instance, "village", None))
        code = attrs.get("code", getattr(self.instance, "code", None))
        if "code" in self.fields and village is not None and code:
            same = self.Meta.model.objects.filter(village=village, code=code)
            if self.instance is not None:
                same = same.exclude(pk=self.instance.pk)
            if same.exists():
                raise serializers.ValidationError({"code": [NUMBER_TAKEN % {"code": code}]})
        return attrs

    def create(self, validated_data):
        return run_write(self.service, user=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return run_write(self.service, user=self.context["request"].user, instance=instance, **validated_data)


# --- Assets --------------------------------------------------------------------------------------


class AssetSerializer(RegisterSerializer):
    value = MoneyField(help_text=_("Original value in yuan, as text: \"1234.50\"."))
    sub_account = ScopedIdField(model=SubAccount, required=False, allow_null=True,
                                help_text=_("Id of the fixed-asset detail account (固定资产) of the village's books."))
    sub_account_code = serializers.CharField(source="sub_account.code", read_only=True, allow_null=True,
                                             default=None)
    sub_account_name = serializers.CharField(source="sub_account.name", read_only=True, allow_null=True,
                                             default=None)
    kind = serializers.ChoiceField(choices=AssetKind.choices)
    status = serializers.ChoiceField(choices=AssetStatus.choices, required=False)

    class Meta:
        model = Asset
        fields = ["id", "village", "village_name", "code", "name", "kind", "location", "quantity", "acquired_on",
                  "value", "status", "sub_account", "sub_account_code", "sub_account_name", "is_public_welfare",
                  "created_at"]
        validators = []  # the service checks the number (unique in the village)

    def validate_value(self, value):
        return _not_negative(value)

    def service(self, *, user, instance=None, **fields):
        return services.asset_save(user=user, asset=instance, **fields)


class AssetFilterSet(filters.FilterSet):
    unit = subtree_filter("village", _("Assets of the villages below this unit (code or id)."))
    kind = filters.MultipleChoiceFilter(choices=AssetKind.choices, help_text=_("Repeat it to match any of several."))
    status = filters.MultipleChoiceFilter(choices=AssetStatus.choices)

    class Meta:
        model = Asset
        fields = ["unit", "kind", "status"]


class AssetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   mixins.UpdateModelMixin, LedgerViewSet):
    """The assets (资产) of the villages in your scope. Registering and changing one needs the register's
    permission; its detail account is a fixed-asset one of its own village's books."""

    model = Asset
    serializer_class = AssetSerializer
    filterset_class = AssetFilterSet
    search_fields = ["code", "name", "location"]
    ordering_fields = ["code", "name", "value", "acquired_on"]

    def optimise(self, queryset):
        return queryset.select_related("village", "sub_account")


# --- Resources -----------------------------------------------------------------------------------


class ContractBriefSerializer(serializers.ModelSerializer):
    """A contract in force on a resource; its counterparty as it may be shown to anyone."""

    counterparty = serializers.CharField(source="counterparty_public", read_only=True,
                                         help_text=_("A firm's name; a private person is never named."))
    amount = MoneyField(read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "number", "title", "counterparty", "amount", "starts_on", "ends_on"]


class ResourceSerializer(RegisterSerializer):
    area = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True,
                                    help_text=_("Area in mu, as text: \"120.50\"."))
    kind = serializers.ChoiceField(choices=ResourceKind.choices)
    contracts_in_force = ContractBriefSerializer(source="in_force", many=True, read_only=True,
                                                 help_text=_("Its contracts in force: empty when not contracted out."))

    class Meta:
        model = Resource
        fields = ["id", "village", "village_name", "code", "name", "kind", "area", "location", "boundaries",
                  "contracts_in_force", "created_at"]
        validators = []

    def validate_area(self, value):
        if value <= 0:
            raise serializers.ValidationError(AREA_POSITIVE)
        return value

    def service(self, *, user, instance=None, **fields):
        return services.resource_save(user=user, resource=instance, **fields)

    def to_representation(self, instance):
        if not hasattr(instance, "in_force"):  # a row just written: its contracts read now
            instance.in_force = list(instance.contracts.filter(status=ContractStatus.IN_FORCE))
        return super().to_representation(instance)


class ResourceFilterSet(filters.FilterSet):
    unit = subtree_filter("village", _("Resources of the villages below this unit (code or id)."))
    kind = filters.MultipleChoiceFilter(choices=ResourceKind.choices)
    contracted = filters.BooleanFilter(method="filter_contracted",
                                       help_text=_("true: under a contract in force; false: not contracted out."))

    class Meta:
        model = Resource
        fields = ["unit", "kind", "contracted"]

    def filter_contracted(self, queryset, name, value):
        return queryset.filter(contracted_q() if value else ~contracted_q())


class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, LedgerViewSet):
    """The resources (资源: land, forest, water) of the villages in your scope, with their contracts in force."""

    model = Resource
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilterSet
    search_fields = ["code", "name", "location"]
    ordering_fields = ["code", "name", "area"]

    def optimise(self, queryset):
        return queryset.select_related("village").prefetch_related(
            Prefetch("contracts", queryset=Contract.objects.filter(status=ContractStatus.IN_FORCE)
                     .order_by("-starts_on", "pk"), to_attr="in_force"))


# --- Projects and their categories ---------------------------------------------------------------


class CategoryField(serializers.SlugRelatedField):
    """A category by its code, among the four shipped ones and the caller's county's own."""

    def get_queryset(self):
        return categories_visible(self.context["request"].user)


class ProjectListSerializer(serializers.ListSerializer):
    """A page of projects: their income read from the books in one query for the whole page."""

    def to_representation(self, data):
        projects = with_income(data.all() if hasattr(data, "all") else data, project_income)
        return super().to_representation(projects)


@extend_schema_field(MONEY_SCHEMA)
class IncomeField(serializers.ReadOnlyField):
    """What the project's income accounts hold in the posted vouchers, in yuan ("1234.50")."""

    def get_attribute(self, instance):
        if not hasattr(instance, "income"):
            with_income([instance], project_income)
        return instance.income

    def to_representation(self, value):
        return f"{value:.2f}"


class ProjectSerializer(RegisterSerializer):
    village = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the lead village."))
    villages = ScopedRelatedField(model=OrgUnit, key_field="code", many=True, required=False,
                                  help_text=_("Codes (or ids) of the villages involved; the lead village always is."))
    category = CategoryField(slug_field="code", help_text=_("Code of the category."))
    category_name = serializers.CharField(source="category.name", read_only=True)
    status = serializers.ChoiceField(choices=ProjectStatus.choices, required=False)
    investment = MoneyField(help_text=_("Investment in yuan, as text: \"1234.50\"."))
    income = IncomeField(help_text=_("The project's income to the collective, read from the books: what its income "
                                     "detail accounts hold in the posted vouchers. It is never written."))
    income_accounts = ScopedIdField(model=SubAccount, many=True, required=False,
                                    help_text=_("Ids of the income detail accounts of the villages involved."))
    decision = ScopedIdField(model=Decision, required=False, allow_null=True,
                             help_text=_("Id of the lead village's decision that approved it."))

    class Meta:
        model = Project
        fields = ["id", "village", "village_name", "villages", "category", "category_name", "name", "description",
                  "investment", "started_on", "status", "decision", "income_accounts", "income", "created_at"]
        list_serializer_class = ProjectListSerializer

    def validate_investment(self, value):
        return _not_negative(value)

    def validate_income_accounts(self, accounts):
        refused = [a for a in accounts if a.account.account_class != AccountClass.INCOME]
        if refused:
            raise serializers.ValidationError(_("Detail account %(account)s is not an income account.")
                                              % {"account": refused[0]})
        return accounts

    def service(self, *, user, instance=None, **fields):
        if instance is not None:
            fields.setdefault("villages", [v for v in instance.villages.all()])
            fields.setdefault("income_accounts", list(instance.income_accounts.all()))
        return services.project_save(user=user, project=instance, **fields)


class ProjectFilterSet(filters.FilterSet):
    unit = subtree_filter("village", _("Projects led by the villages below this unit (code or id)."))
    category = filters.CharFilter(field_name="category__code", help_text=_("Code of the category."))
    status = filters.MultipleChoiceFilter(choices=ProjectStatus.choices)

    class Meta:
        model = Project
        fields = ["unit", "category", "status"]


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, LedgerViewSet):
    """The project library (4+N) of the villages in your scope. ``income`` is read from the books."""

    model = Project
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "investment", "started_on"]

    def optimise(self, queryset):
        return (queryset.select_related("village", "category")
                .prefetch_related("villages", "income_accounts__account"))


class ProjectCategorySerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county.code", read_only=True, allow_null=True, default=None,
                                   help_text=_("Code of the county whose local category it is; null for the four "
                                               "every county has."))
    code = serializers.SlugField(max_length=40, required=False, allow_blank=True,
                                 help_text=_("Left blank: made from the county's code."))

    class Meta:
        model = ProjectCategory
        fields = ["id", "code", "name", "county", "sort_order", "is_active"]
        validators = []

    def _county(self):
        home = self.context["request"].user.home_unit
        if home is None or home.level != Level.COUNTY:
            raise PermissionDenied(NO_COUNTY)
        return county_of(home)

    def create(self, validated_data):
        return run_write(services.project_category_save, county=self._county(), user=self.context["request"].user,
                         **validated_data)

    def update(self, instance, validated_data):
        data = {"name": instance.name, "code": instance.code, "sort_order": instance.sort_order,
                "is_active": instance.is_active, **validated_data}
        return run_write(services.project_category_save, county=instance.county,
                         user=self.context["request"].user, category=instance, **data)


class ProjectCategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                             mixins.UpdateModelMixin, LedgerViewSet):
    """The categories of the project library: the four every county has, and your county's own ("+N").

    A county officer adds and changes his county's; the four shipped ones are read-only but for the
    system's administrator.
    """

    model = ProjectCategory
    serializer_class = ProjectCategorySerializer
    search_fields = ["code", "name"]
    ordering_fields = ["sort_order", "code", "name"]
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return categories_visible(self.request.user).select_related("county").order_by("county_id", "sort_order",
                                                                                        "code")

    def perform_update(self, serializer):
        instance = serializer.instance
        user = self.request.user
        if instance.county_id is None and not user.is_superuser:
            raise PermissionDenied(SHIPPED_FIXED)
        serializer.save()


router.register("ledger/assets", AssetViewSet, basename="ledger-asset")
router.register("ledger/resources", ResourceViewSet, basename="ledger-resource")
router.register("ledger/projects", ProjectViewSet, basename="ledger-project")
router.register("ledger/project-categories", ProjectCategoryViewSet, basename="ledger-project-category")
