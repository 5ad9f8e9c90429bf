"""Messages: notifications for users, and the outbox of follow-up work sent after a commit."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models.users import User
from governance.scope import ScopedQuerySet


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


class Heartbeat(models.Model):
    """The last sign of life of a background process, for ``/healthz``: ``beat`` (its last tick, as it
    sent the heartbeat task) and ``worker`` (the last time a worker ran that task)."""

    name = models.CharField(_("process"), max_length=20, primary_key=True)
    at = models.DateTimeField(_("last seen"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"
