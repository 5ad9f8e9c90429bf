"""Forms of the party-building pages: list filters, the double report, micro-wishes, service records.

Every choice a form offers (members, households, communities, organisations, wishes) is read
through ``visible_to(user)``, so a posted id outside the user's scope is refused like an
unknown one. Writes go through ``partybuild.services``; a service's ValidationError is put on
the form by ``add_service_error``.
"""

import re

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, OrgUnit
from governance.portal.forms import DateInput, PortalFormMixin, ScopedFilterForm, SearchSelect
from governance.selectors import subtree_q
from governance.validators import normalize_id_number
from partybuild.models import (
    MemberStatus,
    OfferKind,
    OrgKind,
    PartyMember,
    PartyOrganization,
    RegistrationStatus,
    ServicePost,
    Wish,
    WishCategory,
    WishState,
)

_ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")
YES_NO = [("", _("All")), ("yes", _("Yes")), ("no", _("No"))]
# Organisations a filter offers: groups are too many and too small to filter by.
FILTER_ORG_KINDS = [OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH, OrgKind.GRID_BRANCH]


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
    def label_from_instance(self, obj):
        return obj.display_name


def scoped_members(user) -> QuerySet:
    return PartyMember.objects.visible_to(user).filter(is_active=True).select_related("resident", "organization")


def scoped_communities(user) -> QuerySet:
    return OrgUnit.objects.visible_to(user).filter(level=Level.VILLAGE, is_active=True).order_by("code")


def search_members(queryset: QuerySet, text: str) -> QuerySet:
    """A name (part of it), a whole ID number, or a work unit."""
    id_number = normalize_id_number(text)
    if _ID_NUMBER_RE.match(id_number):
        return queryset.filter(resident__id_number=id_number)
    return queryset.filter(Q(resident__name__icontains=text) | Q(work_unit__icontains=text))


# --- Filter bars ---------------------------------------------------------------------------


class CommunityFilterForm(ScopedFilterForm):
    """Township and village pickers only: rows that belong to a community (wishes, registrations, services)."""

    unit_path = "community"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["tag"]
        if Level.GRID in self.fields:
            del self.fields[Level.GRID]
            self.unit_fields.remove(Level.GRID)
        if self.selected_unit is not None and self.selected_unit.level == Level.GRID:
            self.selected_unit = self.selected_unit.parent


class MemberFilterForm(ScopedFilterForm):
    """The member list: organisation (with its sub-organisations), status, in-service, mobile, search."""

    organization = forms.ChoiceField(label=_("Party organisation"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *MemberStatus.choices])
    in_service = forms.ChoiceField(label=_("In-service"), required=False, choices=YES_NO)
    mobile = forms.ChoiceField(label=_("Mobile member"), required=False, choices=YES_NO)

    def _build_unit_fields(self, data):
        # The organisation picker takes the place of the unit pickers.
        self.unit_fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["tag"]
        organizations = list(
            PartyOrganization.objects.visible_to(self.user)
            .filter(kind__in=FILTER_ORG_KINDS)
            .order_by("tree_id", "lft")
            .only("pk", "name", "mptt_level", "tree_id", "lft", "rght")
        )
        self.organizations = {str(org.pk): org for org in organizations}
        top = min((org.mptt_level for org in organizations), default=0)
        self.fields["organization"].choices = [("", _("All organisations"))] + [
            (str(org.pk), "\u3000" * (org.mptt_level - top) + org.name) for org in organizations
        ]
        self.fields["q"].widget.attrs["placeholder"] = _("Name, full ID number or work unit")
        self.order_fields(["organization", "status", "in_service", "mobile", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.is_bound:
            return queryset
        data = self.cleaned_data
        organization = self.organizations.get(data.get("organization") or "")
        if organization is not None:
            queryset = queryset.filter(subtree_q(organization, "organization"))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("in_service"):
            queryset = queryset.filter(in_service=data["in_service"] == "yes")
        if data.get("mobile"):
            queryset = queryset.filter(is_mobile=data["mobile"] == "yes")
        return queryset

    def search(self, queryset, text):
        return search_members(queryset, text)


class MemberRegistrationFilterForm(CommunityFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *RegistrationStatus.choices]
    )
    post = forms.ChoiceField(
        label=_("Claimed post"), required=False, choices=[("", _("All posts")), *ServicePost.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Member name or work unit")
        self.order_fields([*self.unit_fields, "status", "post", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.cleaned_data if self.is_bound else {}
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("post"):
            queryset = queryset.filter(claims__post=data["post"])
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(member__resident__name__icontains=text) | Q(member__work_unit__icontains=text))


class UnitRegistrationFilterForm(CommunityFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *RegistrationStatus.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Work unit or its party organisation")
        self.order_fields([*self.unit_fields, "status", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.cleaned_data if self.is_bound else {}
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(unit_name__icontains=text) | Q(party_organization__icontains=text))


def recent_months(count: int = 24) -> list[tuple[str, str]]:
    today = timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _i in range(count):
        months.append((f"{year:04d}-{month:02d}", f"{year:04d}-{month:02d}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


class ServiceRecordFilterForm(CommunityFilterForm):
    kind = forms.ChoiceField(
        label=_("Service kind"), required=False, choices=[("", _("All kinds")), *ServicePost.choices]
    )
    month = forms.ChoiceField(label=_("Month"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [("", _("All months")), *recent_months()]
        self.fields["q"].widget.attrs["placeholder"] = _("Member name or description")
        self.order_fields([*self.unit_fields, "kind", "month", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.cleaned_data if self.is_bound else {}
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("month"):
            year, month = (int(part) for part in data["month"].split("-"))
            queryset = queryset.filter(date__year=year, date__month=month)
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(member__resident__name__icontains=text) | Q(description__icontains=text))


class WishFilterForm(CommunityFilterForm):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All states")), *WishState.choices])
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *WishCategory.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Title or household number")
        self.order_fields([*self.unit_fields, "state", "category", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.cleaned_data if self.is_bound else {}
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("category"):
            queryset = queryset.filter(category=data["category"])
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(title__icontains=text) | Q(household__number=text))


class BoardFilterForm(CommunityFilterForm):
    """The board's filter: which township or community."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The board narrows by place only; the list view searches.
        del self.fields["q"]


# --- Double report -------------------------------------------------------------------------


class MemberRegistrationForm(PortalFormMixin, forms.Form):
    """An in-service member registers with the community where he lives, and claims posts."""

    member = MemberChoiceField(
        label=_("In-service party member"),
        queryset=PartyMember.objects.none(),
        widget=SearchSelect(
            search_url="partybuild:member-picker", placeholder=_("Type a name or work unit"),
            params={"in_service": "1"},
        ),
    )
    community = CommunityChoiceField(label=_("Community"), queryset=OrgUnit.objects.none(), empty_label=_("— choose —"))
    registered_on = forms.DateField(label=_("Registered on"), widget=DateInput)
    posts = forms.MultipleChoiceField(
        label=_("Claimed service posts"), required=False, choices=ServicePost.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = scoped_members(user).filter(in_service=True)
        self.fields["community"].queryset = scoped_communities(user)
        self.fields["registered_on"].initial = timezone.localdate


def parse_offers(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class UnitRegistrationForm(PortalFormMixin, forms.Form):
    """A work unit's party organisation registers with a community, with its three lists."""

    unit_name = forms.CharField(label=_("Work unit"), max_length=100)
    party_organization = forms.CharField(label=_("Unit party organisation"), max_length=100)
    community = CommunityChoiceField(label=_("Community"), queryset=OrgUnit.objects.none(), empty_label=_("— choose —"))
    registered_on = forms.DateField(label=_("Registered on"), widget=DateInput)
    contact_name = forms.CharField(label=_("Contact"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    resources = forms.CharField(
        label=_("Resource list"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One entry a line, e.g. a meeting room, a volunteer team."),
    )
    needs = forms.CharField(
        label=_("Need list"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One entry a line."),
    )
    projects = forms.CharField(
        label=_("Project list"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One entry a line."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scoped_communities(user)
        self.fields["registered_on"].initial = timezone.localdate

    def clean(self):
        data = super().clean()
        for name in ("resources", "needs", "projects"):
            for line in parse_offers(data.get(name, "")):
                if len(line) > 200:
                    self.add_error(name, _("An entry has at most 200 characters."))
                    break
        return data

    def offers(self) -> list[tuple[str, str]]:
        kinds = {"resources": OfferKind.RESOURCE, "needs": OfferKind.NEED, "projects": OfferKind.PROJECT}
        return [(kind, line) for name, kind in kinds.items() for line in parse_offers(self.cleaned_data.get(name))]


# --- Volunteer service ---------------------------------------------------------------------


class ServiceRecordForm(PortalFormMixin, forms.Form):
    """One volunteer service of a member; hours and points are computed by the service."""

    community = CommunityChoiceField(label=_("Community"), queryset=OrgUnit.objects.none(), empty_label=_("— choose —"))
    date = forms.DateField(label=_("Date"), widget=DateInput)
    start_time = forms.TimeField(label=_("Start time"), widget=TimeInput)
    end_time = forms.TimeField(label=_("End time"), widget=TimeInput)
    kind = forms.ChoiceField(label=_("Service kind"), choices=ServicePost.choices)
    wish = forms.ModelChoiceField(
        label=_("Micro-wish"), required=False, queryset=Wish.objects.none(), empty_label=_("— none —")
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def __init__(self, *args, user, member: PartyMember, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scoped_communities(user)
        # Only the wishes this member took can be linked to his service.
        self.fields["wish"].queryset = (
            Wish.objects.visible_to(user).filter(taken_by=member).order_by("-posted_at")
        )
        self.fields["date"].initial = timezone.localdate

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("The end time must be after the start time."))
        return data


# --- Micro-wishes --------------------------------------------------------------------------


class WishPostForm(PortalFormMixin, forms.Form):
    """新建微心愿: a household of a community orders a micro-wish (点单)."""

    community = CommunityChoiceField(label=_("Community"), queryset=OrgUnit.objects.none(), empty_label=_("— choose —"))
    household = HouseholdChoiceField(
        label=_("Household"),
        queryset=Household.objects.none(),
        widget=SearchSelect(
            search_url="partybuild:household-picker",
            placeholder=_("Type a household number, address or name"),
            include="[name='community']",
        ),
    )
    title = forms.CharField(label=_("Title"), max_length=100)
    category = forms.ChoiceField(label=_("Category"), choices=WishCategory.choices, initial=WishCategory.OTHER)
    content = forms.CharField(label=_("Content"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scoped_communities(user)
        self.fields["household"].queryset = Household.objects.visible_to(user).filter(is_active=True)


class WishMemberForm(PortalFormMixin, forms.Form):
    """派单 and 接单: the member the wish goes to, or who took it."""

    member = MemberChoiceField(
        label=_("Party member"),
        queryset=PartyMember.objects.none(),
        widget=SearchSelect(search_url="partybuild:member-picker", placeholder=_("Type a name or work unit")),
    )

    def __init__(self, *args, user, wish: Wish, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = scoped_members(user)
        self.fields["member"].required = required
        self.fields["member"].widget.params["wish"] = wish.pk


class WishResultForm(PortalFormMixin, forms.Form):
    """消单: what was done."""

    result = forms.CharField(label=_("Result"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class WishStepForm(PortalFormMixin, forms.Form):
    """核单 and 晒单: nothing to fill in."""
