"""What the party-building forms share: labels of members and households, the choices limited to
the user's scope, the member search, and the filter bar of rows that belong to a community."""

import re

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, OrgUnit
from governance.portal.forms import ScopedFilterForm
from governance.validators import is_phone, normalize_id_number
from partybuild.models import PartyMember

_ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")
ALL = [("", _("All"))]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


def member_label(member: PartyMember) -> str:
    parts = [member.resident.name, member.organization.name]
    if member.work_unit:
        parts.append(member.work_unit)
    return " · ".join(parts)


def household_label(household: Household) -> str:
    head = getattr(household, "head_name", "")
    return " · ".join(part for part in (household.number, household.address, head) if part)


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return member_label(obj)


class HouseholdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return household_label(obj)


class CommunityChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(label=_("Community"), queryset=OrgUnit.objects.none(), empty_label=_("— choose —"), **kwargs)

    def label_from_instance(self, obj):
        return obj.display_name


def scoped_members(user) -> QuerySet:
    return PartyMember.objects.visible_to(user).filter(is_active=True).select_related("resident", "organization")


def scoped_communities(user) -> QuerySet:
    return OrgUnit.objects.visible_to(user).filter(level=Level.VILLAGE, is_active=True).order_by("code")


def search_members(queryset: QuerySet, text: str) -> QuerySet:
    """A name (part of it), a whole ID number, a whole phone, or a work unit."""
    id_number = normalize_id_number(text)
    if _ID_NUMBER_RE.match(id_number):
        return queryset.filter(resident__id_number=id_number)
    if is_phone(text):
        return queryset.filter(resident__phone=text.strip())
    return queryset.filter(Q(resident__name__icontains=text) | Q(work_unit__icontains=text))


class CommunityFilterForm(ScopedFilterForm):
    """Township and village pickers, the list's own choices, a search: rows that belong to a community.

    A subclass declares its choice fields (each filters ``exact_filters[name]`` by the value
    chosen), the lookups the search box ORs (``search_lookups``) and its ``placeholder``; the
    fields show in the order declared, between the unit pickers and the search box.
    """

    unit_path = "community"
    with_tags = False
    lowest_level = Level.VILLAGE
    exact_filters: dict[str, str] = {}
    search_lookups: tuple[str, ...] = ()
    placeholder = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = self.placeholder
        own = [name for name in self.declared_fields if name not in ("q", "tag")]
        self.order_fields([*self.unit_fields, *own, "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.cleaned_data if self.is_bound else {}
        for name, lookup in self.exact_filters.items():
            if data.get(name):
                queryset = queryset.filter(**{lookup: data[name]})
        return queryset

    def search(self, queryset, text):
        condition = Q()
        for lookup in self.search_lookups:
            condition |= Q(**{lookup: text})
        return queryset.filter(condition)
