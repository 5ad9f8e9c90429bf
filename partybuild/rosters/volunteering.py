"""Roster of the volunteer service records: hours and points computed as the services compute them; no
overlapping services per member and day and at most 24 hours a day, counting those already recorded."""

from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.rosters import Choice, Column, Date, Ref, RosterSpec, Text, Time, chunked, register
from partybuild.models import ServicePost, ServiceRecord, Wish
from partybuild.rosters.common import check_community, community_columns, hhmm, member_columns
from partybuild.services.volunteering import (
    SERVICE_DAY_OVER_24,
    SERVICE_END_NOT_AFTER_START,
    SERVICE_IN_FUTURE,
    SERVICE_OVERLAP,
    SERVICE_TOO_SHORT,
    SERVICE_WISH_NOT_TAKEN_BY_MEMBER,
    SERVICE_WISH_OTHER_COMMUNITY,
    day_total_exceeded,
    overlapping,
    service_hours,
    service_points,
)


class ServiceRecordRoster(RosterSpec):
    kind = "service_records"
    label = ServiceRecord._meta.verbose_name_plural
    model = ServiceRecord
    key = ("member", "date", "start_time")
    key_paths = ("member__resident__id_number", "date", "start_time")
    export_order = ("-date", "-start_time", "id")
    derived_fields = ("hours", "points")
    columns = [
        *member_columns(),
        *community_columns(),
        Column("date", _("Date"), Date(), required=True, example="2026-01-05", width=12),
        Column("start_time", _("Start time"), Time(), required=True, example="09:00", width=8),
        Column("end_time", _("End time"), Time(), required=True, example="11:30", width=8),
        Column("kind", _("Service kind"), Choice(ServicePost), required=True, example=ServicePost.PATROL.label,
               width=12),
        Column("hours", _("Hours"), export="hours", width=8),
        Column("points", _("Points"), export="points", width=8),
        Column("wish", _("Micro-wish ID"), Ref(Wish, "id", _("micro-wish"), integer=True, select_related=("community",),
                                               description=_("Number of the micro-wish served (optional)")),
               export="wish_id", width=10),
        Column("description", _("Description"), Text(), width=30),
    ]

    def prepare(self, row, kwargs, job):
        start, end = kwargs.get("start_time"), kwargs.get("end_time")
        if start is None or end is None:
            return
        if end <= start:
            job.error(row, job.header_of("end_time"), SERVICE_END_NOT_AFTER_START)
            return
        kwargs["hours"] = service_hours(start, end)
        if kwargs["hours"] <= 0:
            job.error(row, job.header_of("end_time"), SERVICE_TOO_SHORT)
            return
        kwargs["points"] = service_points(kwargs["hours"])

    def validate(self, row, record, job):
        check_community(row, record, job)
        if record.date > timezone.localdate():
            job.error(row, job.header_of("date"), SERVICE_IN_FUTURE)
        wish = record.wish
        if wish is not None:
            if wish.taken_by_id != record.member_id:
                job.error(row, job.header_of("wish"), SERVICE_WISH_NOT_TAKEN_BY_MEMBER % {
                    "wish": wish.title, "member": record.member.resident.name})
            elif wish.community_id != record.community_id:
                job.error(row, job.header_of("community"), SERVICE_WISH_OTHER_COMMUNITY % {
                    "community": wish.community.display_name})

    def check(self, job):
        rows = [row for row in job.rows if row.instance is not None and not row.failed]
        if not rows:
            return
        in_file = {row.existing["id"] for row in rows if row.existing}
        days = defaultdict(list)  # (member, date) → [(start, end, hours, row or None)]
        for row in rows:
            record = row.instance
            days[(record.member_id, record.date)].append((record.start_time, record.end_time, record.hours, row))
        first, last = min(day for _m, day in days), max(day for _m, day in days)
        for chunk in chunked(sorted({member for member, _d in days})):
            stored = ServiceRecord.objects.filter(member_id__in=chunk, date__range=(first, last)).values_list(
                "pk", "member_id", "date", "start_time", "end_time", "hours"
            )
            for pk, member_id, date, start, end, hours in stored:
                if pk not in in_file and (member_id, date) in days:
                    days[(member_id, date)].append((start, end, hours, None))
        for (_member_id, date), services in days.items():
            for earlier, later in overlapping(services):
                row = later[3] or earlier[3]
                other = earlier if row is later[3] else later
                if row is None or row.failed:
                    continue
                job.error(row, job.header_of("start_time"), SERVICE_OVERLAP % {
                    "start": hhmm(row.instance.start_time), "end": hhmm(row.instance.end_time),
                    "member": row.instance.member.resident.name, "other_start": hhmm(other[0]),
                    "other_end": hhmm(other[1]), "date": date.isoformat()})
            if day_total_exceeded(hours for _s, _e, hours, _r in services):
                total = sum(hours for _s, _e, hours, _r in services)
                for _s, _e, _h, row in services:
                    if row is not None and not row.failed:
                        job.error(row, job.header_of("end_time"), SERVICE_DAY_OVER_24 % {
                            "member": row.instance.member.resident.name, "hours": total,
                            "date": date.isoformat()})


register(ServiceRecordRoster())
