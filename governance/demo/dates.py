"""The demo's dates, all counted from one day: the day it is seeded for (``seed_demo --today``,
by default the local date). Nothing in the seed reads the clock, so the same seed and the same
``today`` give the same rows, byte for byte; the tests and the benchmarks pin ``today``.

- The demo's records run up to its *as-of day*, the day before ``today``: its "now" is 17:30 on
  that day (``demo_now``). Whatever the hour the seed runs on ``today``, nothing it writes lies
  in the future, and the cases still open were reported in the last days and weeks, most of
  them due a few days after it: served a day later, the demo is a day older, not overdue.
- Ages, birth dates, party memberships, registrations, workers' start dates, wishes and services
  count back from the as-of day.
- The people were entered on 1 January five years before it (``registered_on``): before the
  demo's history (four years and a month of cases at most) begins, so every month counts them.
- The monthly indicators cover the complete months up to ``last_complete_month``, the month
  before ``today``'s, so the dashboards open on last month.
"""

import datetime

from django.utils import timezone

# Where the demo's "now" falls on its as-of day: the end of a working day.
END_OF_DAY = datetime.time(17, 30)


def as_of_day(today: datetime.date) -> datetime.date:
    """The demo's last day, the day before the one it is seeded for."""
    return today - datetime.timedelta(days=1)


def demo_now(as_of: datetime.date) -> datetime.datetime:
    """The demo's "now": the end of the working day of ``as_of``, local time."""
    return timezone.make_aware(datetime.datetime.combine(as_of, END_OF_DAY))


def registered_on(as_of: datetime.date) -> datetime.date:
    """When the demo's people were entered: 1 January, five years before ``as_of``."""
    return datetime.date(as_of.year - 5, 1, 1)


def last_complete_month(today: datetime.date) -> datetime.date:
    """The first day of the month before ``today``'s: the newest month of the demo's indicators."""
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
