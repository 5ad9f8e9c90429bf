"""The statements of a book year, or of every book year of one chart under a township or county, set-based.

Every figure comes from grouped queries: the opening balances grouped by account (and
sub-account), and the posted lines grouped the same way with filtered sums for the months
before the period, the period, and the same without the year-end carry-forward vouchers
(``kind=closing``). A statement is a few such queries whatever the number of accounts,
books or lines; Python only merges the grouped rows (a few dozen per account) and
evaluates the statements' row formulas (``StatementRow.formula``):

- ``101`` an account: on the balance sheet its balance on its own normal side at that point;
  on the income statement its net movement on its normal side over the period, without the
  carry-forward vouchers;
- ``r7`` another row of the same statement; ``@322`` the account's balance on its normal side
  at the start of the year; ``D322`` / ``C322`` its debit / credit turnover over the period,
  without the carry-forward vouchers. Terms are joined by ``+`` and ``-``.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    BookYear,
    Chart,
    ChartAccount,
    EconomicOrganisation,
    OpeningBalance,
    Side,
    Statement,
    StatementRow,
    SubAccount,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)
from governance.models import Level, OrgUnit
from governance.scope import unit_field

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)

CHART_NEEDED = _("The books under %(unit)s are kept under two charts in %(year)s: choose one.")
UNKNOWN_CHART = _("No book under %(unit)s is kept under the chart %(chart)s in %(year)s.")
BAD_MONTHS = _("The first month of the period comes after its last month.")


def side_of(amount: Decimal) -> str:
    """借, 贷 or 平: the side a debit-positive balance stands on, as ledgers print it."""
    if amount > 0:
        return "debit"
    if amount < 0:
        return "credit"
    return "flat"


def normal(amount: Decimal, side: str) -> Decimal:
    """A debit-positive balance turned to an account's normal side."""
    return amount if side == Side.DEBIT else -amount


# --- What a statement is over -------------------------------------------------------------------


@dataclass
class Scope:
    """The book years a statement adds up: one village's, or every one of a chart under a township or county."""

    unit: OrgUnit
    year: int
    chart: Chart | None
    charts: list[Chart]
    book_years: list[int]
    books: int
    organisation: EconomicOrganisation | None = None

    @property
    def is_empty(self) -> bool:
        return not self.book_years

    @property
    def is_village(self) -> bool:
        return self.unit.level == Level.VILLAGE

    @property
    def single_book(self) -> bool:
        return len(self.book_years) == 1


def under(unit: OrgUnit, path: str = "") -> Q:
    """Rows whose unit at ``path`` lies in ``unit``'s subtree, its range read in the same statement (a unit
    loaded earlier may hold a stale range: the tree renumbers on every insert)."""
    prefix = f"{path}__" if path else ""
    return Q(**{f"{prefix}tree_id": unit_field(OrgUnit, unit.pk, "tree_id"),
                f"{prefix}lft__gte": unit_field(OrgUnit, unit.pk, "lft"),
                f"{prefix}lft__lt": unit_field(OrgUnit, unit.pk, "rght")})


def book_years_under(user, unit: OrgUnit, year: int):
    """The book years of ``year`` the user sees under ``unit`` (a queryset)."""
    return BookYear.objects.visible_to(user).filter(under(unit, "book__village"), year=year)


def statement_scope(user, unit: OrgUnit, year: int, chart_code: str = "") -> Scope:
    """The book years of ``year`` under ``unit`` kept under one chart (``chart_code``, needed when two are used).

    Two queries: the book years with their charts, and the village's organisation when one book.
    """
    rows = list(book_years_under(user, unit, year).select_related("chart", "book__organisation")
                .order_by("chart__in_force_from", "pk"))
    charts = list({row.chart_id: row.chart for row in rows}.values())
    chart = None
    if chart_code:
        chart = next((c for c in charts if c.code == chart_code), None)
        if chart is None:
            raise ValidationError({"chart": ValidationError(UNKNOWN_CHART, params={
                "unit": unit.display_name, "chart": chart_code, "year": year})})
    elif len(charts) == 1:
        chart = charts[0]
    elif charts:
        # Two charts in one year under a township (a village changed rules early): the newer one by default.
        chart = charts[-1]
    kept = [row for row in rows if chart is not None and row.chart_id == chart.pk]
    organisation = kept[0].book.organisation if len(kept) == 1 else None
    return Scope(unit=unit, year=year, chart=chart, charts=charts, book_years=[row.pk for row in kept],
                 books=len({row.book_id for row in kept}), organisation=organisation)


def latest_month(book_years) -> int:
    """The latest month with a posted voucher, or 12 when none is posted yet."""
    found = (BookYear.objects.filter(pk__in=book_years).aggregate(
        last=Max("vouchers__month", filter=Q(vouchers__status=VoucherStatus.POSTED)))["last"] if book_years else None)
    return found or 12


def latest_year(user, unit: OrgUnit) -> int | None:
    """The latest year of a book under ``unit``."""
    return BookYear.objects.visible_to(user).filter(under(unit, "book__village")).aggregate(
        last=Max("year"))["last"]


# --- The figures of every account -----------------------------------------------------------------


@dataclass
class Figures:
    """An account's (or sub-account's) figures over a period of a year; balances debit-positive."""

    opening: Decimal = ZERO  # at the start of the year (年初)
    debit_before: Decimal = ZERO  # the year's months before the period
    credit_before: Decimal = ZERO
    debit: Decimal = ZERO  # the period (本期)
    credit: Decimal = ZERO
    debit_nc: Decimal = ZERO  # the period without the carry-forward vouchers
    credit_nc: Decimal = ZERO
    debit_ytd_nc: Decimal = ZERO  # January to the period's end without the carry-forward vouchers
    credit_ytd_nc: Decimal = ZERO

    def add(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def start(self) -> Decimal:
        """The balance at the start of the period (期初)."""
        return self.opening + self.debit_before - self.credit_before

    @property
    def closing(self) -> Decimal:
        """The balance at the end of the period (期末)."""
        return self.start + self.debit - self.credit

    @property
    def debit_ytd(self) -> Decimal:
        return self.debit_before + self.debit

    @property
    def credit_ytd(self) -> Decimal:
        return self.credit_before + self.credit

    @property
    def is_zero(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


def sum_of(column: str, condition: Q):
    return Coalesce(Sum(column, filter=condition), Value(ZERO), output_field=MONEY_FIELD)


def figures(book_years, *, month_from: int, month: int) -> dict[tuple[int, int | None], Figures]:
    """{(account id, sub-account id or None): Figures} of ``book_years`` over months month_from..month.

    Two grouped queries: the opening balances, and the posted lines through ``month``.
    """
    found: dict[tuple, Figures] = defaultdict(Figures)
    if not book_years:
        return found
    opening = (OpeningBalance.objects.filter(book_year__in=book_years).values("account_id", "sub_account_id")
               .annotate(amount=Sum(F("debit") - F("credit"), output_field=MONEY_FIELD)).order_by())
    for row in opening:
        found[(row["account_id"], row["sub_account_id"])].opening += row["amount"] or ZERO
    before = Q(voucher__month__lt=month_from)
    period = Q(voucher__month__gte=month_from)
    carried = Q(voucher__kind=VoucherKind.CLOSING)
    moved = (VoucherLine.objects.filter(voucher__book_year__in=book_years, voucher__status=VoucherStatus.POSTED,
                                        voucher__month__lte=month)
             .values("account_id", "sub_account_id")
             .annotate(f_debit_before=sum_of("debit", before), f_credit_before=sum_of("credit", before),
                       f_debit=sum_of("debit", period), f_credit=sum_of("credit", period),
                       f_debit_nc=sum_of("debit", period & ~carried), f_credit_nc=sum_of("credit", period & ~carried),
                       f_debit_ytd_nc=sum_of("debit", ~carried), f_credit_ytd_nc=sum_of("credit", ~carried))
             .order_by())
    for row in moved:
        target = found[(row.pop("account_id"), row.pop("sub_account_id"))]
        target.add(Figures(**{name[2:]: amount for name, amount in row.items()}))
    return found


def _by_account(found: dict[tuple, Figures]) -> dict[int, Figures]:
    accounts: dict[int, Figures] = defaultdict(Figures)
    for (account_id, _sub), item in found.items():
        accounts[account_id].add(item)
    return accounts


def check_months(month_from: int, month: int) -> None:
    if month_from > month:
        raise ValidationError({"month_from": ValidationError(BAD_MONTHS)})


# --- 科目余额表 -------------------------------------------------------------------------------------


@dataclass
class TrialRow:
    code: str
    name: str
    side: str  # the account's normal side
    figures: Figures
    level: int = 1  # 1 a first-level account, 2 a sub-account
    account_id: int | None = None
    sub_account_id: int | None = None


@dataclass
class TrialBalance:
    scope: Scope
    month_from: int
    month: int
    rows: list[TrialRow]
    totals: dict[str, Decimal]

    @property
    def balanced(self) -> bool:
        t = self.totals
        return all(t[f"{name}_debit"] == t[f"{name}_credit"] for name in ("opening", "start", "period", "ytd",
                                                                              "closing"))


def _split(amount: Decimal) -> tuple[Decimal, Decimal]:
    return (amount, ZERO) if amount > 0 else (ZERO, -amount)


def trial_row_columns(item: Figures) -> dict[str, Decimal]:
    """The ten money columns of a trial balance row, each balance on its side."""
    opening, start, closing = _split(item.opening), _split(item.start), _split(item.closing)
    return {"opening_debit": opening[0], "opening_credit": opening[1], "start_debit": start[0],
            "start_credit": start[1], "period_debit": item.debit, "period_credit": item.credit,
            "ytd_debit": item.debit_ytd, "ytd_credit": item.credit_ytd, "closing_debit": closing[0],
            "closing_credit": closing[1]}


TRIAL_COLUMNS = ("opening_debit", "opening_credit", "start_debit", "start_credit", "period_debit", "period_credit",
                 "ytd_debit", "ytd_credit", "closing_debit", "closing_credit")


def trial_balance(scope: Scope, *, month_from: int = 1, month: int = 12, sub_accounts: bool = False) -> TrialBalance:
    """科目余额表: every account with a figure, by code; totals whose debits equal credits.

    Sub-accounts are listed under their account when asked and the statement covers one book.
    Queries: the chart's accounts, the grouped figures (two), and the sub-accounts' names when listed.
    """
    check_months(month_from, month)
    found = figures(scope.book_years, month_from=month_from, month=month)
    accounts = _by_account(found)
    chart_accounts = list(ChartAccount.objects.filter(chart=scope.chart).order_by("code")) if scope.chart else []
    subs = {}
    if sub_accounts and scope.single_book:
        ids = [sub for (_account, sub), item in found.items() if sub is not None and not item.is_zero]
        subs = {sub.pk: sub for sub in SubAccount.objects.filter(pk__in=ids)}
    by_account = defaultdict(list)
    for (account_id, sub_id), item in found.items():
        if sub_id in subs and not item.is_zero:
            by_account[account_id].append((subs[sub_id], item))
    rows, totals = [], dict.fromkeys(TRIAL_COLUMNS, ZERO)
    for account in chart_accounts:
        item = accounts.get(account.pk)
        if item is None or item.is_zero:
            continue
        rows.append(TrialRow(account.code, account.name, account.side, item, account_id=account.pk))
        for column, amount in trial_row_columns(item).items():
            totals[column] += amount
        for sub, sub_item in sorted(by_account.get(account.pk, []), key=lambda pair: pair[0].code):
            rows.append(TrialRow(sub.code, sub.name, account.side, sub_item, level=2, account_id=account.pk,
                                 sub_account_id=sub.pk))
    return TrialBalance(scope, month_from, month, rows, totals)


# --- Statement formulas -----------------------------------------------------------------------------


TERM = re.compile(r"\s*([+-])?\s*(r\d+|@\d+|[DC]\d+|\d+)\s*")


def parse_formula(formula: str) -> list[tuple[int, str]]:
    """``r1+r2-152`` → [(1, "r1"), (1, "r2"), (-1, "152")]; a blank formula → []."""
    terms, position, text = [], 0, (formula or "").strip()
    while position < len(text):
        match = TERM.match(text, position)
        if match is None or match.end() == position or (terms and not match.group(1)):
            raise ValueError(f"bad statement formula {formula!r} at {position}")
        terms.append((-1 if match.group(1) == "-" else 1, match.group(2)))
        position = match.end()
    return terms


def evaluate(rows: list[StatementRow], value_of) -> dict[int, Decimal]:
    """{row number: value} of a statement's rows; ``value_of(term)`` gives an account term's value."""
    formulas = {row.number: parse_formula(row.formula) for row in rows}
    values: dict[int, Decimal] = {}

    def row_value(number: int, seen: tuple = ()) -> Decimal:
        if number in values:
            return values[number]
        if number in seen or number not in formulas:
            return ZERO  # a loop or a missing row counts 0 rather than failing the whole statement
        total = ZERO
        for sign, term in formulas[number]:
            amount = row_value(int(term[1:]), (*seen, number)) if term.startswith("r") else value_of(term)
            total += sign * amount
        values[number] = total
        return total

    for row in rows:
        row_value(row.number)
    return values


@dataclass
class StatementLine:
    number: int
    label: str
    indent: int
    bold: bool
    heading: bool
    values: tuple[Decimal, Decimal]  # balance sheet: (start of year, end of month); income: (period, year to date)


@dataclass
class StatementResult:
    scope: Scope
    statement: str
    month_from: int
    month: int
    lines: list[StatementLine]
    operating_income: "OperatingIncome | None" = None
    checks: dict = field(default_factory=dict)

    @property
    def assets(self) -> list[StatementLine]:
        """The balance sheet's left side (rows below 31, as the rules number them)."""
        return [line for line in self.lines if line.number < 31]

    @property
    def liabilities(self) -> list[StatementLine]:
        return [line for line in self.lines if line.number >= 31]

    @property
    def balanced(self) -> bool:
        """Assets total = liabilities and equity total, at the start of the year and at the end of the month."""
        left, right = self.checks.get("assets"), self.checks.get("liabilities_equity")
        return left is not None and left == right


def _statement_rows(chart: Chart | None, statement: str) -> list[StatementRow]:
    if chart is None:
        return []
    return list(StatementRow.objects.filter(chart=chart, statement=statement).order_by("number"))


def balance_sheet(scope: Scope, *, month: int = 12) -> StatementResult:
    """资产负债表 at the end of ``month``, with the start-of-year column (two grouped queries, accounts, rows)."""
    found = _by_account(figures(scope.book_years, month_from=1, month=month))
    accounts = {a.code: a for a in ChartAccount.objects.filter(chart=scope.chart)} if scope.chart else {}
    rows = _statement_rows(scope.chart, Statement.BALANCE_SHEET)

    def column(at_start: bool):
        def value_of(term: str) -> Decimal:
            code = term.lstrip("@DC")
            account = accounts.get(code)
            item = found.get(account.pk) if account else None
            if item is None:
                return ZERO
            if term[0] == "D":
                return item.debit_ytd_nc
            if term[0] == "C":
                return item.credit_ytd_nc
            at = item.opening if at_start or term[0] == "@" else item.closing
            return normal(at, account.side)
        return value_of

    start, end = evaluate(rows, column(True)), evaluate(rows, column(False))
    lines = [StatementLine(row.number, row.label, row.indent, row.bold, not row.formula.strip(),
                           (start.get(row.number, ZERO), end.get(row.number, ZERO))) for row in rows]
    result = StatementResult(scope, Statement.BALANCE_SHEET, 1, month, lines)
    left = [line for line in lines if line.number < 31 and not line.heading]
    right = [line for line in lines if line.number >= 31 and not line.heading]
    if left and right:
        result.checks = {"assets": left[-1].values, "liabilities_equity": right[-1].values}
    return result


@dataclass
class OperatingIncome:
    """Collective operating income (集体经营性收入): the chart's operating-income accounts' net credit movement."""

    period: Decimal
    year_to_date: Decimal
    definition: str


def _operating_income(scope: Scope, found: dict[int, Figures], accounts) -> OperatingIncome:
    flagged = [a for a in accounts if a.operating_income and a.is_active]
    period = sum((found[a.pk].credit_nc - found[a.pk].debit_nc for a in flagged if a.pk in found), ZERO)
    ytd = sum((found[a.pk].credit_ytd_nc - found[a.pk].debit_ytd_nc for a in flagged if a.pk in found), ZERO)
    definition = " ＋ ".join(f"{a.name}（{a.code}）" for a in sorted(flagged, key=lambda a: a.code))
    return OperatingIncome(period, ytd, definition)


def operating_income(scope: Scope, *, month_from: int = 1, month: int = 12) -> OperatingIncome:
    """The scope's collective operating income over the period and the year to date, with its definition."""
    check_months(month_from, month)
    found = _by_account(figures(scope.book_years, month_from=month_from, month=month))
    accounts = list(ChartAccount.objects.filter(chart=scope.chart)) if scope.chart else []
    return _operating_income(scope, found, accounts)


def income_statement(scope: Scope, *, month_from: int = 1, month: int = 12) -> StatementResult:
    """收益及收益分配表 for months month_from..month and the year to date, with the operating income."""
    check_months(month_from, month)
    found = _by_account(figures(scope.book_years, month_from=month_from, month=month))
    chart_accounts = list(ChartAccount.objects.filter(chart=scope.chart)) if scope.chart else []
    accounts = {a.code: a for a in chart_accounts}
    rows = _statement_rows(scope.chart, Statement.INCOME)

    def column(ytd: bool):
        def value_of(term: str) -> Decimal:
            code = term.lstrip("@DC")
            account = accounts.get(code)
            item = found.get(account.pk) if account else None
            if item is None:
                return ZERO
            debit = item.debit_ytd_nc if ytd else item.debit_nc
            credit = item.credit_ytd_nc if ytd else item.credit_nc
            if term[0] == "@":
                return normal(item.opening, account.side)
            if term[0] == "D":
                return debit
            if term[0] == "C":
                return credit
            return normal(debit - credit, account.side)
        return value_of

    period, ytd = evaluate(rows, column(False)), evaluate(rows, column(True))
    lines = [StatementLine(row.number, row.label, row.indent, row.bold, not row.formula.strip() and not row.bold,
                           (period.get(row.number, ZERO), ytd.get(row.number, ZERO))) for row in rows]
    return StatementResult(scope, Statement.INCOME, month_from, month, lines,
                           operating_income=_operating_income(scope, found, chart_accounts))


def operating_income_definition(chart: Chart | None) -> str:
    """经营收入（501） ＋ 投资收益（502）: the chart's operating income accounts
    (``Chart.operating_income_definition``)."""
    return chart.operating_income_definition() if chart is not None else ""
