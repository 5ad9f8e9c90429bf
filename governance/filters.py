"""Filters of the org chain's lists (django-filter FilterSets), used by the API and the web.

Every filter that names an org unit or a household looks it up among the rows the caller
may see, so an out-of-scope code answers exactly like an unknown one ("not found or outside
your scope") and leaks nothing. Subtree filters use the MPTT range of the chosen unit.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from governance.models import HOUSEHOLD_LEVELS, Household, Kind, Level, OrgUnit, Relation, Resident, Sex, Tag


def subtree_q(unit: OrgUnit, path: str = "", *, include_self: bool = True) -> Q:
    """Rows whose OrgUnit at ``path`` lies in ``unit``'s subtree (the same range as scope)."""
    prefix = f"{path}__" if path else ""
    lower = f"{prefix}lft__gte" if include_self else f"{prefix}lft__gt"
    return Q(**{f"{prefix}tree_id": unit.tree_id, lower: unit.lft, f"{prefix}lft__lt": unit.rght})


class NaturalKeyChoiceField(forms.ModelChoiceField):
    """A row picked by its natural key (an org unit's code, a household's number) or by id.

    The queryset is the caller's scope, so a row outside it is reported as not found.
    """

    default_error_messages = {
        "invalid_choice": _("%(value)s was not found or is outside your scope."),
    }

    def __init__(self, *args, key_field: str = "code", **kwargs):
        self.key_field = key_field
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        row = self.queryset.filter(**{self.key_field: value}).first()
        # Ids are bigints; longer digit strings are keys only (and would overflow the column).
        if row is None and value.isdigit() and len(value) < 19:
            row = self.queryset.filter(pk=int(value)).first()
        if row is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return row


class NaturalKeyFilter(filters.ModelChoiceFilter):
    field_class = NaturalKeyChoiceField


def scoped_units(request):
    return OrgUnit.objects.visible_to(getattr(request, "user", None))


def _units_of(*levels):
    def queryset(request):
        return scoped_units(request).filter(level__in=levels)

    return queryset


def scoped_households(request):
    return Household.objects.visible_to(getattr(request, "user", None))


def _subtree_filter(path: str, *, levels=None, help_text=""):
    """A filter keeping the rows inside the subtree of one unit (given by code or id)."""

    def method(queryset, name, value):
        return queryset.filter(subtree_q(value, path))

    return extend_schema_field(OpenApiTypes.STR)(
        NaturalKeyFilter(
            queryset=_units_of(*levels) if levels else scoped_units,
            method=method,
            help_text=help_text,
        )
    )


class OrgUnitFilterSet(filters.FilterSet):
    parent = extend_schema_field(OpenApiTypes.STR)(
        NaturalKeyFilter(
            queryset=scoped_units,
            method="filter_parent",
            help_text=_("Direct children of this unit (code or id)."),
        )
    )
    ancestor = extend_schema_field(OpenApiTypes.STR)(
        NaturalKeyFilter(
            queryset=scoped_units,
            method="filter_ancestor",
            help_text=_("Every unit below this one, at any depth (code or id)."),
        )
    )
    level = filters.MultipleChoiceFilter(choices=Level.choices)
    kind = filters.MultipleChoiceFilter(choices=Kind.choices)
    is_active = filters.BooleanFilter()

    class Meta:
        model = OrgUnit
        fields = ["parent", "ancestor", "level", "kind", "is_active"]

    def filter_parent(self, queryset, name, value):
        return queryset.filter(parent=value)

    def filter_ancestor(self, queryset, name, value):
        return queryset.filter(subtree_q(value, include_self=False))


class HouseholdFilterSet(filters.FilterSet):
    unit = _subtree_filter("grid", help_text=_("Households inside this unit's subtree (code or id)."))
    township = _subtree_filter(
        "grid", levels=[Level.TOWNSHIP], help_text=_("Households of this township (code or id).")
    )
    village = _subtree_filter(
        "grid", levels=[Level.VILLAGE], help_text=_("Households of this village or community (code or id).")
    )
    grid = _subtree_filter(
        "grid", levels=sorted(HOUSEHOLD_LEVELS), help_text=_("Households of this grid or micro-grid (code or id).")
    )
    tag = filters.ModelMultipleChoiceFilter(
        field_name="tags",
        to_field_name="code",
        queryset=Tag.objects.filter(applies_to=Tag.AppliesTo.HOUSEHOLD),
        help_text=_("Tag code; repeat for any of several tags."),
    )
    is_active = filters.BooleanFilter()

    class Meta:
        model = Household
        fields = ["unit", "township", "village", "grid", "tag", "is_active"]


class ResidentFilterSet(filters.FilterSet):
    household = extend_schema_field(OpenApiTypes.STR)(
        NaturalKeyFilter(
            field_name="household",
            queryset=scoped_households,
            key_field="number",
            help_text=_("Household number or id."),
        )
    )
    unit = _subtree_filter("household__grid", help_text=_("Residents inside this unit's subtree (code or id)."))
    township = _subtree_filter(
        "household__grid", levels=[Level.TOWNSHIP], help_text=_("Residents of this township (code or id).")
    )
    village = _subtree_filter(
        "household__grid",
        levels=[Level.VILLAGE],
        help_text=_("Residents of this village or community (code or id)."),
    )
    grid = _subtree_filter(
        "household__grid",
        levels=sorted(HOUSEHOLD_LEVELS),
        help_text=_("Residents of this grid or micro-grid (code or id)."),
    )
    sex = filters.ChoiceFilter(choices=Sex.choices)
    relation = filters.ChoiceFilter(choices=Relation.choices)
    tag = filters.ModelMultipleChoiceFilter(
        field_name="tags",
        to_field_name="code",
        queryset=Tag.objects.filter(applies_to=Tag.AppliesTo.RESIDENT),
        help_text=_("Tag code; repeat for any of several tags."),
    )
    is_active = filters.BooleanFilter()

    class Meta:
        model = Resident
        fields = ["household", "unit", "township", "village", "grid", "sex", "relation", "tag", "is_active"]
