"""The village's collective economic organisation (股份经济合作社)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models import Level, OrgUnit
from governance.scope import ScopedQuerySet
from governance.validators import validate_credit_code


class EconomicOrganisation(models.Model):
    """A village's collective economic organisation (村股份经济合作社), registered with a credit code."""

    org_scope_field = "village"

    village = models.OneToOneField(
        OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT, related_name="economic_organisation",
        limit_choices_to={"level": Level.VILLAGE},
    )
    name = models.CharField(_("name"), max_length=100)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code],
        help_text=_("18 characters (GB 32100), the last one a check character."),
    )
    legal_representative = models.CharField(_("legal representative"), max_length=40)
    registered_on = models.DateField(_("registration date"), null=True, blank=True)
    party_led = models.BooleanField(
        _("led by the village party organisation"), default=False,
        help_text=_("The village party organisation leads the cooperative (党组织领办)."),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("economic organisation")
        verbose_name_plural = _("economic organisations")
        ordering = ["village__tree_id", "village__lft"]

    def __str__(self):
        return self.name
