"""The grid workers' and household liaisons' rosters for Excel import and export.

The rules of ``grid.services.workers`` are checked again here in bulk, with the services' messages:

Grid workers (key: ID number)
    The grid or micro-grid by code; a worker is linked to the resident and the party member
    record with the same ID number when there is one (then he counts as a party member).
    The backup column names the backup's ID number (a worker in the system or in the same
    file). As in ``gridworker_set_backup``, backing up is mutual (互为顶岗): the backup gets
    this worker as his backup and the other post, and whoever was paired with either of them
    before loses that link. A worker named as the backup of two workers is refused. A row
    with an end date dissolves the worker's pair and releases his liaison households, as
    ``gridworker_end`` does.
Household liaisons (key: household number)
    The household by number, the liaison by ID number; a household that already has a
    liaison is moved to the one in the file. The liaison limit
    (``settings.LIAISON_MAX_HOUSEHOLDS``) counts the liaison's households in the database
    that the file does not move plus the file's rows.
"""

from collections import defaultdict

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Household, OrgUnit, Resident
from governance.rosters import (
    PERSONAL_ID,
    PERSONAL_PHONE,
    Bool,
    Choice,
    Column,
    Date,
    IdNumber,
    InFile,
    Ref,
    RosterSpec,
    Text,
    chunked,
    insert_instances,
    register,
    update_instances,
)
from grid.models import (
    BACKUP_NEEDS_POST_MESSAGE,
    BACKUP_OTHER_VILLAGE_MESSAGE,
    OWN_BACKUP_MESSAGE,
    GridWorker,
    LiaisonHousehold,
    Post,
    WorkerType,
    grid_id_of,
    village_id_of,
)
from grid.services.workers import (
    BACKUP_LEFT_MESSAGE,
    FUTURE_END_MESSAGE,
    HOUSEHOLD_INACTIVE_MESSAGE,
    LEFT_WITH_BACKUP_MESSAGE,
    LIAISON_LEFT_MESSAGE,
    LIAISON_LIMIT_MESSAGE,
    LIAISON_OTHER_GRID_MESSAGE,
    LIAISON_TYPE_KEPT_MESSAGE,
    NOT_A_LIAISON_MESSAGE,
    OTHER_POST,
)
from partybuild.models import PartyMember

PAIRED_TWICE_MESSAGE = _("%(name)s is named as the backup of two workers (rows %(rows)s).")


class GridWorkerRoster(RosterSpec):
    kind = "grid_workers"
    label = GridWorker._meta.verbose_name_plural
    model = GridWorker
    key = ("id_number",)
    key_paths = ("id_number",)
    export_order = ("unit__code", "name", "id")
    derived_fields = ("resident", "party_member", "is_party_member")
    checks_partial_rows = True
    clean_needs = ()  # GridWorker.clean() reads the unit, the dates and the backup only when they are set
    local_names_from = "unit__code"
    columns = [
        Column("name", pgettext_lazy("person", "Name"), Text(), required=True, example=_("Li Si"), width=12),
        Column("id_number", _("ID number"), IdNumber(), required=True, personal=PERSONAL_ID,
               example="51342419850505001X", width=22),
        Column("phone", _("Phone"), Text(), required=True, personal=PERSONAL_PHONE, example="13900000000",
               width=14),
        Column("worker_type", _("Type"), Choice(WorkerType), required=True, example=WorkerType.MICRO.label,
               width=14),
        Column(
            "unit",
            _("Grid code"),
            Ref(OrgUnit, "code", _("org unit"), select_related=("parent",),
                description=_("Code of the grid or micro-grid served")),
            required=True,
            example="51342410220100101",
            width=20,
        ),
        Column("unit_name", _("Grid"), export="unit__name", width=20),
        Column("start_date", _("Start date"), Date(), required=True, example="2026-01-05", width=12),
        Column("end_date", _("End date"), Date(), width=12, note=_("Only for a worker who has left the post.")),
        Column("is_party_member", _("Party member"), Bool(), example=False, width=8,
               note=_("Set automatically when a party member record has the same ID number.")),
        Column("post", _("Post"), Choice(Post), width=8, note=_("A or B; needed with a backup.")),
        Column(
            "backup",
            _("Backup ID number"),
            Ref(GridWorker, "id_number", _("grid worker"), upper=True, in_file=True,
                select_related=("unit__parent",),
                description=_("ID number of the backup worker (in the system or in this file)")),
            personal=PERSONAL_ID,
            width=22,
            note=_("Backing up is mutual: the backup gets this worker as his backup and the other post."),
        ),
        Column("backup_name", _("Backup worker"), export="backup__name", width=12),
    ]

    def prepare(self, row, kwargs, job):
        # The backup is checked here in bulk (GridWorker.clean() would query for each row's villages).
        if "backup" in kwargs:
            job.context.setdefault("backup", {})[row] = kwargs.pop("backup")
        kwargs["backup_id"] = None
        kwargs.pop("backup", None)
        people = job.context.get("people")
        if people is None:
            people = job.context["people"] = _people([r.values["id_number"] for r in job.rows
                                                      if r.values.get("id_number")])
        resident, member = people.get(kwargs["id_number"], (None, None))
        kwargs["resident"] = resident
        kwargs["party_member"] = member
        kwargs.pop("resident_id", None)
        kwargs.pop("party_member_id", None)

    def validate(self, row, instance, job):
        header = job.header_of
        if instance.end_date and instance.end_date > timezone.localdate() and job.cells_ok(row, "end_date"):
            job.error(row, header("end_date"), FUTURE_END_MESSAGE)

    def check(self, job):
        self._check_liaison_type(job)
        if job.has("backup"):
            _pair(job)
        else:
            for row in job.rows:
                if row.instance is not None and row.existing:
                    row.instance.backup_id = row.existing["backup_id"]

    def _check_liaison_type(self, job):
        leaving = [
            row for row in job.rows
            if row.instance is not None and row.existing and job.cells_ok(row, "worker_type")
            and row.instance.worker_type != WorkerType.LIAISON and row.existing["worker_type"] == WorkerType.LIAISON
        ]
        if not leaving:
            return
        with_households = set(
            LiaisonHousehold.objects.filter(liaison_id__in=[row.existing["id"] for row in leaving])
            .values_list("liaison_id", flat=True)
        )
        for row in leaving:
            if row.existing["id"] in with_households:
                job.error(row, job.header_of("worker_type"), LIAISON_TYPE_KEPT_MESSAGE)

    def write(self, job):
        created, changed = job.created, job.updated
        pairs = job.context.get("pairs", {})
        for row in created:
            # A new row's partner may be new too: links are written once every row has its id.
            row.instance.backup_id = None
        insert_instances(GridWorker, [row.instance for row in created])
        update_instances(GridWorker, [row.instance for row in changed], job.written_attnames())
        if pairs:
            links = [
                GridWorker(pk=_known_pk(node), backup_id=_known_pk(partner), post=post)
                for node, (partner, post) in pairs.items()
            ]
            update_instances(GridWorker, links, ["backup_id", "post"])
            # Whoever still points at a worker whose pair was just set is no longer his partner.
            ids = {link.pk for link in links}
            stale = []
            for chunk in chunked(sorted(ids)):
                stale += [
                    pk for pk in GridWorker.objects.filter(backup_id__in=chunk).values_list("pk", flat=True)
                    if pk not in ids
                ]
            for chunk in chunked(stale):
                GridWorker.objects.filter(pk__in=chunk).update(backup=None)
        leavers = [
            row.instance.pk for row in (*created, *changed)
            if row.instance.end_date and not (row.existing and row.existing["end_date"])
        ]
        for chunk in chunked(leavers):
            # As gridworker_end: leaving dissolves the pair and releases the liaison households.
            GridWorker.objects.filter(backup_id__in=chunk).update(backup=None)
            GridWorker.objects.filter(pk__in=chunk).update(backup=None)
            LiaisonHousehold.objects.filter(liaison_id__in=chunk).delete()


def _people(id_numbers: list[str]) -> dict[str, tuple]:
    """ID number → (resident, party member) of the people the file names, in bulk (any scope: same person)."""
    found: dict[str, tuple] = {}
    for chunk in chunked(sorted(set(id_numbers))):
        residents = Resident.objects.filter(id_number__in=chunk).only("pk", "id_number")
        members = {
            member.resident_id: member
            for member in PartyMember.objects.filter(resident__id_number__in=chunk).only("pk", "resident_id")
        }
        for resident in residents:
            found[resident.id_number] = (resident, members.get(resident.pk))
    return found


def _pair(job) -> None:
    """Make the file's A/B pairs mutual and check them (see the module docstring).

    A node is a file row or a worker in the database that the file does not list. The final
    (partner, post) of every node whose pair changes goes to ``job.context["pairs"]``; the
    file rows' instances get it now where the partner's id is known, so they compare right.
    """
    requested = job.context.get("backup", {})
    by_pk = {row.existing["id"]: row for row in job.rows if row.existing}
    header = job.header_of("backup")
    wanted: dict = {}  # row → node it names
    for row, target in requested.items():
        if row.instance is None or not job.cells_ok(row, "backup"):
            continue
        if isinstance(target, InFile):
            target = target.row
        elif isinstance(target, GridWorker):
            target = by_pk.get(target.pk, target)
        if target is None:
            continue
        if target is row:
            job.error(row, header, OWN_BACKUP_MESSAGE)
            continue
        wanted[row] = target
    named_by = defaultdict(list)
    for row, target in wanted.items():
        named_by[target].append(row)
    for target, rows in named_by.items():
        # Mutual pairs: a worker backs up one worker, and whom he names must be that worker.
        own = wanted.get(target)
        if len(rows) > 1 or (own is not None and own is not rows[0]):
            numbers = {row.number for row in rows} | ({target.number} if own is not None else set())
            name = target.name if isinstance(target, GridWorker) else target.instance.name
            for row in rows:
                job.error(row, header, PAIRED_TWICE_MESSAGE % {
                    "name": name, "rows": "、".join(str(n) for n in sorted(numbers))})
    pairs: dict = {}  # node → (partner node or None, post)
    for row, target in wanted.items():
        if not job.cells_ok(row, "backup"):
            continue
        worker = row.instance
        other = target if isinstance(target, GridWorker) else target.instance
        if other is None:
            continue
        # Each rule reads cells of both rows: it speaks only when they parsed.
        readable = job.cells_ok(row, "end_date", "unit") and (
            isinstance(target, GridWorker) or job.cells_ok(target, "end_date", "unit"))
        if not worker.post and job.cells_ok(row, "post"):
            job.error(row, job.header_of("post") if job.has("post") else header, BACKUP_NEEDS_POST_MESSAGE)
        elif not readable:
            continue
        elif worker.end_date:
            job.error(row, header, LEFT_WITH_BACKUP_MESSAGE)
        elif other.end_date:
            job.error(row, header, BACKUP_LEFT_MESSAGE)
        elif village_id_of(worker.unit) != village_id_of(other.unit):
            job.error(row, header, BACKUP_OTHER_VILLAGE_MESSAGE)
        else:
            pairs[row] = (target, worker.post)
            pairs[target] = (row, OTHER_POST.get(worker.post, other.post))
    for row in job.rows:
        if row.instance is not None and not row.failed and row not in pairs:
            pairs[row] = (None, row.instance.post)
    for node, (partner, post) in pairs.items():
        if isinstance(node, GridWorker):
            continue
        node.instance.post = post
        node.instance.backup_id = _known_pk(partner)
    job.context["pairs"] = pairs


def _known_pk(node) -> int | None:
    if node is None:
        return None
    if isinstance(node, GridWorker):
        return node.pk
    return node.instance.pk if node.instance is not None and node.instance.pk else (
        node.existing["id"] if node.existing else None
    )


class LiaisonRoster(RosterSpec):
    kind = "liaisons"
    label = LiaisonHousehold._meta.verbose_name_plural
    model = LiaisonHousehold
    key = ("household",)
    key_paths = ("household__number",)
    export_order = ("liaison__unit__code", "liaison__name", "household__number")
    checks_partial_rows = True
    clean_needs = ()
    columns = [
        Column("household", _("Household number"), Ref(Household, "number", _("household"),
                                                        select_related=("grid",)),
               required=True, example="5134241022010010101", width=24),
        Column("address", _("Address"), export="household__address", width=30),
        Column(
            "liaison",
            _("Liaison ID number"),
            Ref(GridWorker, "id_number", _("household liaison"), upper=True, select_related=("unit",)),
            required=True,
            personal=PERSONAL_ID,
            example="51342419790303001X",
            width=22,
        ),
        Column("liaison_name", _("Household liaison"), export="liaison__name", width=12),
        Column("since", _("Since"), Date(), example="2026-01-05", width=12),
    ]

    def prepare(self, row, kwargs, job):
        if not kwargs.get("since"):
            # As liaison_assign: a new link starts today; an existing one keeps its date.
            kwargs["since"] = row.existing["since"] if row.existing else timezone.localdate()

    def validate(self, row, instance, job):
        ok = job.cells_ok
        if ok(row, "liaison"):
            liaison = instance.liaison
            if liaison.worker_type != WorkerType.LIAISON:
                job.error(row, job.header_of("liaison"), NOT_A_LIAISON_MESSAGE)
            elif not liaison.is_current:
                job.error(row, job.header_of("liaison"), LIAISON_LEFT_MESSAGE)
        if ok(row, "household") and not instance.household.is_active:
            job.error(row, job.header_of("household"), HOUSEHOLD_INACTIVE_MESSAGE)
        if ok(row, "liaison", "household") and grid_id_of(instance.household.grid) != grid_id_of(instance.liaison.unit):
            job.error(row, job.header_of("household"), LIAISON_OTHER_GRID_MESSAGE)

    def check(self, job):
        limit = settings.LIAISON_MAX_HOUSEHOLDS
        rows = [row for row in job.rows if row.instance is not None and job.cells_ok(row, "liaison", "household")]
        by_liaison = defaultdict(list)
        for row in rows:
            by_liaison[row.instance.liaison_id].append(row)
        in_file = {row.instance.household_id for row in rows}
        kept = defaultdict(int)  # households in the database that the file does not move
        for chunk in chunked(sorted(by_liaison)):
            links = LiaisonHousehold.objects.filter(liaison_id__in=chunk).values_list("liaison_id", "household_id")
            for liaison_id, household_id in links:
                if household_id not in in_file:
                    kept[liaison_id] += 1
        message = LIAISON_LIMIT_MESSAGE % {"limit": limit}
        for liaison_id, liaison_rows in by_liaison.items():
            room = limit - kept[liaison_id]
            for row in liaison_rows[max(room, 0):]:
                job.error(row, job.header_of("liaison"), message)


register(GridWorkerRoster())
register(LiaisonRoster())
