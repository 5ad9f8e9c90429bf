"""Filters of the party-building lists (django-filter FilterSets), used by the API and the web pages.

Like ``governance.filters``: a filter that names a row (a unit, an organisation, a member)
looks it up among the rows the caller may see, so an out-of-scope value answers like an
unknown one. Units are given by code or id, members by whole ID number or id,
organisations by id.
"""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from governance.filters import IdFilter, _described, key_filter, subtree_filter
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    MemberStatus,
    OfferKind,
    PartyMember,
    PartyOrganization,
    RegistrationStatus,
    ServicePost,
    ServiceRecord,
    UnitRegistration,
    Wish,
    WishCategory,
    WishState,
    kind_choices,
)


def scoped_organizations(request):
    return PartyOrganization.objects.visible_to(getattr(request, "user", None))


def scoped_members(request):
    return PartyMember.objects.visible_to(getattr(request, "user", None))


def organization_filter(path: str, help_text):
    """Rows of one party organisation and every organisation below it (by id)."""

    def method(queryset, name, value):
        prefix = f"{path}__" if path else ""
        return queryset.filter(
            **{f"{prefix}tree_id": value.tree_id, f"{prefix}lft__gte": value.lft, f"{prefix}lft__lt": value.rght}
        )

    return _described(IdFilter(queryset=scoped_organizations, method=method), help_text)


def member_filter(field_name: str, help_text):
    return key_filter(scoped_members, help_text, field_name=field_name, key_field="resident__id_number")


class PartyOrganizationFilterSet(filters.FilterSet):
    parent = _described(
        IdFilter(queryset=scoped_organizations, field_name="parent"), _("Direct sub-organisations of this one (id).")
    )
    within = organization_filter("", _("This organisation and every one below it (id)."))
    unit = subtree_filter("org_unit", _("Organisations covering a unit below this one (code or id)."))
    kind = filters.MultipleChoiceFilter(choices=kind_choices)
    is_active = filters.BooleanFilter()

    class Meta:
        model = PartyOrganization
        fields = ["parent", "within", "unit", "kind", "is_active"]


class PartyMemberFilterSet(filters.FilterSet):
    organization = organization_filter(
        "organization", _("Members of this organisation and of those below it (id).")
    )
    unit = subtree_filter(
        "organization__org_unit", _("Members whose organisation covers a unit below this one (code or id).")
    )
    residence = subtree_filter("resident__household__grid", _("Members living below this unit (code or id)."))
    status = filters.ChoiceFilter(choices=MemberStatus.choices)
    in_service = filters.BooleanFilter()
    is_mobile = filters.BooleanFilter()
    is_active = filters.BooleanFilter()
    registered = filters.BooleanFilter(
        method="filter_registered", label=_("With an active registration (double report).")
    )

    class Meta:
        model = PartyMember
        fields = ["organization", "unit", "residence", "status", "in_service", "is_mobile", "is_active", "registered"]

    def filter_registered(self, queryset, name, value):
        active = MemberRegistration.objects.filter(member=OuterRef("pk"), status=RegistrationStatus.ACTIVE)
        return queryset.filter(Exists(active)) if value else queryset.exclude(Exists(active))


class CentralHouseholdFilterSet(filters.FilterSet):
    unit = subtree_filter("household__grid", _("Households below this unit (code or id)."))
    member = member_filter("member", _("The member running it (whole ID number or id)."))

    class Meta:
        model = CentralHousehold
        fields = ["unit", "member"]


class UnitRegistrationFilterSet(filters.FilterSet):
    community = subtree_filter(
        "community", _("Registrations with communities below this unit (code or id)."),
    )
    status = filters.ChoiceFilter(choices=RegistrationStatus.choices)
    offer = filters.ChoiceFilter(
        field_name="offers__kind", choices=OfferKind.choices, distinct=True, label=_("Has entries of this list.")
    )
    registered_on = filters.DateFromToRangeFilter()

    class Meta:
        model = UnitRegistration
        fields = ["community", "status", "offer", "registered_on"]


class MemberRegistrationFilterSet(filters.FilterSet):
    community = subtree_filter("community", _("Registrations with communities below this unit (code or id)."))
    branch = subtree_filter(
        "member__organization__org_unit", _("Registrations of members whose organisation is below this unit.")
    )
    member = member_filter("member", _("Whole ID number or id of the member."))
    status = filters.ChoiceFilter(choices=RegistrationStatus.choices)
    post = filters.ChoiceFilter(
        field_name="claims__post", choices=ServicePost.choices, distinct=True, label=_("Has claimed this post.")
    )
    registered_on = filters.DateFromToRangeFilter()

    class Meta:
        model = MemberRegistration
        fields = ["community", "branch", "member", "status", "post", "registered_on"]


class WishFilterSet(filters.FilterSet):
    community = subtree_filter("community", _("Wishes of communities below this unit (code or id)."))
    state = filters.MultipleChoiceFilter(choices=WishState.choices)
    category = filters.MultipleChoiceFilter(choices=WishCategory.choices)
    dispatched_to = member_filter("dispatched_to", _("Dispatched to this member (whole ID number or id)."))
    taken_by = member_filter("taken_by", _("Taken by this member (whole ID number or id)."))
    posted_at = filters.DateFromToRangeFilter()

    class Meta:
        model = Wish
        fields = ["community", "state", "category", "dispatched_to", "taken_by", "posted_at"]


class ServiceRecordFilterSet(filters.FilterSet):
    community = subtree_filter("community", _("Services done in communities below this unit (code or id)."))
    branch = subtree_filter(
        "member__organization__org_unit",
        _("Services of members whose organisation covers a unit below this one (code or id)."),
    )
    member = member_filter("member", _("Whole ID number or id of the member."))
    kind = filters.MultipleChoiceFilter(choices=ServicePost.choices)
    date = filters.DateFromToRangeFilter()
    with_wish = filters.BooleanFilter(
        field_name="wish", lookup_expr="isnull", exclude=True, label=_("Done for a micro-wish.")
    )

    class Meta:
        model = ServiceRecord
        fields = ["community", "branch", "member", "kind", "date", "with_wish"]

