from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_ALL = ("view", "add", "change", "delete")
_EDIT = ("view", "add", "change")
_VIEW = ("view",)


class GridConfig(AppConfig):
    name = "grid"
    verbose_name = _("Grid management")

    def ready(self):
        from governance.models import Role
        from governance.roles import register_role_permissions

        # Townships and above keep the rosters; a village registers and edits its workers and
        # assigns liaisons (unassigning is a delete); a grid worker reads. Ending a worker's
        # service is a change, so workers are seldom deleted (a mistaken entry only).
        register_role_permissions(
            {
                Role.ADMIN: {"grid.gridworker": _ALL, "grid.liaisonhousehold": _ALL},
                Role.COUNTY: {"grid.gridworker": _ALL, "grid.liaisonhousehold": _ALL},
                Role.TOWNSHIP: {"grid.gridworker": _ALL, "grid.liaisonhousehold": _ALL},
                Role.VILLAGE: {"grid.gridworker": _EDIT, "grid.liaisonhousehold": _ALL},
                Role.GRID: {"grid.gridworker": _VIEW, "grid.liaisonhousehold": _VIEW},
            }
        )
