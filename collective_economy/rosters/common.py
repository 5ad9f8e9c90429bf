"""What the ledger's rosters share: amounts to the fen, villages named by code or name within the
importing user's scope, and the book years, accounts and sub-accounts a file names, each read
in one query for the whole file."""

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext

from collective_economy.models import BookYear, ChartAccount, SubAccount
from governance.models import Level, OrgUnit
from governance.rosters import Parser, chunked
from governance.rosters.report import RowError
from governance.terms import fold

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
_AMOUNT_NOISE = re.compile(r"[,，\s¥￥元]")


class Money(Parser):
    """An amount in yuan to the fen: 1234.5, 1,234.50 or an Excel number. More than two decimals
    (12.345) is an error, never rounded; so is a negative amount (it goes on the other side)."""

    empty = ZERO

    def __call__(self, value):
        if isinstance(value, bool):
            raise ValidationError(gettext('"%(value)s" is not an amount.') % {"value": value})
        if isinstance(value, float):
            # An Excel number is a double: read it as Excel shows it (15 significant digits), so
            # 0.1 + 0.2 stored as 0.30000000000000004 reads 0.3, and 12.345 stays 12.345.
            text = format(value, ".15g")
        else:
            text = _AMOUNT_NOISE.sub("", str(value))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(gettext('"%(value)s" is not an amount.') % {"value": str(value).strip()}) from None
        if not amount.is_finite():
            raise ValidationError(gettext('"%(value)s" is not an amount.') % {"value": text})
        if amount != amount.quantize(FEN):
            raise ValidationError(gettext('"%(value)s" has more than two decimals: amounts are in yuan to the fen.')
                                  % {"value": text})
        if amount < 0:
            raise ValidationError(gettext("Amounts are never negative: put the amount on the other side."))
        return amount.quantize(FEN)

    def describe(self):
        return gettext("An amount in yuan with at most two decimals, e.g. 1234.50")


def amount_text(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def rows_text(numbers) -> str:
    """Row numbers as a reader finds them: 2-5、9."""
    numbers = sorted(set(numbers))
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return "、".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


def file_error(job, message: str) -> None:
    """A problem of the whole file (no row, no column)."""
    job.report.errors.append(RowError(0, "", str(message)))


def good(job, row, *names) -> bool:
    """The row's cells ``names`` were read without error (and are in the file)."""
    return job.cells_ok(row, *names)


def resolve_villages(job, rows, column: str = "village") -> dict:
    """{row number: village} for the rows naming a village the user may see (by code, name or short
    name: one query); an error on the others (a village outside his scope is "not found", exactly like
    one that does not exist)."""
    keys = {row.values[column] for row in rows if good(job, row, column) and row.values.get(column)}
    if not keys:
        return {}
    villages = OrgUnit.objects.filter(level=Level.VILLAGE)
    if job.user is not None:
        villages = villages.visible_to(job.user)
    by_key: dict[str, dict[int, OrgUnit]] = defaultdict(dict)
    folded = {fold(key): key for key in keys}
    for chunk in chunked(sorted(keys)):
        found = villages.filter(Q(code__in=chunk) | Q(name__in=chunk) | Q(short_name__in=chunk))
        for village in found.only("pk", "code", "name", "short_name", "tree_id", "lft", "rght"):
            for text in {village.code, village.name, village.short_name} - {""}:
                if fold(text) in folded:
                    by_key[folded[fold(text)]][village.pk] = village
    header = job.header_of(column)
    out = {}
    for row in rows:
        key = row.values.get(column)
        if not key or not good(job, row, column):
            continue
        candidates = by_key.get(key, {})
        if len(candidates) == 1:
            out[row.number] = next(iter(candidates.values()))
        elif not candidates:
            job.error(row, header, gettext('There is no village "%(value)s" in your area.') % {"value": key})
        else:
            job.error(row, header, gettext('"%(value)s" names more than one village: give the village\'s code.')
                      % {"value": key})
    return out


def load_book_years(pairs) -> dict:
    """{(village id, year): [book years]} for (village id, year) pairs (one query), with book and chart."""
    pairs = set(pairs)
    found: dict[tuple, list] = defaultdict(list)
    if not pairs:
        return found
    villages = {village for village, _year in pairs}
    years = {year for _village, year in pairs}
    for chunk in chunked(sorted(villages)):
        book_years = (BookYear.objects.filter(book__village_id__in=chunk, year__in=years)
                      .select_related("book", "chart").order_by("book_id"))
        for book_year in book_years:
            key = (book_year.book.village_id, book_year.year)
            if key in pairs:
                found[key].append(book_year)
    return found


def pick_book_year(job, row, column: str, village, year, found: dict):
    """The one book year of ``village`` for ``year``, or an error on the row."""
    candidates = found.get((village.pk, year), [])
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        job.error(row, job.header_of(column), gettext("%(village)s has no book with the year %(year)s: open it "
                                                      "first.") % {"village": village.display_name, "year": year})
    else:
        job.error(row, job.header_of(column), gettext("%(village)s has more than one book with the year %(year)s.")
                  % {"village": village.display_name, "year": year})
    return None


def load_accounts(chart_ids) -> dict:
    """{(chart id, code): account} of the charts (one query)."""
    return {(account.chart_id, account.code): account
            for account in ChartAccount.objects.filter(chart_id__in=set(chart_ids))}


def load_sub_accounts(book_ids) -> dict:
    """{(book id, code): sub-account} of the books (one query per chunk of books)."""
    found = {}
    for chunk in chunked(sorted(set(book_ids))):
        for sub in SubAccount.objects.filter(book_id__in=chunk).select_related("account"):
            found[(sub.book_id, sub.code)] = sub
    return found


def account_error(job, row, column: str, code: str, book_year) -> None:
    message = gettext("Account %(code)s is not in the chart %(chart)s that %(year)s is kept under.") % {
        "code": code, "chart": book_year.chart, "year": book_year.year}
    if len(code) > 3:
        message += " " + gettext("A detail account's code goes in the sub-account column.")
    job.error(row, job.header_of(column), message)


def one_side(job, row, debit_column: str = "debit", credit_column: str = "credit", *, zero_ok: bool) -> bool:
    """The row stands on one side (a debit or a credit, not both; neither is an error unless ``zero_ok``)."""
    if not good(job, row, debit_column, credit_column):
        return False
    debit, credit = row.values.get(debit_column) or ZERO, row.values.get(credit_column) or ZERO
    if debit and credit:
        job.error(row, job.header_of(credit_column), gettext("Enter a debit or a credit, not both."))
        return False
    if not debit and not credit and not zero_ok:
        job.error(row, job.header_of(debit_column), gettext("Enter an amount above 0.00 as a debit or a credit."))
        return False
    return True

