"""Rosters of the double report (双报到): work units with their three lists, in-service members with their posts."""

import re
from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.rosters import (
    PERSONAL_PHONE,
    ChildEntries,
    Choice,
    Column,
    Date,
    ListOf,
    RosterSpec,
    Text,
    chunked,
    register,
)
from governance.validators import validate_phone
from partybuild.models import (
    MemberRegistration,
    OfferKind,
    PostClaim,
    RegistrationStatus,
    ServicePost,
    UnitOffer,
    UnitRegistration,
)
from partybuild.rosters.common import check_community, community_columns, member_columns
from partybuild.services.common import MEMBER_INACTIVE
from partybuild.services.registrations import (
    ENDED_BEFORE_REGISTERED,
    MEMBER_NOT_IN_SERVICE,
    SECOND_ACTIVE_REGISTRATION,
    SECOND_ACTIVE_UNIT_REGISTRATION,
)

LIST_SEPARATORS_SEMICOLON = re.compile(r"[;；\n]+")


def _offers(kind):
    return ChildEntries(UnitOffer, "registration", "description", where={"kind": kind}, joiner="；")




class UnitRegistrationRoster(RosterSpec):
    kind = "unit_registrations"
    label = UnitRegistration._meta.verbose_name_plural
    model = UnitRegistration
    key = ("unit_name", "community", "registered_on")
    key_paths = ("unit_name", "community__code", "registered_on")
    export_order = ("community__code", "unit_name", "registered_on")
    columns = [
        Column("unit_name", _("Work unit"), Text(), required=True, example=_("County finance bureau"), width=24),
        Column("party_organization", _("Unit party organisation"), Text(), required=True,
               example=_("Party branch of the county finance bureau"), width=28),
        *community_columns(),
        Column("registered_on", _("Registered on"), Date(), required=True, example="2026-01-05", width=12),
        Column("contact_name", _("Contact"), Text(), width=12),
        Column("contact_phone", _("Contact phone"), Text(), personal=PERSONAL_PHONE, width=14),
        Column("status", _("Status"), Choice(RegistrationStatus, default=RegistrationStatus.ACTIVE),
               example=RegistrationStatus.ACTIVE.label, width=8),
        Column("resources", _("Resource list"), ListOf(separators=LIST_SEPARATORS_SEMICOLON, joiner="；"),
               related=_offers(OfferKind.RESOURCE), example=_("A meeting room；Ten volunteers"), width=30),
        Column("needs", _("Need list"), ListOf(separators=LIST_SEPARATORS_SEMICOLON, joiner="；"),
               related=_offers(OfferKind.NEED), width=30),
        Column("projects", _("Project list"), ListOf(separators=LIST_SEPARATORS_SEMICOLON, joiner="；"),
               related=_offers(OfferKind.PROJECT), width=30),
    ]

    def validate(self, row, instance, job):
        check_community(row, instance, job)
        if instance.contact_phone:
            try:
                validate_phone(instance.contact_phone)
            except Exception as exc:  # ValidationError
                job.error(row, job.header_of("contact_phone"), " ".join(exc.messages))

    def check(self, job):
        rows = [row for row in job.rows if row.instance is not None and not row.failed]
        units = sorted({row.instance.unit_name for row in rows})
        in_file = {row.existing["id"] for row in rows if row.existing}
        active = defaultdict(list)  # (unit, community) → active rows in the database the file leaves alone
        for chunk in chunked(units):
            others = UnitRegistration.objects.filter(unit_name__in=chunk, status=RegistrationStatus.ACTIVE)
            for pk, unit_name, community_id in others.values_list("pk", "unit_name", "community_id"):
                if pk not in in_file:
                    active[(unit_name, community_id)].append(pk)
        for row in rows:
            registration = row.instance
            if registration.status != RegistrationStatus.ACTIVE:
                continue
            pair = (registration.unit_name, registration.community_id)
            if active[pair]:
                job.error(row, job.header_of("unit_name"), SECOND_ACTIVE_UNIT_REGISTRATION % {
                    "unit": registration.unit_name, "community": registration.community})
            active[pair].append(row)


class MemberRegistrationRoster(RosterSpec):
    kind = "member_registrations"
    label = MemberRegistration._meta.verbose_name_plural
    model = MemberRegistration
    key = ("member", "community", "registered_on")
    key_paths = ("member__resident__id_number", "community__code", "registered_on")
    export_order = ("community__code", "member__resident__name", "registered_on")
    # An end date ends the registration; an ended one without a date ends today.
    derived_fields = ("status", "ended_on")
    columns = [
        *member_columns(),
        *community_columns(),
        Column("registered_on", _("Registered on"), Date(), required=True, example="2026-01-05", width=12),
        Column(
            "posts",
            _("Claimed posts"),
            ListOf(Choice(ServicePost)),
            related=ChildEntries(
                PostClaim, "registration", "post", defaults=lambda row: {"claimed_on": row.instance.registered_on}
            ),
            example=lambda: f"{ServicePost.POLICY.label}、{ServicePost.PATROL.label}",
            width=30,
        ),
        Column("status", _("Status"), Choice(RegistrationStatus, default=RegistrationStatus.ACTIVE),
               example=RegistrationStatus.ACTIVE.label, width=8),
        Column("ended_on", _("Ended on"), Date(), width=12, note=_("A date here ends the registration.")),
    ]

    def prepare(self, row, kwargs, job):
        if kwargs.get("ended_on"):
            kwargs["status"] = RegistrationStatus.ENDED
        elif kwargs.get("status") == RegistrationStatus.ENDED and not kwargs.get("ended_on"):
            kwargs["ended_on"] = (row.existing or {}).get("ended_on") or timezone.localdate()

    def validate(self, row, instance, job):
        check_community(row, instance, job)
        if instance.ended_on and instance.ended_on < instance.registered_on:
            job.error(row, job.header_of("ended_on"), ENDED_BEFORE_REGISTERED % {"date": instance.registered_on})
        if instance.status == RegistrationStatus.ACTIVE:
            member = instance.member
            if not member.is_active:
                job.error(row, job.header_of("member"), MEMBER_INACTIVE % {"member": member.resident.name})
            elif not member.in_service:
                job.error(row, job.header_of("member"), MEMBER_NOT_IN_SERVICE % {"member": member.resident.name})

    def check(self, job):
        rows = [row for row in job.rows if row.instance is not None and not row.failed]
        in_file = {row.existing["id"] for row in rows if row.existing}
        active = defaultdict(list)  # member → communities of his active registrations
        for chunk in chunked(sorted({row.instance.member_id for row in rows})):
            others = MemberRegistration.objects.filter(member_id__in=chunk, status=RegistrationStatus.ACTIVE)
            for registration in others.select_related("community"):
                if registration.pk not in in_file:
                    active[registration.member_id].append(registration.community)
        for row in rows:
            registration = row.instance
            if registration.status != RegistrationStatus.ACTIVE:
                continue
            if active[registration.member_id]:
                job.error(row, job.header_of("member"), SECOND_ACTIVE_REGISTRATION % {
                    "member": registration.member.resident.name,
                    "community": active[registration.member_id][0]})
            active[registration.member_id].append(registration.community)


register(UnitRegistrationRoster())
register(MemberRegistrationRoster())
