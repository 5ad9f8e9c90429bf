from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Org chain")

    def ready(self):
        from governance import checks  # noqa: F401  (registers the system checks)

        # The staff users' admin, beside the user's own account pages.
        from governance.accounts import admin as accounts_admin  # noqa: F401

        # The audit trail: its receivers, its read-only admin, and its database triggers: column-agnostic while
        # a migrate changes the tables, each table's own function again after it (governance.audit.triggers).
        from governance.audit import signals, triggers

        # The county targets' admin (governance.indicators.admin), registered with the others; and the
        # rollup's tasks, registered in every process: a run's chord names them
        # (governance.indicators.runs), and without a broker it runs them in-process.
        from governance.indicators import admin, tasks  # noqa: F401
        from governance.trail import admin as trail_admin  # noqa: F401

        signals.connect()
        pre_migrate.connect(triggers.before_migrate, sender=self, dispatch_uid="audit_triggers_generic")
        post_migrate.connect(triggers.after_migrate, sender=self, dispatch_uid="audit_triggers")

        # Tokens end with a password change or a deactivation; a lockout is audited (governance.portal.auth).
        from governance.portal import auth  # noqa: F401


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the portal's site, which lets in only the roles that keep rosters."""

    default = False
    default_site = "governance.portal.admin.PortalAdminSite"
