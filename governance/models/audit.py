"""The audit trail's one table (issue 16 §4): an append-only record of who did what, when, from where.

A row outlives everything it names: the actor is kept as a plain id plus the name he had at the
time, the object as its type, id and a repr without personal data, and the org unit as a plain
id — no foreign key, so deleting a user, an object or a unit never cascades into the trail.
The database itself refuses UPDATE and DELETE of young rows (governance.audit.guard).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    APP = "app", _("application")
    DB = "db", _("database trigger")


class AuditEvent(models.Model):
    """One event of the audit trail (审计日志): a change, a state step, a login, an import, an export ..."""

    at = models.DateTimeField(_("at"), db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor = models.CharField(_("actor"), max_length=150, blank=True,
                             help_text=_("The user's login and name at the time, or the task that acted."))
    address = models.CharField(_("address"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=16)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    org_unit_id = models.BigIntegerField(_("org unit id"), null=True, blank=True)
    changes = models.JSONField(_("changes"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.APP)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        # The trail page lists newest first, filtered by user, object or unit; an object's page
        # asks for its own history.
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object"),
            models.Index(fields=["actor_id", "-at"], name="audit_actor"),
            models.Index(fields=["org_unit_id", "-at"], name="audit_unit"),
        ]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_id}"
