"""Filters of the ledger's lists (django-filter FilterSets), used by the API.

Like ``governance.filters``: a filter that names a row (a unit, a book) looks it up among the
rows the caller may see, so an out-of-scope value answers like an unknown one. Units are
given by code or id, books by id.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from collective_economy.models import Book, Period, SubAccount, Voucher, VoucherKind, VoucherStatus
from governance.filters import IdFilter, _described, subtree_filter

# Out of range is a 400, never a number too large for the column.
YEARS = {"min_value": 1990, "max_value": 2100, "decimal_places": 0}
MONTHS = {"min_value": 1, "max_value": 12, "decimal_places": 0}


def scoped_books(request):
    return Book.objects.visible_to(getattr(request, "user", None))


def book_filter(field_name: str = "book"):
    return _described(IdFilter(queryset=scoped_books, field_name=field_name), _("The book (id)."))


class BookFilterSet(filters.FilterSet):
    unit = subtree_filter("village", _("Books of the villages below this unit (code or id)."))
    year = filters.NumberFilter(field_name="years__year", help_text=_("Books kept in this year."), **YEARS)

    class Meta:
        model = Book
        fields = ["unit", "year"]


class SubAccountFilterSet(filters.FilterSet):
    book = book_filter()
    account = filters.CharFilter(field_name="account__code", help_text=_("Code of the first-level account."))

    class Meta:
        model = SubAccount
        fields = ["book", "account"]


class VoucherFilterSet(filters.FilterSet):
    book = book_filter()
    unit = subtree_filter("book__village", _("Vouchers of the villages below this unit (code or id)."))
    year = filters.NumberFilter(field_name="book_year__year", **YEARS)
    month = filters.NumberFilter(field_name="month", **MONTHS)
    status = filters.MultipleChoiceFilter(choices=VoucherStatus.choices,
                                          help_text=_("Repeat it to match any of several."))
    kind = filters.MultipleChoiceFilter(choices=VoucherKind.choices)

    class Meta:
        model = Voucher
        fields = ["book", "unit", "year", "month", "status", "kind"]


class PeriodFilterSet(filters.FilterSet):
    book = book_filter("book_year__book")
    year = filters.NumberFilter(field_name="book_year__year", **YEARS)
    month = filters.NumberFilter(field_name="month", **MONTHS)
    closed = filters.BooleanFilter()

    class Meta:
        model = Period
        fields = ["book", "year", "month", "closed"]
