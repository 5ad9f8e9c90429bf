"""Admin of the books: economic organisations, books and their years and months, sub-accounts, opening
balances and vouchers, each in the user's scope (``ScopedAdminMixin``) with township and village filters.

Books, years and sub-accounts are created through the services (a book opens with its first year
and twelve months). Months are closed and re-opened by the actions of their list, which call the
services (re-opening asks its reason in the action bar); their audit trail is read-only.
Vouchers are read-only here: a draft is entered on its web page (linked from the voucher), a
posted one has no change and no delete permission at all; a draft may be deleted (``voucher_delete``).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    Book,
    BookYear,
    Chart,
    EconomicOrganisation,
    OpeningBalance,
    Period,
    PeriodEvent,
    SubAccount,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from collective_economy.rosters.vouchers import IMPORT_PERMISSIONS as VOUCHER_IMPORT_PERMISSIONS
from collective_economy.services.books import book_create, book_year_open, sub_account_create
from collective_economy.services.periods import period_close, period_reopen
from collective_economy.services.vouchers import voucher_delete
from governance.portal.admin import (
    ReadOnlyInline,
    ScopedAdminMixin,
    ServiceWriteAdminMixin,
    TownshipFilter,
    VillageFilter,
    run_each,
)
from governance.rosters.admin import RosterAdminMixin


class ReadOnlyAdminMixin:
    """Rows written by the services alone: listed and shown, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Economic organisations -----------------------------------------------------------------


@admin.register(EconomicOrganisation)
class EconomicOrganisationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The villages' collective economic organisations; the credit code is checked (GB 32100)."""

    list_display = ("name", "village", "credit_code", "legal_representative", "registered_on", "party_led")
    list_select_related = ("village",)
    list_filter = ("party_led", TownshipFilter, VillageFilter)
    search_fields = ("name", "credit_code", "legal_representative")
    autocomplete_fields = ("village",)


# --- Books and years ------------------------------------------------------------------------


class BookCreateForm(forms.ModelForm):
    chart = forms.ModelChoiceField(label=_("chart of accounts"), queryset=Chart.objects.all(),
                                   help_text=_("The chart the first year is kept under."))
    year = forms.IntegerField(label=_("first year"), min_value=1990, max_value=2100)

    class Meta:
        model = Book
        fields = ["village", "organisation", "name", "bookkeepers", "separate_review"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = _("Left blank: the organisation's name.")

    def clean(self):
        cleaned = super().clean()
        village, organisation = cleaned.get("village"), cleaned.get("organisation")
        if village and organisation and organisation.village_id != village.pk:
            self.add_error("organisation", _("The economic organisation belongs to another village."))
        return cleaned


class BookYearInline(ReadOnlyInline):
    model = BookYear
    fields = ("year", "chart", "closed", "closed_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("chart")


@admin.register(Book)
class BookAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The villages' books (账套). A new one opens with its first year and twelve months (``book_create``)."""

    bulk_delete = False
    list_display = ("name", "village", "organisation", "separate_review", "created_at")
    list_select_related = ("village", "organisation")
    list_filter = ("separate_review", TownshipFilter, VillageFilter)
    search_fields = ("name", "village__name", "organisation__name")
    autocomplete_fields = ("village", "organisation", "bookkeepers")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = BookCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("village", "organisation", "name", "chart", "year", "bookkeepers", "separate_review")
        return ("village", "organisation", "name", "bookkeepers", "separate_review", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("village", "created_at")

    def get_inlines(self, request, obj):
        return [BookYearInline] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False  # a book with its years and vouchers is kept

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        saved = book_create(village=data["village"], organisation=data.get("organisation"), name=data.get("name"),
                            chart=data["chart"], year=data["year"], bookkeepers=data.get("bookkeepers") or (),
                            separate_review=data.get("separate_review", True))
        self.became(obj, saved)


class PeriodInline(ReadOnlyInline):
    model = Period
    fields = ("month", "closed", "closed_at", "closed_by")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("closed_by")


class BookYearForm(forms.ModelForm):
    class Meta:
        model = BookYear
        fields = ["book", "year", "chart"]


@admin.register(BookYear)
class BookYearAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """A book's years; a new one opens with its twelve months (``book_year_open``). Years close on the web."""

    bulk_delete = False
    form = BookYearForm
    list_display = ("book", "year", "chart", "closed", "closed_at")
    list_select_related = ("book", "chart")
    list_filter = ("year", "chart", "closed", TownshipFilter, VillageFilter)
    search_fields = ("book__name",)
    autocomplete_fields = ("book",)

    def get_fields(self, request, obj=None):
        return ("book", "year", "chart") if obj is None else ("book", "year", "chart", "closed", "closed_at",
                                                              "closed_by")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request, obj):
        return [PeriodInline] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is edited on an existing year
        self.became(obj, book_year_open(book=obj.book, year=obj.year, chart=obj.chart))


# --- Months ---------------------------------------------------------------------------------


class PeriodActionForm(helpers.ActionForm):
    reason = forms.CharField(label=_("reason (to re-open)"), required=False, max_length=200)


class PeriodEventInline(ReadOnlyInline):
    model = PeriodEvent
    fields = ("at", "action", "reason", "user")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Period)
class PeriodAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The books' months: closed (结账) and re-opened (反结账, with the reason) by the list's actions."""

    list_display = ("book", "year", "month", "closed", "closed_at", "closed_by")
    list_select_related = ("book_year__book", "closed_by")
    list_filter = ("closed", "book_year__year", "month", TownshipFilter, VillageFilter)
    search_fields = ("book_year__book__name",)
    fields = ("book", "year", "month", "closed", "closed_at", "closed_by")
    readonly_fields = fields
    inlines = [PeriodEventInline]
    action_form = PeriodActionForm
    actions = ["close_selected", "reopen_selected"]

    @admin.display(description=_("book"), ordering="book_year__book__name")
    def book(self, period):
        return period.book_year.book

    @admin.display(description=_("year"), ordering="book_year__year")
    def year(self, period):
        return period.book_year.year

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The actions need "change"; a month itself is never edited in a form.
        return obj is None and super().has_change_permission(request)

    @admin.action(description=_("Close the selected months (结账)"), permissions=["change"])
    def close_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("book_year", "month"),
                 lambda period: period_close(period=period, user=request.user),
                 lambda n: ngettext("%(n)d month closed.", "%(n)d months closed.", n) % {"n": n})

    @admin.action(description=_("Re-open the selected months (反结账; say why)"), permissions=["change"])
    def reopen_selected(self, request, queryset):
        reason = request.POST.get("reason", "")
        run_each(self, request, queryset.order_by("book_year", "-month"),
                 lambda period: period_reopen(period=period, user=request.user, reason=reason),
                 lambda n: ngettext("%(n)d month re-opened.", "%(n)d months re-opened.", n) % {"n": n})


@admin.register(PeriodEvent)
class PeriodEventAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The months' audit trail: closed, re-opened and why, by whom and when."""

    list_display = ("period", "action", "reason", "user", "at")
    list_select_related = ("period__book_year__book", "user")
    list_filter = ("action", TownshipFilter, VillageFilter)
    search_fields = ("reason", "period__book_year__book__name")
    date_hierarchy = "at"

    @admin.display(description=_("accounting period"))
    def period(self, event):
        return f"{event.period.book_year.book} {event.period}"


# --- Sub-accounts and opening balances ------------------------------------------------------


class SubAccountForm(forms.ModelForm):
    class Meta:
        model = SubAccount
        fields = ["book", "account", "code", "name", "is_active"]

    def clean(self):
        cleaned = super().clean()
        book, account = cleaned.get("book"), cleaned.get("account")
        if self.instance.pk is None and book and account and not book.years.filter(chart=account.chart_id).exists():
            self.add_error("account", _("The account is not in a chart the book is kept under."))
        return cleaned


@admin.register(SubAccount)
class SubAccountAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The books' detail accounts (明细科目). Created through ``sub_account_create``; later only renamed or
    put out of use."""

    bulk_delete = False
    form = SubAccountForm
    list_display = ("code", "name", "account", "book", "is_active")
    list_select_related = ("account", "book")
    list_filter = ("is_active", TownshipFilter, VillageFilter)
    search_fields = ("code", "name", "book__name")
    autocomplete_fields = ("book", "account")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("book", "account", "code")

    def has_delete_permission(self, request, obj=None):
        return False  # lines may point at it: put it out of use instead

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        self.became(obj, sub_account_create(book=obj.book, account=obj.account, code=obj.code, name=obj.name))


@admin.register(OpeningBalance)
class OpeningBalanceAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    """A year's opening balances: carried from the closed year or imported (下载模板 / 导入, moving a book off
    its old software), never typed here."""

    roster_kind = "opening_balances"

    def may_import_roster(self, request) -> bool:
        # Rows are never added one by one here; the import replaces a year's balances through the service.
        return request.user.has_perms(("collective_economy.add_openingbalance",
                                       "collective_economy.change_openingbalance"))

    list_display = ("book_year", "account", "sub_account", "debit", "credit")
    list_select_related = ("book_year__book", "account", "sub_account__account")
    list_filter = ("book_year__year", TownshipFilter, VillageFilter)
    search_fields = ("book_year__book__name", "account__code", "account__name")


# --- Vouchers -------------------------------------------------------------------------------


class VoucherLineInline(ReadOnlyInline):
    model = VoucherLine
    fields = ("position", "summary", "account", "sub_account", "debit", "credit")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "sub_account__account")


@admin.register(Voucher)
class VoucherAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Vouchers, read-only: entered, reviewed and posted on their web page (linked from each). A posted
    voucher is never changed or deleted; a draft may be deleted (``voucher_delete``)."""

    bulk_delete = False
    list_display = ("display_number", "book", "date", "summary", "debit_total", "status", "kind", "prepared_by")
    list_select_related = ("book", "prepared_by")
    list_filter = ("status", "kind", "book_year__year", "month", TownshipFilter, VillageFilter)
    search_fields = ("summary", "book__name")
    date_hierarchy = "date"
    fields = ("entry_page", "book", "book_year", "month", "date", "number", "status", "kind", "reverses",
              "attachments", "summary", "debit_total", "credit_total", "prepared_by", "prepared_at", "reviewed_by",
              "reviewed_at", "posted_by", "posted_at")
    readonly_fields = fields
    inlines = [VoucherLineInline]

    @admin.display(description=_("number"), ordering="number")
    def display_number(self, voucher):
        return voucher.display_number

    @admin.display(description=_("entry page"))
    def entry_page(self, voucher):
        try:
            url = reverse("collective_economy:voucher-detail", args=[voucher.pk])
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}">{}</a>', url, gettext("Open the voucher in the books"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # entered and changed on the web entry page, through the services

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != VoucherStatus.DRAFT:
            return False  # a posted voucher is reversed, never deleted
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        voucher_delete(voucher=obj, user=request.user)


@admin.register(VoucherLine)
class VoucherLineAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    """Voucher lines (凭证分录), read-only: the journal, and where a year of vouchers from the old
    bookkeeping software is imported (the import is the importing township officer's review)."""

    roster_kind = "vouchers"
    list_display = ("voucher", "voucher_date", "summary", "account", "sub_account", "debit", "credit")
    list_select_related = ("voucher", "account", "sub_account__account")
    list_filter = ("voucher__status", "voucher__book_year__year", "voucher__month", TownshipFilter, VillageFilter)
    search_fields = ("summary", "account__code", "account__name", "voucher__book__name")

    @admin.display(description=_("date"), ordering="voucher__date")
    def voucher_date(self, line):
        return line.voucher.date

    def may_import_roster(self, request) -> bool:
        return request.user.has_perms(VOUCHER_IMPORT_PERMISSIONS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        # Never here; but a draft voucher deleted on its own page takes its lines with it, and the admin
        # asks each line's admin whether that may be.
        return (obj is not None and obj.voucher.status == VoucherStatus.DRAFT
                and request.user.has_perm("collective_economy.delete_voucher"))

