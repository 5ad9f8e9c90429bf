"""The collective economy's models, one module per concern, all importable from ``collective_economy.models``.

``organisations``: the village's economic organisation; ``charts``: charts of accounts, their
accounts, the old→new mapping and the statements' rows (configuration, not county data);
``books``: a village's books (账套), its years and months, sub-accounts, opening balances,
vouchers and their lines.
"""

from collective_economy.models.books import (
    Book,
    BookYear,
    OpeningBalance,
    Period,
    PeriodEvent,
    SubAccount,
    Voucher,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)
from collective_economy.models.charts import (
    AccountClass,
    AccountRole,
    Chart,
    ChartAccount,
    ChartMapping,
    Side,
    Statement,
    StatementRow,
)
from collective_economy.models.organisations import EconomicOrganisation

__all__ = [
    "AccountClass",
    "AccountRole",
    "Book",
    "BookYear",
    "Chart",
    "ChartAccount",
    "ChartMapping",
    "EconomicOrganisation",
    "OpeningBalance",
    "Period",
    "PeriodEvent",
    "Side",
    "Statement",
    "StatementRow",
    "SubAccount",
    "Voucher",
    "VoucherKind",
    "VoucherLine",
    "VoucherStatus",
]
