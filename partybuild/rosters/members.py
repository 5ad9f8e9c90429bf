"""Rosters of the party organisations, the party members and the party-member households.

Organisations are written in bulk, parents before their children, and the tree is renumbered once;
their kinds and which kind may sit under which are the rows an administrator keeps, read once
per import. A party-member household is named by its household number or by its head's ID
number (with its grid as a cross-check).
"""

from collections import defaultdict

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, OrgUnit, Relation, Resident
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
    CentralHousehold,
    MemberRegistration,
    MemberStatus,
    OrgKind,
    PartyMember,
    PartyOrganization,
    PartyOrganizationKind,
    RegistrationStatus,
)
from partybuild.rosters.common import OrganizationKind, kind_name, member_columns, organization_ref
from partybuild.services.common import MEMBER_INACTIVE
from partybuild.services.organizations import (
    CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE,
    MEMBER_STILL_REGISTERED,
    ORG_CHILD_DOES_NOT_FIT,
    ORG_INACTIVE,
    ORG_UNDER_ITSELF,
)

# The model's own message (PartyOrganization.clean), checked here without its queries.
ORG_UNIT_OUTSIDE_PARENT = _("The unit covered must lie inside the unit of the parent organisation.")


class PartyOrganizationRoster(RosterSpec):
    kind = "party_organizations"
    label = PartyOrganization._meta.verbose_name_plural
    model = PartyOrganization
    key = ("name", "org_unit")
    key_paths = ("name", "org_unit__code")
    export_order = ("tree_id", "lft")
    # Every error of a row at once: the rules below read a cell only when it is good (cells_ok), and
    # the model's clean() reads the kind only when it parsed and the parent never (set in check()).
    checks_partial_rows = True
    clean_needs = ()
    columns = [
        Column("name", _("Name"), Text(), required=True, example=_("First grid party branch"), width=28),
        Column("kind", _("Kind"), OrganizationKind(), required=True, export="kind_name",
               example=lambda: kind_name(OrgKind.GRID_BRANCH), width=14),
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

    def export_queryset(self, queryset):
        names = PartyOrganizationKind.objects.filter(code=OuterRef("kind")).values("name")[:1]
        return super().export_queryset(queryset).annotate(kind_name=Coalesce(Subquery(names), F("kind")))

    def prepare(self, row, kwargs, job):
        if "parent" in kwargs:
            # Checked below without PartyOrganization.clean()'s query for each row.
            job.context.setdefault("parent", {})[row] = kwargs.pop("parent")
        kwargs.pop("parent_id", None)
        kwargs["parent"] = None
        if not row.existing:
            kwargs.update(lft=0, rght=0, tree_id=0, mptt_level=0)

    @staticmethod
    def _rules(job):
        """The kinds and which may sit under which, read once per import."""
        if "kinds" not in job.context:
            job.context["kinds"] = PartyOrganizationKind.rules()
        return job.context["kinds"]

    def clean_instance(self, row, instance, job):
        instance.clean_with(self._rules(job))

    def check(self, job):
        parents = job.context.get("parent", {})
        header = job.header_of("parent")
        rules = self._rules(job)
        kept = []  # rows that stay under their parent (the file has no parent column)
        for row in job.rows:
            organization = row.instance
            if organization is None:
                continue
            if not job.has("parent"):
                organization.parent_id = row.existing["parent_id"] if row.existing else None
                kept.append(row)
                continue
            if not job.cells_ok(row, "parent", "parent_unit"):
                continue
            target = parents.get(row)
            if isinstance(target, InFile):
                parent = target.row.instance
                if parent is None:
                    job.error(row, header, gettext("That row has errors."))
                    continue
                ancestor, seen, cyclic = target.row, {row}, False
                while ancestor is not None:  # a cycle among the file's own rows
                    if ancestor in seen:
                        job.error(row, header, ORG_UNDER_ITSELF)
                        cyclic = True
                        break
                    seen.add(ancestor)
                    above = parents.get(ancestor)
                    ancestor = above.row if isinstance(above, InFile) else None
                if cyclic:
                    continue
                kind_known, unit_known = job.cells_ok(target.row, "kind"), job.cells_ok(target.row, "org_unit")
            elif target is not None:
                parent = target
                if row.existing and (
                    parent.pk == row.existing["id"] or parent.is_descendant_of(organization)
                ):
                    job.error(row, header, ORG_UNDER_ITSELF)
                    continue
                kind_known = unit_known = True
            else:
                organization.parent = None
                continue
            organization.parent = parent
            misfit = rules.misfit(organization.kind, parent.kind) if kind_known and job.cells_ok(row, "kind") else None
            if misfit is not None:
                job.error(row, job.header_of("kind"), " ".join(misfit.messages))
            if unit_known and job.cells_ok(row, "org_unit", "work_unit") and not organization.work_unit and not (
                organization.org_unit.is_descendant_of(parent.org_unit, include_self=True)
            ):
                job.error(row, job.header_of("org_unit"), ORG_UNIT_OUTSIDE_PARENT)
        self._check_kept_parents(job, kept)
        self._check_children(job)

    def _check_kept_parents(self, job, rows):
        """An organisation whose kind changes must still fit under the parent it keeps."""
        changing = [row for row in rows if row.existing and row.existing["parent_id"] and job.cells_ok(row, "kind")
                    and row.existing["kind"] != row.instance.kind]
        if not changing:
            return
        in_file = {row.existing["id"]: row.instance.kind for row in job.rows
                   if row.existing and row.instance is not None and job.cells_ok(row, "kind")}
        stored = {}
        for chunk in chunked(sorted({row.existing["parent_id"] for row in changing})):
            stored.update(PartyOrganization.objects.filter(pk__in=chunk).values_list("pk", "kind"))
        rules = self._rules(job)
        for row in changing:
            parent_id = row.existing["parent_id"]
            misfit = rules.misfit(row.instance.kind, in_file.get(parent_id, stored.get(parent_id, "")))
            if misfit is not None:
                job.error(row, job.header_of("kind"), " ".join(misfit.messages))

    def _check_children(self, job):
        """An organisation whose kind changes must still fit over its children (party_organization_check)."""
        changing = {
            row.existing["id"]: row for row in job.rows
            if row.instance is not None and row.existing and job.cells_ok(row, "kind")
            and row.existing["kind"] != row.instance.kind
        }
        if not changing:
            return
        moved_in_file = {row.existing["id"] for row in job.rows if row.existing and row.instance is not None}
        rules = self._rules(job)
        for chunk in chunked(sorted(changing)):
            children = PartyOrganization.objects.filter(parent_id__in=chunk).exclude(pk__in=moved_in_file)
            for child in children.only("pk", "name", "kind", "parent_id"):
                row = changing[child.parent_id]
                if not rules.fits(child.kind, row.instance.kind):
                    # The engine keeps the first message of a cell: one misfit child is named.
                    job.error(row, job.header_of("kind"), ORG_CHILD_DOES_NOT_FIT % {
                        "child": child.name, "child_kind": rules.name(child.kind),
                        "kind": rules.name(row.instance.kind)})

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


HOUSEHOLD_NOT_NAMED = _("Give the household number, or the ID number of the head of the household.")
HEAD_NOT_A_HEAD = _("%(name)s is not recorded as the head of a household (%(relation)s): give the household number.")
HEAD_OF_ANOTHER_HOUSEHOLD = _("%(name)s is the head of household %(other)s, not of %(number)s.")
GRID_NOT_FOUND = _("There is no grid or micro-grid “%(value)s” in your area.")
HOUSEHOLD_IN_ANOTHER_GRID = _("Household %(number)s is in %(grid)s, not in “%(value)s”.")
SAME_HOUSEHOLD = _("Names the same household as row %(row)d (%(number)s).")


class CentralHouseholdRoster(RosterSpec):
    """Party-member households, each named by its household number or by its head's ID number.

    A county's file often has no household numbers but names the head and the grid: the
    household is then the one whose head has that ID number, and the grid (code or name) must
    be the household's or one above it. The rows are matched to the stored ones by the
    household found (``check``), not by a key column: the engine's key is read before any
    reference is resolved.
    """

    kind = "central_households"
    label = CentralHousehold._meta.verbose_name_plural
    model = CentralHousehold
    export_order = ("household__number",)
    # Every error of a row at once: the rules below read a cell only when it is good (cells_ok).
    checks_partial_rows = True
    clean_needs = ()
    matching_note = _(
        "Rows are matched by the household: its number, or, where the number is left empty, the ID number "
        "of its head (the grid, if filled in, must be the household's). A household already in the system is "
        "updated, never duplicated."
    )
    columns = [
        Column("household", _("Household number"), Ref(Household, "number", _("household"), select_related=("grid",)),
               example="5134241022010010101", width=24,
               note=_("Or leave it empty and give the head of household's ID number.")),
        Column("head", _("Head of household ID number"),
               Ref(Resident, "id_number", _("head of household"), upper=True, select_related=("household__grid",),
                   description=_("ID number of the head of the household")),
               field=None, export=None, example="51342419800101001X", width=22,
               note=_("Names the household when its number is left empty.")),
        Column("grid", _("Grid"), Text(description=_("Code or name of the grid or micro-grid")), field=None,
               export="household__grid__code", example="513424102201001", width=18,
               note=_("A cross-check: the household must lie in this grid.")),
        Column("address", _("Address"), export="household__address", width=30),
        *member_columns(),
        Column("since", _("Since"), Date(), example="2026-01-05", width=12),
    ]

    def prepare(self, row, kwargs, job):
        if not job.cells_ok(row, "household", "head"):
            return  # a household number or an ID number not found is already reported
        household, head = kwargs.get("household"), row.values.get("head")
        if household is None and head is None:
            job.error(row, job.header_of("household"), HOUSEHOLD_NOT_NAMED)
            return
        if head is not None:
            if head.relation != Relation.HEAD:
                job.error(row, job.header_of("head"), HEAD_NOT_A_HEAD % {
                    "name": head.name, "relation": Relation(head.relation).label})
                return
            if household is not None and household.pk != head.household_id:
                job.error(row, job.header_of("head"), HEAD_OF_ANOTHER_HOUSEHOLD % {
                    "name": head.name, "other": head.household.number, "number": household.number})
                return
            if household is None:
                household = kwargs["household"] = head.household
                job.context.setdefault("by_head", set()).add(row)
        named = row.values.get("grid")
        if named and job.cells_ok(row, "grid"):
            units = self._grids(job).get(named)
            if not units:
                job.error(row, job.header_of("grid"), GRID_NOT_FOUND % {"value": named})
            elif not any(unit.tree_id == household.grid.tree_id and unit.lft <= household.grid.lft <= unit.rght
                         for unit in units):
                job.error(row, job.header_of("grid"), HOUSEHOLD_IN_ANOTHER_GRID % {
                    "number": household.number, "grid": household.grid.display_name, "value": named})

    def _grids(self, job) -> dict[str, list[OrgUnit]]:
        """The grids and micro-grids the file names (by code, name or short name), in the user's scope."""
        if "grids" not in job.context:
            named = sorted({row.values["grid"] for row in job.rows if row.values.get("grid")})
            units = OrgUnit.objects.all() if job.user is None else OrgUnit.objects.visible_to(job.user)
            found = defaultdict(list)
            for chunk in chunked(named):
                matching = units.filter(Q(code__in=chunk) | Q(name__in=chunk) | Q(short_name__in=chunk),
                                        level__in=[Level.GRID, Level.MICRO_GRID])
                for unit in matching.only("code", "name", "short_name", "tree_id", "lft", "rght"):
                    for text in {unit.code, unit.name, unit.short_name} & set(chunk):
                        found[text].append(unit)
            job.context["grids"] = found
        return job.context["grids"]

    def validate(self, row, instance, job):
        if instance.household_id is None or instance.member_id is None:
            return  # a bad or missing cell, already reported
        member, household = instance.member, instance.household
        if not member.is_active:
            job.error(row, job.header_of("member"), MEMBER_INACTIVE % {"member": member.resident.name})
        elif member.resident.household_id != household.pk:
            job.error(row, job.header_of("member"), CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE % {
                "member": member.resident.name, "household": household.number})

    def check(self, job):
        """One row per household; a household already a party-member household is that row, updated."""
        by_head = job.context.get("by_head", set())
        first = {}
        for row in job.rows:
            if row.instance is None or row.failed:
                continue
            household = row.instance.household
            if household.pk in first:
                job.error(row, job.header_of("head" if row in by_head else "household"), SAME_HOUSEHOLD % {
                    "row": first[household.pk].number, "number": household.number})
            else:
                first[household.pk] = row
        attnames = [field.attname for field in CentralHousehold._meta.concrete_fields]
        for chunk in chunked(sorted(first)):
            for record in CentralHousehold.objects.filter(household_id__in=chunk).values(*attnames):
                row = first[record["household_id"]]
                row.existing = record
                row.instance.pk = record["id"]
                row.instance._state.adding = False


register(PartyOrganizationRoster())
register(PartyMemberRoster())
register(CentralHouseholdRoster())
