"""A county's own words for the portal's terms: levels, grid-worker types, case categories (本地称谓)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.models.org import Level, OrgUnit
from governance.scope import ScopedQuerySet

# Where local names are set: a county for all of it; a township (a subdistrict of a city district,
# say) may call something otherwise within its own area.
LOCAL_NAME_LEVELS = (Level.COUNTY, Level.TOWNSHIP)


class LocalName(models.Model):
    """What a county calls one term (德昌: the micro-grid is 优网格, its worker 优网格员).

    ``vocabulary`` names the list the term belongs to (``level``, ``worker_type``,
    ``case_category``: see ``governance.terms``) and ``code`` the term in it. Imports in the
    county accept the name; its pages and exports show it instead of the portal's label.
    """

    org_scope_field = "unit"

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("county or township"), on_delete=models.CASCADE, related_name="local_names",
        limit_choices_to={"level__in": LOCAL_NAME_LEVELS},
        db_index=False,  # the unique (unit, vocabulary, code) index leads with it
    )
    vocabulary = models.CharField(_("term list"), max_length=24)
    code = models.CharField(_("term"), max_length=40)
    name = models.CharField(_("local name"), max_length=40)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("local name")
        verbose_name_plural = _("local names")
        ordering = ["unit__code", "vocabulary", "code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "vocabulary", "code"], name="local_name_once"),
            # One word names one term: an import must know which one a cell means.
            models.UniqueConstraint(fields=["unit", "vocabulary", "name"], name="local_name_unambiguous"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = " ".join((self.name or "").split())
        if self.unit_id and self.unit.level not in LOCAL_NAME_LEVELS:
            raise ValidationError({"unit": gettext("Local names are set for a county or a township.")})
