"""Rosters of the party organisations, the party members and the party-member households.

Organisations are written in bulk, parents before their children, and the tree is renumbered once.
"""

from collections import defaultdict

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance.models import Household, OrgUnit, Resident
from governance.rosters import (
    PERSONAL_ID,
    Bool,
    Choice,
    Column,
    Date,
    InFile,
    Ref,
    RosterSpec,
    Text,
    chunked,
    insert_instances,
    register,
    update_instances,
)
from governance.tree import tree_renumber, tree_write_lock
from partybuild.models import (
    CHILD_KINDS,
    CentralHousehold,
    MemberRegistration,
    MemberStatus,
    OrgKind,
    PartyMember,
    PartyOrganization,
    RegistrationStatus,
)
from partybuild.rosters.common import member_columns, organization_ref
from partybuild.services.common import MEMBER_INACTIVE
from partybuild.services.organizations import (
    CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE,
    MEMBER_STILL_REGISTERED,
    ORG_CHILD_DOES_NOT_FIT,
    ORG_INACTIVE,
    ORG_UNDER_ITSELF,
)

# The model's own messages (PartyOrganization.clean), checked here without its queries.
ORG_KIND_DOES_NOT_FIT = _("A %(child)s cannot be placed under a %(parent)s.")
ORG_UNIT_OUTSIDE_PARENT = _("The unit covered must lie inside the unit of the parent organisation.")


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
        Column("parent", _("Parent organisation"), organization_ref(True, "parent_unit"), export="parent__name",
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


# --- Party members --------------------------------------------------------------------------


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
        Column("organization", _("Party organisation"), organization_ref(False, "organization_unit"),
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


# --- Party-member households ----------------------------------------------------------------


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
        *member_columns(),
        Column("since", _("Since"), Date(), example="2026-01-05", width=12),
    ]

    def validate(self, row, instance, job):
        member, household = instance.member, instance.household
        if not member.is_active:
            job.error(row, job.header_of("member"), MEMBER_INACTIVE % {"member": member.resident.name})
        elif member.resident.household_id != household.pk:
            job.error(row, job.header_of("member"), CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE % {
                "member": member.resident.name, "household": household.number})


register(PartyOrganizationRoster())
register(PartyMemberRoster())
register(CentralHouseholdRoster())
