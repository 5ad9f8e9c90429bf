from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The charts are the whole portal's configuration: administrators keep them, everyone reads them.
_CHART_MODELS = ("chart", "chartaccount", "chartmapping", "statementrow")
_BOOK_MODELS = ("economicorganisation", "book", "bookyear", "period", "periodevent", "subaccount",
                "openingbalance", "voucher", "voucherline")


def _perms(default, **overrides):
    return {f"collective_economy.{model}": overrides.get(model, default) for model in _BOOK_MODELS}


class CollectiveEconomyConfig(AppConfig):
    name = "collective_economy"
    verbose_name = _("Collective economy")

    def ready(self):
        from governance.models import Role
        from governance.roles import ALL, EDIT, VIEW, register_role_permissions

        # The village's bookkeeper (村级报账员, a village account) prepares, sends, reviews another's
        # and posts vouchers. The township's economic officer sets up the books, reviews vouchers
        # and closes and re-opens months ("change" on a period). The county reads.
        register_role_permissions({
            Role.ADMIN: _perms(ALL, voucher=(*ALL, "review", "post"), periodevent=VIEW)
            | {f"collective_economy.{m}": ALL for m in _CHART_MODELS},
            Role.COUNTY: _perms(VIEW) | {f"collective_economy.{m}": VIEW for m in _CHART_MODELS},
            Role.TOWNSHIP: _perms(VIEW, economicorganisation=ALL, book=ALL, bookyear=EDIT, subaccount=EDIT,
                                  openingbalance=ALL, voucher=(*VIEW, "review"), period=("view", "change"))
            | {f"collective_economy.{m}": VIEW for m in _CHART_MODELS},
            Role.VILLAGE: _perms(VIEW, subaccount=EDIT, openingbalance=ALL, voucher=(*ALL, "review", "post"),
                                 voucherline=ALL)
            | {f"collective_economy.{m}": VIEW for m in _CHART_MODELS},
        })
