"""Forms of the micro-wishes: the list's and the board's filter bars, posting a wish, the steps' inputs."""

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import Household
from governance.portal.forms import PortalFormMixin, SearchSelect
from partybuild.forms.common import (
    CommunityChoiceField,
    CommunityFilterForm,
    HouseholdChoiceField,
    MemberChoiceField,
    scoped_communities,
    scoped_members,
)
from partybuild.models import PartyMember, Wish, WishCategory, WishState


class WishFilterForm(CommunityFilterForm):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All states")), *WishState.choices])
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *WishCategory.choices]
    )
    exact_filters = {"state": "state", "category": "category"}
    search_lookups = ("title__icontains", "household__number")
    placeholder = _("Title or household number")


class BoardFilterForm(CommunityFilterForm):
    """The board's filter: which township or community."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The board narrows by place only; the list view searches.
        del self.fields["q"]


class WishPostForm(PortalFormMixin, forms.Form):
    """新建微心愿: a household of a community orders a micro-wish (点单)."""

    community = CommunityChoiceField()
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
    content = forms.CharField(label=_("Content"), required=False, max_length=Wish._meta.get_field("content").max_length,
                              widget=forms.Textarea(attrs={"rows": 3}))

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
