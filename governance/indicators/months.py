"""Month arithmetic of the indicators, in one place: a month is the date of its first day, and a
period (``Period``) a run of whole months: a quarter, a half-year, a year, the year so far, any range."""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _


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


# --- Periods of several months ------------------------------------------------------------

MONTH, QUARTER, HALF, YEAR, RANGE = "month", "quarter", "half", "year", "range"
MAX_PERIOD_MONTHS = 120

_PERIOD_PATTERN = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|[Qq](?P<quarter>[1-4])|[Hh](?P<half>[12])))?$")


@dataclass(frozen=True)
class Period:
    """A run of whole months, ``first`` to ``last`` (the first days of both), as counties report them.

    Written ``2025-05`` (a month), ``2025-Q2``, ``2025-H1``, ``2025`` or ``2025-01..2025-06`` (any
    range; the year so far is the range from January). How each indicator adds up over its months
    is the indicator's ``over`` (``registry``).
    """

    first: datetime.date
    last: datetime.date

    def __post_init__(self):
        if self.first.day != 1 or self.last.day != 1 or self.first > self.last:
            raise ValueError(f"not a period of months: {self.first}..{self.last}")

    @classmethod
    def month(cls, month: datetime.date) -> "Period":
        month = month_start(month)
        return cls(month, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        first = datetime.date(year, 3 * quarter - 2, 1)
        return cls(first, shift_month(first, 2))

    @classmethod
    def half(cls, year: int, half: int) -> "Period":
        first = datetime.date(year, 6 * half - 5, 1)
        return cls(first, shift_month(first, 5))

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 1))

    @classmethod
    def year_to_date(cls, month: datetime.date) -> "Period":
        month = month_start(month)
        return cls(month.replace(month=1), month)

    @property
    def length(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def months(self) -> list[datetime.date]:
        return [shift_month(self.first, i) for i in range(self.length)]

    @property
    def kind(self) -> str:
        """MONTH, QUARTER, HALF, YEAR (a calendar one), else RANGE."""
        first, length = self.first, self.length
        if length == 1:
            return MONTH
        if length == 3 and first.month % 3 == 1:
            return QUARTER
        if length == 6 and first.month in (1, 7):
            return HALF
        if length == 12 and first.month == 1:
            return YEAR
        return RANGE

    @property
    def is_month(self) -> bool:
        return self.length == 1

    def __str__(self) -> str:
        """How the period is written in URLs, the API and file names."""
        kind, first = self.kind, self.first
        if kind == MONTH:
            return format_period(first)
        if kind == QUARTER:
            return f"{first.year}-Q{(first.month + 2) // 3}"
        if kind == HALF:
            return f"{first.year}-H{1 if first.month == 1 else 2}"
        if kind == YEAR:
            return str(first.year)
        return f"{format_period(first)}..{format_period(self.last)}"

    @property
    def label(self) -> str:
        """How the period is named on the page: 2025年5月, 2025年第二季度, 2025年1-6月 ..."""
        kind, first, last = self.kind, self.first, self.last
        if kind == MONTH:
            return _("%(year)d-%(month)02d") % {"year": first.year, "month": first.month}
        if kind == QUARTER:
            quarter = (first.month + 2) // 3
            names = {1: _("Q1 %(year)d"), 2: _("Q2 %(year)d"), 3: _("Q3 %(year)d"), 4: _("Q4 %(year)d")}
            return names[quarter] % {"year": first.year}
        if kind == HALF:
            return (_("First half of %(year)d") if first.month == 1 else _("Second half of %(year)d")) % {
                "year": first.year}
        if kind == YEAR:
            return _("Year %(year)d") % {"year": first.year}
        if first.month == 1 and last.year == first.year:
            return _("%(year)d, January to month %(month)d (year to date)") % {"year": first.year, "month": last.month}
        return _("%(first)s to %(last)s") % {"first": format_period(first), "last": format_period(last)}

    def shifted(self, months: int) -> "Period":
        return Period(shift_month(self.first, months), shift_month(self.last, months))

    @property
    def previous(self) -> "Period":
        """The period of the same length just before (the month before, the quarter before ...)."""
        return self.shifted(-self.length)

    @property
    def following(self) -> "Period":
        return self.shifted(self.length)

    @property
    def year_ago(self) -> "Period":
        return self.shifted(-12)

    def __contains__(self, month: datetime.date) -> bool:
        return self.first <= month <= self.last

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Local midnights: the first month's start (inclusive), the last month's end (exclusive)."""
        return month_bounds(self.first)[0], month_bounds(self.last)[1]


def parse_period_text(text: str | None) -> Period | None:
    """``2025-05``, ``2025-Q2``, ``2025-H1``, ``2025`` or ``2025-01..2025-06`` → a Period; None for anything else
    (or a range backwards or longer than ``MAX_PERIOD_MONTHS``)."""
    text = (text or "").strip()
    if ".." in text:
        first, _sep, last = text.partition("..")
        first, last = parse_period(first), parse_period(last)
        if first is None or last is None or first > last:
            return None
        period = Period(first, last)
        return period if period.length <= MAX_PERIOD_MONTHS else None
    match = _PERIOD_PATTERN.match(text)
    if match is None:
        return None
    year = int(match["year"])
    if not 1900 <= year <= 9999:
        return None
    if match["month"]:
        month = int(match["month"])
        return Period.month(datetime.date(year, month, 1)) if 1 <= month <= 12 else None
    if match["quarter"]:
        return Period.quarter(year, int(match["quarter"]))
    if match["half"]:
        return Period.half(year, int(match["half"]))
    return Period.year(year)


def stored_periods(month: datetime.date) -> list[Period]:
    """The periods whose medians a month's rollup stores: its quarter, half-year and year."""
    month = month_start(month)
    return [Period.quarter(month.year, (month.month + 2) // 3), Period.half(month.year, 1 if month.month <= 6 else 2),
            Period.year(month.year)]
