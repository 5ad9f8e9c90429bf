"""Vouchers: the book's list of vouchers, entering and correcting one, its steps (submit, review,
post, reverse) and its print, and the account type-ahead of the entry form.

As on the books' pages (``books``): every read is limited to the user's area, every write goes
through ``collective_economy.services`` as the user, and a refusal comes back on the page.
"""

import calendar
import datetime
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collective_economy.forms import (
    SubAccountForm,
    VoucherFilterForm,
    VoucherForm,
    account_label,
    capital_yuan,
    yuan,
)
from collective_economy.models import (
    Book,
    BookYear,
    ChartAccount,
    Period,
    SubAccount,
    Voucher,
    VoucherKind,
    VoucherStatus,
)
from collective_economy.services import books as book_services
from collective_economy.services import decisions as decision_services
from collective_economy.services import vouchers as voucher_services
from collective_economy.views.books import P, refused, scoped_book
from governance.portal.guard import parse_number
from governance.portal.views import ExportMixin, ScopedDetailView, ScopedListView, require_perm, safe_next
from governance.rosters.xlsx import XlsxWriter, xlsx_response

# Accounts the type-ahead answers with: typing more narrows them.
SEARCH_SIZE = 20
VOUCHER_JOINS = ("prepared_by", "reviewed_by", "posted_by", "book_year", "reverses")

# --- Vouchers: the list ------------------------------------------------------------------------


class ScopedVoucherFilterForm(VoucherFilterForm):
    def __init__(self, data=None, *, user=None, **kwargs):
        super().__init__(data, **kwargs)


def decorate_vouchers(vouchers) -> None:
    for voucher in vouchers:
        voucher.debit_shown = yuan(voucher.debit_total)
        voucher.credit_shown = yuan(voucher.credit_total)


class VoucherListView(ExportMixin, ScopedListView):
    """A book's vouchers, filtered and sorted; ``?export=xlsx`` answers the filtered list as a workbook."""

    model = Voucher
    filter_form_class = ScopedVoucherFilterForm
    template_name = "collective_economy/books/voucher_list.html"
    sort_fields = {"date": "date", "number": "number", "month": "month", "amount": "debit_total", "status": "status"}
    default_sort = "-date"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.book = scoped_book(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def list_queryset(self, queryset):
        return queryset.filter(book=self.book).select_related(*VOUCHER_JOINS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decorate_vouchers(context["object_list"])
        context["book"] = self.book
        context["may_enter"] = self.request.user.has_perm(P + "add_voucher")
        return context

    def export(self):
        buffer = io.BytesIO()
        writer = XlsxWriter(buffer)
        headers = [_("Date"), pgettext("voucher", "Number"), pgettext("voucher line", "Summary"), _("Status"),
                   pgettext("voucher", "Kind"), _("Attachments"), _("Debit total"),
                   _("Credit total"), _("Prepared by"), _("Reviewed by"), _("Posted by")]
        with writer.sheet(_("Vouchers"), [str(h) for h in headers],
                          widths=[12, 10, 36, 10, 12, 8, 16, 16, 12, 12, 12]) as sheet:
            for voucher in self.get_queryset().iterator(chunk_size=2000):
                sheet.append([voucher.date, voucher.display_number if voucher.number else "", voucher.summary,
                              voucher.get_status_display(), voucher.get_kind_display(), voucher.attachments,
                              voucher.debit_total, voucher.credit_total, _person(voucher.prepared_by),
                              _person(voucher.reviewed_by), _person(voucher.posted_by)])
        writer.close()
        return xlsx_response(buffer.getvalue(), f"vouchers-{self.book.village.code}.xlsx")


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


# --- Vouchers: entering one --------------------------------------------------------------------


def _default_date(book: Book):
    """Today, or the date of the book's last voucher when that month is still open (a month is entered
    after its end: the next voucher is most likely of the same month)."""
    today = timezone.localdate()
    last = (Voucher.objects.filter(book=book, kind=VoucherKind.NORMAL).order_by("-pk")
            .values("date", "book_year__closed", "month", "book_year").first())
    if last is None or last["book_year__closed"]:
        return today
    if Period.objects.filter(book_year=last["book_year"], month=last["month"], closed=False).exists():
        return last["date"]
    return today


def _entry_page(request, book: Book, voucher: Voucher | None):
    form = VoucherForm(request.POST or None, book=book, voucher=voucher,
                       initial={"date": voucher.date if voucher else _default_date(book),
                                "attachments": voucher.attachments if voucher else 0})
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "save")
        try:
            with transaction.atomic():
                saved = voucher_services.voucher_save(book=book, user=request.user, voucher=voucher,
                                                      **form.service_arguments())
                if action == "submit":
                    saved = voucher_services.voucher_submit(voucher=saved, user=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            if action == "submit":
                messages.success(request, _("Voucher saved and sent for review."))
            else:
                messages.success(request, _("Voucher saved as a draft."))
            if action == "new":
                return redirect("collective_economy:voucher-create", pk=book.pk)
            return redirect("collective_economy:voucher-detail", pk=saved.pk)
    book_year = _entry_year(book, form)
    return render(request, "collective_economy/books/voucher_form.html", {
        "book": book, "voucher": voucher, "form": form, "rows": form.rows, "totals": form.totals(),
        "book_year": book_year, "payment_threshold": yuan(decision_services.payment_threshold(book.village)),
        "sub_form": SubAccountForm(book_year=book_year) if book_year else None,
        "may_add_sub": request.user.has_perm(P + "add_subaccount"),
    })


def _entry_year(book: Book, form: VoucherForm) -> BookYear | None:
    date = getattr(form, "cleaned_data", {}).get("date") or form.initial.get("date")
    years = book.years.select_related("chart")
    found = years.filter(year=date.year).first() if date else None
    return found or years.filter(closed=False).order_by("year").first() or years.order_by("-year").first()


@login_required
@require_http_methods(["GET", "POST"])
def voucher_create(request, pk: int):
    book = scoped_book(request.user, pk)
    require_perm(request, P + "add_voucher")
    return _entry_page(request, book, None)


@login_required
@require_http_methods(["GET", "POST"])
def voucher_edit(request, pk: int):
    voucher = get_object_or_404(Voucher.objects.visible_to(request.user).select_related("book"), pk=pk)
    require_perm(request, P + "change_voucher")
    if voucher.status != VoucherStatus.DRAFT:
        messages.error(request, _("This voucher is %(status)s: only a draft is changed.")
                       % {"status": voucher.get_status_display()})
        return redirect("collective_economy:voucher-detail", pk=voucher.pk)
    return _entry_page(request, voucher.book, voucher)


@login_required
@require_GET
def account_search(request, pk: int):
    """Accounts of the book's year chart and the book's sub-accounts matching ``q`` (a code's start or
    part of a name), as JSON for the entry page's type-ahead."""
    book = scoped_book(request.user, pk)
    years = book.years.select_related("chart")
    year = parse_number(request.GET.get("year"), max_digits=4)
    book_year = (years.filter(year=year).first() if year is not None else None) or \
        years.filter(closed=False).order_by("year").first() or years.order_by("-year").first()
    if book_year is None:
        return JsonResponse({"results": []})
    text = request.GET.get("q", "").strip()[:30]
    accounts = ChartAccount.objects.filter(chart=book_year.chart, is_active=True)
    subs = SubAccount.objects.filter(book=book, account__chart=book_year.chart, is_active=True).select_related(
        "account")
    if text:
        accounts = accounts.filter(Q(code__startswith=text) | Q(name__icontains=text))
        subs = subs.filter(Q(code__startswith=text) | Q(name__icontains=text) | Q(account__name__icontains=text))
    found = [(a.code, f"a{a.pk}", account_label(a), a.get_side_display())
             for a in accounts.order_by("code")[:SEARCH_SIZE]]
    found += [(s.code, f"s{s.pk}", account_label(s.account, s), s.account.get_side_display())
              for s in subs.order_by("code")[:SEARCH_SIZE]]
    found.sort(key=lambda item: item[0])
    return JsonResponse({"year": book_year.year, "results": [
        {"value": value, "code": code, "label": label, "side": str(side)} for code, value, label, side in
        found[:SEARCH_SIZE]]})


@login_required
@require_POST
def sub_account_create(request, pk: int):
    """A new sub-account from the entry page; JSON for the page's script, else back with a message."""
    book = scoped_book(request.user, pk)
    require_perm(request, P + "add_subaccount")
    years = book.years.select_related("chart")
    year = parse_number(request.POST.get("year"), max_digits=4)
    book_year = (years.filter(year=year).first() if year is not None else None) or years.order_by("-year").first()
    wants_json = "application/json" in request.headers.get("Accept", "")
    if book_year is None:
        raise Http404
    form = SubAccountForm(request.POST, book_year=book_year)
    sub = None
    if form.is_valid():
        try:
            sub = book_services.sub_account_create(book=book, account=form.cleaned_data["account"],
                                                   code=form.cleaned_data["code"], name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_service_error(error)
    if sub is None:
        errors = [str(message) for messages_ in form.errors.values() for message in messages_]
        if wants_json:
            return JsonResponse({"errors": errors}, status=400)
        for message in errors:
            messages.error(request, message)
    else:
        if wants_json:
            return JsonResponse({"value": f"s{sub.pk}", "code": sub.code, "label": account_label(sub.account, sub)})
        messages.success(request, _("Sub-account %(sub)s added.") % {"sub": account_label(sub.account, sub)})
    return redirect(safe_next(request, reverse("collective_economy:voucher-create", args=[book.pk])))


# --- Vouchers: one voucher and its steps -------------------------------------------------------


# step → (permission, the statuses it starts from, the service, the button's words, a question or "").
STEPS = {
    "submit": ("change_voucher", (VoucherStatus.DRAFT,), voucher_services.voucher_submit,
               gettext_lazy("Send for review"), ""),
    "review": ("review_voucher", (VoucherStatus.SUBMITTED,), voucher_services.voucher_review,
               pgettext_lazy("ledger", "Review"), ""),
    "return": ("review_voucher", (VoucherStatus.SUBMITTED, VoucherStatus.REVIEWED), voucher_services.voucher_return,
               gettext_lazy("Return for changes"), ""),
    "post": ("post_voucher", (VoucherStatus.REVIEWED,), voucher_services.voucher_post, gettext_lazy("Post"), ""),
    "reverse": ("add_voucher", (VoucherStatus.POSTED,), voucher_services.voucher_reverse,
                gettext_lazy("Red-letter reversal"),
                gettext_lazy("Create a red-letter reversal of this voucher? A draft with the same lines, debit and "
                             "credit swapped, is made on the date below for review and posting; this voucher stays "
                             "as it is.")),
    "delete": ("delete_voucher", (VoucherStatus.DRAFT,), voucher_services.voucher_delete,
               pgettext_lazy("ledger", "Delete"), gettext_lazy("Delete this draft voucher? It cannot be undone.")),
}
STEP_DONE = {
    "submit": gettext_lazy("Sent for review."),
    "review": gettext_lazy("Reviewed."),
    "return": gettext_lazy("Returned to its preparer as a draft."),
    "post": gettext_lazy("Posted as %(number)s."),
    "reverse": gettext_lazy("The red-letter reversal is ready as a draft: send it for review."),
    "delete": gettext_lazy("The draft is deleted."),
}


def allowed_steps(voucher: Voucher, user, reversal: Voucher | None = None) -> list[dict]:
    steps = []
    for key, (perm, states, _service, label, question) in STEPS.items():
        if voucher.status not in states or not user.has_perm(P + perm):
            continue
        if key == "reverse" and (voucher.kind != VoucherKind.NORMAL or reversal is not None):
            continue
        if key == "review" and voucher.book.separate_review and voucher.prepared_by_id == user.pk:
            continue
        steps.append({"key": key, "label": label, "question": question})
    return steps


class VoucherDetailView(ScopedDetailView):
    model = Voucher
    template_name = "collective_economy/books/voucher_detail.html"
    context_object_name = "voucher"

    def get_queryset(self):
        return super().get_queryset().select_related(*VOUCHER_JOINS, "book__village__parent", "book__organisation",
                                                     "decision")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(voucher_context(self.object))
        voucher, user = self.object, self.request.user
        context.update(decision_context(voucher))
        context["steps"] = allowed_steps(voucher, user, context["reversal"])
        if any(step["key"] == "reverse" for step in context["steps"]):
            context["reversal_date"] = reversal_date(voucher)
        context["may_edit"] = voucher.status == VoucherStatus.DRAFT and user.has_perm(P + "change_voucher")
        return context


def decision_context(voucher: Voucher) -> dict:
    """Whether the voucher still lacks the village decision its payment needs, said before anyone posts it."""
    if voucher.kind != VoucherKind.NORMAL or voucher.status == VoucherStatus.POSTED:
        return {}
    needs, amount, threshold = decision_services.payment_needs_decision(voucher)
    decision = voucher.decision
    missing = needs and (decision is None or not decision.is_resolved or decision.village_id != voucher.book.village_id)
    return {"decision_missing": missing, "payment_amount": yuan(amount), "payment_threshold": yuan(threshold)}


def voucher_context(voucher: Voucher) -> dict:
    lines = list(voucher.lines.select_related("account", "sub_account"))
    for line in lines:
        line.account_shown = account_label(line.account, line.sub_account)
        line.debit_shown = yuan(line.debit) if line.debit else ""
        line.credit_shown = yuan(line.credit) if line.credit else ""
    reversal = Voucher.objects.filter(reverses=voucher).only("pk", "number", "status").first()
    return {"lines": lines, "debit_total": yuan(voucher.debit_total), "credit_total": yuan(voucher.credit_total),
            "in_words": capital_yuan(voucher.debit_total), "reversal": reversal}


def reversal_date(voucher: Voucher) -> datetime.date:
    """Where a reversal goes by default: today if the book keeps today's month open, else the first open
    month of the posted voucher's year (its last day, or today within it), else the voucher's own date."""
    today = timezone.localdate()
    open_months = Period.objects.filter(book_year__book=voucher.book_id, book_year__closed=False, closed=False)
    if open_months.filter(book_year__year=today.year, month=today.month).exists():
        return today
    first = (open_months.filter(book_year__year__gte=voucher.date.year).select_related("book_year")
             .order_by("book_year__year", "month").first())
    if first is None:
        return voucher.date
    return datetime.date(first.book_year.year, first.month, calendar.monthrange(first.book_year.year, first.month)[1])


def _posted_date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


@login_required
@require_POST
def voucher_step(request, pk: int, step: str):
    if step not in STEPS:
        raise Http404
    voucher = get_object_or_404(Voucher.objects.visible_to(request.user).select_related("book"), pk=pk)
    perm, _states, service, _label, _question = STEPS[step]
    require_perm(request, P + perm)
    arguments = {}
    if step == "reverse":
        arguments["date"] = _posted_date(request.POST.get("date", "")) or reversal_date(voucher)
    try:
        result = service(voucher=voucher, user=request.user, **arguments)
    except ValidationError as error:
        refused(request, error)
        return redirect("collective_economy:voucher-detail", pk=voucher.pk)
    if step == "delete":
        messages.success(request, STEP_DONE[step])
        return redirect("collective_economy:voucher-list", pk=voucher.book_id)
    messages.success(request, str(STEP_DONE[step]) % {"number": result.display_number}
                     if step == "post" else STEP_DONE[step])
    return redirect("collective_economy:voucher-detail", pk=result.pk)


@login_required
@require_GET
def voucher_print(request, pk: int):
    """The voucher on an A4 page, as the bookkeeper files it with its attachments."""
    voucher = get_object_or_404(Voucher.objects.visible_to(request.user)
                                .select_related(*VOUCHER_JOINS, "book__village", "book__organisation"), pk=pk)
    return render(request, "collective_economy/books/voucher_print.html",
                  {"book": voucher.book, "vouchers": [{"voucher": voucher, **voucher_context(voucher)}]})


@login_required
@require_GET
def month_print(request, pk: int):
    """Every posted voucher of a month (``year``, ``month``), one after the other, for the month's binder."""
    book = scoped_book(request.user, pk)
    year = parse_number(request.GET.get("year"), max_digits=4)
    month = parse_number(request.GET.get("month"), max_digits=2)
    if year is None or month is None:
        raise Http404
    vouchers = (Voucher.objects.filter(book=book, book_year__year=year, month=month,
                                       status=VoucherStatus.POSTED)
                .select_related(*VOUCHER_JOINS).order_by("number"))
    return render(request, "collective_economy/books/voucher_print.html",
                  {"book": book, "month_label": f"{year}-{month:02d}",
                   "vouchers": [{"voucher": v, **voucher_context(v)} for v in vouchers]})


urlpatterns = [
    path("books/<int:pk>/vouchers/", VoucherListView.as_view(), name="voucher-list"),
    path("books/<int:pk>/vouchers/new/", voucher_create, name="voucher-create"),
    path("books/<int:pk>/vouchers/print/", month_print, name="month-print"),
    path("books/<int:pk>/accounts/", account_search, name="account-search"),
    path("books/<int:pk>/sub-accounts/new/", sub_account_create, name="sub-account-create"),
    path("vouchers/<int:pk>/", VoucherDetailView.as_view(), name="voucher-detail"),
    path("vouchers/<int:pk>/edit/", voucher_edit, name="voucher-edit"),
    path("vouchers/<int:pk>/print/", voucher_print, name="voucher-print"),
    path("vouchers/<int:pk>/<slug:step>/", voucher_step, name="voucher-step"),
]
