from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "grid"
    verbose_name = _("Grid management")

    def ready(self):
        from governance.models import Role
        from governance.roles import ALL, EDIT, VIEW, register_role_permissions

        # Townships and above keep the rosters; a village registers and edits its workers and
        # assigns liaisons (unassigning is a delete); a grid worker reads. Ending a worker's
        # service is a change, so workers are seldom deleted (a mistaken entry only).
        register_role_permissions(
            {
                Role.ADMIN: {"grid.gridworker": ALL, "grid.liaisonhousehold": ALL},
                Role.COUNTY: {"grid.gridworker": ALL, "grid.liaisonhousehold": ALL},
                Role.TOWNSHIP: {"grid.gridworker": ALL, "grid.liaisonhousehold": ALL},
                Role.VILLAGE: {"grid.gridworker": EDIT, "grid.liaisonhousehold": ALL},
                Role.GRID: {"grid.gridworker": VIEW, "grid.liaisonhousehold": VIEW},
            }
        )
        # Cases: everyone who works cases reports them ("add") and records their steps
        # ("change"; which step whom is ruled by grid.services.cases, not by permissions);
        # nobody deletes a case, numbers are never reused. Townships and above keep the
        # mediation records; the administrator keeps the taxonomy, deadlines and Open311 clients.
        case_work = {"grid.case": EDIT, "grid.caseevent": VIEW, "grid.caseattachment": ("view", "add"),
                     "grid.mediation": VIEW}
        register_role_permissions(
            {
                Role.ADMIN: case_work | {"grid.mediation": ALL, "grid.casecategory": ALL,
                                         "grid.colourdeadline": EDIT, "grid.open311client": ALL},
                Role.COUNTY: case_work | {"grid.mediation": ALL, "grid.casecategory": VIEW},
                Role.TOWNSHIP: case_work | {"grid.mediation": ALL, "grid.casecategory": VIEW},
                Role.VILLAGE: case_work | {"grid.mediation": EDIT, "grid.casecategory": VIEW},
                Role.GRID: case_work | {"grid.casecategory": VIEW},
            }
        )
