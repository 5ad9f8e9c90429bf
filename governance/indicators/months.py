"""Month arithmetic of the indicators, in one place: a month is the date of its first day."""

import datetime

from django.utils import timezone


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def this_month() -> datetime.date:
    """The month in progress where the portal is (Asia/Shanghai), not where the server's clock is."""
    return month_start(timezone.localdate())


def next_month(period: datetime.date) -> datetime.date:
    return (period.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_bounds(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as local (Asia/Shanghai) midnights: start inclusive, end exclusive."""

    def midnight(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    return midnight(period), midnight(next_month(period))


def shift_month(period: datetime.date, months: int) -> datetime.date:
    index = period.year * 12 + period.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def parse_period(text: str | None) -> datetime.date | None:
    """``2025-03`` → 2025-03-01; None for anything else."""
    try:
        return datetime.datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        return None


def format_period(period: datetime.date) -> str:
    """2025-03-01 → ``2025-03``: how a month is written in URLs, forms and messages."""
    return f"{period:%Y-%m}"


def month_last_day(period: datetime.date) -> datetime.date:
    return shift_month(period, 1) - datetime.timedelta(days=1)
