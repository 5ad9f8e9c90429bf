"""The vouchers roster (记账凭证): a year of an old bookkeeping system's vouchers, one row per line."""

import re
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from collective_economy.models import Decision, Period, Voucher, VoucherKind, VoucherLine, VoucherStatus
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
from collective_economy.services.vouchers import LineInput, voucher_post_system
from governance.rosters import Column, Date, Number, RosterSpec, Text, insert_instances, register

# Who may import vouchers: the one who sets up books (the township's economic officer, the
# administrator) and reviews vouchers: the import is his review (see VoucherRoster).
IMPORT_PERMISSIONS = ("collective_economy.add_book", "collective_economy.review_voucher")


class VoucherRoster(RosterSpec):
    """Vouchers, one row per line: village, date, the old system's voucher number, summary, account
    code, sub-account code, debit, credit, attachments.

    The lines of one voucher are the rows with the same village, month and old number; they share
    a date and an attachments count. Refused, every reason at once: a village outside the area,
    a date in a year the village's book does not have, or in a closed month or year, or in a month
    that already has posted vouchers (a month is moved over once, before anyone enters vouchers in
    it: so a file imported twice is refused the second time), an account outside the year's chart,
    a sub-account the book does not have (the opening balances import creates them) or of another
    account, both or neither side on a line, an amount with more than two decimals or negative,
    a voucher whose debits and credits differ (its rows, totals and difference are named), lines
    of one voucher with different dates or attachments.

    How the vouchers are reviewed. They were prepared, reviewed and posted in the old system; the
    import moves them over as posted vouchers. The importing user — who must be allowed to set up
    books and to review vouchers (the township's economic officer or an administrator; a village
    bookkeeper cannot, so a book that asks for review by another person keeps that rule) — checks
    the dry run's report and confirms it: that is the review. The vouchers go in as his drafts
    (``prepared_by``), in bulk, as every roster writes (the rules of ``voucher_save`` are checked
    above, in bulk, with its messages); then each is reviewed and posted in one step by
    ``voucher_post_system`` (under the month's lock, numbered, checked again by the triggers),
    which records him as ``reviewed_by`` and ``posted_by``. The command line names him with
    ``--user`` (required for this roster).

    Vouchers are posted book by book in date order (then by the old number), so the new numbers
    记-1, 记-2 … of each month follow the dates and, within a day, the old numbering.
    """

    kind = "vouchers"
    label = _("Vouchers")
    model = VoucherLine
    name_column = "number"
    export_order = ("voucher__book__village__code", "voucher__date", "voucher__number", "voucher_id", "position")
    matching_note = _("Every row is a line of a voucher: the rows with the same village, month and voucher number "
                      "make one voucher, posted when the file is imported.")
    columns = [
        Column("village", _("Village"), Text(), required=True, field=None, export="voucher__book__village__code",
               example="513424001001", note=_("The village's code or name."), width=16),
        Column("date", _("Date"), Date(), required=True, field=None, export="voucher__date", example="2025-01-10",
               width=12),
        Column("number", _("Voucher number"), Text(), required=True, field=None, export="voucher__number",
               example="1", note=_("The old system's number: lines with the same village, month and number make "
                                   "one voucher."), width=10),
        Column("summary", pgettext_lazy("ledger", "Summary"), Text(),
               field=None, export="summary", example=_("Rent received"), width=24),
        Column("account", _("Account code"), Text(), required=True, field=None, export="account__code",
               example="102", width=10),
        Column("account_name", _("Account name"), None, export="account__name", width=16),
        Column("sub_account", _("Sub-account code"), Text(), field=None, export="sub_account__code", width=12),
        Column("debit", pgettext_lazy("ledger", "Debit"), Money(),
               field=None, export="debit", example="1200.00", width=14),
        Column("credit", pgettext_lazy("ledger", "Credit"), Money(), field=None, export="credit", example="", width=14),
        Column("attachments", _("Attachments"), Number(integer=True), field=None, export="voucher__attachments",
               example="1", width=8),
        Column("decision", _("Village decision"), Text(), field=None, export="voucher__decision__number",
               note=_("The number of the village decision (resolved, 决议) that a payment above the county's "
                      "threshold cites; the decision is recorded in the portal first."), width=14),
    ]

    def clean_instance(self, row, instance, job):
        """No model rules here: a row is not a VoucherLine yet (check() reads the cells)."""

    def check(self, job):
        user = job.user
        if user is None or not user.has_perms(IMPORT_PERMISSIONS):
            file_error(job, gettext("Vouchers are imported by a user who may set up books and review vouchers "
                                    "(the import is his review): name him."))
            return
        rows = job.rows
        villages = resolve_villages(job, rows)
        dated = [row for row in rows if row.number in villages and good(job, row, "date")]
        found = load_book_years({(villages[row.number].pk, row.values["date"].year) for row in dated})
        book_years = {}
        for row in dated:
            book_year = pick_book_year(job, row, "date", villages[row.number], row.values["date"].year, found)
            if book_year is not None:
                book_years[row.number] = book_year
        used = {book_year.pk: book_year for book_year in book_years.values()}
        accounts = load_accounts(book_year.chart_id for book_year in used.values())
        subs = load_sub_accounts(book_year.book_id for book_year in used.values())
        closed = set(Period.objects.filter(book_year_id__in=list(used), closed=True)
                     .values_list("book_year_id", "month"))
        months = set(Period.objects.filter(book_year_id__in=list(used)).values_list("book_year_id", "month"))
        posted = set(Voucher.objects.filter(book_year_id__in=list(used), status=VoucherStatus.POSTED)
                     .values_list("book_year_id", "month").distinct())

        # The vouchers: rows grouped by village, month and old number.
        groups: dict[tuple, list] = defaultdict(list)
        uncertain = set()  # (village, number) of rows whose voucher is unknown: its balance is not judged
        for row in rows:
            sided = one_side(job, row, zero_ok=False)
            line = None
            book_year = book_years.get(row.number)
            if book_year is not None and good(job, row, "account", "sub_account"):
                line = self._line(job, row, book_year, accounts, subs)
            if book_year is None or not good(job, row, "number"):
                if good(job, row, "village", "number") and row.values.get("number"):
                    uncertain.add((row.values["village"], row.values["number"]))
                continue
            date = row.values["date"]
            groups[(book_year.pk, date.month, row.values["number"])].append((row, line if sided else None))

        vouchers = []
        for (pk, month, number), lines in groups.items():
            book_year = used[pk]
            first = lines[0][0]
            numbers = [row.number for row, _line in lines]
            where = {"number": number, "year": book_year.year, "month": month, "rows": rows_text(numbers),
                     "book": book_year.book}
            if book_year.closed:
                job.error(first, job.header_of("date"), gettext("The year %(year)s of %(book)s is closed.") % where)
                continue
            if (pk, month) in closed or (pk, month) not in months:
                job.error(first, job.header_of("date"), gettext(
                    "%(year)s-%(month)02d of %(book)s is closed: nothing more is posted into it.") % where)
                continue
            if (pk, month) in posted:
                job.error(first, job.header_of("date"), gettext(
                    "%(year)s-%(month)02d of %(book)s already has posted vouchers: a month is imported once, "
                    "before vouchers are entered in it.") % where)
                continue
            if self._consistent(job, lines, where) and all(line is not None for _row, line in lines):
                vouchers.append((book_year, lines))
            if (first.values["village"], number) not in uncertain:
                self._balanced(job, lines, where)
        if not rows and not job.report.errors:
            file_error(job, gettext("The file has no rows."))
        # Book by book, in date order, then by the old number: the new numbers follow the dates.
        vouchers.sort(key=lambda item: (item[0].book_id, item[1][0][0].values["date"],
                                        _number_order(item[1][0][0].values["number"]), item[1][0][0].number))
        job.context["vouchers"] = vouchers
        job.context["decisions"] = self._decisions(job, vouchers)

    def _decisions(self, job, vouchers) -> list:
        """The decision each voucher cites (or None), looked up in its village in one query; an unknown number,
        or two numbers on the lines of one voucher, is an error on the cell."""
        cited = []
        for book_year, lines in vouchers:
            numbers = {row.values.get("decision") for row, _line in lines if row.values.get("decision")}
            if len(numbers) > 1:
                job.error(lines[-1][0], job.header_of("decision"), gettext(
                    "The lines of one voucher cite one decision: %(numbers)s.")
                    % {"numbers": "、".join(sorted(numbers))})
            cited.append((book_year.book.village_id, min(numbers)) if numbers else None)
        wanted = {pair for pair in cited if pair is not None}
        found = {}
        if wanted:
            found = {(d.village_id, d.number): d for d in Decision.objects.filter(
                village_id__in={village for village, _n in wanted}, number__in={n for _v, n in wanted})}
        decisions = []
        for (book_year, lines), pair in zip(vouchers, cited, strict=True):
            if pair is not None and pair not in found:
                row = next(row for row, _line in lines if row.values.get("decision"))
                job.error(row, job.header_of("decision"), gettext(
                    "%(village)s has no village decision numbered %(number)s.")
                    % {"village": book_year.book.village.display_name, "number": pair[1]})
            decisions.append(found.get(pair) if pair is not None else None)
        return decisions

    def _line(self, job, row, book_year, accounts, subs):
        code = row.values["account"]
        account = accounts.get((book_year.chart_id, code))
        if account is None:
            account_error(job, row, "account", code, book_year)
            return None
        sub = None
        sub_code = row.values.get("sub_account")
        if sub_code:
            sub = subs.get((book_year.book_id, sub_code))
            if sub is None:
                job.error(row, job.header_of("sub_account"), gettext(
                    "%(book)s has no sub-account %(sub)s: import the opening balances first (they create the "
                    "sub-accounts) or add it to the book.") % {"book": book_year.book, "sub": sub_code})
                return None
            if sub.account_id != account.pk:
                job.error(row, job.header_of("sub_account"), gettext(
                    "Sub-account %(sub)s belongs to account %(account)s.")
                    % {"sub": sub_code, "account": sub.account.code})
                return None
        return LineInput(account=account, sub_account=sub, summary=row.values.get("summary") or "",
                         debit=row.values.get("debit") or ZERO, credit=row.values.get("credit") or ZERO)

    def _consistent(self, job, lines, where) -> bool:
        """One date, one attachments count and a summary for the voucher's lines."""
        ok = True
        first = lines[0][0]
        for row, _line in lines[1:]:
            if row.values["date"] != first.values["date"]:
                job.error(row, job.header_of("date"), gettext(
                    "Voucher %(number)s of %(year)s-%(month)02d is dated %(date)s on row %(row)d: the lines of "
                    "one voucher have one date.") % {**where, "date": first.values["date"], "row": first.number})
                ok = False
        counts = {row.values.get("attachments") for row, _line in lines
                  if good(job, row, "attachments") and row.values.get("attachments") is not None}
        if len(counts) > 1:
            job.error(lines[-1][0], job.header_of("attachments"), gettext(
                "The lines of voucher %(number)s (rows %(rows)s) give different attachments counts.") % where)
            ok = False
        elif counts and min(counts) < 0:
            job.error(lines[0][0], job.header_of("attachments"), gettext("The attachments count is never negative."))
            ok = False
        if not any(good(job, row, "summary") and row.values.get("summary") for row, _line in lines):
            job.error(first, job.header_of("summary"), gettext("Enter a summary."))
            ok = False
        return ok

    def _balanced(self, job, lines, where) -> None:
        rows = [row for row, _line in lines]
        if any(not good(job, row, "debit", "credit") for row in rows):
            return  # an amount could not be read: its cell says why
        debit = sum((row.values.get("debit") or ZERO for row in rows), ZERO)
        credit = sum((row.values.get("credit") or ZERO for row in rows), ZERO)
        if debit != credit:
            job.error(rows[0], "", gettext(
                "Voucher %(number)s of %(year)s-%(month)02d (rows %(rows)s) does not balance: debits %(debit)s, "
                "credits %(credit)s, difference %(diff)s yuan.") % {
                **where, "debit": amount_text(debit), "credit": amount_text(credit),
                "diff": amount_text(debit - credit)})
        elif not any(row.values.get("debit") for row in rows) or not any(row.values.get("credit") for row in rows):
            job.error(rows[0], "", gettext("Voucher %(number)s of %(year)s-%(month)02d (rows %(rows)s) needs a debit "
                                           "line and a credit line.") % where)

    def write(self, job):
        """The drafts in bulk (the roster engine's way: every rule of ``voucher_save`` was checked above, in
        bulk, with its messages), then each one reviewed and posted by ``voucher_post_system`` in date order,
        under its month's lock: about five queries per voucher instead of some eighteen through
        ``voucher_save`` and ``voucher_submit`` as well."""
        user = job.user
        drafts, lines = [], []
        for (book_year, rows), decision in zip(job.context["vouchers"], job.context["decisions"], strict=True):
            first = rows[0][0]
            date = first.values["date"]
            summary = next((row.values["summary"] for row, _line in rows if row.values.get("summary")), "")
            total = sum((line.debit for _row, line in rows), ZERO)
            voucher = Voucher(book=book_year.book, book_year=book_year, month=date.month, date=date,
                              status=VoucherStatus.DRAFT, kind=VoucherKind.NORMAL, prepared_by=user,
                              attachments=next((row.values["attachments"] for row, _line in rows
                                                if row.values.get("attachments") is not None), 0),
                              summary=summary[:100], debit_total=total, credit_total=total)
            voucher.decision = decision
            drafts.append(voucher)
            lines.append([VoucherLine(position=n, summary=((line.summary or "").strip() or summary)[:100],
                                      account=line.account, sub_account=line.sub_account, debit=line.debit,
                                      credit=line.credit)
                          for n, (_row, line) in enumerate(rows, start=1)])
        insert_instances(Voucher, drafts)
        for voucher, voucher_lines in zip(drafts, lines, strict=True):
            for line in voucher_lines:
                line.voucher = voucher
        insert_instances(VoucherLine, [line for voucher_lines in lines for line in voucher_lines])
        for voucher, (_book_year, rows) in zip(drafts, job.context["vouchers"], strict=True):
            try:
                voucher_post_system(voucher=voucher, user=user)
            except ValidationError as exc:  # the checks say the same first; the data changed meanwhile
                for message in exc.messages:
                    job.error(rows[0][0], "", message)
                transaction.set_rollback(True)
                return


def _number_order(number: str) -> tuple:
    """记-12 after 记-9: the digits of an old number as a number."""
    digits = re.findall(r"\d+", number)
    return (int(digits[-1]), number) if digits else (float("inf"), number)


register(VoucherRoster())
