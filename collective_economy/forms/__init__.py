"""Forms of the ledger's pages, one module per subdomain: ``books`` (a book, vouchers and their lines,
months, sub-accounts; money as bookkeepers write it), ``decisions`` (village decisions and their
steps), ``registers`` (contracts, receivables and debts), ``assets`` (assets, resources, projects)."""

from collective_economy.forms.books import (
    BookCreateForm,
    PeriodReopenForm,
    SubAccountForm,
    VoucherFilterForm,
    VoucherForm,
    account_label,
    capital_yuan,
    yuan,
)

__all__ = [
    "BookCreateForm",
    "PeriodReopenForm",
    "SubAccountForm",
    "VoucherFilterForm",
    "VoucherForm",
    "account_label",
    "capital_yuan",
    "yuan",
]
