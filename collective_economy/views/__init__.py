"""The ledger's web pages: ``books`` (books, months and years),
``vouchers`` (the bookkeeper's daily screens) and
``statements`` (ledgers, trial balance, balance sheet, income statement, the township side by side)."""
