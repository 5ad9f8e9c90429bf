"""The audit trail: who did what, when, from where, to which object (issue 16 §4).

This first cut fixes the interface every room calls; the storage lands with the audit trail itself.
"""

import logging

from django.db import models
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("yiwang.audit")


class Action(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    STEP = "step", _("state step")
    LOGIN = "login", _("logged in")
    LOGIN_FAILED = "login_failed", _("login failed")
    LOCKOUT = "lockout", _("locked out")
    LOGOUT = "logout", _("logged out")
    PASSWORD = "password", _("password changed")
    PERMISSION = "permission", _("permission changed")
    TOKEN = "token", _("API token issued or revoked")
    IMPORT = "import", _("imported")
    EXPORT = "export", _("exported")
    PII_VIEW = "pii_view", _("viewed personal data unmasked")


def record(action, *, request=None, user=None, obj=None, changes=None, detail="", address=None):
    """Record one event. ``request`` gives the user and address when present; ``obj`` the object;
    ``changes`` maps a field name to ``[old, new]`` (personal data already masked by the caller's
    field list); ``detail`` a short free text (what was imported or exported, the step, the reason)."""
    logger.info("audit %s obj=%r detail=%s", action, obj, detail)
