"""The party-member list's filter bar: organisation (with its sub-organisations), status, in-service, mobile."""

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.portal.forms import ScopedFilterForm
from governance.selectors import subtree_q
from partybuild.forms.common import ALL, search_members
from partybuild.models import MemberStatus, PartyOrganization, PartyOrganizationKind

YES_NO = [*ALL, ("yes", _("Yes")), ("no", _("No"))]


def kinds_with_children():
    """The kinds other kinds may sit under: the organisations a filter offers (groups, the kinds nothing
    sits under, are too many and too small to filter by)."""
    return PartyOrganizationKind.objects.filter(allowed_children__isnull=False).values("code")


class MemberFilterForm(ScopedFilterForm):
    """The member list: organisation (with its sub-organisations), status, in-service, mobile, search."""

    organization = forms.ChoiceField(label=_("Party organisation"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[*ALL, *MemberStatus.choices])
    in_service = forms.ChoiceField(label=_("In-service"), required=False, choices=YES_NO)
    mobile = forms.ChoiceField(label=_("Mobile member"), required=False, choices=YES_NO)

    with_tags = False

    def _build_unit_fields(self, data):
        # The organisation picker takes the place of the unit pickers.
        self.unit_fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organizations = list(
            PartyOrganization.objects.visible_to(self.user)
            .filter(kind__in=kinds_with_children())
            .order_by("tree_id", "lft")
            .only("pk", "name", "mptt_level", "tree_id", "lft", "rght")
        )
        self.organizations = {str(org.pk): org for org in organizations}
        top = min((org.mptt_level for org in organizations), default=0)
        self.fields["organization"].choices = [("", _("All organisations"))] + [
            (str(org.pk), "\u3000" * (org.mptt_level - top) + org.name) for org in organizations
        ]
        self.fields["q"].widget.attrs["placeholder"] = _("Name, full ID number, full phone or work unit")
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
