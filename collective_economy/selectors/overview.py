"""The township side by side (乡镇汇总): every village book under a unit in a year, with its
operating income, months closed and vouchers waiting, and the villages that keep no book.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Func, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from collective_economy.models import (
    AccountClass,
    BookYear,
    Chart,
    OpeningBalance,
    Voucher,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)
from collective_economy.selectors.statements import (
    MONEY_FIELD,
    ZERO,
    book_years_under,
    operating_income_definition,
    sum_of,
    under,
)
from governance.models import Level, OrgUnit
from governance.selectors import count_subquery

# --- The township side by side -----------------------------------------------------------------------


@dataclass
class OverviewRow:
    village: OrgUnit
    book_year: BookYear | None
    operating_income_month: Decimal = ZERO
    operating_income_ytd: Decimal = ZERO
    income_ytd: Decimal = ZERO
    debit: Decimal = ZERO  # opening debits + every posted debit through the month
    credit: Decimal = ZERO
    months_closed: int = 0
    unposted: int = 0

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


@dataclass
class Overview:
    unit: OrgUnit
    year: int
    month: int
    rows: list[OverviewRow]
    totals: OverviewRow | None
    definitions: dict[str, str]  # chart code → operating income definition

    @property
    def charts(self) -> list[Chart]:
        return list({row.book_year.chart_id: row.book_year.chart for row in self.rows if row.book_year}.values())


def township_overview(user, unit: OrgUnit, year: int, *, month: int = 12) -> Overview:
    """Every village book under ``unit`` in ``year`` side by side, and villages without one, with sums.

    Three queries: the book years with their months closed and vouchers waiting (subqueries), the posted
    lines grouped by book year, the villages without a book that year; plus one per chart for its definition.
    """
    years = list(
        book_years_under(user, unit, year)
        .select_related("chart", "book__village", "book__organisation")
        .annotate(months_closed=Count("periods", filter=Q(periods__closed=True, periods__month__lte=month)),
                  unposted=count_subquery(Voucher.objects.filter(book_year=models_outer()).exclude(
                      status=VoucherStatus.POSTED)),
                  opening_debit=_subquery_sum(OpeningBalance.objects.filter(book_year=models_outer()), "debit"),
                  opening_credit=_subquery_sum(OpeningBalance.objects.filter(book_year=models_outer()), "credit"))
        .order_by("book__village__tree_id", "book__village__lft", "book_id"))
    ids = [row.pk for row in years]
    carried = Q(voucher__kind=VoucherKind.CLOSING)
    operating = Q(account__operating_income=True) & ~carried
    income = Q(account__account_class=AccountClass.INCOME) & ~carried
    moved = {}
    if ids:
        moved = {row["voucher__book_year"]: row for row in VoucherLine.objects.filter(
            voucher__book_year__in=ids, voucher__status=VoucherStatus.POSTED, voucher__month__lte=month)
            .values("voucher__book_year")
            .annotate(op_month=_net(operating & Q(voucher__month=month)), op_ytd=_net(operating),
                      income_ytd=_net(income), all_debit=sum_of("debit", Q()), all_credit=sum_of("credit", Q()))
            .order_by()}
    rows = []
    for book_year in years:
        found = moved.get(book_year.pk, {})
        rows.append(OverviewRow(
            book_year.book.village, book_year,
            operating_income_month=found.get("op_month", ZERO), operating_income_ytd=found.get("op_ytd", ZERO),
            income_ytd=found.get("income_ytd", ZERO),
            debit=(book_year.opening_debit or ZERO) + found.get("all_debit", ZERO),
            credit=(book_year.opening_credit or ZERO) + found.get("all_credit", ZERO),
            months_closed=book_year.months_closed, unposted=book_year.unposted))
    without = (OrgUnit.objects.visible_to(user).filter(under(unit), level=Level.VILLAGE)
               .exclude(books__years__year=year).order_by("tree_id", "lft"))
    rows += [OverviewRow(village, None) for village in without]
    rows.sort(key=lambda row: (row.village.tree_id, row.village.lft))
    totals = None
    if years:
        totals = OverviewRow(unit, None)
        for row in rows:
            for name in ("operating_income_month", "operating_income_ytd", "income_ytd", "debit", "credit",
                         "months_closed", "unposted"):
                setattr(totals, name, getattr(totals, name) + getattr(row, name))
    charts = {row.chart_id: row.chart for row in years}
    definitions = {chart.code: operating_income_definition(chart) for chart in charts.values()}
    return Overview(unit, year, month, rows, totals, definitions)


def models_outer():
    return OuterRef("pk")


def _subquery_sum(queryset, column: str):
    summed = queryset.order_by().annotate(_s=Func(F(column), function="SUM")).values("_s")
    return Coalesce(Subquery(summed, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD)


def _net(condition: Q):
    """Credits minus debits of the lines matching ``condition`` (an income account's net movement)."""
    return Coalesce(Sum(F("credit") - F("debit"), filter=condition, output_field=MONEY_FIELD), Value(ZERO),
                    output_field=MONEY_FIELD)
