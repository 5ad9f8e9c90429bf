"""Reading the monthly rollup's rows back: May 2024 is the month the hand-checked numbers are about."""

import datetime

from django.utils import timezone

from governance.models import IndicatorValue

MAY = datetime.date(2024, 5, 1)


def at(day: int, hour: int = 10) -> datetime.datetime:
    """An aware time on ``day`` of May 2024."""
    return timezone.make_aware(datetime.datetime(2024, 5, day, hour))


def number(period, key, unit):
    """The numerator of indicator ``key`` of ``unit`` (0 where no row was written)."""
    row = IndicatorValue.objects.filter(period=period, key=key, org_unit=unit).first()
    return row.numerator if row else 0


def snapshot(period):
    """Every row of ``period``, sorted: two rollups that agree give the same snapshot."""
    return sorted(
        IndicatorValue.objects.filter(period=period).values_list("org_unit_id", "key", "numerator", "denominator",
                                                                 "value")
    )
