"""Statement pages: trial balance, ledgers, balance sheet, income statement and the township side by side.

Every page takes ``unit`` (an OrgUnit pk: a village means its book; a township or county the sum of
its books kept under one chart), ``year``, ``month`` (the period's last month, by default the
latest with a posted voucher), ``month_from``, ``chart`` (when two charts are used that year),
``account`` on the ledgers, ``export=xlsx`` and ``print=1``. A unit outside the user's scope is a
404; a malformed parameter is shown on the page (status 400), never a 500.
"""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.generic import TemplateView

from collective_economy import exports
from collective_economy.models import AccountRole, BookYear, ChartAccount, SubAccount
from collective_economy.selectors import ledgers
from collective_economy.selectors import overview as ov
from collective_economy.selectors import statements as st
from governance.models import ExportLog, Level, OrgUnit
from governance.portal.guard import parse_id, parse_number
from governance.rosters.export import export_filters
from governance.rosters.xlsx import xlsx_response

STATEMENT_LEVELS = (Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)


def months() -> list[tuple[str, str]]:
    return [(str(m), pgettext("month choice", "Month %(month)s") % {"month": m}) for m in range(1, 13)]
DETAIL_PAGE = 100


class ParameterError(Exception):
    """A malformed parameter: the page says which and why (400)."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def _int(request, name: str, low: int, high: int, message) -> int | None:
    value = (request.GET.get(name) or "").strip()
    if not value:
        return None
    number = parse_number(value, max_digits=len(str(high)))
    if number is None or not low <= number <= high:
        raise ParameterError({name: [str(message)]})
    return number


def statement_unit(request) -> OrgUnit:
    """The ``unit`` asked for, inside the user's scope (404 outside it); by default the user's own unit."""
    units = OrgUnit.objects.visible_to(request.user).filter(level__in=STATEMENT_LEVELS)
    value = (request.GET.get("unit") or "").strip()
    if value:
        pk = parse_id(value)
        if pk is None:
            raise ParameterError({"unit": [_("Choose a village, township or county from the list.")]})
        unit = units.filter(pk=pk).first()
        if unit is None:
            raise Http404(_("No such unit in your area."))
        return unit
    home = request.user.home_unit
    if home is not None and home.level in STATEMENT_LEVELS:
        return home
    if home is not None:  # a grid worker: his village
        unit = units.filter(level=Level.VILLAGE, tree_id=home.tree_id, lft__lte=home.lft, rght__gte=home.rght).first()
    else:
        unit = units.order_by("tree_id", "lft").first()
    if unit is None:
        raise Http404(_("No such unit in your area."))
    return unit


class StatementParams:
    """The parameters every statement page and API action reads (``from_query`` checks them)."""

    def __init__(self, *, user, unit, year, month, month_from, chart_code, scope, account_code=""):
        self.user, self.unit, self.year, self.month, self.month_from = user, unit, year, month, month_from
        self.chart_code, self.scope, self.account_code = chart_code, scope, account_code

    @classmethod
    def from_query(cls, request, *, monthly: bool = True) -> "StatementParams":
        unit = statement_unit(request)
        year = _int(request, "year", 1990, 2100, _("Enter a year between 1990 and 2100."))
        month = _int(request, "month", 1, 12, _("Enter a month from 1 to 12."))
        month_from = _int(request, "month_from", 1, 12, _("Enter a month from 1 to 12."))
        if year is None:
            year = st.latest_year(request.user, unit) or timezone.localdate().year
        chart_code = (request.GET.get("chart") or "").strip()[:20]
        try:
            scope = st.statement_scope(request.user, unit, year, chart_code)
        except ValidationError as error:
            raise ParameterError(error.message_dict) from None
        if month is None:
            month = st.latest_month(scope.book_years)
        if month_from is None:
            month_from = month if monthly else 1
        if month_from > month:
            raise ParameterError({"month_from": [str(st.BAD_MONTHS)]})
        return cls(user=request.user, unit=unit, year=year, month=month, month_from=month_from,
                   chart_code=scope.chart.code if scope.chart else "", scope=scope,
                   account_code=(request.GET.get("account") or "").strip()[:12])

    def query(self, **changes) -> str:
        values = {"unit": self.unit.pk, "year": self.year, "month_from": self.month_from, "month": self.month}
        if len(self.scope.charts) > 1:
            values["chart"] = self.chart_code
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value not in (None, "")})

    @property
    def period_label(self) -> str:
        if self.month_from == self.month:
            return _("%(year)s-%(month)02d") % {"year": self.year, "month": self.month}
        return _("%(year)s-%(first)02d to %(year)s-%(month)02d") % {
            "year": self.year, "first": self.month_from, "month": self.month}


class StatementFilterForm(forms.Form):
    """The filter bar: unit (within scope), year, months, chart when two are used, account on ledgers."""

    unit = forms.ChoiceField(label=gettext_lazy("Unit"), required=False)
    year = forms.ChoiceField(label=gettext_lazy("Year"), required=False)
    month_from = forms.ChoiceField(label=gettext_lazy("From month"), required=False)
    month = forms.ChoiceField(label=gettext_lazy("To month"), required=False)
    chart = forms.ChoiceField(label=gettext_lazy("Chart of accounts"), required=False)
    account = forms.ChoiceField(label=gettext_lazy("Account"), required=False)
    unit_fields: list = []
    is_filtered = False

    def __init__(self, params: StatementParams, *, with_months=True, with_account=False, with_from=True):
        data = {"unit": params.unit.pk, "year": params.year, "month_from": params.month_from,
                "month": params.month, "chart": params.chart_code, "account": params.account_code}
        super().__init__(data)
        user = params.user
        for name in ("month_from", "month"):
            self.fields[name].choices = months()
        units = (OrgUnit.objects.visible_to(user)
                 .filter(Q(level__in=(Level.COUNTY, Level.TOWNSHIP)) | Q(level=Level.VILLAGE, books__isnull=False)
                         | Q(pk=params.unit.pk))
                 .distinct().order_by("tree_id", "lft"))
        indent = {Level.COUNTY: "", Level.TOWNSHIP: "　", Level.VILLAGE: "　　"}
        self.fields["unit"].choices = [(u.pk, indent.get(u.level, "") + u.display_name) for u in units]
        years = set(BookYear.objects.visible_to(user).values_list("year", flat=True).distinct()) | {params.year}
        self.fields["year"].choices = [(y, str(y)) for y in sorted(years, reverse=True)]
        if len(params.scope.charts) > 1:
            self.fields["chart"].choices = [(c.code, str(c)) for c in params.scope.charts]
        else:
            del self.fields["chart"]
        if not with_months:
            del self.fields["month_from"]
        elif not with_from:
            del self.fields["month_from"]
        if with_account and params.scope.chart is not None:
            choices = [(a.code, f"{a.code} {a.name}") for a in ChartAccount.objects.filter(
                chart=params.scope.chart, is_active=True).order_by("code")]
            if params.scope.single_book:
                subs = SubAccount.objects.filter(book__years__pk=params.scope.book_years[0],
                                                 account__chart=params.scope.chart).order_by("code")
                choices += [(s.code, f"　{s.code} {s.name}") for s in subs]
                choices.sort(key=lambda choice: choice[0])
            self.fields["account"].choices = choices
        else:
            del self.fields["account"]


class StatementView(LoginRequiredMixin, TemplateView):
    """What every statement page shares: parameters, filter bar, print layout, Excel file, empty state."""

    template_name = "collective_economy/statements/statement.html"
    print_template = "collective_economy/statements/print.html"
    title = ""
    url_name = ""
    with_account = False
    with_from = True
    monthly = True
    export_kind = ""

    def get(self, request, *args, **kwargs):
        try:
            self.params = StatementParams.from_query(request, monthly=self.monthly)
            self.extra = self.compute()
        except ParameterError as error:
            return self.render_errors(error.errors)
        except ValidationError as error:
            return self.render_errors(error.message_dict if hasattr(error, "error_dict") else
                                      {"unit": error.messages})
        if request.GET.get("export") == "xlsx" and self.extra.get("table") is not None:
            return self.export()
        if request.GET.get("print") == "1":
            self.template_name = self.print_template
        return self.render_to_response(self.get_context_data())

    def compute(self) -> dict:
        raise NotImplementedError

    def render_errors(self, errors: dict):
        context = {"title": self.title, "errors": [message for messages in errors.values() for message in messages],
                   "url_name": self.url_name}
        return self.render_to_response(context, status=400)

    def heading(self) -> list[str]:
        scope, params = self.params.scope, self.params
        lines = []
        if scope.organisation is not None:
            lines.append(_("Organisation: %(name)s (unified social credit code %(code)s)") % {
                "name": scope.organisation.name, "code": scope.organisation.credit_code})
        else:
            lines.append(_("%(unit)s: the sum of %(n)s books") % {"unit": params.unit.display_name,
                                                                 "n": scope.books})
        chart = f" · {scope.chart}" if scope.chart else ""
        lines.append(_("Period: %(period)s") % {"period": params.period_label} + chart + " · " + _("Unit: yuan"))
        return lines

    def notes(self) -> list[str]:
        return []

    def export(self):
        table = self.extra["table"]
        content = exports.table_xlsx(table, heading=self.heading(), notes=self.notes())
        ExportLog.objects.create(user=self.request.user, kind=f"ledger-{self.url_name}", rows=len(table.rows),
                                 with_personal_data=False, filters=export_filters(self.request))
        name = f"{self.url_name}-{self.params.unit.code}-{self.params.year}{self.params.month:02d}.xlsx"
        return xlsx_response(content, name)

    def link(self, url_name: str, **changes) -> str:
        return reverse(f"collective_economy:{url_name}") + "?" + self.params.query(**changes)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.params
        form = StatementFilterForm(params, with_account=self.with_account, with_from=self.with_from)
        context.update({
            "title": self.title, "params": params, "scope": params.scope, "filter_form": form,
            "heading": self.heading(), "notes": self.notes(), "url_name": self.url_name,
            "today": timezone.localdate(),
            "print_url": self.request.path + "?" + self._query(print="1"),
            "export_url": self.request.path + "?" + self._query(export="xlsx"),
            "nav": [(name, label, self.link(name)) for name, label in NAV],
            **self.extra,
        })
        return context

    def _query(self, **extra) -> str:
        query = self.request.GET.copy()
        query.pop("page", None)
        for key, value in extra.items():
            query[key] = value
        return query.urlencode()


NAV = [("trial-balance", gettext_lazy("Trial balance")), ("balance-sheet", gettext_lazy("Balance sheet")),
       ("income-statement", gettext_lazy("Income statement")), ("general-ledger", gettext_lazy("General ledger")),
       ("detail-ledger", gettext_lazy("Detail ledger")), ("township-overview", gettext_lazy("Villages side by side"))]


class TrialBalanceView(StatementView):
    title = gettext_lazy("Trial balance")
    url_name = "trial-balance"

    def compute(self):
        params = self.params
        subs = self.request.GET.get("subs") == "1"
        trial = st.trial_balance(params.scope, month_from=params.month_from, month=params.month, sub_accounts=subs)

        def link(url_name, code):
            return self.link(url_name, account=code)

        return {"trial": trial, "table": exports.trial_balance_table(trial, link), "balanced": trial.balanced,
                "subs": subs, "subs_url": self.request.path + "?" + self._query(subs="" if subs else "1")}


class BalanceSheetView(StatementView):
    title = gettext_lazy("Balance sheet")
    url_name = "balance-sheet"
    with_from = False

    def compute(self):
        sheet = st.balance_sheet(self.params.scope, month=self.params.month)
        return {"sheet": sheet, "table": exports.balance_sheet_table(sheet),
                "lines_table": exports.statement_lines_table(sheet), "balanced": sheet.balanced}

    def heading(self):
        lines = super().heading()
        lines[1] = lines[1].replace(self.params.period_label, _("%(year)s-%(month)02d, end of the month") % {
            "year": self.params.year, "month": self.params.month})
        return lines


class IncomeStatementView(StatementView):
    title = gettext_lazy("Income and income distribution statement")
    url_name = "income-statement"

    def compute(self):
        result = st.income_statement(self.params.scope, month_from=self.params.month_from, month=self.params.month)
        income = result.operating_income
        return {"result": result, "table": exports.statement_lines_table(result), "operating_income": income,
                "operating_income_period_text": exports.yuan(income.period),
                "operating_income_ytd_text": exports.yuan(income.year_to_date)}

    def notes(self):
        income = self.extra["operating_income"] if hasattr(self, "extra") else None
        if income is None or not income.definition:
            return []
        return [_("Collective operating income: %(period)s yuan this period, %(ytd)s yuan this year "
                  "(%(definition)s).") % {"period": exports.yuan(income.period),
                                          "ytd": exports.yuan(income.year_to_date),
                                          "definition": income.definition}]


class LedgerView(StatementView):
    with_account = True

    def account(self):
        scope = self.params.scope
        code = self.params.account_code
        if not code and scope.chart is not None:
            found = (ChartAccount.objects.filter(chart=scope.chart, role=AccountRole.CASH).first()
                     or ChartAccount.objects.filter(chart=scope.chart).order_by("code").first())
            code = found.code if found else ""
            self.params.account_code = code
        if scope.is_empty:
            return None, None
        return ledgers.find_account(scope, code)


class GeneralLedgerView(LedgerView):
    title = gettext_lazy("General ledger")
    url_name = "general-ledger"
    monthly = False

    def compute(self):
        account, sub = self.account()
        if account is None:
            return {"table": None}
        if sub is not None:
            raise ParameterError({"account": [_("The general ledger is kept for first-level accounts: open the "
                                                "detail ledger of a sub-account.")]})
        ledger = ledgers.general_ledger(self.params.scope, account, month_from=self.params.month_from,
                                   month=self.params.month)
        return {"ledger": ledger, "table": exports.general_ledger_table(ledger), "account": account,
                "detail_url": self.link("detail-ledger", account=account.code)}

    def heading(self):
        lines = super().heading()
        account = self.extra.get("account") if hasattr(self, "extra") else None
        if account is not None:
            lines.insert(1, _("Account: %(account)s") % {"account": f"{account.code} {account.name}"})
        return lines


class DetailLedgerView(LedgerView):
    title = gettext_lazy("Detail ledger")
    url_name = "detail-ledger"
    monthly = False

    def compute(self):
        account, sub = self.account()
        if account is None:
            return {"table": None}
        request = self.request
        whole = request.GET.get("export") == "xlsx" or request.GET.get("print") == "1"
        page_number = parse_id(parse_number(request.GET.get("page"), max_digits=5)) or 1
        offset = 0 if whole else (page_number - 1) * DETAIL_PAGE
        params = self.params
        ledger = ledgers.detail_ledger(params.scope, account, sub, month_from=params.month_from, month=params.month,
                                  offset=offset, limit=None if whole else DETAIL_PAGE)
        if not whole and offset and offset >= ledger.total_lines:  # past the last page: show the last
            page_number = max(1, (ledger.total_lines + DETAIL_PAGE - 1) // DETAIL_PAGE)
            offset = (page_number - 1) * DETAIL_PAGE
            ledger = ledgers.detail_ledger(params.scope, account, sub, month_from=params.month_from,
                                      month=params.month, offset=offset, limit=DETAIL_PAGE)
        page = Paginator(range(ledger.total_lines), DETAIL_PAGE).get_page(page_number) if not whole else None

        def voucher_link(pk):
            return reverse("collective_economy:voucher-detail", args=[pk])

        try:
            reverse("collective_economy:voucher-detail", args=[1])
        except Exception:  # noqa: BLE001  (the voucher pages are built by another part)
            voucher_link = None
        table = exports.detail_ledger_table(ledger, voucher_link, with_village=not params.scope.single_book)
        return {"ledger": ledger, "table": table, "account": account, "sub_account": sub, "page_obj": page,
                "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
                if page else []}

    def heading(self):
        lines = super().heading()
        extra = getattr(self, "extra", {})
        account, sub = extra.get("account"), extra.get("sub_account")
        if account is not None:
            name = f"{sub.code} {account.name}-{sub.name}" if sub else f"{account.code} {account.name}"
            lines.insert(1, _("Account: %(account)s") % {"account": name})
        return lines


class TownshipOverviewView(StatementView):
    title = gettext_lazy("Villages side by side")
    url_name = "township-overview"
    with_from = False

    def compute(self):
        params = self.params
        overview = ov.township_overview(self.request.user, params.unit, params.year, month=params.month)

        def link(village_pk):
            return self.link("income-statement", unit=village_pk, month_from=1, chart="")

        return {"overview": overview, "table": exports.overview_table(overview, link)}

    def heading(self):
        return [_("%(unit)s, %(year)s-%(month)02d") % {"unit": self.params.unit.display_name,
                                                       "year": self.params.year, "month": self.params.month},
                _("Unit: yuan")]

    def notes(self):
        overview = getattr(self, "extra", {}).get("overview")
        if overview is None:
            return []
        return [_("Collective operating income under the %(chart)s chart: %(definition)s.") % {
            "chart": code, "definition": definition} for code, definition in overview.definitions.items()]


urlpatterns = [
    path("statements/trial-balance/", TrialBalanceView.as_view(), name="trial-balance"),
    path("statements/balance-sheet/", BalanceSheetView.as_view(), name="balance-sheet"),
    path("statements/income-statement/", IncomeStatementView.as_view(), name="income-statement"),
    path("statements/general-ledger/", GeneralLedgerView.as_view(), name="general-ledger"),
    path("statements/detail-ledger/", DetailLedgerView.as_view(), name="detail-ledger"),
    path("statements/township-overview/", TownshipOverviewView.as_view(), name="township-overview"),
]
