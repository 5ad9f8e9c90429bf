from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Org chain")

    def ready(self):
        from governance import checks  # noqa: F401  (registers the system checks)
