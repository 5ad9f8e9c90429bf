from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_ALL = ("view", "add", "change", "delete")
_EDIT = ("view", "add", "change")
_VIEW = ("view",)

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
        from governance.roles import register_role_permissions

        # County and township keep the party rosters. A community (village) clerk runs the
        # double report, the wishes (all six steps move through "change") and the service
        # hours, but not the organisation tree. A grid worker posts wishes for his households.
        register_role_permissions(
            {
                Role.ADMIN: _perms(_ALL),
                Role.COUNTY: _perms(_ALL),
                Role.TOWNSHIP: _perms(_ALL),
                Role.VILLAGE: _perms(_EDIT, partyorganization=_VIEW, postclaim=_ALL, unitoffer=_ALL),
                Role.GRID: _perms(_VIEW, wish=_EDIT),
            }
        )
