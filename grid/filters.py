"""Filters of the grid rosters' API lists (django-filter FilterSets).

Org units and households are looked up inside the caller's scope (governance.filters), so an
out-of-scope code answers like an unknown one. The worker filters reuse the selectors'
``filter_workers`` so the API and the web pages filter alike.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from governance.filters import key_filter, scoped_households, subtree_filter
from governance.models import HOUSEHOLD_LEVELS, Level, OrgUnit
from grid.models import GridWorker, LiaisonHousehold, Post, WorkerType
from grid.selectors.workers import VACANCY_LEVELS, filter_workers


class GridWorkerFilterSet(filters.FilterSet):
    worker_type = filters.MultipleChoiceFilter(
        choices=WorkerType.choices, help_text=_("Worker type; repeat it to match any of several.")
    )
    post = filters.ChoiceFilter(
        choices=[*Post.choices, ("none", _("No post"))],
        method="filter_post",
        help_text=_("A or B post, or none for workers without one."),
    )
    is_party_member = filters.BooleanFilter()
    current = filters.BooleanFilter(method="filter_current", help_text=_("true: still in post; false: has left."))
    unit = subtree_filter("unit", _("Workers anywhere below this unit (code or id)."))
    township = subtree_filter("unit", _("Workers of this township (code or id)."), levels=[Level.TOWNSHIP])
    village = subtree_filter("unit", _("Workers of this village or community (code or id)."), levels=[Level.VILLAGE])
    grid = subtree_filter(
        "unit", _("Workers of this grid or micro-grid (code or id)."), levels=sorted(HOUSEHOLD_LEVELS)
    )

    class Meta:
        model = GridWorker
        fields = ["worker_type", "post", "is_party_member", "current", "unit", "township", "village", "grid"]

    def filter_post(self, queryset, name, value):
        return filter_workers(queryset, post=value)

    def filter_current(self, queryset, name, value):
        return filter_workers(queryset, current=value)


class LiaisonHouseholdFilterSet(filters.FilterSet):
    liaison = filters.NumberFilter(field_name="liaison_id", help_text=_("The liaison's id."))
    household = key_filter(scoped_households, _("Household number or id."), field_name="household", key_field="number")
    unit = subtree_filter("household__grid", _("Households anywhere below this unit (code or id)."))
    township = subtree_filter(
        "household__grid", _("Households of this township (code or id)."), levels=[Level.TOWNSHIP]
    )
    village = subtree_filter(
        "household__grid", _("Households of this village or community (code or id)."), levels=[Level.VILLAGE]
    )
    grid = subtree_filter(
        "household__grid", _("Households of this grid or micro-grid (code or id)."), levels=sorted(HOUSEHOLD_LEVELS)
    )

    class Meta:
        model = LiaisonHousehold
        fields = ["liaison", "household", "unit", "township", "village", "grid"]


class VacancyFilterSet(filters.FilterSet):
    """Filters of the vacancy list (rows are grids and micro-grids)."""

    level = filters.ChoiceFilter(
        choices=[(level.value, level.label) for level in VACANCY_LEVELS],
        help_text=_("grid or micro_grid; both when left out."),
    )
    unit = subtree_filter("", _("Vacancies anywhere below this unit (code or id)."))
    township = subtree_filter("", _("Vacancies in this township (code or id)."), levels=[Level.TOWNSHIP])
    village = subtree_filter("", _("Vacancies in this village or community (code or id)."), levels=[Level.VILLAGE])

    class Meta:
        model = OrgUnit
        fields = ["level", "unit", "township", "village"]
