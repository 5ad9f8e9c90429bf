"""API of the books (账套), their accounts and sub-accounts, under /api/v1/ledger/.

- ``ledger/books/``: the books of the villages in the caller's scope, with their years; a
  township officer (``add_book``) opens one (``book_create``: the book, its first year under a
  chart, and the year's twelve months);
- ``ledger/accounts/?book=<id>``: what a voucher line may be booked to in the book's year (its
  chart's first-level accounts and the book's sub-accounts), searched by code or name;
- ``ledger/sub-accounts/``: the books' detail accounts (明细科目); created by ``sub_account_create``.
"""

from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from collective_economy.api.common import LedgerViewSet, user_name
from collective_economy.filters import BookFilterSet, SubAccountFilterSet
from collective_economy.models import (
    AccountClass,
    Book,
    BookYear,
    Chart,
    ChartAccount,
    EconomicOrganisation,
    Side,
    SubAccount,
)
from collective_economy.services.books import book_create, sub_account_create
from governance.models import OrgUnit, User
from governance.portal.api import Pagination, ScopedIdField, ScopedRelatedField, router, run_write

NO_YEAR = _("The book has no year %(year)s.")


# --- Books ----------------------------------------------------------------------------------


class BookYearSerializer(serializers.ModelSerializer):
    chart = serializers.SlugRelatedField(slug_field="code", read_only=True,
                                         help_text=_("Code of the chart of accounts the year is kept under."))

    class Meta:
        model = BookYear
        fields = ["id", "year", "chart", "closed", "closed_at"]


class BookSerializer(serializers.ModelSerializer):
    village = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the village."))
    village_name = serializers.CharField(source="village.display_name", read_only=True)
    organisation = ScopedIdField(model=EconomicOrganisation, required=False, allow_null=True,
                                 help_text=_("Id of the village's economic organisation."))
    organisation_name = serializers.CharField(source="organisation.name", read_only=True, allow_null=True,
                                              default=None)
    bookkeepers = ScopedIdField(model=User, many=True, required=False, help_text=_("Ids of the bookkeepers."))
    bookkeeper_names = serializers.SerializerMethodField()
    years = BookYearSerializer(many=True, read_only=True)
    chart = serializers.SlugRelatedField(slug_field="code", queryset=Chart.objects.all(), write_only=True,
                                         help_text=_("Code of the chart the first year is kept under (2004, 2023)."))
    year = serializers.IntegerField(write_only=True, min_value=1990, max_value=2100,
                                    help_text=_("The book's first year."))

    class Meta:
        model = Book
        fields = ["id", "village", "village_name", "organisation", "organisation_name", "name", "bookkeepers",
                  "bookkeeper_names", "separate_review", "years", "created_at", "chart", "year"]
        extra_kwargs = {"name": {"required": False, "allow_blank": True,
                                 "help_text": _("Left blank: the organisation's name.")}}

    def get_bookkeeper_names(self, book) -> list[str]:
        return [user_name(user) for user in book.bookkeepers.all()]

    def create(self, validated_data):
        return run_write(book_create, **validated_data)


class BookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, LedgerViewSet):
    """The books (账套) of the villages in your scope, with their years. Opening one needs ``add_book``."""

    model = Book
    serializer_class = BookSerializer
    filterset_class = BookFilterSet
    search_fields = ["name", "village__name", "village__code"]
    ordering_fields = ["name", "created_at"]

    def optimise(self, queryset):
        return queryset.select_related("village", "organisation").prefetch_related(
            Prefetch("years", queryset=BookYear.objects.select_related("chart")), "bookkeepers").distinct()

    def perform_create(self, serializer):
        serializer.save()
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


# --- Accounts -------------------------------------------------------------------------------


class AccountQuerySerializer(serializers.Serializer):
    book = ScopedIdField(model=Book, help_text=_("The book (id)."))
    year = serializers.IntegerField(required=False, min_value=1990, max_value=2100,
                                    help_text=_("The book's year (default: its latest)."))
    q = serializers.CharField(required=False, allow_blank=True, default="",
                              help_text=_("The start of a code, or part of a name."))
    inactive = serializers.BooleanField(required=False, default=False,
                                        help_text=_("true: list accounts no longer in use as well."))


class AccountEntrySerializer(serializers.Serializer):
    """An account a line may be booked to: a first-level account, or one of the book's sub-accounts."""

    account = serializers.IntegerField(help_text=_("Id of the first-level account (a line's ``account``)."))
    sub_account = serializers.IntegerField(allow_null=True,
                                           help_text=_("Id of the sub-account (a line's ``sub_account``), or null."))
    code = serializers.CharField()
    name = serializers.CharField()
    full_name = serializers.CharField(help_text=_("Code and name as the books print them."))
    account_class = serializers.ChoiceField(choices=AccountClass.choices)
    side = serializers.ChoiceField(choices=Side.choices, help_text=_("The side its balance normally stands on."))
    operating_income = serializers.BooleanField()
    is_active = serializers.BooleanField()
    chart = serializers.CharField(help_text=_("Code of the chart of accounts."))


def _account_row(account: ChartAccount, chart_code: str) -> dict:
    return {"account": account.pk, "sub_account": None, "code": account.code, "name": account.name,
            "full_name": f"{account.code} {account.name}", "account_class": account.account_class,
            "side": account.side, "operating_income": account.operating_income, "is_active": account.is_active,
            "chart": chart_code}


def _sub_row(sub: SubAccount, account: ChartAccount, chart_code: str) -> dict:
    return {"account": account.pk, "sub_account": sub.pk, "code": sub.code, "name": sub.name,
            "full_name": f"{sub.code} {account.name}-{sub.name}", "account_class": account.account_class,
            "side": account.side, "operating_income": account.operating_income,
            "is_active": sub.is_active and account.is_active, "chart": chart_code}


class AccountViewSet(viewsets.GenericViewSet):
    """The accounts of a book's year: its chart's first-level accounts and the book's sub-accounts, by code.

    ``q`` matches the start of a code or part of a name (a sub-account matches its account's name too).
    """

    serializer_class = AccountEntrySerializer
    pagination_class = Pagination
    filter_backends = []

    def get_queryset(self):
        return ChartAccount.objects.none()  # the rows are read in ``list``; this only names the model

    @extend_schema(parameters=[AccountQuerySerializer])
    def list(self, request, *args, **kwargs):
        query = AccountQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        book, q = query.validated_data["book"], query.validated_data["q"].strip()
        years = BookYear.objects.filter(book=book).select_related("chart").order_by("-year")
        if "year" in query.validated_data:
            years = years.filter(year=query.validated_data["year"])
        book_year = years.first()
        if book_year is None:
            raise ValidationError({"year": [NO_YEAR % {"year": query.validated_data.get("year", "")}]})
        chart = book_year.chart
        accounts = ChartAccount.objects.filter(chart=chart)
        subs = SubAccount.objects.filter(book=book, account__chart=chart).select_related("account")
        if q:
            accounts = accounts.filter(Q(code__startswith=q) | Q(name__icontains=q))
            subs = subs.filter(Q(code__startswith=q) | Q(name__icontains=q) | Q(account__name__icontains=q)
                               | Q(account__code__startswith=q))
        if not query.validated_data["inactive"]:
            accounts = accounts.filter(is_active=True)
            subs = subs.filter(is_active=True, account__is_active=True)
        rows = [_account_row(account, chart.code) for account in accounts]
        rows += [_sub_row(sub, sub.account, chart.code) for sub in subs]
        rows.sort(key=lambda row: row["code"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AccountEntrySerializer(page, many=True).data)


# --- Sub-accounts ---------------------------------------------------------------------------


class SubAccountSerializer(serializers.ModelSerializer):
    book = ScopedIdField(model=Book, help_text=_("The book (id)."))
    account = serializers.PrimaryKeyRelatedField(queryset=ChartAccount.objects.all(),
                                                 help_text=_("Id of the first-level account it is kept under."))
    account_code = serializers.CharField(source="account.code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = SubAccount
        fields = ["id", "book", "account", "account_code", "account_name", "code", "name", "is_active"]
        read_only_fields = ["is_active"]
        validators = []  # the service checks the code (unique per book and account)

    def create(self, validated_data):
        return run_write(sub_account_create, **validated_data)


class SubAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, LedgerViewSet):
    """The books' detail accounts (明细科目), by book and code. Adding one needs ``add_subaccount``."""

    model = SubAccount
    serializer_class = SubAccountSerializer
    filterset_class = SubAccountFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]

    def optimise(self, queryset):
        return queryset.select_related("account")


router.register("ledger/books", BookViewSet, basename="ledger-book")
router.register("ledger/accounts", AccountViewSet, basename="ledger-account")
router.register("ledger/sub-accounts", SubAccountViewSet, basename="ledger-sub-account")
