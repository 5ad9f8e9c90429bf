"""Forms of the three assets' and the project library's pages: the lists' filter bars, an asset, a resource,
a project and a county's local project category.

Every choice is limited to what the user sees (his villages, their books' detail accounts, their
decisions); the services (``collective_economy.services.registers``) check the rest — an asset's
detail account of its own village's fixed assets, a project's category and income accounts — and
their refusal comes back on the field.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collective_economy.models import (
    AccountClass,
    AccountRole,
    Asset,
    AssetKind,
    AssetStatus,
    Decision,
    Project,
    ProjectCategory,
    ProjectStatus,
    Resource,
    ResourceKind,
    SubAccount,
)
from collective_economy.selectors.assets import categories_visible, contracted_q
from collective_economy.services.registers import project_category_save
from governance.models import Level, OrgUnit
from governance.portal.forms import DateInput, PortalFormMixin, ScopedFilterForm
from governance.selectors import subtree_q

ALL = [("", pgettext_lazy("filter", "All"))]
NUMBER_TAKEN = _("Number %(code)s is already used in this village.")
AREA_POSITIVE = _("Enter an area above 0 mu.")
AMOUNT_NOT_NEGATIVE = _("Enter an amount of 0 yuan or more.")


# --- Filter bars ---------------------------------------------------------------------------------


class VillageFilterForm(ScopedFilterForm):
    """A filter bar by township and village (no grid, no tag), with the search box last."""

    unit_path = "village"
    with_tags = False
    lowest_level = Level.VILLAGE
    placeholder = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = self.placeholder
        self.order_fields([*self.unit_fields, *[n for n in self.fields if n not in (*self.unit_fields, "q")], "q"])

    def filter_queryset(self, queryset):
        if not self.is_bound:
            return queryset
        self.is_valid()  # cleaned_data then holds the valid fields; invalid ones do not filter
        data = self.cleaned_data
        if self.selected_unit is not None:
            queryset = queryset.filter(self.unit_q(self.selected_unit))
        queryset = self.narrow(queryset, data)
        if data.get("q"):
            queryset = self.search(queryset, data["q"].strip())
        return queryset

    def unit_q(self, unit: OrgUnit) -> Q:
        return subtree_q(unit, self.unit_path)

    def narrow(self, queryset, data):
        return queryset


class AssetFilterForm(VillageFilterForm):
    placeholder = _("Number, name or location")
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=ALL + AssetKind.choices)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=ALL + AssetStatus.choices)

    def narrow(self, queryset, data):
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(code__icontains=text) | Q(name__icontains=text) | Q(location__icontains=text))


class ResourceFilterForm(VillageFilterForm):
    placeholder = _("Number, name or location")
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=ALL + ResourceKind.choices)
    contracted = forms.ChoiceField(label=_("Contracted out"), required=False, choices=ALL + [
        ("yes", _("Under a contract in force")), ("no", _("Not contracted out"))])

    def narrow(self, queryset, data):
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("contracted") == "yes":
            queryset = queryset.filter(contracted_q())
        elif data.get("contracted") == "no":
            queryset = queryset.filter(~contracted_q())
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(code__icontains=text) | Q(name__icontains=text) | Q(location__icontains=text))


class ProjectFilterForm(VillageFilterForm):
    placeholder = _("Project name")
    category = forms.ChoiceField(label=_("Category"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=ALL + ProjectStatus.choices)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.categories = list(categories_visible(user).order_by("county_id", "sort_order", "code"))
        self.fields["category"].choices = ALL + [(c.code, c.name) for c in self.categories]

    def unit_q(self, unit: OrgUnit) -> Q:
        # A village's projects are those it leads or takes part in.
        involved = Project.objects.filter(subtree_q(unit, "villages")).values("pk")
        return subtree_q(unit, "village") | Q(pk__in=involved)

    def narrow(self, queryset, data):
        if data.get("category"):
            queryset = queryset.filter(category__code=data["category"])
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(name__icontains=text) | Q(description__icontains=text))


# --- Choices -------------------------------------------------------------------------------------


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        parent = obj.parent.display_name if obj.parent_id and obj.parent else ""
        return f"{parent} {obj.display_name}".strip()


class VillagesChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        parent = obj.parent.display_name if obj.parent_id and obj.parent else ""
        return f"{parent} {obj.display_name}".strip()


class SubAccountChoiceField(forms.ModelChoiceField):
    """A detail account shown as its village, code and names: 德A村 · 151001 固定资产-办公楼."""

    def label_from_instance(self, obj):
        return sub_account_label(obj)


class SubAccountsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return sub_account_label(obj)


def sub_account_label(sub: SubAccount) -> str:
    village = sub.book.village.display_name
    return f"{village} · {sub.code} {sub.account.name}-{sub.name}"


def villages_of(user):
    return (OrgUnit.objects.visible_to(user).filter(level=Level.VILLAGE, is_active=True)
            .select_related("parent").order_by("tree_id", "lft"))


def _one_village(form) -> None:
    """A user with one village (its own clerk) is not asked which: it is chosen for him."""
    field = form.fields["village"]
    villages = list(field.queryset[:2])
    if len(villages) == 1 and not form.initial.get("village") and form.instance.pk is None:
        form.initial["village"] = villages[0].pk


def not_negative(amount):
    if amount is not None and amount < 0:
        raise forms.ValidationError(AMOUNT_NOT_NEGATIVE)
    return amount


class RegisterForm(PortalFormMixin, forms.ModelForm):
    """A row of a register, its village among the user's; ``service_fields`` is what the service saves."""

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages_of(user)
        _one_village(self)
        if self.instance.pk is not None:
            # A row stays in its village: moving it would take its contracts and accounts with it.
            self.fields["village"].disabled = True

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}

    def clean(self):
        cleaned = super().clean()
        village, code = cleaned.get("village"), cleaned.get("code")
        if "code" in self.fields and village is not None and code:
            same = self._meta.model.objects.filter(village=village, code=code).exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error("code", forms.ValidationError(NUMBER_TAKEN, params={"code": code}))
        return cleaned

    #: The fields as the page lays them out: each inner list is one row (two or three side by side).
    layout: list[list[str]] = []

    def field_rows(self) -> list[list]:
        return [[self[name] for name in row] for row in self.layout]


class AssetForm(RegisterForm):
    village = VillageChoiceField(label=_("Village"), queryset=OrgUnit.objects.none())
    sub_account = SubAccountChoiceField(
        label=_("Fixed-asset detail account"), queryset=SubAccount.objects.none(), required=False,
        help_text=_("The detail account of the fixed assets (固定资产) the asset is booked on, in its village's "
                    "books."))

    class Meta:
        model = Asset
        fields = ["village", "code", "name", "kind", "status", "value", "acquired_on", "quantity", "location",
                  "sub_account", "is_public_welfare"]
        widgets = {"acquired_on": DateInput()}

    layout = [["village"], ["code", "name"], ["kind", "status"], ["value", "acquired_on", "quantity"], ["location"],
              ["sub_account"], ["is_public_welfare"]]

    def clean_value(self):
        return not_negative(self.cleaned_data.get("value"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["sub_account"].queryset = (
            SubAccount.objects.visible_to(user).filter(account__role=AccountRole.FIXED_ASSETS)
            .select_related("book__village", "account").order_by("book__village__tree_id", "book__village__lft",
                                                                 "code"))


class ResourceForm(RegisterForm):
    village = VillageChoiceField(label=_("Village"), queryset=OrgUnit.objects.none())

    class Meta:
        model = Resource
        fields = ["village", "code", "name", "kind", "area", "location", "boundaries"]

    layout = [["village"], ["code", "name"], ["kind", "area"], ["location"], ["boundaries"]]

    def clean_area(self):
        area = self.cleaned_data.get("area")
        if area is not None and area <= 0:
            raise forms.ValidationError(AREA_POSITIVE)
        return area


class DecisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.village.display_name} · {obj.number} {obj.title}（{obj.get_state_display()}）"


class ProjectForm(RegisterForm):
    village = VillageChoiceField(label=_("Lead village"), queryset=OrgUnit.objects.none())
    villages = VillagesChoiceField(
        label=_("Other villages involved"), queryset=OrgUnit.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("The lead village always takes part. Hold Ctrl to choose several."))
    category = forms.ModelChoiceField(label=_("Category"), queryset=ProjectCategory.objects.none())
    decision = DecisionChoiceField(label=_("Village decision"), queryset=Decision.objects.none(), required=False,
                                   help_text=_("The lead village's decision that approved the project."))
    income_accounts = SubAccountsChoiceField(
        label=_("Income detail accounts"), queryset=SubAccount.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("The income detail accounts of the villages involved that the project's income is posted on: "
                    "its income to the collective is read from the books, never typed."))

    class Meta:
        model = Project
        fields = ["village", "villages", "category", "name", "status", "investment", "started_on", "decision",
                  "income_accounts", "description"]
        widgets = {"started_on": DateInput(), "description": forms.Textarea(attrs={"rows": 3})}

    layout = [["name"], ["category", "status"], ["village", "villages"], ["investment", "started_on"], ["decision"],
              ["income_accounts"], ["description"]]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["villages"].queryset = villages_of(user)
        self.fields["category"].queryset = categories_visible(user).filter(is_active=True).order_by(
            "county_id", "sort_order", "code")
        self.fields["decision"].queryset = (Decision.objects.visible_to(user).select_related("village")
                                            .order_by("village__tree_id", "village__lft", "-created_at"))
        self.fields["income_accounts"].queryset = (
            SubAccount.objects.visible_to(user).filter(account__account_class=AccountClass.INCOME, is_active=True)
            .select_related("book__village", "account").order_by("book__village__tree_id", "book__village__lft",
                                                                 "code"))
        if self.instance.pk is not None:
            self.initial["villages"] = [v.pk for v in self.instance.villages.all() if v.pk != self.instance.village_id]

    def clean_investment(self):
        return not_negative(self.cleaned_data.get("investment"))


class ProjectCategoryForm(PortalFormMixin, forms.Form):
    """A county's local category (the "+N" of 4+N), saved by ``project_category_save`` (its code made from the
    county's when left blank)."""

    name = forms.CharField(label=_("Name"), max_length=40)
    code = forms.SlugField(label=_("Code"), max_length=40, required=False,
                           help_text=_("Letters, digits and hyphens; left blank, one is made."))
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, county: OrgUnit, instance: ProjectCategory | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", {"name": instance.name, "code": instance.code,
                                          "sort_order": instance.sort_order, "is_active": instance.is_active})
        super().__init__(*args, **kwargs)
        self.county, self.instance = county, instance

    def save(self, user) -> ProjectCategory | None:
        """The category saved by the service, or None with its refusal on the form."""
        try:
            return project_category_save(county=self.county, user=user, category=self.instance,
                                         **self.cleaned_data)
        except ValidationError as error:
            self.add_service_error(error)
            return None
