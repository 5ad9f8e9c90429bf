"""Filters of the org chain's lists (django-filter FilterSets), used by the API and the web.

Every filter that names an org unit or a household looks it up among the rows the caller
may see, so an out-of-scope code answers exactly like an unknown one ("not found or outside
your scope") and leaks nothing. Subtree filters use the MPTT range of the chosen unit.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from governance.models import HOUSEHOLD_LEVELS, Household, Kind, Level, OrgUnit, Relation, Resident, Sex, Tag
from governance.portal.guard import parse_id
from governance.selectors import subtree_q


class NaturalKeyChoiceField(forms.ModelChoiceField):
    """A row picked by its natural key (an org unit's code, a household's number) or by id.

    The queryset is the caller's scope, so a row outside it is reported as not found.
    """

    # A text box, not a select: a county has thousands of units and tens of thousands of households.
    widget = forms.TextInput
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
        if row is None and (pk := parse_id(value)) is not None:
            row = self.queryset.filter(pk=pk).first()
        if row is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return row


class NaturalKeyFilter(filters.ModelChoiceFilter):
    field_class = NaturalKeyChoiceField


class IdChoiceField(NaturalKeyChoiceField):
    """A row given by its id only (rows without a code: party organisations, books); anything else is not
    found."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        pk = parse_id(value)
        row = self.queryset.filter(pk=pk).first() if pk is not None else None
        if row is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return row


class IdFilter(NaturalKeyFilter):
    field_class = IdChoiceField


def scoped_units(request):
    return OrgUnit.objects.visible_to(getattr(request, "user", None))


def _units_of(*levels):
    def queryset(request):
        return scoped_units(request).filter(level__in=levels)

    return queryset


def scoped_households(request):
    return Household.objects.visible_to(getattr(request, "user", None))


def _described(filter_, help_text):
    """Tell the OpenAPI schema what a filter takes: a string, documented by ``help_text``.

    drf-spectacular would otherwise guess the type from the model (an integer id).
    """
    filter_.extra["help_text"] = help_text
    return extend_schema_field({"type": "string", "description": help_text})(filter_)


def key_filter(queryset, help_text, **kwargs):
    """A row of ``queryset`` (a callable of the request, i.e. the scope) by natural key or id."""
    return _described(NaturalKeyFilter(queryset=queryset, **kwargs), help_text)


def subtree_filter(path: str, help_text, *, levels=None):
    """Rows inside the subtree of one unit of the caller's scope (given by code or id)."""

    def method(queryset, name, value):
        return queryset.filter(subtree_q(value, path))

    return key_filter(_units_of(*levels) if levels else scoped_units, help_text, method=method)


def tag_filter(applies_to):
    return _described(
        filters.ModelMultipleChoiceFilter(
            field_name="tags__code", to_field_name="code", queryset=Tag.objects.filter(applies_to=applies_to)
        ),
        _("Tag code; repeat it to match any of several tags."),
    )


class OrgUnitFilterSet(filters.FilterSet):
    parent = key_filter(scoped_units, _("Direct children of this unit (code or id)."), method="filter_parent")
    ancestor = key_filter(
        scoped_units, _("Every unit below this one, at any depth (code or id)."), method="filter_ancestor"
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
    unit = subtree_filter("grid", _("Households anywhere below this unit (code or id)."))
    township = subtree_filter("grid", _("Households of this township (code or id)."), levels=[Level.TOWNSHIP])
    village = subtree_filter("grid", _("Households of this village or community (code or id)."), levels=[Level.VILLAGE])
    grid = subtree_filter(
        "grid", _("Households of this grid or micro-grid (code or id)."), levels=sorted(HOUSEHOLD_LEVELS)
    )
    tag = tag_filter(Tag.AppliesTo.HOUSEHOLD)
    is_active = filters.BooleanFilter()

    class Meta:
        model = Household
        fields = ["unit", "township", "village", "grid", "tag", "is_active"]


class ResidentFilterSet(filters.FilterSet):
    household = key_filter(scoped_households, _("Household number or id."), field_name="household", key_field="number")
    unit = subtree_filter("household__grid", _("Residents anywhere below this unit (code or id)."))
    township = subtree_filter("household__grid", _("Residents of this township (code or id)."), levels=[Level.TOWNSHIP])
    village = subtree_filter(
        "household__grid", _("Residents of this village or community (code or id)."), levels=[Level.VILLAGE]
    )
    grid = subtree_filter(
        "household__grid", _("Residents of this grid or micro-grid (code or id)."), levels=sorted(HOUSEHOLD_LEVELS)
    )
    sex = filters.ChoiceFilter(choices=Sex.choices)
    relation = filters.ChoiceFilter(choices=Relation.choices)
    tag = tag_filter(Tag.AppliesTo.RESIDENT)
    is_active = filters.BooleanFilter()

    class Meta:
        model = Resident
        fields = ["household", "unit", "township", "village", "grid", "sex", "relation", "tag", "is_active"]
