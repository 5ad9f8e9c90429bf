"""People of the org chain: households (户) on their grid, residents (居民/村民), and the tags on both."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance.crypto import EncryptedCharField, EncryptedUniqueMixin, HashField
from governance.models.org import HOUSEHOLD_LEVELS, Level, OrgUnit
from governance.scope import ScopedQuerySet
from governance.validators import normalize_id_number, parse_id_number, validate_phone


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


class Resident(EncryptedUniqueMixin, models.Model):
    """A person registered in a household (居民/村民)."""

    org_scope_field = "household__grid"

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="residents"
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    # Encrypted at rest (governance.crypto); found by exact match through the keyed hashes below.
    id_number = EncryptedCharField(_("ID number"), max_length=18, kind="id_number", hash_field="id_number_hash")
    birth_date = models.DateField(_("birth date"), editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, validators=[validate_phone], kind="phone",
                               hash_field="phone_hash")
    id_number_hash = HashField(source="id_number", kind="id_number", unique=True)
    phone_hash = HashField(source="phone", kind="phone", db_index=True)
    relation = models.CharField(
        _("relation to head"), max_length=16, choices=Relation.choices, default=Relation.HEAD
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="residents")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

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
