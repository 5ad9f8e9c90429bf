"""API of the vouchers (记账凭证) under /api/v1/ledger/vouchers/.

A draft is created and changed with its lines (``voucher_save``: every mistake of every line at
once, a 400 naming the line) and deleted (``voucher_delete``); it then moves only through its
steps, one POST each: ``submit/`` (送审), ``review/`` (审核), ``return/`` (退回), ``post/`` (记账),
and a posted voucher's ``reverse/`` (红字冲销: a new draft with the lines' sides swapped). A
posted voucher is never changed or deleted: PUT, PATCH and DELETE answer 400 and the row stays
as it is (the database refuses it too). Amounts are text in yuan to the fen ("1234.50").
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from collective_economy.api.common import LedgerViewSet, MoneyField, user_name
from collective_economy.filters import VoucherFilterSet
from collective_economy.models import Book, ChartAccount, Decision, SubAccount, Voucher, VoucherLine, VoucherStatus
from collective_economy.services import vouchers as services
from collective_economy.services.vouchers import LineInput
from governance.portal.api import ScopedIdField, router, run_write

POSTED_FIXED = _("%(voucher)s is posted: it is never changed or deleted. Correct it by a red-letter reversal.")
LINE = _("Line %(n)s: %(error)s")

# --- Serializers --------------------------------------------------------------------------


class VoucherLineSerializer(serializers.ModelSerializer):
    """A line (分录): an account (and sub-account), a summary, and a debit or a credit in yuan ("1234.50")."""

    account = serializers.PrimaryKeyRelatedField(
        queryset=ChartAccount.objects.all(), help_text=_("Id of the first-level account (see ledger/accounts/)."),
        error_messages={"does_not_exist": _("account {pk_value} was not found."),
                        "incorrect_type": _("give the account's id.")})
    account_code = serializers.CharField(source="account.code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    sub_account = ScopedIdField(
        model=SubAccount, required=False, allow_null=True, help_text=_("Id of the sub-account, if any."),
        error_messages={"does_not_exist": _("sub-account {value} was not found or is outside your scope.")})
    sub_account_code = serializers.CharField(source="sub_account.code", read_only=True, allow_null=True, default=None)
    sub_account_name = serializers.CharField(source="sub_account.name", read_only=True, allow_null=True, default=None)
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=100,
                                    help_text=_("Left blank: the voucher's summary."))
    debit = MoneyField(required=False, default="0", help_text=_("Yuan, as text: \"1234.50\"; 0 on a credit line."))
    credit = MoneyField(required=False, default="0", help_text=_("Yuan, as text: \"1234.50\"; 0 on a debit line."))

    class Meta:
        model = VoucherLine
        fields = ["position", "account", "account_code", "account_name", "sub_account", "sub_account_code",
                  "sub_account_name", "summary", "debit", "credit"]
        read_only_fields = ["position"]


def _line_messages(errors) -> list[str]:
    """The lines' field errors as the services word them: "Line 2: …", one message each."""
    if isinstance(errors, dict):  # not a list at all
        return [str(message) for messages in errors.values() for message in messages]
    flat = []
    for n, line_errors in enumerate(errors, start=1):
        if isinstance(line_errors, dict):
            flat += [str(LINE % {"n": n, "error": message}) for messages in line_errors.values()
                     for message in messages]
        elif line_errors:
            flat += [str(LINE % {"n": n, "error": message}) for message in line_errors]
    return flat


class VoucherSerializer(serializers.ModelSerializer):
    """A voucher with its lines; a draft is written with them (every line at once).

    One serializer for the list and the detail: the schema names its status and kind once.
    """

    book = ScopedIdField(model=Book, help_text=_("The book (id)."))
    book_name = serializers.CharField(source="book.name", read_only=True)
    year = serializers.IntegerField(source="book_year.year", read_only=True)
    display_number = serializers.CharField(read_only=True, help_text=_("记-3 once posted; the draft's id before."))
    reverses = serializers.IntegerField(source="reverses_id", read_only=True, allow_null=True,
                                        help_text=_("The posted voucher this reversal reverses (id)."))
    reversed_by = serializers.SerializerMethodField(help_text=_("The reversal of this voucher (id), if any."))
    prepared_by_name = serializers.SerializerMethodField()
    reviewed_by_name = serializers.SerializerMethodField()
    posted_by_name = serializers.SerializerMethodField()
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=100,
                                    help_text=_("Left blank: the first line's summary."))
    attachments = serializers.IntegerField(required=False, default=0, min_value=0, max_value=32767,
                                           help_text=_("Number of documents attached (附单据张数)."))
    decision = ScopedIdField(
        model=Decision, required=False, allow_null=True, default=None,
        help_text=_("The village decision a payment cites (id); a payment above the county's threshold is posted "
                    "only when it cites one of its village that reached the resolution (决议)."),
        error_messages={"does_not_exist": _("decision {value} was not found or is outside your scope.")})
    decision_number = serializers.CharField(source="decision.number", read_only=True, allow_null=True, default=None)
    lines = VoucherLineSerializer(many=True, help_text=_("Every line of the voucher; debits must equal credits."))

    class Meta:
        model = Voucher
        fields = ["id", "book", "book_name", "year", "month", "date", "number", "display_number", "status", "kind",
                  "reverses", "reversed_by", "attachments", "summary", "debit_total", "credit_total", "prepared_by",
                  "prepared_by_name", "prepared_at", "reviewed_by", "reviewed_by_name", "reviewed_at", "posted_by",
                  "posted_by_name", "posted_at", "decision", "decision_number", "lines"]
        read_only_fields = ["month", "number", "status", "kind", "debit_total", "credit_total", "prepared_by",
                            "prepared_at", "reviewed_by", "reviewed_at", "posted_by", "posted_at"]

    def get_reversed_by(self, voucher) -> int | None:
        reversal = getattr(voucher, "reversed_by", None)
        return None if reversal is None else reversal.pk

    def get_prepared_by_name(self, voucher) -> str | None:
        return user_name(voucher.prepared_by)

    def get_reviewed_by_name(self, voucher) -> str | None:
        return user_name(voucher.reviewed_by)

    def get_posted_by_name(self, voucher) -> str | None:
        return user_name(voucher.posted_by)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and "lines" in detail:
                detail["lines"] = _line_messages(detail["lines"])
            raise ValidationError(detail) from None

    def _write(self, validated_data, voucher=None):
        lines = [LineInput(account=line["account"], sub_account=line.get("sub_account"),
                           summary=line.get("summary", ""), debit=line.get("debit", "0"),
                           credit=line.get("credit", "0"))
                 for line in validated_data["lines"]]
        return run_write(services.voucher_save, book=validated_data["book"], date=validated_data["date"], lines=lines,
                         user=self.context["request"].user, attachments=validated_data.get("attachments", 0),
                         summary=validated_data.get("summary", ""), voucher=voucher,
                         decision=validated_data.get("decision"))

    def create(self, validated_data):
        return self._write(validated_data)

    def update(self, instance, validated_data):
        # A PATCH keeps what it does not send: the date, the counts, the summary, the lines.
        kept = {"book": instance.book, "date": instance.date, "attachments": instance.attachments,
                "summary": instance.summary, "decision": instance.decision}
        if "lines" not in validated_data:
            kept["lines"] = [{"account": line.account, "sub_account": line.sub_account, "summary": line.summary,
                              "debit": line.debit, "credit": line.credit} for line in instance.lines.all()]
        return self._write({**kept, **validated_data}, voucher=instance)


class ReverseSerializer(serializers.Serializer):
    date = serializers.DateField(required=False, allow_null=True, default=None,
                                 help_text=_("The reversal's date, in an open month (default: today)."))


# --- Viewset ------------------------------------------------------------------------------


def _step_schema(description, request=None, status=200):
    return extend_schema(request=request, responses={status: VoucherSerializer}, description=description)


@extend_schema_view(
    create=extend_schema(responses={201: VoucherSerializer}),
    update=extend_schema(description=_("Replace a draft's date, counts, summary and lines (a posted voucher: 400).")),
    partial_update=extend_schema(description=_("Change part of a draft (a posted voucher: 400).")),
    destroy=extend_schema(description=_("Delete a draft (a posted voucher: 400; it is reversed instead).")),
)
class VoucherViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, mixins.DestroyModelMixin, LedgerViewSet):
    """Vouchers of the books in your scope, by year, month and number.

    A draft is created and changed with its lines; it moves on only through its steps
    (``submit/``, ``review/``, ``return/``, ``post/``); a posted one is corrected by ``reverse/``.
    """

    model = Voucher
    filterset_class = VoucherFilterSet
    search_fields = ["summary"]
    ordering_fields = ["date", "month", "number", "prepared_at", "posted_at"]
    action_permissions = {
        "submit": ["collective_economy.change_voucher"],
        "review": ["collective_economy.review_voucher"],
        "return_voucher": ["collective_economy.review_voucher"],
        "post_voucher": ["collective_economy.post_voucher"],
        "reverse": ["collective_economy.add_voucher"],
    }

    serializer_class = VoucherSerializer

    def optimise(self, queryset):
        return queryset.select_related("book", "book_year", "prepared_by", "reviewed_by", "posted_by",
                                       "reversed_by", "decision").prefetch_related(
            Prefetch("lines", queryset=VoucherLine.objects.select_related("account", "sub_account")))

    def _detail(self, voucher, status=200) -> Response:
        """The voucher as the detail shows it, read again in the caller's scope after a write."""
        fresh = self.optimise(Voucher.objects.visible_to(self.request.user)).get(pk=voucher.pk)
        return Response(VoucherSerializer(fresh, context=self.get_serializer_context()).data, status=status)

    @staticmethod
    def _refuse_posted(voucher) -> None:
        if voucher.status == VoucherStatus.POSTED:
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [
                str(POSTED_FIXED % {"voucher": voucher.display_number})]})

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._detail(serializer.save(), status=201)

    def update(self, request, *args, **kwargs):
        voucher = self.get_object()
        self._refuse_posted(voucher)
        serializer = self.get_serializer(voucher, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        return self._detail(serializer.save())

    def destroy(self, request, *args, **kwargs):
        voucher = self.get_object()
        self._refuse_posted(voucher)
        run_write(services.voucher_delete, voucher=voucher, user=request.user)
        return Response(status=204)

    def _step(self, function, **arguments):
        voucher = self.get_object()
        run_write(function, voucher=voucher, user=self.request.user, **arguments)
        return self._detail(voucher)

    @_step_schema(_("送审: send a draft for review."))
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None, **kwargs):
        return self._step(services.voucher_submit)

    @_step_schema(_("审核: review a voucher sent for review (by another person where the book asks for it)."))
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None, **kwargs):
        return self._step(services.voucher_review)

    # ``return`` is a Python keyword, hence the method name ``return_voucher``.
    @_step_schema(_("退回: send a voucher awaiting review, or reviewed, back to its draft."))
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_voucher(self, request, pk=None, **kwargs):
        return self._step(services.voucher_return)

    @_step_schema(_("记账: post a reviewed voucher; it takes the next number of its month and never changes again."))
    # ``post`` is APIView's handler of a POST, hence the method name ``post_voucher``.
    @action(detail=True, methods=["post"], url_path="post", url_name="post")
    def post_voucher(self, request, pk=None, **kwargs):
        return self._step(services.voucher_post)

    @_step_schema(_("红字冲销: a red-letter reversal of a posted voucher, as a new draft dated in an open month; "
                    "answers the reversal."), request=ReverseSerializer, status=201)
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None, **kwargs):
        voucher = self.get_object()
        reversal = run_write(services.voucher_reverse, voucher=voucher, user=request.user,
                             **self.payload(ReverseSerializer))
        return self._detail(reversal, status=201)


router.register("ledger/vouchers", VoucherViewSet, basename="ledger-voucher")
