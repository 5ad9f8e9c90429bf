"""The ledger's writes, one rule each (see each module): charts, books, vouchers, periods."""
