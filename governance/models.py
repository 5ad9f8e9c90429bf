"""The org chain (OrgUnit tree), households, residents and staff users."""

import re

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet
from simple_history.models import HistoricalRecords

from governance.scope import ScopedQuerySet
from governance.validators import (
    normalize_id_number,
    parse_id_number,
    validate_phone,
)


class Level(models.TextChoices):
    CITY = "city", _("City")
    COUNTY = "county", pgettext_lazy("org unit level", "County")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village/community")
    GRID = "grid", _("Grid")
    MICRO_GRID = "micro_grid", _("Micro-grid")


LEVEL_ORDER = [Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID, Level.MICRO_GRID]
# Levels whose nodes carry an official 12-digit statistical division code.
DIVISION_LEVELS = {Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE}
# Levels a household may belong to (the micro-grid level is optional).
HOUSEHOLD_LEVELS = {Level.GRID, Level.MICRO_GRID}


class Kind(models.TextChoices):
    CITY = "city", _("Prefecture-level city")
    COUNTY = "county", _("County")
    DISTRICT = "district", _("District")
    COUNTY_CITY = "county_city", _("County-level city")
    TOWN = "town", _("Town")
    TOWNSHIP = "township", pgettext_lazy("org unit kind", "Township")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    VILLAGE = "village", _("Village")
    COMMUNITY = "community", _("Community")
    GRID_STANDARD = "grid_standard", _("Comprehensive grid")
    GRID_NEW_ESTATE = "grid_new_estate", _("New-estate grid")
    GRID_URBAN_VILLAGE = "grid_urban_village", _("Urban-village grid")
    GRID_OLD_ESTATE = "grid_old_estate", _("Old-estate grid")
    GRID_WORK_UNIT = "grid_work_unit", _("Work-unit grid")
    GRID_PERI_URBAN = "grid_peri_urban", _("Peri-urban grid")
    MICRO_GRID = "micro_grid", _("Micro-grid")


KINDS_BY_LEVEL = {
    Level.CITY: {Kind.CITY},
    Level.COUNTY: {Kind.COUNTY, Kind.DISTRICT, Kind.COUNTY_CITY},
    Level.TOWNSHIP: {Kind.TOWN, Kind.TOWNSHIP, Kind.SUBDISTRICT},
    Level.VILLAGE: {Kind.VILLAGE, Kind.COMMUNITY},
    Level.GRID: {
        Kind.GRID_STANDARD,
        Kind.GRID_NEW_ESTATE,
        Kind.GRID_URBAN_VILLAGE,
        Kind.GRID_OLD_ESTATE,
        Kind.GRID_WORK_UNIT,
        Kind.GRID_PERI_URBAN,
    },
    Level.MICRO_GRID: {Kind.MICRO_GRID},
}

_GRID_SUFFIX_RE = re.compile(r"^[0-9A-Za-z]{1,6}$")


def division_code_error(level: str, code: str, parent_code: str | None) -> str | None:
    """Why ``code`` is not a valid code for a unit of ``level`` under ``parent_code``.

    Shared by OrgUnit.clean() and the division import, so both give the same message.
    """
    if level in DIVISION_LEVELS:
        if not re.fullmatch(r"\d{12}", code or ""):
            return gettext("Division code must be exactly 12 digits.")
        if level == Level.CITY and (code[4:] != "00000000" or code[2:4] == "00"):
            return gettext("A city code is 4 digits followed by 8 zeros.")
        if level == Level.COUNTY and (code[6:] != "000000" or code[4:6] == "00"):
            return gettext("A county code is 6 digits followed by 6 zeros.")
        if level == Level.TOWNSHIP and (code[9:] != "000" or code[6:9] == "000"):
            return gettext("A township code is 9 digits followed by 3 zeros.")
        if level == Level.VILLAGE and code[9:] == "000":
            return gettext("A village code must not end with 000.")
        if parent_code:
            prefix_len = {Level.COUNTY: 4, Level.TOWNSHIP: 6, Level.VILLAGE: 9}.get(level)
            if prefix_len and code[:prefix_len] != parent_code[:prefix_len]:
                return gettext("Code %(code)s must start with the parent's prefix %(prefix)s.") % {
                    "code": code,
                    "prefix": parent_code[:prefix_len],
                }
        return None
    # Grids and micro-grids have no national code: the parent's code plus a short suffix.
    if not parent_code:
        return None
    if not code.startswith(parent_code) or not _GRID_SUFFIX_RE.match(code[len(parent_code) :]):
        return gettext(
            "Code %(code)s must be the parent's code %(parent)s followed by 1-6 letters or digits."
        ) % {"code": code, "parent": parent_code}
    return None


def level_error(level: str, parent_level: str | None) -> str | None:
    """Why a unit of ``level`` cannot hang under a unit of ``parent_level``."""
    if parent_level is None:
        if level in (Level.CITY, Level.COUNTY):
            return None
        return gettext("Only a city or a county can be a top-level unit.")
    if LEVEL_ORDER.index(level) != LEVEL_ORDER.index(parent_level) + 1:
        return gettext("A %(child)s cannot be placed under a %(parent)s; it belongs under a %(expected)s.") % {
            "child": Level(level).label,
            "parent": Level(parent_level).label,
            "expected": Level(LEVEL_ORDER[LEVEL_ORDER.index(level) - 1]).label,
        }
    return None


class TreeNode(MPTTModel):
    """Abstract base of the portal's trees (the org chain, party organisations).

    Declares MPTT's bookkeeping itself so that tree_id gets no index of its own: the
    (tree_id, lft) index MPTT adds serves every subtree query, and a second index on
    tree_id alone tempts the planner into scanning a whole county to filter lft.

    Every write is serialised by the tree's advisory lock, whatever path it takes
    (service, admin, shell): MPTT renumbers lft/rght and picks tree_id with
    read-then-write, which concurrent writers corrupt. The lock is re-entrant within one
    transaction. Subclasses name their lock with ``tree_lock_key``.
    """

    tree_lock_key: int

    lft = models.PositiveIntegerField(editable=False)
    rght = models.PositiveIntegerField(editable=False)
    tree_id = models.PositiveIntegerField(editable=False)
    mptt_level = models.PositiveIntegerField(editable=False)

    class Meta:
        abstract = True

    class MPTTMeta:
        level_attr = "mptt_level"

    def save(self, *args, **kwargs):
        from governance.services import tree_write_lock

        with tree_write_lock(self.tree_lock_key):
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        from governance.services import tree_write_lock

        with tree_write_lock(self.tree_lock_key):
            return super().delete(*args, **kwargs)


class OrgUnitQuerySet(TreeQuerySet, ScopedQuerySet):
    pass


class OrgUnitManager(TreeManager.from_queryset(OrgUnitQuerySet)):
    pass


class OrgUnit(TreeNode):
    """A unit of the administrative chain (组织单元): city, county ... grid, micro-grid."""

    org_scope_field = ""
    tree_lock_key = 7_254_001

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, help_text=_("The name as published."))
    short_name = models.CharField(
        _("short name"), max_length=100, blank=True, help_text=_("Display name without the committee suffix.")
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    parent = TreeForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["lft", "rght", "tree_id", "mptt_level"])
    objects = OrgUnitManager()

    class MPTTMeta:
        order_insertion_by = ["code"]
        # "level" is the domain's word (county, township ...); MPTT's depth gets another name.
        level_attr = "mptt_level"

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def clean(self):
        errors = {}
        if self.level and self.kind and self.kind not in KINDS_BY_LEVEL[self.level]:
            errors["kind"] = gettext("Kind %(kind)s does not fit level %(level)s.") % {
                "kind": Kind(self.kind).label,
                "level": Level(self.level).label,
            }
        parent = self.parent
        if self.level:
            message = level_error(self.level, parent.level if parent else None)
            if message:
                errors["parent"] = message
            elif self.code:
                message = division_code_error(self.level, self.code, parent.code if parent else None)
                if message:
                    errors["code"] = message
        if parent is not None and self.pk and parent.pk == self.pk:
            errors["parent"] = gettext("A unit cannot be its own parent.")
        elif parent is not None and self.pk and parent.is_descendant_of(self):
            errors["parent"] = gettext("A unit cannot be moved under one of its own descendants.")
        if errors:
            raise ValidationError(errors)



class Tag(models.Model):
    """A label for households or residents (低保户, 独居老人 ...); shared by the whole portal."""

    class AppliesTo(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        RESIDENT = "resident", _("Resident")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32)
    applies_to = models.CharField(_("applies to"), max_length=16, choices=AppliesTo.choices)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["applies_to", "code"]

    def __str__(self):
        return self.name


class Household(models.Model):
    """A registered household (户), attached to its lowest grid by foreign key, not a tree node."""

    org_scope_field = "grid"

    number = models.CharField(_("household number"), max_length=32, unique=True)
    address = models.CharField(_("address"), max_length=200)
    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid / micro-grid"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level__in": [Level.GRID, Level.MICRO_GRID]},
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="households")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # The history is looked up by record (id) and date only: no copies of the other indexes,
    # which would slow every bulk import's history records.
    history = HistoricalRecords(m2m_fields=[tags], no_db_index=["number", "grid"])
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["number"]

    def __str__(self):
        return self.number

    def clean(self):
        if self.grid_id and self.grid.level not in HOUSEHOLD_LEVELS:
            raise ValidationError({"grid": gettext("A household must belong to a grid or a micro-grid.")})


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Resident(models.Model):
    """A person registered in a household (居民/村民)."""

    org_scope_field = "household__grid"

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="residents"
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    birth_date = models.DateField(_("birth date"), editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    relation = models.CharField(
        _("relation to head"), max_length=16, choices=Relation.choices, default=Relation.HEAD
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="residents")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords(m2m_fields=[tags], no_db_index=["id_number", "household"])
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        self.id_number = normalize_id_number(self.id_number)
        try:
            self.birth_date, self.sex = parse_id_number(self.id_number)
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from None


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    COUNTY = "county", _("County official")
    TOWNSHIP = "township", _("Township staff")
    VILLAGE = "village", _("Village staff")
    GRID = "grid", _("Grid worker")


class UserQuerySet(ScopedQuerySet):
    pass


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A staff user: one home OrgUnit, one role; sees only that unit's subtree."""

    org_scope_field = "home_unit"

    home_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("home unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.GRID)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def clean(self):
        super().clean()
        if not self.is_superuser and self.home_unit_id is None:
            raise ValidationError({"home_unit": gettext("Every staff user needs a home unit.")})


class ExportLog(models.Model):
    """Who exported which roster, how many rows, and whether personal data was in it (every export is logged)."""

    org_scope_field = "user__home_unit"

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="exports")
    kind = models.CharField(_("roster"), max_length=40)
    rows = models.PositiveIntegerField(_("rows"))
    with_personal_data = models.BooleanField(_("with personal data"))
    unmasked = models.BooleanField(_("unmasked"), default=False)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("exported at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("export log")
        verbose_name_plural = _("export logs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} {self.kind} {self.rows}"


class Notification(models.Model):
    """A message for one user, listed in the portal with an unread count in the navbar."""

    org_scope_field = "user__home_unit"

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    key = models.CharField(_("key"), max_length=80, blank=True, help_text=_("What it is about: sent once per user."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~models.Q(key=""), name="notification_once")
        ]

    def __str__(self):
        return self.text


class OutboxMessage(models.Model):
    """A Celery task to send after the commit that asked for it (see ``governance.outbox``).

    Written in the same transaction as the change that needs the follow-up work, so the work
    is never lost: sent right after the commit when the broker answers, else kept and sent
    by ``flush_outbox`` when the broker is back.
    """

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["id"]
        indexes = [models.Index(fields=["sent_at", "id"], name="outbox_pending")]

    def __str__(self):
        return f"{self.task} {self.kwargs}"


class IndicatorValue(models.Model):
    """One monthly indicator of one org unit (月度指标值), as the rollup computed it.

    Counts keep their number in ``numerator``; ratios keep numerator and denominator (summed
    up the tree, never averaged) and their quotient in ``value``; a median keeps the median in
    ``value`` and the number of rows it is taken over in ``numerator``. A unit with no row for
    a key had nothing to count.
    """

    org_scope_field = "org_unit"

    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="indicator_values",
        db_index=False,  # the unique (org_unit, period, key) index leads with it
        # Derived rows, written from the tree by the rollup's own INSERT ... SELECT: a database
        # check per row cost 1.1 s of a city month's 8 s at commit. Deleting a unit still
        # deletes its values (Django's cascade).
        db_constraint=False,
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month."))
    key = models.CharField(_("indicator"), max_length=64)
    numerator = models.DecimalField(_("numerator"), max_digits=20, decimal_places=4, default=0)
    denominator = models.DecimalField(_("denominator"), max_digits=20, decimal_places=4, null=True, blank=True)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=6, null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["period", "key", "org_unit_id"]
        indexes = [models.Index(fields=["period", "key"], name="indicator_period_key")]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "period", "key"], name="indicator_value_once")
        ]

    def __str__(self):
        return f"{self.org_unit_id} {self.period:%Y-%m} {self.key} = {self.value}"


class RollupStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETE = "complete", pgettext_lazy("rollup status", "Complete")
    PARTIAL = "partial", _("Partial")
    FAILED = "failed", _("Failed")


class RollupRun(models.Model):
    """One run of the monthly indicator rollup (指标汇总), for a month and a subtree."""

    org_scope_field = "org_unit"

    period = models.DateField(_("month"))
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("scope"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="rollup_runs", help_text=_("Empty: every unit."),
    )
    status = models.CharField(_("status"), max_length=10, choices=RollupStatus.choices, default=RollupStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_s = models.FloatField(_("duration (s)"), null=True, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    parts = models.JSONField(_("parts"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("rollup run")
        verbose_name_plural = _("rollup runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["period", "-started_at"], name="rollup_run_period")]

    def __str__(self):
        return f"{self.period:%Y-%m} {self.status}"


class MonthApproval(models.Model):
    """The county's approval of one month's indicators (月度数据审核锁定), as DHIS2 approves data.

    While ``locked``, no scheduled or on-demand run recomputes the month; the nightly check
    sets ``changed_at`` when recomputing it would change a stored value (a late correction),
    until an administrator re-opens the month and runs it again.
    """

    period = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    locked = models.BooleanField(_("locked"), default=True)
    approved_by = models.ForeignKey(
        User, verbose_name=_("approved by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        User, verbose_name=_("re-opened by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reopened_at = models.DateTimeField(_("re-opened at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    changed_at = models.DateTimeField(
        _("changed since approval"), null=True, blank=True,
        help_text=_("When a check first found values that differ from the approved ones."),
    )

    class Meta:
        verbose_name = _("month approval")
        verbose_name_plural = _("month approvals")
        ordering = ["-period"]

    def __str__(self):
        return f"{self.period:%Y-%m} {'locked' if self.locked else 'open'}"
