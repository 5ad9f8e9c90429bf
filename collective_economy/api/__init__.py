"""The ledger API (books, accounts, vouchers, periods, statements), registered on the shared router."""
