"""Staff users: one home unit and one role each; and the log of what they exported."""

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.crypto import EncryptedCharField
from governance.models.org import OrgUnit
from governance.scope import ScopedQuerySet
from governance.validators import validate_phone


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
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, validators=[validate_phone], kind="phone")
    # When the password was last set (its age decides when it must be changed: PASSWORD_MAX_AGE_DAYS).
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    # The next login goes to the password change first (a demo user outside demo mode, a reset password).
    must_change_password = models.BooleanField(_("must change password"), default=False)

    objects = UserManager()

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        # What the row held, so that a save can tell a new password or a deactivation from other changes.
        loaded = dict(zip(field_names, values, strict=False))
        user._loaded_credentials = (loaded.get("password"), loaded.get("is_active"))
        return user

    def save(self, *args, **kwargs):
        loaded_password, loaded_active = getattr(self, "_loaded_credentials", (None, None))
        deferred = self.get_deferred_fields()
        new_password = "password" not in deferred and (
            self._state.adding or (loaded_password is not None and loaded_password != self.password))
        deactivated = "is_active" not in deferred and loaded_active is True and not self.is_active
        # Read by governance.portal.auth's post_save receiver: the user's API tokens end with the old
        # password, and when he is deactivated.
        self.credentials_changed = not self._state.adding and (new_password or deactivated)
        if new_password and self.password:
            self.password_changed_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "password_changed_at"}
        super().save(*args, **kwargs)
        if not deferred:
            self._loaded_credentials = (self.password, self.is_active)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def get_full_name(self) -> str:
        """A Chinese name reads family name first, without a space (张丽); other names as Django writes them."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if (first or last) and not (first + last).isascii():
            return f"{last}{first}"
        return super().get_full_name()

    @property
    def display_name(self) -> str:
        """The person's name, or the login when no name was entered."""
        return self.get_full_name() or self.username

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
