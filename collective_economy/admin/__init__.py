"""Admin of the collective economy, by subdomain: ``charts`` (charts of accounts as data, for
administrators: accounts, statement rows, the old→new table, loading a chart file) and
``books`` (economic organisations, books, years, months, sub-accounts, opening balances and
vouchers). Scoped like every admin (``ScopedAdminMixin``); writes go through the services; a
posted voucher is never changed or deleted here.
"""

from collective_economy.admin import (  # noqa: F401 - importing registers the admins
    assets,
    books,
    charts,
    decisions,
    registers,
)
