"""The ledger API (books, accounts, vouchers, periods, statements), registered on the shared router
under /api/v1/ledger/ by subdomain: ``books`` (books, accounts, sub-accounts), ``vouchers``,
``periods`` and ``statements``.

Same rules as the other apps' APIs: every queryset is the caller's scope, so a row outside it
answers 404; writes go through ``collective_economy.services`` and a refused rule is a 400 with
its message.
"""

from collective_economy.api import (  # noqa: F401 - importing registers them
    assets,
    books,
    decisions,
    periods,
    registers,
    statements,
    vouchers,
)
