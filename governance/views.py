"""Staff web pages of the org chain: the workbench, unit pages, household and resident lists.

Every page reads through ``Model.objects.visible_to(request.user)``, applied once in
``ScopedMixin``; a list or detail view that inherits it cannot forget the scope, and an
object outside it is a 404 (its existence is not leaked).
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy
from django.views.generic import DetailView, ListView

from governance import selectors
from governance.forms import FILTER_LEVELS, HouseholdFilterForm, ResidentFilterForm
from governance.masking import can_view_personal_data
from governance.models import Household, Level, OrgUnit, Resident
from governance.rosters import export_response

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


class ScopedMixin(LoginRequiredMixin):
    """Limit a class-based view's queryset to the user's org subtree (the one scope rule)."""

    model = None

    def get_queryset(self):
        return self.model._default_manager.visible_to(self.request.user)


class ScopedListView(ScopedMixin, ListView):
    """A scoped list with a filter bar, sorting by whitelisted columns and forgiving pagination.

    Subclasses set ``filter_form_class`` (a ``ScopedFilterForm``), ``sort_fields`` (URL key →
    ORM ordering) and ``default_sort``, and may decorate the queryset in ``list_queryset``
    with the joins a row needs, so a page costs the same queries whatever its length.
    """

    filter_form_class = None
    sort_fields: dict[str, str] = {}
    default_sort = ""
    paginate_by = 30

    def get_queryset(self):
        queryset = super().get_queryset()
        self.filter_form = self.filter_form_class(self.request.GET or None, user=self.request.user)
        queryset = self.filter_form.filter_queryset(queryset)
        return self.list_queryset(queryset).order_by(*self.get_ordering())

    def list_queryset(self, queryset):
        return queryset

    def get_sort(self) -> str:
        sort = self.request.GET.get("sort", "")
        return sort if sort.lstrip("-") in self.sort_fields else self.default_sort

    def get_ordering(self):
        sort = self.get_sort()
        descending = sort.startswith("-")
        field = self.sort_fields[sort.lstrip("-")]
        # The primary key breaks ties, so a row never shows up on two pages.
        return [f"-{field}" if descending else field, "-pk" if descending else "pk"]

    def paginate_queryset(self, queryset, page_size):
        # get_page() turns a bad or too large ?page= into the first or last page, never a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["sort"] = self.get_sort()
        page = context["page_obj"]
        context["page_range"] = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        return context


class ScopedDetailView(ScopedMixin, DetailView):
    pass


def _unit_page_context(user, unit: OrgUnit | None) -> dict:
    if unit is None:
        chain, summary = [], {}
    else:
        chain = selectors.unit_chain(unit=unit, fetched_by=user)
        summary = selectors.unit_summary(unit=unit, fetched_by=user)
    children, keys = selectors.children_summary(unit=unit, fetched_by=user)
    level = children[0].level if children else selectors.child_level(unit)
    heading = CHILDREN_HEADINGS.get(level)
    if summary:
        totals = [summary[key] for key in keys]
    else:
        totals = [sum(getattr(child, f"n_{key}") for child in children) for key in keys]
    context = {
        "unit": unit,
        "chain": chain,
        "summary": [(key, COUNT_LABELS[key], value, COUNT_UNITS[key]) for key, value in summary.items()],
        "children": children,
        "count_columns": [(key, COUNT_LABELS[key]) for key in keys],
        "totals": totals if len(children) > 1 else [],
        "children_heading": heading % {"count": len(children)} if heading else "",
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
    """The workbench: the user's own unit, its chain and the units one level down."""
    user = request.user
    unit = user.home_unit
    if unit is None and not user.is_superuser:
        return render(request, "governance/home.html", {"no_home_unit": True})
    return render(request, "governance/home.html", _unit_page_context(user, unit))


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
        home = self.request.user.home_unit
        # Users above the township level need to see which township a household is in.
        context["show_township"] = home is None or home.level in (Level.CITY, Level.COUNTY)
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
        context["full_view"] = can_view_personal_data(self.request.user)
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
        context["full_view"] = can_view_personal_data(self.request.user)
        return context


def require_perm(request, permission: str) -> None:
    """Writes need the model permission of the user's role, as in the API (reads need a login)."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


class ExportMixin:
    """``?export=xlsx`` on a list answers the filtered list as an Excel file (``governance.rosters``)."""

    export_kind = ""

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            return export_response(request=request, kind=self.export_kind, queryset=self.export_queryset())
        return super().get(request, *args, **kwargs)

    def export_queryset(self):
        return self.get_queryset()


class RosterListMixin:
    """What every roster list shows besides its rows: the township column above it, masking."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        home = self.request.user.home_unit
        # Users above the township level need to see which township a row is in.
        context["show_township"] = home is None or home.level in (Level.CITY, Level.COUNTY)
        context["full_view"] = can_view_personal_data(self.request.user)
        return context
