"""The opening balances roster (期初余额): a book year's balances as the old software closed them."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from collective_economy.models import OpeningBalance, Voucher, VoucherStatus
from collective_economy.rosters.common import (
    ZERO,
    Money,
    account_error,
    amount_text,
    file_error,
    good,
    load_accounts,
    load_book_years,
    load_sub_accounts,
    one_side,
    pick_book_year,
    resolve_villages,
    rows_text,
)
from collective_economy.services.books import Balance, opening_balances_set, sub_account_create
from governance.rosters import Column, Number, RosterSpec, Text, register


class OpeningBalanceRoster(RosterSpec):
    """Opening balances, one row per account or sub-account of a book year.

    Columns: village (code or name, in the importer's area), year, account code (a first-level
    account of the chart that year is kept under), sub-account code and name (optional; a code the
    book does not have yet is created under the account with the name given), debit, credit (one
    side per row, to the fen; a row with neither is skipped, its new sub-account still created).

    A file holds the whole opening balances of each book year it names: they replace the ones the
    year had (``opening_balances_set``, once per book year). Refused, every reason at once: a
    village outside the area or without a book that year, an account outside the year's chart, a
    sub-account of another account, an account given both with and without sub-accounts (old
    software often exports the account's total above its details), the same account twice, an
    amount with more than two decimals or negative, both sides on one row, a book year whose
    debits and credits differ (the book and the difference are named), a year already closed or
    with a posted voucher.
    """

    kind = "opening_balances"
    label = _("Opening balances")
    model = OpeningBalance
    name_column = "village"
    export_order = ("book_year__book__village__code", "book_year__year", "account__code", "sub_account__code")
    matching_note = _("A file holds the whole opening balances of each book year it names: they replace the "
                      "year's opening balances.")
    columns = [
        Column("village", _("Village"), Text(), required=True, field=None, export="book_year__book__village__code",
               example="513424001001", note=_("The village's code or name."), width=16),
        Column("year", _("Year"), Number(integer=True), required=True, field=None, export="book_year__year",
               example="2025", width=8),
        Column("account", _("Account code"), Text(), required=True, field=None, export="account__code",
               example="112", width=10),
        Column("account_name", _("Account name"), None, export="account__name", width=16),
        Column("sub_account", _("Sub-account code"), Text(), field=None, export="sub_account__code",
               example="112001", note=_("Optional. A new code is created under the account."), width=12),
        Column("sub_account_name", _("Sub-account name"), Text(), field=None, export="sub_account__name",
               example="李四", width=16),
        Column("debit", pgettext_lazy("ledger", "Debit"), Money(),
               field=None, export="debit", example="5000.00", width=14),
        Column("credit", pgettext_lazy("ledger", "Credit"), Money(), field=None, export="credit", example="", width=14),
    ]

    def clean_instance(self, row, instance, job):
        """No model rules here: a row is not an OpeningBalance yet (check() reads the cells)."""

    def check(self, job):
        rows = job.rows
        villages = resolve_villages(job, rows)
        found = load_book_years({(villages[row.number].pk, row.values["year"]) for row in rows
                                 if row.number in villages and good(job, row, "year")})
        book_years = {}
        for row in rows:
            if row.number in villages and good(job, row, "year"):
                book_year = pick_book_year(job, row, "year", villages[row.number], row.values["year"], found)
                if book_year is not None:
                    book_years[row.number] = book_year
        used = list(book_years.values())
        accounts = load_accounts(book_year.chart_id for book_year in used)
        subs = load_sub_accounts(book_year.book_id for book_year in used)
        posted = _posted_years([book_year.pk for book_year in used])

        plan: dict[int, list] = defaultdict(list)  # book year id → [(row, account, sub or None, new (code, name))]
        rows_of: dict[int, list] = defaultdict(list)
        seen: dict[tuple, int] = {}
        new_subs: dict[tuple, tuple] = {}  # (book id, code) → (account, name, first row)
        for row in rows:
            book_year = book_years.get(row.number)
            if book_year is not None:
                rows_of[book_year.pk].append(row)
            sided = one_side(job, row, zero_ok=True)
            if book_year is None or not good(job, row, "account", "sub_account", "sub_account_name"):
                continue
            code = row.values["account"]
            account = accounts.get((book_year.chart_id, code))
            if account is None:
                account_error(job, row, "account", code, book_year)
                continue
            sub = new = None
            sub_code = row.values.get("sub_account")
            if sub_code:
                sub = subs.get((book_year.book_id, sub_code))
                name = row.values.get("sub_account_name") or ""
                if sub is not None and sub.account_id != account.pk:
                    job.error(row, job.header_of("sub_account"),
                              gettext("Sub-account %(sub)s belongs to account %(account)s.")
                              % {"sub": sub_code, "account": sub.account.code})
                    continue
                if sub is None:
                    if not sub_code.startswith(account.code) or len(sub_code) <= len(account.code):
                        job.error(row, job.header_of("sub_account"),
                                  gettext("A sub-account's code starts with its account's code %(code)s.")
                                  % {"code": account.code})
                        continue
                    earlier = new_subs.get((book_year.book_id, sub_code))
                    if earlier is not None and earlier[0].pk != account.pk:
                        job.error(row, job.header_of("sub_account"),
                                  gettext("Row %(row)d puts sub-account %(sub)s under another account.")
                                  % {"row": earlier[2], "sub": sub_code})
                        continue
                    if not name and earlier is None:
                        job.error(row, job.header_of("sub_account_name"),
                                  gettext("Sub-account %(sub)s is new: give its name.") % {"sub": sub_code})
                        continue
                    new_subs.setdefault((book_year.book_id, sub_code), (account, name, row.number))
                    new = (sub_code, name)
            key = (book_year.pk, account.pk, sub_code or None)
            if key in seen:
                job.error(row, job.header_of("sub_account" if sub_code else "account"),
                          gettext("Repeats row %(row)d (same account in the same book year).") % {"row": seen[key]})
                continue
            seen[key] = row.number
            if sided:
                plan[book_year.pk].append((row, account, sub, new))

        by_pk = {book_year.pk: book_year for book_year in used}
        for pk, year_rows in rows_of.items():
            book_year = by_pk[pk]
            first = year_rows[0]
            where = {"book": book_year.book, "year": book_year.year, "rows": rows_text(r.number for r in year_rows)}
            if book_year.closed:
                job.error(first, "", gettext("The year %(year)s of %(book)s is closed (rows %(rows)s).") % where)
                continue
            if pk in posted:
                job.error(first, "", gettext("Vouchers are already posted in %(year)s of %(book)s: its opening "
                                             "balances are fixed (rows %(rows)s).") % where)
                continue
            planned = plan.get(pk, [])
            with_subs = {account.pk for _row, account, sub, new in planned if sub or new}
            for row, account, sub, new in planned:
                if not (sub or new) and account.pk in with_subs:
                    job.error(row, job.header_of("account"),
                              gettext("Account %(code)s also has sub-account rows in this book year: give its "
                                      "balance on the sub-accounts only.") % {"code": account.code})
            if any(not good(job, row, "debit", "credit") for row in year_rows):
                continue  # an amount could not be read: the balance is unknown, and the cell says why
            debit = sum((row.values.get("debit") or ZERO for row in year_rows), ZERO)
            credit = sum((row.values.get("credit") or ZERO for row in year_rows), ZERO)
            if debit != credit:
                job.error(year_rows[-1], "", gettext(
                    "The opening balances of %(book)s %(year)s (rows %(rows)s) do not balance: debits %(debit)s, "
                    "credits %(credit)s, difference %(diff)s yuan.") % {
                    **where, "debit": amount_text(debit), "credit": amount_text(credit),
                    "diff": amount_text(debit - credit)})
        if not rows and not job.report.errors:
            file_error(job, gettext("The file has no rows."))
        job.context["plan"] = (plan, by_pk)

    def write(self, job):
        plan, by_pk = job.context["plan"]
        for pk, planned in plan.items():
            book_year = by_pk[pk]
            created = {}
            balances = []
            try:
                for row, account, sub, new in planned:
                    if new is not None:
                        sub = created.get(new[0])
                        if sub is None:
                            sub = created[new[0]] = sub_account_create(
                                book=book_year.book, account=account, code=new[0], name=new[1])
                    amount = (row.values.get("debit") or ZERO) - (row.values.get("credit") or ZERO)
                    balances.append(Balance(account=account, amount=amount, sub_account=sub))
                opening_balances_set(book_year=book_year, balances=balances)
            except ValidationError as exc:  # the checks above say the same first; the data changed since
                _refuse(job, planned[0][0], exc)
                return


def _posted_years(book_year_ids: list[int]) -> set[int]:
    return set(Voucher.objects.filter(book_year_id__in=book_year_ids, status=VoucherStatus.POSTED)
               .values_list("book_year_id", flat=True).distinct())


def _refuse(job, row, exc: ValidationError) -> None:
    """A service refused what the checks passed (the data changed meanwhile): the import is undone."""
    for message in exc.messages:
        job.error(row, "", message)
    transaction.set_rollback(True)


register(OpeningBalanceRoster())
