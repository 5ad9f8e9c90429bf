"""Forms of the double report (双报到): its list filters, and registering a member or a work unit."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.portal.forms import DateInput, PortalFormMixin, SearchSelect
from partybuild.forms.common import (
    ALL,
    CommunityChoiceField,
    CommunityFilterForm,
    MemberChoiceField,
    scoped_communities,
    scoped_members,
)
from partybuild.models import OfferKind, PartyMember, RegistrationStatus, ServicePost

STATUS_CHOICES = [*ALL, *RegistrationStatus.choices]


class MemberRegistrationFilterForm(CommunityFilterForm):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    post = forms.ChoiceField(
        label=_("Claimed post"), required=False, choices=[("", _("All posts")), *ServicePost.choices]
    )
    exact_filters = {"status": "status", "post": "claims__post"}
    search_lookups = ("member__resident__name__icontains", "member__work_unit__icontains")
    placeholder = _("Member name or work unit")


class UnitRegistrationFilterForm(CommunityFilterForm):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    exact_filters = {"status": "status"}
    search_lookups = ("unit_name__icontains", "party_organization__icontains")
    placeholder = _("Work unit or its party organisation")


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
    community = CommunityChoiceField()
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
    community = CommunityChoiceField()
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
