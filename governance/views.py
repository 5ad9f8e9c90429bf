"""Staff web pages of the org chain: the workbench, unit pages, household and resident lists.

They build on ``governance.portal.views`` (the scoped list and detail views), like every app's pages.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext_lazy, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance import selectors
from governance.audit.reveal import full_view
from governance.forms import HouseholdFilterForm, ResidentFilterForm
from governance.models import Household, Level, OrgUnit, Resident, Role
from governance.portal.forms import FILTER_LEVELS
from governance.portal.views import ScopedDetailView, ScopedListView, sees_above_township
from governance.portal.workbench import panels_for
from governance.terms import LocalNameBook

COUNT_LABELS = {
    "township": _("Townships"),
    "village": _("Villages/communities"),
    "grid": _("Grids"),
    "micro_grid": _("Micro-grids"),
    "households": _("Households"),
    "residents": _("Residents"),
}
# The measure word a Chinese table puts after each count (个, 户, 人).
COUNT_UNITS = {
    "township": pgettext_lazy("measure word for org units", "units"),
    "village": pgettext_lazy("measure word for org units", "units"),
    "grid": pgettext_lazy("measure word for org units", "units"),
    "micro_grid": pgettext_lazy("measure word for org units", "units"),
    "households": pgettext_lazy("measure word for households", "households"),
    "residents": pgettext_lazy("measure word for persons", "persons"),
}
CHILDREN_HEADINGS = {
    Level.COUNTY: ngettext_lazy("%(count)s county", "%(count)s counties", "count"),
    Level.TOWNSHIP: ngettext_lazy("%(count)s township", "%(count)s townships", "count"),
    Level.VILLAGE: ngettext_lazy("%(count)s village/community", "%(count)s villages/communities", "count"),
    Level.GRID: ngettext_lazy("%(count)s grid", "%(count)s grids", "count"),
    Level.MICRO_GRID: ngettext_lazy("%(count)s micro-grid", "%(count)s micro-grids", "count"),
}
# A micro-grid has 10-50 households: its page lists them all, up to this many.
MICRO_GRID_ROWS = 100


def _unit_page_context(user, unit: OrgUnit | None) -> dict:
    if unit is None:
        chain, summary = [], {}
    else:
        chain = selectors.unit_chain(unit=unit, fetched_by=user)
        summary = selectors.unit_summary(unit=unit, fetched_by=user)
    children, keys = selectors.children_summary(unit=unit, fetched_by=user)
    level = children[0].level if children else selectors.child_level(unit)
    # The county's own words for its levels (德昌: 优网格), one query for the unit and the units below it.
    book = LocalNameBook.for_places([u.code for u in (unit, *children) if u is not None])
    names = book.at(unit) if unit is not None else book.at("")
    for child in children:
        child.kind_label = book.at(child).kind(child.kind)
    if unit is not None:
        unit.level_label, unit.kind_label = names.level(unit.level), names.kind(unit.kind)
    labels = {key: names.label("level", key, label) for key, label in COUNT_LABELS.items()}
    heading = CHILDREN_HEADINGS.get(level)
    if level and names.get("level", {}).get(level):
        children_heading = gettext("%(count)s %(level)s") % {"count": len(children), "level": names.level(level)}
    else:
        children_heading = heading % {"count": len(children)} if heading else ""
    if summary:
        totals = [summary[key] for key in keys]
    else:
        totals = [sum(getattr(child, f"n_{key}") for child in children) for key in keys]
    context = {
        "unit": unit,
        "chain": chain,
        "summary": [(key, labels[key], value, COUNT_UNITS[key]) for key, value in summary.items()],
        "children": children,
        "count_columns": [(key, labels[key]) for key in keys],
        "totals": totals if len(children) > 1 else [],
        "children_heading": children_heading,
        "household_level": unit is not None and unit.level in (Level.GRID, Level.MICRO_GRID),
        # The list pages' unit pickers, preset to this unit (micro-grids list under their grid).
        "filter_query": urlencode({u.level: u.code for u in chain if u.level in FILTER_LEVELS}),
    }
    if unit is not None and unit.level == Level.MICRO_GRID:
        households = Household.objects.visible_to(user).filter(grid=unit, is_active=True)
        context["households"] = selectors.household_list_queryset(households).order_by("number")[:MICRO_GRID_ROWS]
    return context


@login_required
def home(request):
    """The workbench: what the user must do today.

    County officials land on the dashboard; everyone else on the panels the apps contribute
    (the cases to act on; for administrators also the last indicator runs and roster imports).
    The org chain's counts are on the org pages (``org_overview``).
    """
    user = request.user
    unit = user.home_unit
    if unit is None and not user.is_superuser:
        return render(request, "governance/home.html", {"no_home_unit": True})
    if user.role == Role.COUNTY and not user.is_superuser:
        return redirect("dashboard")
    return render(request, "governance/home.html", {"unit": unit, "panels": panels_for(user)})


@login_required
def org_overview(request):
    """The user's own unit (or, for the system operator, the whole system): its counts and the units below."""
    user = request.user
    unit = user.home_unit
    if unit is None and not user.is_superuser:
        return render(request, "governance/home.html", {"no_home_unit": True})
    if unit is not None:
        return redirect("org:orgunit-detail", code=unit.code)
    return render(request, "governance/org_overview.html", _unit_page_context(user, None))


class OrgUnitDetailView(ScopedDetailView):
    model = OrgUnit
    slug_field = "code"
    slug_url_kwarg = "code"
    template_name = "governance/orgunit_detail.html"
    context_object_name = "unit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_unit_page_context(self.request.user, self.object))
        return context


class HouseholdListView(ScopedListView):
    model = Household
    filter_form_class = HouseholdFilterForm
    template_name = "governance/household_list.html"
    sort_fields = {"number": "number", "address": "address", "grid": "grid__code", "residents": "n_residents"}
    default_sort = "number"

    def list_queryset(self, queryset):
        return selectors.household_list_queryset(queryset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["show_township"] = sees_above_township(self.request.user)
        return context


class HouseholdDetailView(ScopedDetailView):
    model = Household
    template_name = "governance/household_detail.html"
    context_object_name = "household"

    def get_queryset(self):
        return super().get_queryset().select_related("grid").prefetch_related("tags")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["chain"] = selectors.unit_chain(unit=self.object.grid, fetched_by=self.request.user)
        context["residents"] = self.object.residents.prefetch_related("tags").order_by("id")
        context["full_view"] = full_view(self.request, obj=self.object, detail="residents")
        return context


class ResidentListView(ScopedListView):
    model = Resident
    filter_form_class = ResidentFilterForm
    template_name = "governance/resident_list.html"
    sort_fields = {
        "name": "name",
        "sex": "sex",
        "birth_date": "birth_date",
        "household": "household__number",
        "grid": "household__grid__code",
    }
    default_sort = "household"

    def list_queryset(self, queryset):
        return selectors.resident_list_queryset(queryset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["full_view"] = full_view(self.request, detail="governance.Resident list")
        return context
