"""API of the months (会计期间) under /api/v1/ledger/periods/: listed by book and year, closed (结账) and
re-opened (反结账, with the reason) by the township's officer (``change_period``) through
``period_close`` / ``period_reopen``; a month's detail shows its audit trail."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from collective_economy.api.common import LedgerViewSet, user_name
from collective_economy.filters import PeriodFilterSet
from collective_economy.models import Period, PeriodEvent
from collective_economy.services.periods import period_close, period_reopen
from governance.portal.api import router, run_write


class PeriodEventSerializer(serializers.ModelSerializer):
    user_name = serializers.SerializerMethodField()

    class Meta:
        model = PeriodEvent
        fields = ["id", "action", "reason", "user", "user_name", "at"]

    def get_user_name(self, event) -> str | None:
        return user_name(event.user)


class PeriodSerializer(serializers.ModelSerializer):
    book = serializers.IntegerField(source="book_year.book_id", read_only=True, help_text=_("The book (id)."))
    book_name = serializers.CharField(source="book_year.book.name", read_only=True)
    year = serializers.IntegerField(source="book_year.year", read_only=True)
    year_closed = serializers.BooleanField(source="book_year.closed", read_only=True)
    closed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Period
        fields = ["id", "book", "book_name", "year", "month", "closed", "closed_at", "closed_by", "closed_by_name",
                  "year_closed"]
        read_only_fields = fields

    def get_closed_by_name(self, period) -> str | None:
        return user_name(period.closed_by)


class PeriodDetailSerializer(PeriodSerializer):
    """A month with its audit trail (closed, re-opened and why), newest first."""

    events = PeriodEventSerializer(many=True, read_only=True)

    class Meta(PeriodSerializer.Meta):
        fields = [*PeriodSerializer.Meta.fields, "events"]
        read_only_fields = fields


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                   help_text=_("Why the month is re-opened (required)."))


class PeriodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, LedgerViewSet):
    """The months of the books in your scope. Closing and re-opening one needs ``change_period``."""

    model = Period
    filterset_class = PeriodFilterSet
    ordering_fields = ["month"]
    action_permissions = {name: ["collective_economy.change_period"] for name in ("close", "reopen")}

    def get_serializer_class(self):
        return PeriodSerializer if self.action == "list" else PeriodDetailSerializer

    def optimise(self, queryset, *, detail: bool | None = None):
        queryset = queryset.select_related("book_year__book", "closed_by")
        if detail or (detail is None and self.action != "list"):
            queryset = queryset.prefetch_related("events__user")
        return queryset

    def _detail(self, period) -> Response:
        fresh = self.optimise(Period.objects.visible_to(self.request.user), detail=True).get(pk=period.pk)
        return Response(PeriodDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=PeriodDetailSerializer,
                   description=_("结账: close the month (every voucher of it posted, the months before closed, the "
                                 "trial balance balanced); nothing more posts into it."))
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, **kwargs):
        period = self.get_object()
        run_write(period_close, period=period, user=request.user)
        return self._detail(period)

    @extend_schema(request=ReopenSerializer, responses=PeriodDetailSerializer,
                   description=_("反结账: re-open the last closed month, saying why (kept in its audit trail)."))
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None, **kwargs):
        period = self.get_object()
        run_write(period_reopen, period=period, user=request.user, **self.payload(ReopenSerializer))
        return self._detail(period)


router.register("ledger/periods", PeriodViewSet, basename="ledger-period")
