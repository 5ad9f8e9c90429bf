from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Org chain")

    def ready(self):
        from governance import checks  # noqa: F401  (registers the system checks)

        # The county targets' admin (governance.indicators.admin), registered with the others; and the
        # rollup's tasks, registered in every process: a run's chord names them
        # (governance.indicators.runs), and without a broker it runs them in-process.
        from governance.indicators import admin, tasks  # noqa: F401
