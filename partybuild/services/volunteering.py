"""Volunteer service records (志愿服务) with their hours and points (双积分).

Hours are the time between start and end on one day, to the tenth of an hour (6 minutes,
half up); a service past midnight is recorded as two services. Points: ``POINTS_PER_HOUR`` per
hour, i.e. one point per 6 minutes, so points are exact whole numbers. A record is seen by the
community where it was done and by the member's own branch.

"No overlapping services per member and day" is a read-then-write check: the member's row is
locked first, so two clerks recording hours for the same member one after the other see each
other's record.
"""

import datetime
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import OrgUnit
from partybuild.models import PartyMember, ServiceRecord, Wish
from partybuild.services.common import community_fresh, invalid, set_fields

# Messages (shared with the Excel importer).
SERVICE_END_NOT_AFTER_START = _(
    "The end time must be after the start time (record a service past midnight as two services, one per day)."
)
SERVICE_TOO_SHORT = _("A service lasts at least 0.1 hour (6 minutes).")
SERVICE_DAY_OVER_24 = _("%(member)s would serve %(hours)s hours on %(date)s; a day has at most 24.")
SERVICE_OVERLAP = _(
    "%(start)s–%(end)s overlaps the service of %(member)s from %(other_start)s to %(other_end)s on %(date)s."
)
SERVICE_IN_FUTURE = _("A service cannot be recorded for a date in the future.")
SERVICE_WISH_NOT_TAKEN_BY_MEMBER = _("The micro-wish “%(wish)s” was not taken by %(member)s.")
SERVICE_WISH_OTHER_COMMUNITY = _("A service for a micro-wish is recorded in the wish's community (%(community)s).")

# Hours and points (shared with the Excel importer).
HOURS_STEP = Decimal("0.1")
MAX_HOURS_PER_DAY = Decimal(24)
# One point per 6 minutes (0.1 hour): hours have one decimal, so points are whole numbers.
POINTS_PER_HOUR = 10


def service_hours(start_time: datetime.time, end_time: datetime.time) -> Decimal:
    """Hours from ``start_time`` to ``end_time`` on one day, to the tenth (half up); ≤ 0 if end ≤ start."""

    def seconds(t: datetime.time) -> int:
        return t.hour * 3600 + t.minute * 60 + t.second

    return (Decimal(seconds(end_time) - seconds(start_time)) / 3600).quantize(HOURS_STEP, ROUND_HALF_UP)


def service_points(hours: Decimal) -> int:
    """The points a service of ``hours`` earns (``POINTS_PER_HOUR`` per hour)."""
    return int((Decimal(hours) * POINTS_PER_HOUR).to_integral_value(ROUND_HALF_UP))


def overlaps(a: Sequence, b: Sequence) -> bool:
    """Whether two ``(start, end)`` intervals overlap; touching ones (one ends as the other starts) do not."""
    return a[0] < b[1] and b[0] < a[1]


def overlapping(intervals: Iterable[Sequence]) -> list[tuple]:
    """Overlapping pairs among ``intervals``, each a ``(start, end, ...)`` tuple (extra items are kept).

    Intervals that only touch (one ends when the next starts) do not overlap. Sorted sweep,
    O(n log n): every interval that overlaps an earlier one is reported once, paired with the
    earlier interval that reaches furthest — enough to name the conflict of every bad row.
    """
    pairs = []
    furthest = None
    for item in sorted(intervals, key=lambda item: (item[0], item[1])):
        if furthest is not None and item[0] < furthest[1]:
            pairs.append((furthest, item))
        if furthest is None or item[1] > furthest[1]:
            furthest = item
    return pairs


def day_total_exceeded(hours: Iterable[Decimal]) -> bool:
    """True when the hours one member served on one day add up to more than 24."""
    return sum((Decimal(h) for h in hours), Decimal(0)) > MAX_HOURS_PER_DAY


# --- Service records ------------------------------------------------------------------------

SERVICE_RECORD_FIELDS = {"community", "date", "start_time", "end_time", "kind", "wish", "description"}


def _time(value: datetime.time) -> str:
    return value.strftime("%H:%M")


def service_record_check(*, record: ServiceRecord) -> None:
    """Compute the hours and points of ``record`` and check its rules against the member's other services that day.

    The services call it holding the member's row lock, so no other service of his is
    written meanwhile; forms call it first to show a broken rule on its field.
    """
    if record.end_time <= record.start_time:
        raise ValidationError({"end_time": SERVICE_END_NOT_AFTER_START})
    record.hours = service_hours(record.start_time, record.end_time)
    if record.hours <= 0:
        raise ValidationError({"end_time": SERVICE_TOO_SHORT})
    record.points = service_points(record.hours)
    if record.date > timezone.localdate():
        raise ValidationError({"date": SERVICE_IN_FUTURE})
    if record.wish_id is not None:
        wish = Wish.objects.select_related("community").get(pk=record.wish_id)
        if wish.taken_by_id != record.member_id:
            raise invalid("wish", SERVICE_WISH_NOT_TAKEN_BY_MEMBER, wish=wish, member=record.member)
        if wish.community_id != record.community_id:
            raise invalid("community", SERVICE_WISH_OTHER_COMMUNITY, community=wish.community)
    same_day = list(
        ServiceRecord.objects.filter(member_id=record.member_id, date=record.date)
        .exclude(pk=record.pk)
        .values_list("start_time", "end_time", "hours")
    )
    clashes = [other for other in same_day if overlaps(other[:2], (record.start_time, record.end_time))]
    if clashes:
        other_start, other_end, _hours = clashes[0]
        raise ValidationError(
            {
                "start_time": ValidationError(
                    SERVICE_OVERLAP,
                    params={
                        "start": _time(record.start_time),
                        "end": _time(record.end_time),
                        "member": record.member,
                        "other_start": _time(other_start),
                        "other_end": _time(other_end),
                        "date": record.date.isoformat(),
                    },
                )
            }
        )
    day_hours = [hours for _start, _end, hours in same_day] + [record.hours]
    if day_total_exceeded(day_hours):
        raise ValidationError(
            {
                "end_time": ValidationError(
                    SERVICE_DAY_OVER_24,
                    params={"member": record.member, "hours": sum(day_hours), "date": record.date.isoformat()},
                )
            }
        )


def service_record_create(
    *,
    member: PartyMember,
    community: OrgUnit,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
    kind: str,
    wish: Wish | None = None,
    description: str = "",
) -> ServiceRecord:
    """Record one volunteer service; hours and points are computed, never typed."""
    with transaction.atomic():
        # The member's row lock serialises his services: the overlap check sees every other one.
        member = PartyMember.objects.select_for_update().select_related("resident").get(pk=member.pk)
        record = ServiceRecord(
            member=member,
            community=community_fresh(community),
            date=date,
            start_time=start_time,
            end_time=end_time,
            kind=kind,
            wish=wish,
            description=description.strip(),
        )
        service_record_check(record=record)
        record.full_clean()
        record.save()
        return record


def service_record_update(*, record: ServiceRecord, **fields) -> ServiceRecord:
    """Correct a service; hours, points and the day's rules are checked again."""
    with transaction.atomic():
        PartyMember.objects.select_for_update().filter(pk=record.member_id).first()
        fresh = ServiceRecord.objects.select_related("member__resident").get(pk=record.pk)
        set_fields(fresh, fields, SERVICE_RECORD_FIELDS)
        if "community" in fields:
            fresh.community = community_fresh(fresh.community)
        service_record_check(record=fresh)
        fresh.full_clean()
        fresh.save()
        return fresh
