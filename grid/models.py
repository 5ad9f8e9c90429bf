"""Grid workers with their A/B posts, the household liaisons (联户长), and cases with their closed loop."""

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.crypto import EncryptedCharField, EncryptedUniqueMixin, HashField
from governance.models import Household, Level, OrgUnit, Resident, Role
from governance.scope import ScopedQuerySet
from governance.validators import normalize_id_number, validate_id_number, validate_phone
from partybuild.models import PartyMember


class WorkerType(models.TextChoices):
    FULL_TIME = "full_time", _("Full-time grid worker")
    PART_TIME = "part_time", _("Part-time grid worker")
    MICRO = "micro", _("Micro-grid worker")
    LIAISON = "liaison", _("Household liaison")
    BUILDING_HEAD = "building_head", _("Building head")
    UNIT_HEAD = "unit_head", _("Stairwell head")


class Post(models.TextChoices):
    A = "A", _("A post")
    B = "B", _("B post")


# GridWorker.clean's messages about backups (the worker roster checks the same in bulk).
OWN_BACKUP_MESSAGE = _("A worker cannot be his own backup.")
BACKUP_OTHER_VILLAGE_MESSAGE = _("The backup must work in the same village or community.")
BACKUP_NEEDS_POST_MESSAGE = _("A worker with a backup needs an A or B post.")


class GridWorker(EncryptedUniqueMixin, models.Model):
    """A grid worker (网格员) or one of the "heads" who serve a grid or micro-grid."""

    org_scope_field = "unit"

    name = models.CharField(_("name"), max_length=50)
    # Encrypted at rest (governance.crypto); found by exact match through the keyed hashes.
    id_number = EncryptedCharField(_("ID number"), max_length=18, validators=[validate_id_number], kind="id_number",
                                   hash_field="id_number_hash")
    phone = EncryptedCharField(_("phone"), max_length=20, validators=[validate_phone], kind="phone",
                               hash_field="phone_hash")
    id_number_hash = HashField(source="id_number", kind="id_number", unique=True)
    phone_hash = HashField(source="phone", kind="phone", db_index=True)
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="grid_roles",
    )
    worker_type = models.CharField(_("type"), max_length=16, choices=WorkerType.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("grid / micro-grid"), on_delete=models.PROTECT, related_name="grid_workers",
        limit_choices_to={"level__in": [Level.GRID, Level.MICRO_GRID]},
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    is_party_member = models.BooleanField(_("party member"), default=False)
    party_member = models.ForeignKey(
        PartyMember, verbose_name=_("party member record"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="grid_roles",
    )
    post = models.CharField(_("post"), max_length=1, choices=Post.choices, blank=True)
    backup = models.ForeignKey(
        "self", verbose_name=_("backup worker"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="backing_up",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")
        ordering = ["unit__code", "name"]
        indexes = [models.Index(fields=["unit", "worker_type"])]

    def __str__(self):
        return self.name

    @property
    def is_current(self) -> bool:
        return self.end_date is None

    def clean(self):
        errors = {}
        self.id_number = normalize_id_number(self.id_number)
        if self.unit_id:
            if self.unit.level not in (Level.GRID, Level.MICRO_GRID):
                errors["unit"] = _("A grid worker serves a grid or a micro-grid.")
            elif self.worker_type == WorkerType.MICRO and self.unit.level != Level.MICRO_GRID:
                errors["unit"] = _("A micro-grid worker must serve a micro-grid.")
            elif self.worker_type in (WorkerType.FULL_TIME, WorkerType.PART_TIME) and self.unit.level != Level.GRID:
                errors["unit"] = _("A full-time or part-time grid worker serves a grid.")
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date is before the start date.")
        if self.party_member_id:
            self.is_party_member = True
        if self.backup_id:
            if self.pk and self.backup_id == self.pk:
                errors["backup"] = OWN_BACKUP_MESSAGE
            elif self.unit_id and village_id_of(self.backup.unit) != village_id_of(self.unit):
                errors["backup"] = BACKUP_OTHER_VILLAGE_MESSAGE
            if not self.post:
                errors["post"] = BACKUP_NEEDS_POST_MESSAGE
        if errors:
            raise ValidationError(errors)


def village_id_of(unit: OrgUnit) -> int | None:
    """The village or community a grid or micro-grid lies in (a village: itself).

    A micro-grid's is read through the FK cache: query-free when the caller loaded the
    parents (bulk imports do).
    """
    if unit.level == Level.VILLAGE:
        return unit.pk
    if unit.level == Level.GRID:
        return unit.parent_id
    if unit.level == Level.MICRO_GRID:
        return unit.parent.parent_id
    return None


def grid_id_of(unit: OrgUnit) -> int | None:
    """The standard grid a grid or micro-grid belongs to (a liaison's households lie in his)."""
    if unit.level == Level.GRID:
        return unit.pk
    if unit.level == Level.MICRO_GRID:
        return unit.parent_id
    return None


class LiaisonHousehold(models.Model):
    """A household looked after by a household liaison (联户长); a household has at most one."""

    org_scope_field = "household__grid"

    liaison = models.ForeignKey(
        GridWorker, verbose_name=_("household liaison"), on_delete=models.CASCADE, related_name="liaison_households",
        limit_choices_to=Q(worker_type=WorkerType.LIAISON),
    )
    household = models.OneToOneField(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="liaison_link"
    )
    since = models.DateField(_("since"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("liaison household")
        verbose_name_plural = _("liaison households")

    def __str__(self):
        return f"{self.liaison} – {self.household}"


# --- Cases (事件/诉求) and their closed loop ---------------------------------------------------


class CaseCategory(models.Model):
    """The case taxonomy: categories and their sub-categories (two levels), managed in the admin.

    The code is also the Open311 ``service_code``.
    """

    parent = models.ForeignKey(
        "self", verbose_name=_("category"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    description = models.CharField(_("description"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        ordering = ["sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="case_category_unique_name")]

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    @property
    def tree_order(self) -> tuple:
        """Sorts each top category (in its order) before its sub-categories (in theirs); reads the parent."""
        top = self.parent or self
        return (top.sort_order, top.code, self.parent_id is not None, self.sort_order, self.code)

    @property
    def is_dispute(self) -> bool:
        return DISPUTE_CATEGORY in (self.code, self.parent.code if self.parent_id else None)

    def clean(self):
        if self.parent_id and self.parent.parent_id:
            raise ValidationError({"parent": _("Categories have two levels: a sub-category cannot have its own.")})
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A category cannot be its own parent.")})


DISPUTE_CATEGORY = "dispute"  # 矛盾纠纷 (seeded by migration 0003): cases with mediation records


class CaseSource(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Reported by a grid worker")
    VISIT = "visit", _("Walk-in visit")
    HOTLINE = "hotline", _("12345 hotline")
    ASSIGNED = "assigned", _("Assigned by a higher level")
    PATROL = "patrol", _("Grid patrol")
    ONLINE = "online", _("WeChat / mini program")
    OPEN311 = "open311", _("Open311 client")
    OTHER = "other", _("Other")


class Triage(models.TextChoices):
    """三事分流: who should act."""

    MAJOR = "major", _("Major matter (township)")
    MINOR = "minor", _("Minor matter (village)")
    PRIVATE = "private", _("Private matter (guidance)")


class Colour(models.TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class CaseState(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    DISPATCHED = "dispatched", _("Dispatched")
    TAKEN = "taken", _("Taken")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    VERIFIED = "verified", pgettext_lazy("case", "Verified")
    RATED = "rated", _("Rated")
    CLOSED = "closed", _("Closed")


FINAL_STATES = (CaseState.REJECTED, CaseState.CLOSED)
OPEN_STATES = tuple(state for state in CaseState.values if state not in FINAL_STATES)
# The states in which a case is being worked on, and so runs against its deadline.
WORKING_STATES = (CaseState.DISPATCHED, CaseState.TAKEN, CaseState.IN_PROGRESS)
# The roles that accept, dispatch and check cases (the managers of ``grid.services.cases``).
MANAGER_ROLES = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP)


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class ColourDeadline(models.Model):
    """How long a case of each colour may take from dispatch (defaults: red 24 h, yellow 3 days, green 7 days)."""

    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, unique=True)
    hours = models.PositiveIntegerField(_("hours"), validators=[MinValueValidator(1), MaxValueValidator(24 * 365)])

    class Meta:
        verbose_name = _("deadline by colour")
        verbose_name_plural = _("deadlines by colour")
        ordering = ["hours"]

    def __str__(self):
        return f"{self.get_colour_display()}: {self.hours}"


class CaseCounter(models.Model):
    """The last sequence number given to a case of a township in a month (numbers are never reused)."""

    org_scope_field = "township"

    township = models.ForeignKey(OrgUnit, verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    month = models.CharField(_("month"), max_length=6)
    last = models.PositiveIntegerField(_("last number"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("case counter")
        verbose_name_plural = _("case counters")
        constraints = [models.UniqueConstraint(fields=["township", "month"], name="case_counter_unique_month")]

    def __str__(self):
        return f"{self.township_id} {self.month}: {self.last}"


@dataclass(frozen=True)
class NextStep:
    """Who must act on a case now (``Case.next_step``): the unit, the person if one is named, the work, the deadline."""

    unit: OrgUnit | None
    person: object | None
    work: str
    due: datetime.datetime | None = None
    overdue: bool = False


# What the holder of a case in each state must do next.
NEXT_WORK = {
    CaseState.REPORTED: _("accept or reject"),
    CaseState.ACCEPTED: _("dispatch"),
    CaseState.DISPATCHED: _("take"),
    CaseState.TAKEN: _("start work"),
    CaseState.IN_PROGRESS: _("resolve"),
    CaseState.RESOLVED: _("verify the result"),
    CaseState.VERIFIED: _("record the reporter's rating"),
    CaseState.RATED: _("close"),
}
# States in which the dispatching unit (not the handling one) holds the case.
CHECK_STATES = (CaseState.RESOLVED, CaseState.VERIFIED, CaseState.RATED)


class Case(models.Model):
    """A case (事件/诉求), moved from report to close only by the services in ``grid.services.cases``.

    Seen where it is located (its grid's subtree) and by the unit handling it: a case dispatched
    to a unit outside the grid's village stays visible to that unit, which must take it.
    """

    org_scope_field = ("grid", "handling_unit")

    number = models.CharField(_("case number"), max_length=24, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, validators=[MaxLengthValidator(5000)])
    category = models.ForeignKey(CaseCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="cases")
    source = models.CharField(_("source"), max_length=16, choices=CaseSource.choices, default=CaseSource.GRID_WORKER)
    triage = models.CharField(_("triage"), max_length=8, choices=Triage.choices, blank=True)
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, default=Colour.GREEN)
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid / micro-grid"), on_delete=models.PROTECT, related_name="cases",
        limit_choices_to={"level__in": [Level.GRID, Level.MICRO_GRID]},
        db_index=False,  # the indexes in Meta lead with it
    )
    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="cases")
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    reporter = models.ForeignKey(Resident, verbose_name=_("reporter (resident)"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="cases_raised")
    reporter_name = models.CharField(_("reporter"), max_length=50, blank=True)
    reporter_phone = EncryptedCharField(_("reporter's phone"), max_length=20, blank=True, validators=[validate_phone],
                                        kind="phone")

    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices, default=CaseState.REPORTED)
    handling_unit = models.ForeignKey(OrgUnit, verbose_name=_("handling unit"), on_delete=models.PROTECT,
                                      related_name="cases_handled")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="cases_assigned")
    dispatcher = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("dispatched by"),
                                   on_delete=models.SET_NULL, null=True, blank=True, related_name="cases_dispatched")
    dispatcher_unit = models.ForeignKey(OrgUnit, verbose_name=_("dispatching unit"), on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+")
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    is_overdue = models.BooleanField(_("overdue"), default=False)
    result = models.TextField(_("result"), max_length=4000, blank=True, validators=[MaxLengthValidator(4000)])
    rating = models.CharField(_("rating"), max_length=16, choices=Rating.choices, blank=True)

    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    verified_at = models.DateTimeField(pgettext_lazy("case", "verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"),
                                   on_delete=models.SET_NULL, null=True, blank=True, related_name="cases_created")
    token = models.UUIDField(_("form token"), null=True, blank=True, unique=True, editable=False)
    migrated = models.BooleanField(_("migrated"), default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["-reported_at", "-id"], name="case_newest"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            models.Index(fields=["handling_unit", "state"], name="case_handling_state"),
            models.Index(fields=["grid", "-reported_at"], name="case_grid_newest"),
            # The list's tab counts (GROUP BY state over a subtree's grids) read only this index.
            models.Index(fields=["grid", "state"], name="case_grid_state"),
            # The cases a month's indicators count: still open, or closed since it began.
            models.Index(fields=["closed_at", "reported_at"], name="case_closed_reported"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def is_past_due(self) -> bool:
        """Flagged overdue by the periodic scan, or still being worked on past its deadline
        (``grid.selectors.cases.case_overdue_q`` says the same in SQL)."""
        return self.is_overdue or bool(
            self.due_at and self.state in WORKING_STATES and self.due_at < timezone.now()
        )

    @property
    def next_step(self) -> "NextStep | None":
        """Who holds the case now and what they must do next (None once it is closed or rejected).

        Read from the case's own fields (select ``handling_unit``, ``assignee``, ``dispatcher`` and
        ``dispatcher_unit`` with it): the list shows it per row without a query.
        """
        work = NEXT_WORK.get(self.state)
        if work is None:
            return None
        if self.state in CHECK_STATES:
            unit, person = self.dispatcher_unit or self.handling_unit, self.dispatcher
        else:
            unit, person = self.handling_unit, self.assignee if self.state in WORKING_STATES else None
        if self.state == CaseState.ACCEPTED and self.triage == Triage.PRIVATE:
            work = _("answer with guidance")
        due = self.due_at if self.state in WORKING_STATES else None
        return NextStep(unit=unit, person=person, work=work, due=due, overdue=bool(due) and self.is_past_due)

    def clean(self):
        errors = {}
        if self.grid_id and self.grid.level not in (Level.GRID, Level.MICRO_GRID):
            errors["grid"] = _("A case is located in a grid or a micro-grid.")
        if self.household_id and self.grid_id and self.household.grid_id != self.grid_id:
            errors["household"] = _("The household is not in this grid.")
        if self.category_id and not self.category.parent_id and self.category.children.exists():
            errors["category"] = _("Choose a sub-category.")
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = _("Give both latitude and longitude.")
        if errors:
            raise ValidationError(errors)


class CaseAction(models.TextChoices):
    CREATE = "create", _("Reported")
    ACCEPT = "accept", _("Accepted")
    REJECT = "reject", _("Rejected")
    DISPATCH = "dispatch", _("Dispatched")
    TAKE = "take", _("Taken")
    START = "start", _("Work started")
    RESOLVE = "resolve", _("Resolved")
    VERIFY = "verify", pgettext_lazy("case", "Verified")
    RETURN = "return", _("Returned")
    RATE = "rate", _("Rated")
    CLOSE = "close", _("Closed")
    ESCALATE = "escalate", _("Escalated")
    RECALL = "recall", _("Recalled")
    OVERDUE = "overdue", _("Overdue")
    EDIT = "edit", _("Edited by an administrator")


class CaseEvent(models.Model):
    """One step of a case: who did what, when, from which state to which, with a comment."""

    org_scope_field = ("case__grid", "case__handling_unit")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16, choices=CaseAction.choices)
    from_state = models.CharField(_("from"), max_length=16, choices=CaseState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=CaseState.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", help_text=_("Where the case went (dispatch, escalation)."))
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), max_length=4000, blank=True, validators=[MaxLengthValidator(4000)])
    migrated = models.BooleanField(_("migrated"), default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        # The month's steps of one kind (the ratings the satisfaction rate counts).
        indexes = [models.Index(fields=["action", "at"], name="case_event_action_at")]

    def __str__(self):
        return f"{self.case_id} {self.action}"


def _attachment_path(instance, filename: str) -> str:
    suffix = Path(filename).suffix.lower()[:10]
    return f"cases/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def _private_storage():
    return storages["private"]


class CaseAttachment(models.Model):
    """An image or PDF attached to a case (stored outside the web root, served only to users in scope)."""

    org_scope_field = ("case__grid", "case__handling_unit")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, verbose_name=_("step"), on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="attachments")
    file = models.FileField(_("file"), upload_to=_attachment_path, storage=_private_storage, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name


class MediationOutcome(models.TextChoices):
    AGREED = "agreed", _("Agreement reached")
    PARTIAL = "partial", _("Partly agreed")
    FAILED = "failed", _("No agreement")
    REFERRED = "referred", _("Referred to court or arbitration")


class Mediation(models.Model):
    """A mediation session of a dispute (矛盾纠纷) case."""

    org_scope_field = ("case__grid", "case__handling_unit")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="mediations")
    held_on = models.DateField(_("date"))
    mediator = models.CharField(_("mediator"), max_length=100)
    room = models.CharField(_("mediation room"), max_length=100)
    outcome = models.CharField(_("outcome"), max_length=16, choices=MediationOutcome.choices)
    notes = models.TextField(_("notes"), max_length=5000, blank=True, validators=[MaxLengthValidator(5000)])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("mediation")
        verbose_name_plural = _("mediations")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.case_id} {self.held_on}"

    def clean(self):
        if self.case_id and not self.case.category.is_dispute:
            raise ValidationError({"case": _("Only dispute cases are mediated.")})


def open311_key_hash(key: str) -> str:
    """What is kept of an Open311 key: its SHA-256 hash (the key itself is shown once, when issued)."""
    return hashlib.sha256(key.encode()).hexdigest()


class Open311Client(models.Model):
    """A civic-reporting client allowed to file cases through the Open311 API (its key is shown once)."""

    org_scope_field = "user__home_unit"

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("files cases as"), on_delete=models.PROTECT,
                             related_name="open311_clients",
                             help_text=_("The account whose area limits the grids this client may file cases in."))
    key_hash = models.CharField(_("key (SHA-256)"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    per_minute = models.PositiveIntegerField(_("requests per minute"), default=30,
                                             validators=[MinValueValidator(1), MaxValueValidator(6000)])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return self.name
