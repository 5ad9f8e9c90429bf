"""The party-building rosters for Excel import and export.

Registered with the roster engine (``governance.rosters``), which discovers this module.
The rules of ``partybuild.services`` are checked again here in bulk, with the services'
messages. Keys (what makes "the same row"):

party_organizations
    name + unit code (the OrgUnit the organisation covers). The parent organisation is named
    by its name; when two organisations share a name, the parent's unit code column tells
    them apart. A parent may be a row of the same file (written first). New organisations
    go in with bulk inserts and the tree is renumbered once.
party_members
    the resident's ID number. The organisation by name (plus its unit code when names repeat).
central_households
    the household number; the member who runs it by his ID number.
unit_registrations
    work unit + community code + registration date. Each of the resource, need and project
    lists is one column, entries separated by ；. One active registration per unit and community.
member_registrations
    member ID number + community code + registration date; the claimed posts are one column
    (the six post names separated by 、). One active registration per member; an end date
    ends the registration (an ended one without a date ends today).
service_records
    member ID number + date + start time. Hours and points are computed as the services
    compute them (``service_hours``/``service_points``); no overlapping services per member
    and day, at most 24 hours a day, counting the services already recorded.
wishes
    export only (a wish moves through its states by the services alone).
"""

import datetime
import re
from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, OrgUnit, Resident
from governance.rosters import (
    PERSONAL_ID,
    PERSONAL_PHONE,
    Bool,
    ChildEntries,
    Choice,
    Column,
    Date,
    InFile,
    ListOf,
    Ref,
    RosterSpec,
    Text,
    Time,
    chunked,
    insert_instances,
    register,
    update_instances,
)
from governance.tree import tree_renumber, tree_write_lock
from governance.validators import validate_phone
from partybuild.models import (
    CHILD_KINDS,
    CentralHousehold,
    MemberRegistration,
    MemberStatus,
    OfferKind,
    OrgKind,
    PartyMember,
    PartyOrganization,
    PostClaim,
    RegistrationStatus,
    ServicePost,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishCategory,
    WishState,
)
from partybuild.services import (
    CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE,
    ENDED_BEFORE_REGISTERED,
    MEMBER_INACTIVE,
    MEMBER_NOT_IN_SERVICE,
    MEMBER_STILL_REGISTERED,
    NOT_A_COMMUNITY,
    ORG_CHILD_DOES_NOT_FIT,
    ORG_INACTIVE,
    ORG_UNDER_ITSELF,
    SECOND_ACTIVE_REGISTRATION,
    SECOND_ACTIVE_UNIT_REGISTRATION,
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

# The model's own messages (PartyOrganization.clean), checked here without its queries.
ORG_KIND_DOES_NOT_FIT = _("A %(child)s cannot be placed under a %(parent)s.")
ORG_UNIT_OUTSIDE_PARENT = _("The unit covered must lie inside the unit of the parent organisation.")
LIST_SEPARATORS_SEMICOLON = re.compile(r"[;；\n]+")

MEMBER_ID = dict(upper=True, select_related=("resident",))


def _community_ref():
    return Ref(OrgUnit, "code", _("org unit"), description=_("Code of the village or community"))


def _member_ref():
    return Ref(PartyMember, "resident__id_number", _("party member"), **MEMBER_ID,
               description=_("ID number of the party member"))


def _organization_ref(in_file: bool, qualifier: str):
    return Ref(
        PartyOrganization, "name", _("party organisation"), select_related=("org_unit",), in_file=in_file,
        qualifier=(qualifier, "org_unit__code"),
        description=_("Name of the party organisation"),
    )


# --- Party organisations ------------------------------------------------------------------


class PartyOrganizationRoster(RosterSpec):
    kind = "party_organizations"
    label = PartyOrganization._meta.verbose_name_plural
    model = PartyOrganization
    key = ("name", "org_unit")
    key_paths = ("name", "org_unit__code")
    export_order = ("tree_id", "lft")
    columns = [
        Column("name", _("Name"), Text(), required=True, example=_("First grid party branch"), width=28),
        Column("kind", _("Kind"), Choice(OrgKind), required=True, example=OrgKind.GRID_BRANCH.label, width=14),
        Column("org_unit", _("Unit code"), Ref(OrgUnit, "code", _("org unit"),
                                                 description=_("Code of the unit the organisation covers")),
               required=True, example="513424102201001", width=18),
        Column("org_unit_name", _("Unit"), export="org_unit__name", width=20),
        Column("parent", _("Parent organisation"), _organization_ref(True, "parent_unit"), export="parent__name",
               example=_("Party branch of the village"), width=28),
        Column("parent_unit", _("Parent unit code"), Text(), field=None, export="parent__org_unit__code",
               note=_("Only needed when two organisations share the parent's name."), width=18),
        Column("work_unit", _("Work unit"), Text(), width=20,
               note=_("For the party organisation of a government agency or state unit.")),
        Column("is_active", _("Active"), Bool(default=True), example=True, width=8),
    ]

    def lock(self):
        return tree_write_lock(PartyOrganization.tree_lock_key)

    def prepare(self, row, kwargs, job):
        if "parent" in kwargs:
            # Checked below without PartyOrganization.clean()'s query for each row.
            job.context.setdefault("parent", {})[row] = kwargs.pop("parent")
        kwargs.pop("parent_id", None)
        kwargs["parent"] = None
        if not row.existing:
            kwargs.update(lft=0, rght=0, tree_id=0, mptt_level=0)

    def check(self, job):
        parents = job.context.get("parent", {})
        header = job.header_of("parent")
        for row in job.rows:
            organization = row.instance
            if organization is None or row.failed:
                continue
            if not job.has("parent"):
                organization.parent_id = row.existing["parent_id"] if row.existing else None
                continue
            target = parents.get(row)
            if isinstance(target, InFile):
                parent = target.row.instance
                if parent is None:
                    job.error(row, header, gettext("That row has errors."))
                    continue
                ancestor = target.row
                seen = {row}
                while ancestor is not None:  # a cycle among the file's own rows
                    if ancestor in seen:
                        job.error(row, header, ORG_UNDER_ITSELF)
                        break
                    seen.add(ancestor)
                    above = parents.get(ancestor)
                    ancestor = above.row if isinstance(above, InFile) else None
                if row.failed:
                    continue
                organization.parent = parent
            elif target is not None:
                parent = target
                if row.existing and (
                    parent.pk == row.existing["id"] or parent.is_descendant_of(organization)
                ):
                    job.error(row, header, ORG_UNDER_ITSELF)
                    continue
                organization.parent = parent
            else:
                organization.parent = None
                continue
            if organization.kind not in CHILD_KINDS[parent.kind]:
                job.error(row, job.header_of("kind"), ORG_KIND_DOES_NOT_FIT % {
                    "child": OrgKind(organization.kind).label, "parent": OrgKind(parent.kind).label})
            elif not organization.work_unit and not organization.org_unit.is_descendant_of(
                parent.org_unit, include_self=True
            ):
                job.error(row, job.header_of("org_unit"), ORG_UNIT_OUTSIDE_PARENT)
        self._check_children(job)

    def _check_children(self, job):
        """An organisation whose kind changes must still fit over its children (party_organization_check)."""
        changing = {
            row.existing["id"]: row for row in job.rows
            if row.instance is not None and not row.failed and row.existing
            and row.existing["kind"] != row.instance.kind
        }
        if not changing:
            return
        moved_in_file = {row.existing["id"] for row in job.rows if row.existing and row.instance is not None}
        for chunk in chunked(sorted(changing)):
            children = PartyOrganization.objects.filter(parent_id__in=chunk).exclude(pk__in=moved_in_file)
            for child in children.only("pk", "name", "kind", "parent_id"):
                row = changing[child.parent_id]
                if child.kind not in CHILD_KINDS[row.instance.kind] and not row.failed:
                    job.error(row, job.header_of("kind"), ORG_CHILD_DOES_NOT_FIT % {
                        "child": child.name, "child_kind": OrgKind(child.kind).label,
                        "kind": OrgKind(row.instance.kind).label})

    def write(self, job):
        created, changed = job.created, job.updated
        # Parents new in this file go in before their children.
        depth = {}

        def depth_of(row):
            if row not in depth:
                target = job.context.get("parent", {}).get(row)
                depth[row] = depth_of(target.row) + 1 if isinstance(target, InFile) else 0
            return depth[row]

        waves = defaultdict(list)
        for row in created:
            waves[depth_of(row)].append(row.instance)
        for level in sorted(waves):
            insert_instances(PartyOrganization, waves[level])
        for row in changed:
            if row.instance.parent is not None:
                row.instance.parent_id = row.instance.parent.pk
        update_instances(PartyOrganization, [row.instance for row in changed], job.written_attnames())
        tree_renumber(PartyOrganization)


# --- Party members ------------------------------------------------------------------------


class PartyMemberRoster(RosterSpec):
    kind = "party_members"
    stream_writes = True
    label = PartyMember._meta.verbose_name_plural
    model = PartyMember
    key = ("resident",)
    key_paths = ("resident__id_number",)
    export_order = ("organization__name", "resident__name", "id")
    columns = [
        Column("resident", _("ID number"), Ref(Resident, "id_number", _("resident"), upper=True,
                                                description=_("ID number of the resident")),
               required=True, personal=PERSONAL_ID, example="51342419800101001X", width=22),
        Column("name", pgettext_lazy("person", "Name"), export="resident__name", width=12),
        Column("organization", _("Party organisation"), _organization_ref(False, "organization_unit"),
               required=True, example=_("Party branch of the village"), width=28),
        Column("organization_unit", _("Organisation unit code"), Text(), field=None,
               export="organization__org_unit__code", width=18,
               note=_("Only needed when two organisations share the name.")),
        Column("status", _("Status"), Choice(MemberStatus, default=MemberStatus.FULL),
               example=MemberStatus.FULL.label, width=10),
        Column("joined_on", _("Joined on"), Date(), required=True, example="2005-07-01", width=12),
        Column("in_service", _("In-service"), Bool(), example=False, width=8),
        Column("work_unit", _("Work unit"), Text(), width=20, note=_("Required for an in-service member.")),
        Column("is_mobile", _("Mobile member"), Bool(), example=False, width=8),
        Column("is_active", _("Active"), Bool(default=True), example=True, width=8),
    ]

    def check(self, job):
        leaving = []
        for row in job.rows:
            member = row.instance
            if member is None or row.failed:
                continue
            moved = not row.existing or row.existing["organization_id"] != member.organization_id
            if moved and not member.organization.is_active:
                job.error(row, job.header_of("organization"), ORG_INACTIVE % {"organization": member.organization})
            if row.existing and not (member.in_service and member.is_active):
                leaving.append(row)
        if leaving:
            active = {}
            for chunk in chunked([row.existing["id"] for row in leaving]):
                registrations = MemberRegistration.objects.filter(
                    member_id__in=chunk, status=RegistrationStatus.ACTIVE
                ).select_related("community")
                for registration in registrations:
                    active[registration.member_id] = registration.community
            for row in leaving:
                community = active.get(row.existing["id"])
                if community is not None:
                    column = "in_service" if not row.instance.in_service else "is_active"
                    job.error(row, job.header_of(column), MEMBER_STILL_REGISTERED % {
                        "member": row.instance.resident.name, "community": community})


# --- Party-member households --------------------------------------------------------------


class CentralHouseholdRoster(RosterSpec):
    kind = "central_households"
    label = CentralHousehold._meta.verbose_name_plural
    model = CentralHousehold
    key = ("household",)
    key_paths = ("household__number",)
    export_order = ("household__number",)
    columns = [
        Column("household", _("Household number"), Ref(Household, "number", _("household")), required=True,
               example="5134241022010010101", width=24),
        Column("address", _("Address"), export="household__address", width=30),
        Column("member", _("Party member ID number"), _member_ref(), required=True, personal=PERSONAL_ID,
               export="member__resident__id_number", example="51342419800101001X", width=22),
        Column("member_name", _("Party member"), export="member__resident__name", width=12),
        Column("since", _("Since"), Date(), example="2026-01-05", width=12),
    ]

    def validate(self, row, instance, job):
        member, household = instance.member, instance.household
        if not member.is_active:
            job.error(row, job.header_of("member"), MEMBER_INACTIVE % {"member": member.resident.name})
        elif member.resident.household_id != household.pk:
            job.error(row, job.header_of("member"), CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE % {
                "member": member.resident.name, "household": household.number})


# --- Double report ------------------------------------------------------------------------


def _offers(kind):
    return ChildEntries(UnitOffer, "registration", "description", where={"kind": kind}, joiner="；")


def _check_community(row, instance, job):
    if instance.community.level != Level.VILLAGE:
        job.error(row, job.header_of("community"), NOT_A_COMMUNITY)


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
        Column("community", _("Community code"), _community_ref(), required=True, example="513424102201",
               width=16),
        Column("community_name", _("Community"), export="community__name", width=20),
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
        _check_community(row, instance, job)
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
        Column("member", _("Party member ID number"), _member_ref(), required=True, personal=PERSONAL_ID,
               export="member__resident__id_number", example="51342419800101001X", width=22),
        Column("member_name", _("Party member"), export="member__resident__name", width=12),
        Column("community", _("Community code"), _community_ref(), required=True, example="513424102201",
               width=16),
        Column("community_name", _("Community"), export="community__name", width=20),
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
        _check_community(row, instance, job)
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


# --- Volunteer service --------------------------------------------------------------------


def _hhmm(value: datetime.time) -> str:
    return value.strftime("%H:%M")


class ServiceRecordRoster(RosterSpec):
    kind = "service_records"
    label = ServiceRecord._meta.verbose_name_plural
    model = ServiceRecord
    key = ("member", "date", "start_time")
    key_paths = ("member__resident__id_number", "date", "start_time")
    export_order = ("-date", "-start_time", "id")
    derived_fields = ("hours", "points")
    columns = [
        Column("member", _("Party member ID number"), _member_ref(), required=True, personal=PERSONAL_ID,
               export="member__resident__id_number", example="51342419800101001X", width=22),
        Column("member_name", _("Party member"), export="member__resident__name", width=12),
        Column("community", _("Community code"), _community_ref(), required=True, example="513424102201",
               width=16),
        Column("community_name", _("Community"), export="community__name", width=20),
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
        _check_community(row, record, job)
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
                    "start": _hhmm(row.instance.start_time), "end": _hhmm(row.instance.end_time),
                    "member": row.instance.member.resident.name, "other_start": _hhmm(other[0]),
                    "other_end": _hhmm(other[1]), "date": date.isoformat()})
            if day_total_exceeded(hours for _s, _e, hours, _r in services):
                total = sum(hours for _s, _e, hours, _r in services)
                for _s, _e, _h, row in services:
                    if row is not None and not row.failed:
                        job.error(row, job.header_of("end_time"), SERVICE_DAY_OVER_24 % {
                            "member": row.instance.member.resident.name, "hours": total,
                            "date": date.isoformat()})


# --- Micro-wishes (export only) -----------------------------------------------------------


class WishRoster(RosterSpec):
    kind = "wishes"
    label = Wish._meta.verbose_name_plural
    model = Wish
    importable = False
    export_order = ("-posted_at", "-id")
    columns = [
        Column("id", _("Micro-wish ID"), export="id", width=8),
        Column("title", _("Title"), export="title", width=24),
        Column("category", _("Category"), export="category", display=Choice(WishCategory), width=12),
        Column("state", _("State"), export="state", display=Choice(WishState), width=8),
        Column("community", _("Community"), export="community__name", width=20),
        Column("household", _("Household number"), export="household__number", width=24),
        Column("resident", _("Resident"), export="resident__name", width=12),
        Column("posted_at", _("Posted at"), export="posted_at", width=16),
        Column("dispatched_to", _("Dispatched to"), export="dispatched_to__resident__name", width=12),
        Column("taken_by", _("Taken by"), export="taken_by__resident__name", width=12),
        Column("done_at", _("Done at"), export="done_at", width=16),
        Column("result", _("Result"), export="result", width=30),
    ]


register(PartyOrganizationRoster())
register(PartyMemberRoster())
register(CentralHouseholdRoster())
register(UnitRegistrationRoster())
register(MemberRegistrationRoster())
register(ServiceRecordRoster())
register(WishRoster())
