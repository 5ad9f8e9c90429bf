"""The three assets (三资) besides funds: assets (资产) and resources (资源).

Funds (资金) are not registered apart: they are the book's cash and bank balances
(``collective_economy.selectors.registers.funds``). An asset is linked to the detail account
(明细科目) of the fixed-asset account it is booked on; a resource under contract shows its
contract (``Contract.resource``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Level, OrgUnit
from governance.scope import ScopedQuerySet

MONEY = {"max_digits": 16, "decimal_places": 2}
AREA = {"max_digits": 12, "decimal_places": 2}


class AssetKind(models.TextChoices):
    BUILDING = "building", _("Buildings")
    EQUIPMENT = "equipment", _("Machinery and equipment")
    FACILITY = "facility", _("Infrastructure")
    OTHER = "other", pgettext_lazy("asset kind", "Other")


class AssetStatus(models.TextChoices):
    IN_USE = "in_use", _("In use")
    LEASED = "leased", _("Let out")
    IDLE = "idle", _("Idle")
    DISPOSED = "disposed", _("Disposed of")


class Asset(models.Model):
    """A fixed asset of the collective (经营性/公益性资产): a building, equipment, a facility."""

    org_scope_field = "village"

    village = models.ForeignKey(OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT, related_name="assets",
                                limit_choices_to={"level": Level.VILLAGE})
    code = models.CharField(_("asset number"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=AssetKind.choices)
    location = models.CharField(_("location"), max_length=200, blank=True)
    quantity = models.CharField(_("size or quantity"), max_length=40, blank=True,
                                help_text=_("e.g. 320 m², 2 sets"))
    acquired_on = models.DateField(_("acquired on"), null=True, blank=True)
    value = models.DecimalField(_("original value (yuan)"), **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=AssetStatus.choices, default=AssetStatus.IN_USE)
    sub_account = models.ForeignKey("collective_economy.SubAccount", verbose_name=_("fixed-asset detail account"),
                                    on_delete=models.PROTECT, null=True, blank=True, related_name="assets")
    is_public_welfare = models.BooleanField(_("public-welfare asset"), default=False,
                                            help_text=_("Schools, roads, cultural rooms: not run for income."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["village__tree_id", "village__lft", "code"]
        constraints = [
            models.UniqueConstraint(fields=["village", "code"], name="ce_asset_code_unique"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="ce_asset_value"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class ResourceKind(models.TextChoices):
    ARABLE = "arable", _("Arable land")
    GARDEN = "garden", _("Orchard and garden land")
    FOREST = "forest", _("Forest land")
    GRASS = "grass", _("Grassland")
    WATER = "water", _("Water surface")
    CONSTRUCTION = "construction", _("Construction land")
    UNUSED = "unused", _("Unused land")


class Resource(models.Model):
    """A resource of the collective (资源性资产): land, forest, water, with its area; contracted out or not."""

    org_scope_field = "village"

    village = models.ForeignKey(OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT,
                                related_name="resources", limit_choices_to={"level": Level.VILLAGE})
    code = models.CharField(_("resource number"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=14, choices=ResourceKind.choices)
    area = models.DecimalField(_("area (mu)"), **AREA)
    location = models.CharField(_("location"), max_length=200, blank=True)
    boundaries = models.CharField(_("boundaries"), max_length=200, blank=True, help_text=_("东、南、西、北至"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["village__tree_id", "village__lft", "code"]
        constraints = [
            models.UniqueConstraint(fields=["village", "code"], name="ce_resource_code_unique"),
            models.CheckConstraint(condition=models.Q(area__gt=0), name="ce_resource_area"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"
