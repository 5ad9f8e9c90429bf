"""The party-organisation page: the tree of the organisations in the user's area, with the counts per kind,
each organisation's members, and the party-member households of the area."""

from governance.portal.views import ExportMixin, ScopedListView
from partybuild import selectors
from partybuild.forms.organizations import OrganizationFilterForm
from partybuild.models import PartyOrganization

# A tree page: long enough to hold a community's chain down to its building groups on one page.
ORGANIZATIONS_PER_PAGE = 100


class OrganizationListView(ExportMixin, ScopedListView):
    """党组织: the tree in its order (each indented by its depth), or, searched or by kind, the matches alone.

    The same queries whatever the number of organisations: the page's rows with their counts,
    the counts by kind, the households.
    """

    model = PartyOrganization
    filter_form_class = OrganizationFilterForm
    template_name = "partybuild/organization_list.html"
    export_kind = "party_organizations"
    paginate_by = ORGANIZATIONS_PER_PAGE

    def get_queryset(self):
        queryset = self.model._default_manager.visible_to(self.request.user)
        self.filter_form = self.filter_form_class(self.request.GET or None, user=self.request.user)
        self.filtered = self.filter_form.filter_queryset(queryset)
        return selectors.organization_tree(organizations=self.filtered, fetched_by=self.request.user)

    def export_queryset(self):
        return self.get_queryset()

    def get_sort(self) -> str:
        return ""  # always the tree's order

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.filter_form
        overview = selectors.organization_overview(
            organizations=self.filtered, kinds=form.kinds, fetched_by=self.request.user, within=form.selected_unit
        )
        context.update(overview=overview, is_tree=form.is_tree)
        for organization in context["object_list"]:
            organization.depth = organization.mptt_level - overview["top_depth"] if form.is_tree else 0
        return context
