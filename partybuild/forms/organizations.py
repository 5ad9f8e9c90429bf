"""The party-organisation page's filter bar: the unit pickers, the kind, a search."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.portal.forms import ScopedFilterForm
from partybuild.models import kind_choices


class OrganizationFilterForm(ScopedFilterForm):
    """Organisations covering a unit below the one picked, of one kind, or named like the search."""

    unit_path = "org_unit"
    with_tags = False

    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The kinds are rows an administrator keeps; the page reads them once, here.
        self.kinds = kind_choices()
        self.fields["kind"].choices = [("", _("All kinds")), *self.kinds]
        self.fields["q"].widget.attrs["placeholder"] = _("Organisation, work unit or unit covered")
        self.order_fields([*self.unit_fields, "kind", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.is_bound and self.cleaned_data.get("kind"):
            queryset = queryset.filter(kind=self.cleaned_data["kind"])
        return queryset

    def search(self, queryset, text):
        return queryset.filter(
            Q(name__icontains=text) | Q(work_unit__icontains=text) | Q(org_unit__name__icontains=text)
            | Q(org_unit__short_name__icontains=text)
        )

    @property
    def is_tree(self) -> bool:
        """Whether the rows still form a tree (no kind or search narrows it to scattered organisations)."""
        return not (self.is_bound and (self.data.get("kind") or self.data.get("q")))
