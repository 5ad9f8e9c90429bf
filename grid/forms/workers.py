"""Forms of the grid pages: the filter bars of the worker and liaison lists, the liaison's household form."""

import re

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from governance.filters import NaturalKeyChoiceField
from governance.models import Household, Level
from governance.portal.forms import PortalFormMixin, ScopedFilterForm
from grid.models import Post, WorkerType
from grid.selectors.workers import filter_workers, search_workers

_PHONE_RE = re.compile(r"^\+?\d{7,15}$")

YES_NO = [("", _("All")), ("yes", _("Yes")), ("no", _("No"))]


class WorkerFilterForm(ScopedFilterForm):
    """The grid worker list's filters: units, type, party member, post, current or ended, search."""

    unit_path = "unit"
    with_tags = False  # grid workers carry no tags

    worker_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *WorkerType.choices]
    )
    party = forms.ChoiceField(label=_("Party member"), required=False, choices=YES_NO)
    post = forms.ChoiceField(
        label=_("Post"), required=False, choices=[("", _("All")), *Post.choices, ("none", _("No post"))]
    )
    # Current workers unless asked otherwise: ended ones are history.
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Serving")), ("ended", _("Ended")), ("all", _("All"))],
    )

    filter_fields = ["worker_type", "party", "post", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Name, full ID number or full phone")
        self.order_fields([*self.unit_fields, *self.filter_fields, "q"])

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.cleaned_data if self.is_bound else {}
        status = data.get("status", "")
        return filter_workers(
            queryset,
            worker_type=data.get("worker_type") or None,
            post=data.get("post") or None,
            is_party_member={"yes": True, "no": False}.get(data.get("party", "")),
            current={"": True, "ended": False}.get(status),
        )

    def search(self, queryset, text):
        # A phone only whole, like an ID number: a partial match would let a masked user guess digits.
        if _PHONE_RE.match(text):
            return queryset.filter(phone=text)
        return search_workers(queryset, text)


class LiaisonFilterForm(WorkerFilterForm):
    """The liaison list: the worker filters without the type (they are all 联户长)."""

    filter_fields = ["party", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["worker_type"]
        del self.fields["post"]


class VacancyFilterForm(ScopedFilterForm):
    """The vacancy list: units, grids or micro-grids, a name or code."""

    unit_path = ""
    with_tags = False

    level = forms.ChoiceField(
        label=_("Level"), required=False,
        choices=[("", _("Grids and micro-grids")), (Level.GRID, _("Grids")), (Level.MICRO_GRID, _("Micro-grids"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Name or code")
        self.order_fields([*self.unit_fields, "level", "q"])

    @property
    def picked_level(self) -> str | None:
        return (self.cleaned_data.get("level") or None) if self.is_bound and self.is_valid() else None

    def search(self, queryset, text):
        return queryset.filter(Q(name__icontains=text) | Q(short_name__icontains=text) | Q(code__startswith=text))


class LiaisonAssignForm(PortalFormMixin, forms.Form):
    """Give a liaison one more household, picked by its number among the households the user sees."""

    household = NaturalKeyChoiceField(queryset=Household.objects.none(), key_field="number", label=_("Household"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = Household.objects.visible_to(user).filter(is_active=True)
        self.fields["household"].widget.attrs.update(
            {"placeholder": _("Household number"), "list": "household-options", "autocomplete": "off"}
        )


class LiaisonUnassignForm(forms.Form):
    household = forms.ModelChoiceField(queryset=Household.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args, liaison, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = Household.objects.filter(liaison_link__liaison=liaison)

