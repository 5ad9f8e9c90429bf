"""Grid workers with their A/B posts, and the household liaisons (联户长)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, OrgUnit, Resident
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


class GridWorker(models.Model):
    """A grid worker (网格员) or one of the "heads" who serve a grid or micro-grid."""

    org_scope_field = "unit"

    name = models.CharField(_("name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18, unique=True, validators=[validate_id_number])
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
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
                errors["backup"] = _("A worker cannot be his own backup.")
            elif self.unit_id and _village_of(self.backup.unit) != _village_of(self.unit):
                errors["backup"] = _("The backup must work in the same village or community.")
            if not self.post:
                errors["post"] = _("A worker with a backup needs an A or B post.")
        if errors:
            raise ValidationError(errors)


def _village_of(unit: OrgUnit) -> int | None:
    if unit.level == Level.VILLAGE:
        return unit.pk
    if unit.level == Level.GRID:
        return unit.parent_id
    if unit.level == Level.MICRO_GRID:
        # Through the FK cache: query-free when the caller loaded the parents (bulk imports do).
        return unit.parent.parent_id
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
