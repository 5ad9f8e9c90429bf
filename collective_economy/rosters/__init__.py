"""The ledger's rosters for Excel import (and export), how a county moves off its old bookkeeping
software: ``opening_balances`` (期初余额, one row per account or sub-account of a book year) and
``vouchers`` (记账凭证, one row per line, posted on import).

Registered with the roster engine (``governance.rosters``), which discovers this package: importing it
imports the modules that register, so the admin's import page (a ModelAdmin with ``roster_kind``),
``manage.py import_roster`` and its ``--dry-run`` find them. Both are all or nothing, every error
by row and column in one pass. A row is not a model row here: the cells are read, checked in bulk in
``check()`` (one query per table the file names, whatever its length) and written through the
ledger's services (``opening_balances_set``, ``voucher_save``/``voucher_submit``/``voucher_post_system``),
so the services' own rules and the database's triggers stand behind every row.
"""

from collective_economy.rosters import balances, registers, vouchers  # noqa: F401 - importing registers them
