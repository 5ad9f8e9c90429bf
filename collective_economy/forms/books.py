"""Forms of the ledger's pages: setting up a book, the voucher list's filters, entering a voucher (its
lines typed as rows), a month's re-opening, a new sub-account; and money as bookkeepers write it
(yuan with thousands separators, and in Chinese capital numerals, 大写金额)."""

import datetime
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collective_economy.models import (
    Book,
    BookYear,
    Chart,
    ChartAccount,
    Decision,
    EconomicOrganisation,
    SubAccount,
    VoucherKind,
    VoucherStatus,
)
from collective_economy.services.vouchers import LineInput
from governance.models import Level, OrgUnit
from governance.portal.forms import DateInput, PortalFormMixin
from governance.portal.guard import parse_id

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
# Rows the entry form shows at least (bookkeepers expect a few empty rows ready to type into).
MIN_ROWS = 4
MAX_ROWS = 200


# --- Money as bookkeepers write it --------------------------------------------------------------


def yuan(value) -> str:
    """12345.6 → "12,345.60" (blank for nothing)."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _group_words(number: int) -> str:
    """0-9999 in capitals, with 零 for missing places inside (1005 → 壹仟零伍)."""
    words, zero = "", False
    for place in range(3, -1, -1):
        digit = number // 10**place % 10
        if digit == 0:
            zero = bool(words)
            continue
        if zero:
            words += "零"
            zero = False
        words += _DIGITS[digit] + _SMALL_UNITS[place]
    return words


def capital_yuan(value) -> str:
    """An amount in Chinese capital numerals, as written on a voucher (大写金额).

    12000 → 壹万贰仟元整; 1005.30 → 壹仟零伍元叁角整; 0.05 → 伍分; 100000.07 → 壹拾万元零柒分. As the
    bookkeeping rules ask, 整 closes an amount that ends at 元 or 角, never one with 分. A negative
    amount starts with 负.
    """
    amount = Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "负" if amount < 0 else ""
    amount = abs(amount)
    whole = int(amount)
    jiao, fen = divmod(int((amount - whole) * 100), 10)
    if not whole and not jiao and not fen:
        return "零元整"
    words = ""
    groups = []
    rest = whole
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    if len(groups) > len(_GROUP_UNITS):
        raise ValueError("amount too large for capital numerals")
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if not group:
            continue
        # A missing place between two groups is read 零 (壹万零伍佰, 壹亿零壹万).
        if words and (group < 1000 or not groups[index + 1]):
            words += "零"
        words += _group_words(group) + _GROUP_UNITS[index]
    if words:
        words += "元"
    if jiao:
        if whole and whole % 10 == 0:
            words += "零"
        words += _DIGITS[jiao] + "角"
    if fen:
        if whole and not jiao:
            words += "零"
        words += _DIGITS[fen] + "分"
    else:
        words += "整"
    return sign + words


def parse_yuan(text: str) -> str:
    """What a bookkeeper typed as an amount, without the separators and spaces; "" for nothing."""
    return re.sub(r"[,，\s¥￥]", "", text or "")


# --- Books -------------------------------------------------------------------------------------


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class BookCreateForm(PortalFormMixin, forms.Form):
    """A village's book (建账): the economic organisation it is kept for, the first year and its chart."""

    village = VillageChoiceField(label=_("Village/community"), queryset=OrgUnit.objects.none(),
                                 empty_label=_("— choose —"))
    name = forms.CharField(label=_("Economic organisation"), max_length=100,
                           help_text=_("As registered, e.g. 德A村股份经济合作社."))
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=40)
    registered_on = forms.DateField(label=_("Registration date"), required=False, widget=DateInput())
    party_led = forms.BooleanField(label=_("Led by the village party organisation"), required=False)
    year = forms.IntegerField(label=_("First year"), min_value=1990, max_value=2100)
    chart = forms.ModelChoiceField(label=_("Chart of accounts"), queryset=Chart.objects.all(), empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Villages of the user's area that have no book yet.
        self.fields["village"].queryset = (OrgUnit.objects.visible_to(user)
                                           .filter(level=Level.VILLAGE, is_active=True, books__isnull=True)
                                           .order_by("code"))
        today = timezone.localdate()
        self.fields["year"].initial = today.year
        from collective_economy.services.periods import chart_in_force

        try:
            self.fields["chart"].initial = chart_in_force(today).pk
        except ValidationError:
            pass

    def organisation(self) -> EconomicOrganisation:
        """The organisation row the book is kept for (existing for the village, or a new one, checked)."""
        data = self.cleaned_data
        village = data["village"]
        organisation = EconomicOrganisation.objects.filter(village=village).first() or EconomicOrganisation(
            village=village)
        organisation.name = data["name"]
        organisation.credit_code = data["credit_code"].strip().upper()
        organisation.legal_representative = data["legal_representative"]
        organisation.registered_on = data.get("registered_on")
        organisation.party_led = data.get("party_led", False)
        organisation.full_clean()
        return organisation


class YearChoiceForm(forms.Form):
    year = forms.IntegerField(required=False)


class PeriodReopenForm(PortalFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": _("Why is the month re-opened?")}))


# --- Vouchers ----------------------------------------------------------------------------------


MONTHS = [("", _("All months"))] + [(str(m), f"{m}月") for m in range(1, 13)]


class VoucherFilterForm(forms.Form):
    """The voucher list's filters: month, status, kind, words of the summary, an account code."""

    month = forms.ChoiceField(label=_("Month"), required=False, choices=MONTHS)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *VoucherStatus.choices])
    kind = forms.ChoiceField(label=pgettext_lazy("voucher", "Kind"), required=False,
                             choices=[("", _("All kinds")), *VoucherKind.choices])
    account = forms.CharField(label=_("Account"), required=False, max_length=12,
                              widget=forms.TextInput(attrs={"placeholder": _("Code, e.g. 1001")}))
    q = forms.CharField(label=pgettext_lazy("voucher line", "Summary"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Words of the summary")}))

    def filter_queryset(self, queryset):
        if not self.is_bound:
            return queryset
        self.is_valid()
        data = self.cleaned_data
        if data.get("month"):
            queryset = queryset.filter(month=int(data["month"]))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("account"):
            code = data["account"].strip()
            queryset = queryset.filter(Q(lines__account__code__startswith=code)
                                       | Q(lines__sub_account__code__startswith=code)).distinct()
        if data.get("q"):
            text = data["q"].strip()
            queryset = queryset.filter(Q(summary__icontains=text) | Q(lines__summary__icontains=text)).distinct()
        return queryset

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


@dataclass
class Row:
    """A line as typed on the entry form (strings), kept as typed when the form shows again."""

    summary: str = ""
    account: str = ""  # "a<id>" a chart account, "s<id>" a sub-account
    account_text: str = ""
    debit: str = ""
    credit: str = ""
    errors: list = field(default_factory=list)

    @property
    def is_blank(self) -> bool:
        return not any((self.account, self.account_text.strip(), self.debit.strip(), self.credit.strip()))


def account_label(account: ChartAccount, sub: SubAccount | None = None) -> str:
    if sub is not None:
        return f"{sub.code} {account.name}-{sub.name}"
    return f"{account.code} {account.name}"


class DecisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} {obj.title} · {obj.get_state_display()}"


class VoucherForm(PortalFormMixin, forms.Form):
    """The voucher's head (date, attachments, the village decision a payment cites) and its lines, typed as
    rows ``line-<field>`` repeated.

    A line names its account by a picked value (``a12`` a chart account, ``s5`` a sub-account of the
    book) or, without the script, by the code typed at the start of its text: either is looked up in
    the book year's chart and the book's sub-accounts only. An empty summary takes the one above.
    """

    date = forms.DateField(label=_("Date"), widget=DateInput())
    attachments = forms.IntegerField(label=_("Attachments"), min_value=0, max_value=999, initial=0, required=False)
    decision = DecisionChoiceField(
        label=_("Village decision"), queryset=Decision.objects.none(), required=False,
        empty_label=_("— none —"),
        help_text=_("A payment above the county's threshold cites the decision of the village that allowed it."))
    # The lines' errors (the service's "lines" field) are shown above the table.
    lines = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, book: Book, voucher=None, **kwargs):
        if voucher is not None and voucher.decision_id:
            kwargs.setdefault("initial", {}).setdefault("decision", voucher.decision_id)
        super().__init__(*args, **kwargs)
        self.book = book
        self.voucher = voucher
        # The decisions of the book's village, newest first (the service checks the one chosen when posting).
        self.fields["decision"].queryset = (Decision.objects.filter(village=book.village_id)
                                            .order_by("-created_at", "-pk"))
        self.line_inputs: list[LineInput] = []
        self.rows: list[Row] = self._rows_from_data() if self.is_bound else self._rows_from_voucher()
        while len(self.rows) < MIN_ROWS:
            self.rows.append(Row())

    def _rows_from_voucher(self) -> list[Row]:
        if self.voucher is None:
            return []
        return [Row(summary=line.summary,
                    account=f"s{line.sub_account_id}" if line.sub_account_id else f"a{line.account_id}",
                    account_text=account_label(line.account, line.sub_account),
                    debit=f"{line.debit:.2f}" if line.debit else "", credit=f"{line.credit:.2f}" if line.credit else "")
                for line in self.voucher.lines.select_related("account", "sub_account")]

    def _rows_from_data(self) -> list[Row]:
        data = self.data
        columns = [data.getlist(f"line-{name}") for name in ("summary", "account", "account_text", "debit", "credit")]
        count = min(max((len(c) for c in columns), default=0), MAX_ROWS)
        rows = []
        for index in range(count):
            values = [c[index] if index < len(c) else "" for c in columns]
            rows.append(Row(*[v[:100] for v in values]))
        return rows

    def _book_year(self, date: datetime.date) -> BookYear | None:
        return BookYear.objects.filter(book=self.book, year=date.year).select_related("chart").first()

    def _resolve(self, row: Row, book_year: BookYear) -> tuple[ChartAccount | None, SubAccount | None]:
        value = row.account.strip()
        if value[:1] in ("a", "s") and (pk := parse_id(value[1:])) is not None:
            if value[0] == "a":
                account = ChartAccount.objects.filter(pk=pk, chart=book_year.chart).first()
                if account is not None:
                    return account, None
            else:
                sub = (SubAccount.objects.filter(pk=pk, book=self.book, account__chart=book_year.chart)
                       .select_related("account").first())
                if sub is not None:
                    return sub.account, sub
        code = (row.account_text.strip().split() or [""])[0]
        if code.isdigit():
            sub = (SubAccount.objects.filter(code=code, book=self.book, account__chart=book_year.chart)
                   .select_related("account").first())
            if sub is not None:
                return sub.account, sub
            account = ChartAccount.objects.filter(code=code, chart=book_year.chart).first()
            if account is not None:
                return account, None
        return None, None

    def clean(self):
        cleaned = super().clean()
        date = cleaned.get("date")
        rows = [row for row in self.rows if not row.is_blank]
        if date is None:
            return cleaned
        book_year = self._book_year(date)
        if book_year is None:
            # The service says it in its words (no such year in the book).
            return cleaned
        errors = []
        summary_above = ""
        for n, row in enumerate(rows, start=1):
            summary = row.summary.strip() or summary_above
            summary_above = summary
            account, sub = self._resolve(row, book_year)
            if account is None:
                errors.append(ValidationError(_("Line %(n)s: choose an account of the chart %(chart)s."),
                                              params={"n": n, "chart": str(book_year.chart)}))
                row.errors.append("account")
                continue
            row.account = f"s{sub.pk}" if sub else f"a{account.pk}"
            row.account_text = account_label(account, sub)
            amounts = []
            for side in ("debit", "credit"):
                text = parse_yuan(getattr(row, side))
                try:
                    amount = Decimal(text) if text else ZERO
                except InvalidOperation:
                    errors.append(ValidationError(_("Line %(n)s: “%(text)s” is not an amount in yuan."),
                                                  params={"n": n, "text": getattr(row, side)}))
                    row.errors.append(side)
                    amount = None
                amounts.append(amount)
            if None in amounts:
                continue
            self.line_inputs.append(LineInput(account=account, sub_account=sub, summary=summary,
                                              debit=amounts[0], credit=amounts[1]))
        if errors:
            raise ValidationError({"lines": errors})
        return cleaned

    def service_arguments(self) -> dict:
        return {"date": self.cleaned_data["date"], "attachments": self.cleaned_data.get("attachments") or 0,
                "lines": self.line_inputs, "decision": self.cleaned_data.get("decision")}

    def totals(self) -> dict:
        """The rows' totals as typed (what the footer shows before the script recounts them)."""
        debit = credit = ZERO
        for row in self.rows:
            for side in ("debit", "credit"):
                try:
                    amount = Decimal(parse_yuan(getattr(row, side)) or "0")
                except InvalidOperation:
                    continue
                if side == "debit":
                    debit += amount
                else:
                    credit += amount
        return {"debit": yuan(debit), "credit": yuan(credit), "difference": yuan(debit - credit),
                "balanced": debit == credit and debit > 0}


class SubAccountForm(PortalFormMixin, forms.Form):
    """A new detail account (明细科目) of the book under a first-level account of the year's chart."""

    account = forms.CharField(label=_("First-level account"), max_length=10,
                              widget=forms.TextInput(attrs={"placeholder": _("Code, e.g. 112")}))
    code = forms.CharField(label=_("Code"), max_length=12,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. 112001")}))
    name = forms.CharField(label=_("Name"), max_length=60)

    def __init__(self, *args, book_year: BookYear, **kwargs):
        super().__init__(*args, **kwargs)
        self.book_year = book_year

    def clean_account(self):
        code = self.cleaned_data["account"].strip().split(" ")[0]
        account = ChartAccount.objects.filter(chart=self.book_year.chart, code=code).first()
        if account is None:
            raise ValidationError(_("The chart %(chart)s has no account %(code)s."),
                                  params={"chart": str(self.book_year.chart), "code": code})
        return account
