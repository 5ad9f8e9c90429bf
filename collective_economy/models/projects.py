"""The project library "4+N" (项目库): collective-economy projects by category, with the income they bring.

The four categories every county has (城郊服务, 生态经济, 特优农业, 文旅康养) are shipped
(migration 0006, ``county`` empty); a county adds its own local ones ("+N"). A project's
income to the collective is read from the books — the detail accounts (明细科目) its income is
posted on — never typed a second time.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.models import Level, OrgUnit
from governance.scope import ScopedQuerySet

MONEY = {"max_digits": 16, "decimal_places": 2}


class ProjectCategory(models.Model):
    """A category of the project library: one of the four shipped ones, or a county's local one."""

    # A county's local categories are its own; the four shipped ones (no county) are everyone's.
    org_scope_field = "county"

    county = models.ForeignKey(OrgUnit, verbose_name=_("county"), on_delete=models.PROTECT, null=True, blank=True,
                               related_name="project_categories", limit_choices_to={"level": Level.COUNTY},
                               help_text=_("Empty for the four categories every county has."))
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("project category")
        verbose_name_plural = _("project categories")
        ordering = ["county_id", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="ce_project_category_name")]

    def __str__(self):
        return self.name


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    BUILDING = "building", _("Under construction")
    OPERATING = "operating", _("Operating")
    STOPPED = "stopped", _("Stopped")


class Project(models.Model):
    """A collective-economy project (集体经济项目), led by one village, other villages joining in."""

    org_scope_field = "village"

    village = models.ForeignKey(OrgUnit, verbose_name=_("lead village"), on_delete=models.PROTECT,
                                related_name="led_projects", limit_choices_to={"level": Level.VILLAGE})
    villages = models.ManyToManyField(OrgUnit, verbose_name=_("villages involved"), blank=True,
                                      related_name="projects", limit_choices_to={"level": Level.VILLAGE},
                                      help_text=_("Other villages that take part (the lead village always does)."))
    category = models.ForeignKey(ProjectCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="projects")
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=5000, blank=True, validators=[MaxLengthValidator(5000)])
    investment = models.DecimalField(_("investment (yuan)"), **MONEY)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ProjectStatus.choices,
                              default=ProjectStatus.PLANNED)
    decision = models.ForeignKey("collective_economy.Decision", verbose_name=_("village decision"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="projects")
    income_accounts = models.ManyToManyField(
        "collective_economy.SubAccount", verbose_name=_("income detail accounts"), blank=True,
        related_name="projects",
        help_text=_("The detail accounts of the villages' books that the project's income is posted on: "
                    "its income to the collective is read from them."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["village__tree_id", "village__lft", "name"]
        constraints = [models.CheckConstraint(condition=Q(investment__gte=0), name="ce_project_investment")]

    def __str__(self):
        return self.name
