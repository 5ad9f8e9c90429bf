"""The org chain's rosters: households, residents, and grids with micro-grids.

Keys: a household by its number, a resident by his ID number, a grid by its code. Grids and
micro-grids have no national code (the official list stops at the village): the template
asks for the code (the parent's code plus 1-6 letters or digits), the name, the grid type
(its label, e.g. 新建型网格 or 微网格, or its value) and the parent village or grid code.
A micro-grid may hang under a grid that is new in the same file. The grid type also takes the
county's local name for the micro-grid (优网格) and the short forms of the labels (单位型).
"""

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance.models import KINDS_BY_LEVEL, Household, Kind, Level, OrgUnit, Relation, Resident, Sex, Tag
from governance.rosters.cells import Bool, Choice, IdNumber, ListOf, Number, Ref, Text
from governance.rosters.specs import (
    PERSONAL_DATE,
    PERSONAL_ID,
    PERSONAL_PHONE,
    Column,
    RosterSpec,
    TagsColumn,
    register,
)
from governance.rosters.writing import insert_instances, update_instances
from governance.tree import tree_renumber, tree_write_lock

GRID_LEVELS = (Level.GRID, Level.MICRO_GRID)


class HouseholdRoster(RosterSpec):
    kind = "households"
    stream_writes = True
    checks_partial_rows = True
    clean_needs = ()  # Household.clean() reads the grid only when it is set
    label = Household._meta.verbose_name_plural
    model = Household
    key = ("number",)
    key_paths = ("number",)
    export_order = ("number",)
    columns = [
        Column("number", _("Household number"), Text(), required=True, example="5134241022010010101", width=24),
        Column("address", _("Address"), Text(), required=True, example=_("Group 1, No. 8"), width=30),
        Column(
            "grid",
            _("Grid code"),
            Ref(OrgUnit, "code", _("org unit"), description=_("Code of the grid or micro-grid")),
            required=True,
            example="51342410220100101",
            width=20,
        ),
        Column("grid_name", _("Grid"), export="grid__name", width=20),
        Column(
            "tags",
            _("Tags"),
            ListOf(),
            related=TagsColumn(Household, "tags", Tag.AppliesTo.HOUSEHOLD),
            note=_("Tag names as listed under Tags in the admin."),
            width=20,
        ),
        Column("is_active", _("Active"), Bool(default=True), example=True, width=8),
    ]


class ResidentRoster(RosterSpec):
    kind = "residents"
    stream_writes = True
    checks_partial_rows = True
    clean_needs = ()  # Resident.clean() reads the ID number alone
    label = Resident._meta.verbose_name_plural
    model = Resident
    key = ("id_number",)
    key_paths = ("id_number",)
    export_order = ("household__number", "id")
    # Birth date and sex follow from the ID number (Resident.clean()).
    derived_fields = ("birth_date", "sex")
    columns = [
        Column("name", pgettext_lazy("person", "Name"), Text(), required=True, example=_("Zhang San"), width=12),
        Column(
            "id_number", _("ID number"), IdNumber(), required=True, personal=PERSONAL_ID,
            example="51342419800101001X", width=22,
        ),
        Column(
            "household",
            _("Household number"),
            Ref(Household, "number", _("household"), ids_only=True),
            required=True,
            example="5134241022010010101",
            width=24,
        ),
        Column("phone", _("Phone"), Text(), personal=PERSONAL_PHONE, example="13800000000", width=14),
        Column("relation", _("Relation to head"), Choice(Relation, default=Relation.HEAD),
               example=Relation.HEAD.label, width=12),
        Column("sex", _("Sex"), export="sex", display=Choice(Sex), width=6),
        Column("birth_date", _("Birth date"), export="birth_date", personal=PERSONAL_DATE, width=12),
        Column(
            "tags",
            _("Tags"),
            ListOf(),
            related=TagsColumn(Resident, "tags", Tag.AppliesTo.RESIDENT),
            note=_("Tag names as listed under Tags in the admin."),
            width=20,
        ),
        Column("is_active", _("Active"), Bool(default=True), example=True, width=8),
    ]


_GRID_KINDS = [*sorted(KINDS_BY_LEVEL[Level.GRID], key=list(Kind.values).index), Kind.MICRO_GRID]


class GridRoster(RosterSpec):
    """Grids and micro-grids (new units are inserted in bulk and the tree renumbered once)."""

    kind = "grids"
    label = _("grids and micro-grids")
    model = OrgUnit
    key = ("code",)
    key_paths = ("code",)
    export_order = ("code",)
    derived_fields = ("level",)
    checks_partial_rows = True
    # OrgUnit.clean() reads the level, which follows from the kind, and the unit the code names.
    clean_needs = ("code", "kind")
    local_names_from = "code"
    columns = [
        Column("code", _("Code"), Text(), required=True, example="51342410220100101", width=20,
               note=_("The parent's code followed by 1-6 letters or digits.")),
        Column("name", _("Name"), Text(), required=True, example=_("First micro-grid"), width=24),
        Column("kind", _("Grid type"), Choice(Kind, allowed=_GRID_KINDS), required=True,
               example=Kind.MICRO_GRID.label, width=14),
        Column(
            "parent",
            _("Parent code"),
            Ref(OrgUnit, "code", _("org unit"), in_file=True,
                description=_("Code of the village/community (for a grid) or of the grid (for a micro-grid)")),
            required=True,
            example="513424102201001",
            width=18,
        ),
        Column("short_name", _("Short name"), Text(), width=16),
        Column("latitude", _("Latitude"), Number(decimal_places=6), width=12),
        Column("longitude", _("Longitude"), Number(decimal_places=6), width=12),
        Column("is_active", _("Active"), Bool(default=True), example=True, width=8),
    ]

    def lock(self):
        return tree_write_lock()

    def export_queryset(self, queryset):
        return queryset.filter(level__in=GRID_LEVELS).order_by("code")

    def prepare(self, row, kwargs, job):
        existing = row.existing
        if existing and existing["level"] not in GRID_LEVELS:
            job.error(
                row,
                job.header_of("code"),
                gettext("Code %(code)s is already used by a unit of level %(level)s.")
                % {"code": existing["code"], "level": Level(existing["level"]).label},
            )
            return
        kwargs["level"] = Level.MICRO_GRID if kwargs.get("kind") == Kind.MICRO_GRID else Level.GRID
        if not existing:
            # django-mptt cannot insert in bulk: tree_renumber() numbers the tree once after the insert.
            kwargs.update(lft=0, rght=0, tree_id=0, mptt_level=0)

    def write(self, job):
        created, changed = job.created, job.updated
        # Grids before micro-grids: a micro-grid may hang under a grid new in this file.
        for level in GRID_LEVELS:
            insert_instances(OrgUnit, [row.instance for row in created if row.instance.level == level])
        update_instances(OrgUnit, [row.instance for row in changed], job.written_attnames())
        if created or any("parent_id" in row.changed for row in changed):
            tree_renumber(OrgUnit)


register(HouseholdRoster())
register(ResidentRoster())
register(GridRoster())
