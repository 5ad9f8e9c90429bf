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
        # Cases: everyone who works cases reports them ("add") and records their steps
        # ("change"; which step whom is ruled by grid.services.cases, not by permissions);
        # nobody deletes a case, numbers are never reused. Townships and above keep the
        # mediation records; the administrator keeps the taxonomy, deadlines and Open311 clients.
        case_work = {"grid.case": _EDIT, "grid.caseevent": _VIEW, "grid.caseattachment": ("view", "add"),
                     "grid.mediation": _VIEW}
        register_role_permissions(
            {
                Role.ADMIN: case_work | {"grid.mediation": _ALL, "grid.casecategory": _ALL,
                                         "grid.colourdeadline": _EDIT, "grid.open311client": _ALL},
                Role.COUNTY: case_work | {"grid.mediation": _ALL, "grid.casecategory": _VIEW},
                Role.TOWNSHIP: case_work | {"grid.mediation": _ALL, "grid.casecategory": _VIEW},
                Role.VILLAGE: case_work | {"grid.mediation": _EDIT, "grid.casecategory": _VIEW},
                Role.GRID: case_work | {"grid.casecategory": _VIEW},
            }
        )
