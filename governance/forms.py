"""Forms of the org chain's web pages: the filter bars above the household and resident lists."""

import re

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from governance.models import LEVEL_ORDER, Level, OrgUnit, Sex, Tag
from governance.selectors import filter_choice_units, subtree_q
from governance.validators import normalize_id_number

# The unit pickers of a filter bar, top down. Micro-grids are too many for a select.
FILTER_LEVELS = [Level.TOWNSHIP, Level.VILLAGE, Level.GRID]
FILTER_PLACEHOLDERS = {
    Level.TOWNSHIP: _("All townships"),
    Level.VILLAGE: _("All villages"),
    Level.GRID: _("All grids"),
}
FILTER_LABELS = {
    Level.TOWNSHIP: _("Township"),
    Level.VILLAGE: _("Village/community"),
    Level.GRID: _("Grid"),
}


def _depth(level: str) -> int:
    return LEVEL_ORDER.index(level)


class ScopedFilterForm(forms.Form):
    """A filter bar whose unit pickers offer only units inside the user's scope.

    The pickers cascade: a level's options are listed once the unit just above it is known
    (picked, or the user's home unit), which keeps every select short even for a city-wide
    user. A picked unit that no longer fits (out of scope, or under another township after
    the township changed) is dropped instead of raising an error: these values come from
    our own selects, so a stale one only means "not filtered".
    """

    #: Path from the listed model to its OrgUnit (e.g. "grid", "household__grid").
    unit_path = ""
    tag_applies_to = ""

    q = forms.CharField(label=_("Keyword"), required=False, max_length=100)
    tag = forms.ChoiceField(label=_("Tag"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        data = data.copy() if data is not None else None
        super().__init__(data, **kwargs)
        self.user = user
        self.selected_unit: OrgUnit | None = None
        self.unit_fields: list[str] = []
        self._build_unit_fields(data)
        tags = Tag.objects.filter(applies_to=self.tag_applies_to).values_list("code", "name")
        self.fields["tag"].choices = [("", _("All tags")), *tags]
        # Filters first in the order the eye reads them: units, tag, then the search box.
        self.order_fields([*self.unit_fields, "tag"])

    def _build_unit_fields(self, data):
        home = getattr(self.user, "home_unit", None)
        anchor = home
        for level in FILTER_LEVELS:
            if home is not None and _depth(home.level) >= _depth(level):
                continue  # the user's scope already fixes this level
            known_parent = anchor is not None and _depth(anchor.level) == _depth(level) - 1
            if known_parent:
                units = list(filter_choice_units(fetched_by=self.user, level=level, within=anchor))
            elif anchor is None and level == Level.TOWNSHIP:
                units = list(filter_choice_units(fetched_by=self.user, level=level))
            else:
                units = []
            placeholder = FILTER_PLACEHOLDERS[level] if units or not self.unit_fields else _("Choose above first")
            field = forms.ChoiceField(
                label=FILTER_LABELS[level],
                required=False,
                choices=[("", placeholder)] + [(u.code, u.display_name) for u in units],
            )
            field.disabled = not units
            self.fields[level] = field
            self.unit_fields.append(level)
            picked = next((u for u in units if data is not None and u.code == data.get(level)), None)
            if picked is not None:
                anchor = picked
                self.selected_unit = picked
            elif data is not None and level in data:
                # Stale or foreign: forget it, and every picker below it.
                data[level] = ""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.is_bound:
            return queryset
        self.is_valid()  # cleaned_data then holds the valid fields; invalid ones do not filter
        data = self.cleaned_data
        if self.selected_unit is not None:
            queryset = queryset.filter(subtree_q(self.selected_unit, self.unit_path))
        if data.get("tag"):
            queryset = queryset.filter(tags__code=data["tag"])
        if data.get("q"):
            queryset = self.search(queryset, data["q"].strip())
        return queryset

    def search(self, queryset: QuerySet, text: str) -> QuerySet:
        raise NotImplementedError

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


class HouseholdFilterForm(ScopedFilterForm):
    unit_path = "grid"
    tag_applies_to = Tag.AppliesTo.HOUSEHOLD

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Household number or address")

    def search(self, queryset, text):
        return queryset.filter(Q(number__icontains=text) | Q(address__icontains=text))


_ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")


class ResidentFilterForm(ScopedFilterForm):
    unit_path = "household__grid"
    tag_applies_to = Tag.AppliesTo.RESIDENT

    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", _("All")), *Sex.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Name, household number or full ID number")
        self.order_fields([*self.unit_fields, "sex", "tag"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.is_bound and self.cleaned_data.get("sex"):
            queryset = queryset.filter(sex=self.cleaned_data["sex"])
        return queryset

    def search(self, queryset, text):
        id_number = normalize_id_number(text)
        if _ID_NUMBER_RE.match(id_number):
            # Only the exact number: a partial ID search would let masked users unmask by guessing.
            return queryset.filter(id_number=id_number)
        return queryset.filter(Q(name__icontains=text) | Q(household__number=text))
