from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_MODELS = (
    "partyorganization",
    "partymember",
    "centralhousehold",
    "unitregistration",
    "unitoffer",
    "memberregistration",
    "postclaim",
    "wish",
    "servicerecord",
)


def _perms(default, **overrides):
    return {f"partybuild.{model}": overrides.get(model, default) for model in _MODELS}


class PartybuildConfig(AppConfig):
    name = "partybuild"
    verbose_name = _("Party building")

    def ready(self):
        from governance.models import Role
        from governance.roles import ALL, EDIT, VIEW, register_role_permissions

        # County and township keep the party rosters. A community (village) clerk runs the
        # double report, the wishes (all steps move through "change"; which step a role takes
        # is the services' rule, WISH_RULES) and the service hours, but not the organisation
        # tree. A grid worker posts wishes for his households. A wish's history is read only:
        # its steps write it.
        register_role_permissions(
            {
                Role.ADMIN: _perms(ALL),
                Role.COUNTY: _perms(ALL),
                Role.TOWNSHIP: _perms(ALL),
                Role.VILLAGE: _perms(EDIT, partyorganization=VIEW, postclaim=ALL, unitoffer=ALL),
                Role.GRID: _perms(VIEW, wish=EDIT),
            }
        )
        register_role_permissions({role: {"partybuild.wishevent": VIEW} for role in Role.values})
        # The kinds of party organisation are the whole portal's configuration: administrators keep them.
        register_role_permissions({Role.ADMIN: {"partybuild.partyorganizationkind": ALL}})
