"""Forms of the org chain's web pages: the filter bars above the household and resident lists."""

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.models import Sex, Tag
from governance.portal.forms import ScopedFilterForm
from governance.validators import is_phone, normalize_id_number


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
        # ID numbers and phones are stored encrypted: they match only whole (through their hash).
        self.fields["q"].widget.attrs["placeholder"] = _("Name, household number, full ID number or full phone")
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
        if is_phone(text):
            return queryset.filter(phone=text.strip())
        return queryset.filter(Q(name__icontains=text) | Q(household__number=text))
