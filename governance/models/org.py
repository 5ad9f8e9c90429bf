"""The org chain: the OrgUnit tree (county → township → village/community → grid → micro-grid) and its rules."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from governance.scope import ScopedQuerySet
from governance.tree import ORG_TREE_LOCK, tree_write_lock


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
        with tree_write_lock(self.tree_lock_key):
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with tree_write_lock(self.tree_lock_key):
            return super().delete(*args, **kwargs)


class OrgUnitQuerySet(TreeQuerySet, ScopedQuerySet):
    pass


class OrgUnitManager(TreeManager.from_queryset(OrgUnitQuerySet)):
    pass


class OrgUnit(TreeNode):
    """A unit of the administrative chain (组织单元): city, county ... grid, micro-grid."""

    org_scope_field = ""
    tree_lock_key = ORG_TREE_LOCK

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
