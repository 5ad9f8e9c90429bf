"""The org chain's own monthly indicators: households, residents, units, grids and micro-grids,
households per grid."""

from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.indicators.registry import RATIO, STOCK, Indicator, register
from governance.models import Household, Level, OrgUnit, Resident


def household_counts(start, end, units):
    return (Household.objects.filter(is_active=True, created_at__lt=end, grid__in=units)
            .values(node=F("grid")).annotate(n=Count("pk")))


def resident_counts(start, end, units):
    return (Resident.objects.filter(is_active=True, created_at__lt=end, household__grid__in=units)
            .values(node=F("household__grid")).annotate(n=Count("pk")))


def child_unit_counts(start, end, units):
    """Active units one level below each unit: its own children, hence a non-cumulative family."""
    return (OrgUnit.objects.filter(is_active=True, parent__in=units)
            .values(node=F("parent")).annotate(n=Count("pk")))


def grid_unit_counts(start, end, units):
    """Active grids and active micro-grids, each counted where it is: summed up the tree, a
    township's count is its grids (or micro-grids) in every village.

    A unit keeps no history of when it was opened or closed: a past month counts the units
    active now, as ``child_units`` and ``households_per_grid`` do.
    """
    return (OrgUnit.objects.filter(pk__in=units.values("pk"), level__in=[Level.GRID, Level.MICRO_GRID],
                                   is_active=True)
            .values(node=F("pk"))
            .annotate(grids=Count("pk", filter=Q(level=Level.GRID)),
                      micro_grids=Count("pk", filter=Q(level=Level.MICRO_GRID))))


def grid_household_counts(start, end, units):
    """Per grid or micro-grid: its households (as ``households`` counts them), and 1 if it is an active grid.

    Micro-grids carry households but are not grids: summed up the tree, the ratio is the
    households of the subtree over its active grids.
    """
    return (OrgUnit.objects.filter(pk__in=units.values("pk"), level__in=[Level.GRID, Level.MICRO_GRID])
            .values(node=F("pk"))
            .annotate(households=Count("households", filter=Q(households__is_active=True,
                                                                households__created_at__lt=end)),
                      grids=Count("pk", filter=Q(level=Level.GRID, is_active=True), distinct=True)))


def _check_households(start, end, units) -> int:
    return Household.objects.filter(is_active=True, created_at__lt=end, grid__in=units).count()


def _check_residents(start, end, units) -> int:
    return Resident.objects.filter(is_active=True, created_at__lt=end, household__grid__in=units).count()


def _check_units(level):
    def check(start, end, units) -> int:
        return OrgUnit.objects.filter(pk__in=units, level=level, is_active=True).count()

    return check


# Units are the measure words a figure is written with (2 户, 5 人, 3 个).
HOUSEHOLDS = pgettext_lazy("measure word for households", "households")
PERSONS = pgettext_lazy("measure word for persons", "persons")
UNITS = pgettext_lazy("measure word for org units", "units")

# The first headline cards and league columns (10, 20); the apps' places come after them.
register(Indicator(key="households", label=_("Households"), unit=HOUSEHOLDS, leaf=household_counts,
                   check=_check_households, headline=10, league=10, over=STOCK,
                   definition=_("Active households registered in the unit's area at the end of the month.")))
register(Indicator(key="residents", label=_("Residents"), unit=PERSONS, leaf=resident_counts,
                   check=_check_residents, headline=20, league=20, over=STOCK,
                   definition=_("Active residents of those households at the end of the month.")))
register(Indicator(key="child_units", label=_("Units of the level below"), unit=UNITS,
                   leaf=child_unit_counts, cumulative=False, over=STOCK,
                   definition=_("Active units directly below the unit (a county's townships, a township's "
                                "villages and communities).")))
register(Indicator(key="households_per_grid", label=_("Households per grid"), unit=HOUSEHOLDS, kind=RATIO,
                   leaf=grid_household_counts, numerator="households", denominator="grids", over=STOCK,
                   definition=_("Active households of the area over its active grids (the households of a "
                                "micro-grid count for its grid).")))
register(Indicator(key="grids", label=_("Number of grids"), unit=UNITS, leaf=grid_unit_counts, numerator="grids",
                   check=_check_units(Level.GRID), over=STOCK,
                   definition=_("Active grids in the unit's area.")))
register(Indicator(key="micro_grids", label=_("Number of micro-grids"), unit=UNITS, leaf=grid_unit_counts,
                   numerator="micro_grids", check=_check_units(Level.MICRO_GRID), over=STOCK,
                   definition=_("Active micro-grids in the unit's area.")))
