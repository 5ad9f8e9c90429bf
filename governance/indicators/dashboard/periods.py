"""Values over a period of several months, from the monthly rows the rollup stored.

How the months add up is what each indicator declares (``Indicator.over``), in this one place
for the dashboard, the API and the Excel export alike:

- a flow (cases raised) sums its months; a ratio of flows sums its numerators and its
  denominators and divides once (never an average of monthly rates);
- a stock (households, open at period end) is the period's last month with values;
- a median is taken over the period's own samples: stored by the rollup for the quarter,
  half-year and year of each month it computes (``PeriodValue``), taken from the samples at
  reading time for any other range.

A value over a period is an unsaved ``IndicatorValue`` whose ``period`` is the period's first
month, so everything that shows a month's rows shows a period's the same way.

The rollup stores no row whose numerator is 0 and whose denominator is 0 or NULL. In a period
computed for a unit (it has a row of the period: the rollup computes a unit's month whole), a
missing row is what ``Indicator.unstored`` says (a count 0, a ratio "0 of 0", a median no value):
``complete`` and ``unstored_value`` fill it in, for every reader. A period without any row of the
unit was never computed for it and stays empty.
"""

import datetime
from decimal import Decimal

from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from governance.indicators.medians import period_medians
from governance.indicators.months import Period, month_start
from governance.indicators.registry import MEDIAN, RATIO, STOCK, Indicator
from governance.models import IndicatorValue, OrgUnit, PeriodValue

SIX_PLACES = Decimal("0.000001")


def stock_month(rows, period: Period) -> datetime.date:
    """The month a stock is read at: the period's last month with values among ``rows`` (else its last)."""
    return max((row.period for row in rows if row.period in period), default=period.last)


def unstored_value(indicator: Indicator, unit_id: int, period: datetime.date) -> IndicatorValue | None:
    """The value of a unit's computed month (or period, from its first month) that has no row of
    ``indicator``: what ``Indicator.unstored`` says, or None (a median without samples)."""
    unstored = indicator.unstored
    if unstored is None:
        return None
    numerator, denominator, value = unstored
    return IndicatorValue(org_unit_id=unit_id, period=period, key=indicator.key, numerator=numerator,
                          denominator=denominator, value=value)


def complete(values: dict[str, IndicatorValue], indicators: dict[str, Indicator], unit_id: int,
             period: datetime.date) -> dict[str, IndicatorValue]:
    """``values`` (a unit's, of a month or period computed for it) with the rows the rollup does
    not store filled in (``unstored_value``); medians stay missing. Changes and returns ``values``."""
    for key, indicator in indicators.items():
        if key not in values:
            value = unstored_value(indicator, unit_id, period)
            if value is not None:
                values[key] = value
    return values


def computed_marks(units, first: datetime.date, last: datetime.date) -> Q:
    """A condition on IndicatorValue that adds one row (any key) of each month from ``first`` to
    ``last`` computed for ``units`` to a query that reads only some keys: the reader then knows
    which months were computed (``computed_months``) in the same query."""
    one_a_month = (IndicatorValue.objects.filter(org_unit__in=units, period__gte=first, period__lte=last)
                   .order_by().values("org_unit", "period").annotate(first=Min("pk")).values("first"))
    return Q(pk__in=one_a_month)


def computed_months(rows) -> set[datetime.date]:
    """The months computed for the unit whose ``rows`` (with ``computed_marks``) these are."""
    return {row.period for row in rows}


def by_month(rows, keys: list[str], indicators: dict[str, Indicator],
             ) -> dict[tuple[datetime.date, str], IndicatorValue]:
    """One unit's monthly values by (month, key), from its ``rows`` (read with ``computed_marks``),
    with the rows of ``keys`` the rollup does not store filled in for the months computed for it."""
    found = {(row.period, row.key): row for row in rows}
    for month in computed_months(rows):
        for key in keys:
            if (month, key) not in found and key in indicators:
                value = unstored_value(indicators[key], rows[0].org_unit_id, month)
                if value is not None:
                    found[month, key] = value
    return found


def is_computed(first: datetime.date, last: datetime.date) -> Exists:
    """An annotation of an OrgUnit query: whether the unit has a row between ``first`` and ``last``,
    the period was computed for it (one index probe a unit)."""
    return Exists(IndicatorValue.objects.filter(org_unit=OuterRef("pk"), period__gte=first, period__lte=last))


def combine(rows, period: Period, indicators: dict[str, Indicator], at: datetime.date | None = None,
            fill: bool = True) -> dict[str, IndicatorValue]:
    """One unit's values over ``period`` by key, from its monthly ``rows`` (rows of other months are ignored).

    ``at`` is the month stocks are read at (default: ``stock_month`` of the rows). Medians are
    not here (see ``medians``): a month's median cannot be added to another's. Where the period
    was computed for the unit (``rows`` hold one of its months) the rows the rollup does not store
    are filled in (``complete``), unless ``fill`` is False (the league fills its figures itself).
    """
    inside = [row for row in rows if row.period in period]
    computed = fill and bool(inside)
    unit_id = inside[0].org_unit_id if inside else None
    if period.is_month:
        values = {row.key: row for row in inside}
        return complete(values, indicators, unit_id, period.first) if computed else values
    at = stock_month(inside, period) if at is None else at
    sums: dict[str, list] = {}
    for row in inside:
        indicator = indicators.get(row.key)
        if indicator is None or indicator.kind == MEDIAN or (indicator.over == STOCK and row.period != at):
            continue
        total = sums.setdefault(row.key, [Decimal(0), None])
        total[0] += row.numerator or 0
        if row.denominator is not None:
            total[1] = (total[1] or Decimal(0)) + row.denominator
    values = {}
    for key, (numerator, denominator) in sums.items():
        if indicators[key].kind == RATIO:
            value = (numerator / denominator).quantize(SIX_PLACES) if denominator else None
        else:
            value = numerator
        values[key] = IndicatorValue(org_unit_id=unit_id, period=period.first, key=key, numerator=numerator,
                                     denominator=denominator, value=value)
    return complete(values, indicators, unit_id, period.first) if computed else values


def stored_equivalent(period: Period) -> Period | None:
    """The period whose medians the rollup stores and that holds the same samples, or None.

    A quarter, half-year or year is stored as itself; the current year so far has the same
    samples as the whole year (nothing is resolved in the future).
    """
    if period.kind in ("quarter", "half", "year"):
        return period
    today = month_start(timezone.localdate())
    if period.first.month == 1 and period.first.year == period.last.year == today.year and period.last >= today:
        return Period.year(period.first.year)
    return None


def medians(units: list[OrgUnit], periods: list[Period], indicators: dict[str, Indicator],
            ) -> dict[tuple[int, Period], dict[str, IndicatorValue]]:
    """{(unit id, period): {key: value}} of the median indicators over periods of several months.

    Stored periods cost one query for all of them; any other range one query of samples per
    median indicator and period. ``units`` must be read from the database in this request
    (their tree ranges bound the samples).
    """
    keys = [key for key, indicator in indicators.items() if indicator.kind == MEDIAN]
    found: dict = {}
    periods = [period for period in dict.fromkeys(periods) if not period.is_month]
    if not keys or not units or not periods:
        return found
    stored = {period: stored_equivalent(period) for period in periods}
    wanted = Q()
    for equivalent in {equivalent for equivalent in stored.values() if equivalent is not None}:
        wanted |= Q(first=equivalent.first, last=equivalent.last)
    rows = []
    if wanted:
        rows = list(PeriodValue.objects.filter(wanted, org_unit__in=[unit.pk for unit in units], key__in=keys))
    for period, equivalent in stored.items():
        if equivalent is None:
            for key in keys:
                for unit_id, (n, median) in period_medians(indicators[key], period, units).items():
                    found.setdefault((unit_id, period), {})[key] = IndicatorValue(
                        org_unit_id=unit_id, period=period.first, key=key, numerator=n, value=median)
            continue
        for row in rows:
            if (row.first, row.last) == (equivalent.first, equivalent.last):
                found.setdefault((row.org_unit_id, period), {})[row.key] = IndicatorValue(
                    org_unit_id=row.org_unit_id, period=period.first, key=row.key, numerator=row.numerator,
                    value=row.value)
    return found


def values_over(units: list[OrgUnit], period: Period, indicators: dict[str, Indicator],
                ) -> dict[int, dict[str, IndicatorValue]]:
    """{unit id: {key: value}} of ``units`` over ``period``: one query for their months, and the
    medians' (see ``medians``) for a period of several months. Each unit's stocks are read at its
    own last month with values in the period."""
    rows: dict[int, list] = {unit.pk: [] for unit in units}
    for row in IndicatorValue.objects.filter(org_unit__in=list(rows), period__gte=period.first,
                                             period__lte=period.last):
        rows[row.org_unit_id].append(row)
    found = {}
    if not period.is_month:  # the units' tree ranges as they are now, for the medians' samples
        found = medians(list(OrgUnit.objects.filter(pk__in=list(rows))), [period], indicators)
    return {unit_id: {**combine(unit_rows, period, indicators), **found.get((unit_id, period), {})}
            for unit_id, unit_rows in rows.items()}


def series_over(unit: OrgUnit, indicator: Indicator, periods: list[Period]) -> dict[Period, IndicatorValue]:
    """{period: value} of one indicator of ``unit`` over consecutive ``periods``: one query for the
    months (and one for the medians of periods of several months). A stock is read at each period's
    last month, or at the unit's last month with values when the period runs past it."""
    if not periods:
        return {}
    first, last = periods[0].first, periods[-1].last
    # The indicator's rows, and a row of each month computed for the unit: a month with none of
    # the indicator's is 0 (``combine``) or not computed.
    rows = list(IndicatorValue.objects.filter(org_unit=unit, period__gte=first, period__lte=last).filter(
        Q(key=indicator.key) | computed_marks([unit.pk], first, last)))
    indicators = {indicator.key: indicator}
    several = not all(period.is_month for period in periods)
    latest, found = None, {}
    if several and indicator.over == STOCK:
        latest = IndicatorValue.objects.filter(org_unit=unit).aggregate(latest=Max("period"))["latest"]
    if several and indicator.kind == MEDIAN:  # the unit's tree range as it is now, for the samples
        found = medians([OrgUnit.objects.get(pk=unit.pk)], periods, indicators)
    values = {}
    for period in periods:
        at = min(period.last, latest) if latest is not None else period.last
        value = {**combine(rows, period, indicators, at), **found.get((unit.pk, period), {})}.get(indicator.key)
        if value is not None:
            values[period] = value
    return values
