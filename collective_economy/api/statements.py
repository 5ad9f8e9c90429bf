"""The statements as data (/api/v1/ledger/statements/<action>/), read-only and scoped like the pages.

``GET /api/v1/ledger/statements/trial-balance/?unit=&year=&month=&month_from=&chart=&subs=1``
``GET …/balance-sheet/``, ``…/income-statement/``, ``…/general-ledger/?account=102``,
``…/detail-ledger/?account=112001&page=``, ``…/overview/``

They take the pages' parameters (``collective_economy.views.statements``): ``unit`` an org unit id
(a village's book, or the sum of the books of one chart under a township or county; default the
caller's unit), ``year``, ``month`` (default the latest month with a posted voucher), ``month_from``,
``chart`` when two charts are used that year. Amounts are strings in yuan to the fen; a balance
comes with its side (debit, credit or flat). A unit outside the caller's scope is a 404; a malformed
parameter a 400 naming the field.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from collective_economy.models import AccountRole, BookYear, ChartAccount
from collective_economy.selectors import ledgers
from collective_economy.selectors import overview as ov
from collective_economy.selectors import statements as st
from collective_economy.views.statements import ParameterError, StatementParams
from governance.portal.api import router
from governance.portal.guard import parse_number

DETAIL_PAGE_SIZE = 500


def money():
    return serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)


class ScopeSerializer(serializers.Serializer):
    unit = serializers.IntegerField(source="unit.pk", help_text=_("The org unit's id."))
    unit_name = serializers.CharField(source="unit.display_name")
    year = serializers.IntegerField()
    chart = serializers.CharField(source="chart.code", allow_null=True, help_text=_("The chart of accounts' code."))
    charts = serializers.ListField(child=serializers.CharField(), help_text=_(
        "Every chart the unit's books use that year (ask for another with ?chart=)."))
    books = serializers.IntegerField(help_text=_("How many books are added up."))
    organisation = serializers.CharField(allow_null=True)
    credit_code = serializers.CharField(allow_null=True)


def scope_data(scope: st.Scope) -> dict:
    organisation = scope.organisation
    return {"unit": scope.unit, "year": scope.year, "chart": scope.chart,
            "charts": [chart.code for chart in scope.charts], "books": scope.books,
            "organisation": organisation.name if organisation else None,
            "credit_code": organisation.credit_code if organisation else None}


class PeriodSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    month_from = serializers.IntegerField()
    month = serializers.IntegerField()


class TrialTotalsSerializer(serializers.Serializer):
    opening_debit = money()
    opening_credit = money()
    start_debit = money()
    start_credit = money()
    period_debit = money()
    period_credit = money()
    ytd_debit = money()
    ytd_credit = money()
    closing_debit = money()
    closing_credit = money()


class TrialRowSerializer(TrialTotalsSerializer):
    """A row of the trial balance: the account, and the totals' figures for it."""

    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField(help_text=_("1 a first-level account, 2 a sub-account."))
    normal_side = serializers.CharField(help_text=_("debit or credit: the account's normal balance side."))


class TrialBalanceSerializer(PeriodSerializer):
    rows = TrialRowSerializer(many=True)
    totals = TrialTotalsSerializer()
    balanced = serializers.BooleanField(help_text=_("Whether every pair of total columns is equal."))


class StatementLineSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text=_("The row number (行次)."))
    label = serializers.CharField()
    indent = serializers.IntegerField()
    bold = serializers.BooleanField()
    heading = serializers.BooleanField(help_text=_("A heading row carries no figure."))
    first = money()
    second = money()


class OperatingIncomeSerializer(serializers.Serializer):
    period = money()
    year_to_date = money()
    definition = serializers.CharField(help_text=_("The chart's operating income accounts, e.g. 经营收入（501）."))


class BalanceSheetSerializer(PeriodSerializer):
    lines = StatementLineSerializer(many=True, help_text=_("first: the start of the year; second: the end of the "
                                                            "month."))
    balanced = serializers.BooleanField(help_text=_("Total assets equal total liabilities and owners' equity."))


class IncomeStatementSerializer(PeriodSerializer):
    lines = StatementLineSerializer(many=True, help_text=_("first: the period; second: the year to date."))
    operating_income = OperatingIncomeSerializer()


class LedgerLineSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("opening, month (total of the month), year (total of the year to "
                                             "date), line or total."))
    month = serializers.IntegerField(allow_null=True)
    date = serializers.DateField(allow_null=True)
    voucher = serializers.CharField(allow_blank=True)
    voucher_id = serializers.IntegerField(allow_null=True)
    village = serializers.CharField(allow_blank=True)
    summary = serializers.CharField(allow_blank=True)
    debit = money()
    credit = money()
    side = serializers.CharField(help_text=_("debit, credit or flat: the side the balance stands on."))
    # The balance after the line, on its side (a ledger prints 借/贷 and the amount).
    amount = money()


class LedgerSerializer(PeriodSerializer):
    account = serializers.CharField(help_text=_("The account's (or sub-account's) code."))
    account_name = serializers.CharField()
    lines = LedgerLineSerializer(many=True)
    total_lines = serializers.IntegerField(help_text=_("Detail ledger: the posted lines in the period."))
    page = serializers.IntegerField(allow_null=True)


class OverviewRowSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    name = serializers.CharField()
    has_books = serializers.BooleanField()
    chart = serializers.CharField(allow_null=True)
    operating_income_month = money()
    operating_income_ytd = money()
    income_ytd = money()
    debit = money()
    credit = money()
    balanced = serializers.BooleanField()
    months_closed = serializers.IntegerField()
    unposted = serializers.IntegerField()


class OverviewSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    rows = OverviewRowSerializer(many=True)
    totals = OverviewRowSerializer(allow_null=True)
    definitions = serializers.DictField(child=serializers.CharField(), help_text=_(
        "Chart code → what counts as its collective operating income."))


COMMON = [
    OpenApiParameter("unit", OpenApiTypes.INT, description="Org unit id: a village (its book), a township or county "
                     "(the sum of its books kept under one chart). Default: your own unit."),
    OpenApiParameter("year", OpenApiTypes.INT, description="Book year. Default: the latest year of a book there."),
    OpenApiParameter("month", OpenApiTypes.INT, description="The period's last month (1-12). Default: the latest "
                     "month with a posted voucher, else 12."),
    OpenApiParameter("month_from", OpenApiTypes.INT, description="The period's first month (1-12). Default: the "
                     "last month (statements) or 1 (ledgers)."),
    OpenApiParameter("chart", OpenApiTypes.STR, description="Chart code (2004, 2023) when the unit's books use "
                     "two charts that year. Default: the newer."),
]
ACCOUNT = OpenApiParameter("account", OpenApiTypes.STR, description="Account code (102), or a sub-account code "
                           "(112001) of a village's book. Default: cash on hand.")


def _line(line: st.StatementLine) -> dict:
    return {"number": line.number, "label": line.label, "indent": line.indent, "bold": line.bold,
            "heading": line.heading, "first": line.values[0], "second": line.values[1]}


def _ledger_line(line: ledgers.LedgerLine) -> dict:
    return {"kind": line.kind, "month": line.month, "date": line.date, "voucher": line.voucher,
            "voucher_id": line.voucher_id, "village": line.village, "summary": line.summary, "debit": line.debit,
            "credit": line.credit, "side": line.side, "amount": line.amount}


def _overview_row(row: ov.OverviewRow, unit=None) -> dict:
    unit = unit or row.village
    return {"unit": unit.pk, "name": unit.display_name, "has_books": row.book_year is not None or unit != row.village,
            "chart": row.book_year.chart.code if row.book_year else None,
            "operating_income_month": row.operating_income_month, "operating_income_ytd": row.operating_income_ytd,
            "income_ytd": row.income_ytd, "debit": row.debit, "credit": row.credit, "balanced": row.balanced,
            "months_closed": row.months_closed, "unposted": row.unposted}


class StatementViewSet(viewsets.GenericViewSet):
    """The ledgers and statements of a village's book, or summed over a township or county (read-only)."""

    queryset = BookYear.objects.none()
    pagination_class = None
    filter_backends = []
    serializer_class = TrialBalanceSerializer

    def params(self, *, monthly: bool = True) -> StatementParams:
        try:
            return StatementParams.from_query(self.request._request, monthly=monthly)
        except ParameterError as error:
            raise serializers.ValidationError(error.errors) from None
        except Http404:
            raise NotFound(_("No such unit in your area.")) from None

    def run(self, compute):
        try:
            return compute()
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict if hasattr(error, "error_dict")
                                              else {"non_field_errors": error.messages}) from None

    def period(self, params: StatementParams) -> dict:
        return {"scope": scope_data(params.scope), "month_from": params.month_from, "month": params.month}

    @extend_schema(parameters=[*COMMON, OpenApiParameter("subs", OpenApiTypes.BOOL, description=(
        "1: list each sub-account under its account (a village's book only)."))], responses=TrialBalanceSerializer)
    @action(detail=False, url_path="trial-balance")
    def trial_balance(self, request):
        params = self.params()
        trial = self.run(lambda: st.trial_balance(params.scope, month_from=params.month_from, month=params.month,
                                                  sub_accounts=request.query_params.get("subs") in ("1", "true")))
        rows = [{"code": row.code, "name": row.name, "level": row.level, "normal_side": row.side,
                 **st.trial_row_columns(row.figures)} for row in trial.rows]
        return Response(TrialBalanceSerializer({**self.period(params), "rows": rows, "totals": trial.totals,
                                                "balanced": trial.balanced}).data)

    @extend_schema(parameters=COMMON, responses=BalanceSheetSerializer)
    @action(detail=False, url_path="balance-sheet")
    def balance_sheet(self, request):
        params = self.params()
        sheet = self.run(lambda: st.balance_sheet(params.scope, month=params.month))
        return Response(BalanceSheetSerializer({**self.period(params), "lines": [_line(x) for x in sheet.lines],
                                                "balanced": sheet.balanced}).data)

    @extend_schema(parameters=COMMON, responses=IncomeStatementSerializer)
    @action(detail=False, url_path="income-statement")
    def income_statement(self, request):
        params = self.params()
        result = self.run(lambda: st.income_statement(params.scope, month_from=params.month_from,
                                                      month=params.month))
        income = result.operating_income
        return Response(IncomeStatementSerializer({
            **self.period(params), "lines": [_line(x) for x in result.lines],
            "operating_income": {"period": income.period, "year_to_date": income.year_to_date,
                                 "definition": income.definition}}).data)

    def _account(self, params):
        if params.scope.is_empty:
            raise NotFound(_("No book under this unit in this year."))
        code = params.account_code
        if not code:
            cash = ChartAccount.objects.filter(chart=params.scope.chart, role=AccountRole.CASH).first()
            code = cash.code if cash else ""
        return self.run(lambda: ledgers.find_account(params.scope, code))

    def _ledger(self, params, ledger: ledgers.Ledger, page=None) -> dict:
        account, sub = ledger.account, ledger.sub_account
        return {**self.period(params), "account": sub.code if sub else account.code,
                "account_name": f"{account.name}-{sub.name}" if sub else account.name,
                "lines": [_ledger_line(x) for x in ledger.lines], "total_lines": ledger.total_lines, "page": page}

    @extend_schema(parameters=[*COMMON, ACCOUNT], responses=LedgerSerializer)
    @action(detail=False, url_path="general-ledger")
    def general_ledger(self, request):
        params = self.params(monthly=False)
        account, sub = self._account(params)
        if sub is not None:
            raise serializers.ValidationError({"account": [_("The general ledger is kept for first-level accounts: "
                                                             "open the detail ledger of a sub-account.")]})
        ledger = self.run(lambda: ledgers.general_ledger(params.scope, account, month_from=params.month_from,
                                                    month=params.month))
        return Response(LedgerSerializer(self._ledger(params, ledger)).data)

    @extend_schema(parameters=[*COMMON, ACCOUNT, OpenApiParameter("page", OpenApiTypes.INT, description=(
        f"Page of {DETAIL_PAGE_SIZE} lines (default 1)."))], responses=LedgerSerializer)
    @action(detail=False, url_path="detail-ledger")
    def detail_ledger(self, request):
        params = self.params(monthly=False)
        account, sub = self._account(params)
        page = parse_number(request.query_params.get("page") or "1", max_digits=6)
        if page is None or not 1 <= page <= 100000:
            raise serializers.ValidationError({"page": [_("Enter a page number from 1.")]})
        ledger = self.run(lambda: ledgers.detail_ledger(params.scope, account, sub, month_from=params.month_from,
                                                   month=params.month, offset=(page - 1) * DETAIL_PAGE_SIZE,
                                                   limit=DETAIL_PAGE_SIZE))
        return Response(LedgerSerializer(self._ledger(params, ledger, page)).data)

    @extend_schema(parameters=[COMMON[0], COMMON[1], COMMON[2]], responses=OverviewSerializer)
    @action(detail=False, url_path="overview")
    def overview(self, request):
        params = self.params()
        overview = ov.township_overview(request.user, params.unit, params.year, month=params.month)
        return Response(OverviewSerializer({
            "unit": params.unit.pk, "unit_name": params.unit.display_name, "year": params.year,
            "month": params.month, "rows": [_overview_row(row) for row in overview.rows],
            "totals": _overview_row(overview.totals, params.unit) if overview.totals else None,
            "definitions": overview.definitions}).data)


router.register("ledger/statements", StatementViewSet, basename="ledger-statement")
