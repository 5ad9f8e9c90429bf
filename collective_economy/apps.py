from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The charts are the whole portal's configuration: administrators keep them, everyone reads them.
_CHART_MODELS = ("chart", "chartaccount", "chartmapping", "statementrow")
_BOOK_MODELS = ("economicorganisation", "book", "bookyear", "period", "periodevent", "subaccount",
                "openingbalance", "voucher", "voucherline")
# The registers around the books (清化收, 三资, 4+N) and the village decisions (四议两公开).
_REGISTER_MODELS = ("contract", "contractinstalment", "contractpayment", "debtrecord", "debtsettlement", "asset",
                    "resource", "project")
_DECISION_MODELS = ("decision", "decisionrecord", "decisionfile", "decisionsignature")
_RULE_MODELS = ("decisionrules", "stepquorum", "villagedecisionsetting", "projectcategory")


def _perms(default, models=_BOOK_MODELS, **overrides):
    return {f"collective_economy.{model}": overrides.get(model, default) for model in models}


class CollectiveEconomyConfig(AppConfig):
    name = "collective_economy"
    verbose_name = _("Collective economy")

    def ready(self):
        from governance.models import Role
        from governance.roles import ALL, EDIT, VIEW, register_role_permissions

        # The village's bookkeeper (村级报账员, a village account) prepares, sends, reviews another's
        # and posts vouchers. The township's economic officer sets up the books, reviews vouchers
        # and closes and re-opens months ("change" on a period). The county reads.
        # The village keeps its registers and records its decisions' steps; the township keeps the
        # registers with it (the clean-up is the township's campaign) and says which villages use
        # six steps; the county sets the payment threshold, the quorums and its own project categories.
        decision_recorder = (*ALL, "record")
        register_role_permissions({
            Role.ADMIN: _perms(ALL, voucher=(*ALL, "review", "post"), periodevent=VIEW)
            | {f"collective_economy.{m}": ALL for m in _CHART_MODELS}
            | _perms(ALL, _REGISTER_MODELS) | _perms(ALL, _RULE_MODELS)
            | _perms(ALL, _DECISION_MODELS, decision=decision_recorder),
            Role.COUNTY: _perms(VIEW) | {f"collective_economy.{m}": VIEW for m in _CHART_MODELS}
            | _perms(VIEW, _REGISTER_MODELS) | _perms(VIEW, _DECISION_MODELS)
            | _perms(VIEW, _RULE_MODELS, decisionrules=EDIT, stepquorum=ALL, projectcategory=ALL),
            Role.TOWNSHIP: _perms(VIEW, economicorganisation=ALL, book=ALL, bookyear=EDIT, subaccount=EDIT,
                                  openingbalance=ALL, voucher=(*VIEW, "review"), period=("view", "change"))
            | {f"collective_economy.{m}": VIEW for m in _CHART_MODELS}
            | _perms(ALL, _REGISTER_MODELS) | _perms(VIEW, _DECISION_MODELS)
            | _perms(VIEW, _RULE_MODELS, villagedecisionsetting=EDIT),
            Role.VILLAGE: _perms(VIEW, subaccount=EDIT, openingbalance=ALL, voucher=(*ALL, "review", "post"),
                                 voucherline=ALL)
            | {f"collective_economy.{m}": VIEW for m in _CHART_MODELS}
            | _perms(ALL, _REGISTER_MODELS) | _perms(ALL, _DECISION_MODELS, decision=decision_recorder)
            | _perms(VIEW, _RULE_MODELS),
        })
