"""Books and months: the bookkeeper's list of books and the township officer's month and year end
(the vouchers' pages are ``vouchers``).

Every read is limited to the user's area (``visible_to``; out of it is a 404); every write goes
through ``collective_economy.services`` as the user, and a service's refusal comes back as a
message on the page (a form's field, or the message bar), never as an error page. Which steps a
page offers follows the role's permissions and the voucher's status; the service checks again.
"""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from collective_economy.forms import (
    BookCreateForm,
    PeriodReopenForm,
)
from collective_economy.models import (
    Book,
    BookYear,
    Period,
    PeriodEvent,
    Voucher,
    VoucherStatus,
)
from collective_economy.services import books as book_services
from collective_economy.services import periods as period_services
from governance.models import Level
from governance.portal.forms import ScopedFilterForm
from governance.portal.views import ScopedDetailView, ScopedListView, require_perm

P = "collective_economy."
WAITING = (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED, VoucherStatus.REVIEWED)


def scoped_book(user, pk) -> Book:
    return get_object_or_404(Book.objects.visible_to(user).select_related("village__parent", "organisation"), pk=pk)


def refused(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- Books -------------------------------------------------------------------------------------


class BookFilterForm(ScopedFilterForm):
    unit_path = "village"
    with_tags = False
    lowest_level = Level.VILLAGE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Organisation or village")

    def search(self, queryset, text):
        return queryset.filter(Q(name__icontains=text) | Q(organisation__name__icontains=text)
                               | Q(village__name__icontains=text))


def decorate_books(books) -> None:
    """Each book's latest year (chart, months closed) and its vouchers waiting, by status: three queries."""
    ids = [book.pk for book in books]
    years = (BookYear.objects.filter(book__in=ids).select_related("chart")
             .annotate(months_closed=Count("periods", filter=Q(periods__closed=True))).order_by("book", "year"))
    latest = {}
    for year in years:
        latest[year.book_id] = year
    waiting = defaultdict(dict)
    for row in (Voucher.objects.filter(book__in=ids, status__in=WAITING).values("book", "status")
                .annotate(n=Count("pk")).order_by()):
        waiting[row["book"]][row["status"]] = row["n"]
    for book in books:
        book.current_year = latest.get(book.pk)
        counts = waiting.get(book.pk, {})
        book.waiting = [(status, VoucherStatus(status).label, counts.get(status, 0)) for status in WAITING]
        book.waiting_total = sum(counts.values())


class BookListView(ScopedListView):
    """The books of the user's area, one a village; a bookkeeper with one book goes straight to it."""

    model = Book
    filter_form_class = BookFilterForm
    template_name = "collective_economy/books/book_list.html"
    sort_fields = {"village": "village__code", "name": "name"}
    default_sort = "village"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        user = request.user
        if not request.GET and user.has_perm(P + "add_voucher") and not user.has_perm(P + "add_book"):
            books = list(Book.objects.visible_to(user).values_list("pk", flat=True)[:2])
            if len(books) == 1:
                return redirect("collective_economy:book-detail", pk=books[0])
        return super().get(request, *args, **kwargs)

    def list_queryset(self, queryset):
        return queryset.select_related("village__parent", "organisation")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decorate_books(context["object_list"])
        context["can_create"] = self.request.user.has_perm(P + "add_book")
        return context


@login_required
@require_http_methods(["GET", "POST"])
def book_create(request):
    """建账: the village's economic organisation (checked, credit code and all), its book and first year."""
    require_perm(request, P + "add_book")
    form = BookCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                organisation = form.organisation()
                organisation.save()
                book = book_services.book_create(village=form.cleaned_data["village"], chart=form.cleaned_data["chart"],
                                                 year=form.cleaned_data["year"], organisation=organisation)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The book of %(name)s is set up.") % {"name": book.name})
            return redirect("collective_economy:book-detail", pk=book.pk)
    return render(request, "collective_economy/books/book_form.html", {"form": form})


def _year_of_page(request, book: Book) -> BookYear | None:
    years = list(book.years.select_related("chart", "closed_by").order_by("year"))
    if not years:
        return None
    wanted = request.GET.get("year", "")
    found = next((y for y in years if str(y.year) == wanted), None)
    if found is None:
        # The first open year (the one being kept), else the last.
        found = next((y for y in years if not y.closed), years[-1])
    found.all_years = years
    return found


class BookDetailView(ScopedDetailView):
    """A book's year: its twelve months (open or closed, vouchers), month end and year end, the events."""

    model = Book
    template_name = "collective_economy/books/book_detail.html"
    context_object_name = "book"

    def get_queryset(self):
        return super().get_queryset().select_related("village__parent", "organisation")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        book, user = self.object, self.request.user
        book_year = _year_of_page(self.request, book)
        context["book_year"] = book_year
        if book_year is None:
            return context
        counts = defaultdict(lambda: {"total": 0, "waiting": 0, "posted": 0})
        for row in (Voucher.objects.filter(book_year=book_year).values("month", "status")
                    .annotate(n=Count("pk")).order_by()):
            entry = counts[row["month"]]
            entry["total"] += row["n"]
            entry["posted" if row["status"] == VoucherStatus.POSTED else "waiting"] += row["n"]
        periods = list(book_year.periods.select_related("closed_by").order_by("month"))
        first_open = next((p for p in periods if not p.closed), None)
        last_closed = next((p for p in reversed(periods) if p.closed), None)
        can_close = user.has_perm(P + "change_period") and not book_year.closed
        for period in periods:
            period.counts = counts[period.month]
            period.may_close = can_close and period is first_open
            period.may_reopen = can_close and period is last_closed
        context.update(
            periods=periods,
            events=PeriodEvent.objects.filter(period__book_year=book_year).select_related("period", "user")[:30],
            may_close_year=user.has_perm(P + "change_bookyear") and user.has_perm(P + "change_period")
            and not book_year.closed,
            may_enter=user.has_perm(P + "add_voucher") and not book_year.closed,
            reopen_form=PeriodReopenForm(),
            statements=[("trial-balance", _("Trial balance")), ("balance-sheet", _("Balance sheet")),
                        ("income-statement", _("Income and income distribution statement")),
                        ("general-ledger", _("General ledger")), ("detail-ledger", _("Detail ledger"))],
        )
        return context


def _back_to_book(period_or_year) -> HttpResponseRedirect:
    book_year = getattr(period_or_year, "book_year", period_or_year)
    url = reverse("collective_economy:book-detail", args=[book_year.book_id])
    return HttpResponseRedirect(f"{url}?year={book_year.year}")


@login_required
@require_POST
def period_close(request, pk: int):
    period = get_object_or_404(Period.objects.visible_to(request.user).select_related("book_year"), pk=pk)
    require_perm(request, P + "change_period")
    try:
        period_services.period_close(period=period, user=request.user)
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(request, _("%(period)s is closed: nothing more is posted into it.") % {"period": period})
    return _back_to_book(period)


@login_required
@require_POST
def period_reopen(request, pk: int):
    period = get_object_or_404(Period.objects.visible_to(request.user).select_related("book_year"), pk=pk)
    require_perm(request, P + "change_period")
    form = PeriodReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the month is re-opened."))
        return _back_to_book(period)
    try:
        period_services.period_reopen(period=period, user=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        refused(request, error)
    else:
        messages.success(request, _("%(period)s is open again.") % {"period": period})
    return _back_to_book(period)


@login_required
@require_POST
def year_close(request, pk: int):
    book_year = get_object_or_404(BookYear.objects.visible_to(request.user), pk=pk)
    require_perm(request, P + "change_bookyear")
    require_perm(request, P + "change_period")
    try:
        next_year = period_services.year_close(book_year=book_year, user=request.user)
    except ValidationError as error:
        refused(request, error)
        return _back_to_book(book_year)
    messages.success(request, _("The year %(year)s is closed; %(next)s is open with its balances.")
                     % {"year": book_year.year, "next": next_year.year})
    return _back_to_book(next_year)


urlpatterns = [
    path("", BookListView.as_view(), name="book-list"),
    path("books/new/", book_create, name="book-create"),
    path("books/<int:pk>/", BookDetailView.as_view(), name="book-detail"),
    path("periods/<int:pk>/close/", period_close, name="period-close"),
    path("periods/<int:pk>/reopen/", period_reopen, name="period-reopen"),
    path("years/<int:pk>/close/", year_close, name="year-close"),
]
