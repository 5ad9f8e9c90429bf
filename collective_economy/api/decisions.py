"""API of the village decisions (四议两公开 / 六议两公开) under /api/v1/ledger/decisions/.

A matter is registered (``decision_create``: it follows its village's procedure, four or six
steps) and corrected while nothing is recorded (``decision_update``); its steps are recorded one
POST each on ``steps/`` (``decision_record_step``: the next step only, its quorum checked; a vote
that fails ends the decision), and a six-step decision's households sign on ``signatures/``
(``decision_sign``). Every queryset is the caller's scope (404 outside); a refused rule is a 400
with the field's message. Writing needs ``record_decision`` (the village's role).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from collective_economy.api.common import LedgerViewSet, MoneyField, user_name
from collective_economy.models import Decision, DecisionFile, DecisionRecord, DecisionState, Step
from collective_economy.services import decisions as services
from collective_economy.services.common import money
from governance.filters import subtree_filter
from governance.models import Household, OrgUnit
from governance.portal.api import ScopedIdField, ScopedRelatedField, router, run_write

RECORD = "collective_economy.record_decision"
STATE_HELP = _("Where the decision stands: draft (registered), the last step passed (motion, proposal, discussion, "
                "review, consultation, resolution, publication, result), or rejected.")
NO_HOUSEHOLDS = _("Give the households that signed, or \"everyone\": true.")


# --- Serializers --------------------------------------------------------------------------


class DecisionFileSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("Where a user in scope downloads it."))

    class Meta:
        model = DecisionFile
        fields = ["id", "name", "content_type", "size", "uploaded_at", "url"]

    def get_url(self, found) -> str:
        return reverse("collective_economy:decision-file", args=[found.pk])


class DecisionRecordSerializer(serializers.ModelSerializer):
    """A step as it was held: date, attendance and votes (a meeting that votes), minutes, files."""

    recorded_by_name = serializers.SerializerMethodField()
    files = DecisionFileSerializer(many=True, read_only=True)

    class Meta:
        model = DecisionRecord
        fields = ["id", "step", "held_on", "expected", "attended", "votes_for", "votes_against", "abstentions",
                  "passed", "minutes", "recorded_by_name", "recorded_at", "files"]
        read_only_fields = fields

    def get_recorded_by_name(self, record) -> str | None:
        return user_name(record.recorded_by)


class DecisionSerializer(serializers.ModelSerializer):
    """A major village matter, its procedure, where it stands (``state``: the last step passed) and its steps."""

    village = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the village."))
    village_name = serializers.CharField(source="village.display_name", read_only=True)
    number = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                   help_text=_("Left blank: the next number of the year, such as JC2026-001."))
    amount = MoneyField(required=False, allow_null=True, default=None,
                        help_text=_("Yuan, as text: \"80000.00\"; null when no money is involved."))
    steps = serializers.ListField(child=serializers.CharField(), read_only=True,
                                  help_text=_("The steps of its procedure, in order (values of a record's step)."))
    state = serializers.ChoiceField(choices=DecisionState.choices, read_only=True, help_text=STATE_HELP)
    next_step = serializers.SerializerMethodField(help_text=_("The step to record next; null once it ended."))
    created_by_name = serializers.SerializerMethodField()
    records = DecisionRecordSerializer(many=True, read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "village", "village_name", "number", "title", "description", "amount", "six_step", "steps",
                  "state", "next_step", "result_summary", "created_by_name", "created_at", "updated_at", "records"]
        read_only_fields = ["six_step", "state", "result_summary", "created_at", "updated_at"]
        validators = []  # the service numbers the matter and checks the number

    def validate_amount(self, value):
        if value in (None, ""):
            return None
        try:
            amount = money(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        if amount < 0:
            raise serializers.ValidationError(_("Enter an amount of zero or more."))
        return amount

    def get_next_step(self, decision) -> str | None:
        return services.next_step(decision)

    def get_created_by_name(self, decision) -> str | None:
        return user_name(decision.created_by)

    def create(self, validated_data):
        return run_write(services.decision_create, village=validated_data["village"],
                         title=validated_data["title"], description=validated_data["description"],
                         amount=validated_data.get("amount"), number=validated_data.get("number", ""),
                         user=self.context["request"].user)

    def update(self, instance, validated_data):
        # A PATCH keeps what it does not send; the village and the number are kept in any case.
        data = {"title": instance.title, "description": instance.description, "amount": instance.amount,
                **{k: v for k, v in validated_data.items() if k in ("title", "description", "amount")}}
        return run_write(services.decision_update, decision=instance, user=self.context["request"].user, **data)


class ConsultationSerializer(serializers.Serializer):
    signed = serializers.IntegerField(help_text=_("Households that signed."))
    total = serializers.IntegerField(help_text=_("Households of the village."))


class DecisionDetailSerializer(DecisionSerializer):
    """A decision with its consultation (民议) progress: households signed of the village's households."""

    consultation = serializers.SerializerMethodField()

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "consultation"]

    @extend_schema_field(ConsultationSerializer(allow_null=True))
    def get_consultation(self, decision) -> dict | None:
        if not decision.six_step:
            return None
        signed, total = services.consultation_progress(decision)
        return {"signed": signed, "total": total}


class StepSerializer(serializers.Serializer):
    """The next step of a decision, as it was held."""

    step = serializers.ChoiceField(choices=Step.choices, help_text=_("The step recorded: the decision's next one."))
    held_on = serializers.DateField(help_text=_("The date it was held (not in the future, not before the last)."))
    expected = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100000,
                                        help_text=_("A meeting that votes: how many were expected to attend."))
    attended = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100000)
    votes_for = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100000)
    votes_against = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100000)
    abstentions = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100000)
    minutes = serializers.CharField(allow_blank=True, max_length=DecisionRecord._meta.get_field("minutes").max_length,
                                    help_text=_("What was said and decided; for a publication, "
                                                "what was published and where."))
    result_summary = serializers.CharField(required=False, allow_blank=True, default="",
                                           max_length=Decision._meta.get_field("result_summary").max_length,
                                           help_text=_("The last step (实施结果公开): the results to publish."))
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                  help_text=_("Images or PDF (a multipart request)."))


class SignSerializer(serializers.Serializer):
    """Households that signed the consultation (民议) of a six-step decision."""

    households = ScopedIdField(model=Household, many=True, required=False,
                               help_text=_("Ids of the households that signed."))
    everyone = serializers.BooleanField(required=False, default=False,
                                        help_text=_("true: every household of the village not yet signed."))
    signed_on = serializers.DateField(help_text=_("The date they signed."))
    agrees = serializers.BooleanField(required=False, default=True, help_text=_("Whether they agree."))

    def validate(self, attrs):
        if not attrs.get("everyone") and not attrs.get("households"):
            raise serializers.ValidationError({"households": [NO_HOUSEHOLDS]})
        return attrs


# --- Filters and viewset ------------------------------------------------------------------


class DecisionFilterSet(filters.FilterSet):
    unit = subtree_filter("village", _("Decisions of the villages below this unit (code or id)."))
    state = filters.MultipleChoiceFilter(choices=DecisionState.choices,
                                         help_text=_("Repeat it to match any of several."))
    six_step = filters.BooleanFilter()

    class Meta:
        model = Decision
        fields = ["unit", "state", "six_step"]


@extend_schema_view(
    create=extend_schema(request=DecisionSerializer, responses={201: DecisionDetailSerializer}),
    retrieve=extend_schema(responses={200: DecisionDetailSerializer}),
    update=extend_schema(request=DecisionSerializer, responses={200: DecisionDetailSerializer},
                         description=_("Correct a registered matter's wording and amount (nothing recorded yet).")),
    partial_update=extend_schema(request=DecisionSerializer, responses={200: DecisionDetailSerializer},
                                 description=_("Correct part of a registered matter (nothing recorded yet).")),
)
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, LedgerViewSet):
    """Village decisions (四议两公开 / 六议两公开) of your scope, newest first, with their steps as held.

    Register a matter, then record its steps in order (``steps/``); a six-step decision's households
    sign on ``signatures/`` before its consultation (民议) is recorded. Writing needs ``record_decision``.
    """

    model = Decision
    serializer_class = DecisionSerializer
    filterset_class = DecisionFilterSet
    search_fields = ["number", "title"]
    ordering_fields = ["created_at", "number", "amount", "state"]
    ordering = ["-created_at", "-pk"]
    action_permissions = {"create": [RECORD], "update": [RECORD], "partial_update": [RECORD],
                          "steps": [RECORD], "signatures": [RECORD]}

    def optimise(self, queryset):
        records = DecisionRecord.objects.select_related("recorded_by").prefetch_related(
            Prefetch("files", queryset=DecisionFile.objects.order_by("pk")))
        return (queryset.select_related("village", "created_by")
                .prefetch_related(Prefetch("records", queryset=records.order_by("held_on", "pk"))))

    def get_serializer_class(self):
        return DecisionDetailSerializer if self.action == "retrieve" else DecisionSerializer

    def _detail(self, decision, status=200) -> Response:
        fresh = self.optimise(Decision.objects.visible_to(self.request.user)).get(pk=decision.pk)
        return Response(DecisionDetailSerializer(fresh, context=self.get_serializer_context()).data, status=status)

    def create(self, request, *args, **kwargs):
        serializer = DecisionSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return self._detail(serializer.save(), status=201)

    def update(self, request, *args, **kwargs):
        decision = self.get_object()
        serializer = DecisionSerializer(decision, data=request.data, partial=kwargs.get("partial", False),
                                        context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return self._detail(serializer.save())

    @extend_schema(request=StepSerializer, responses={201: DecisionDetailSerializer},
                   description=_("Record the decision's next step as held; a vote that fails ends the decision "
                                 "(state \"rejected\"). Refused (400): a step skipped, repeated or after the end; "
                                 "below its quorum; the consultation before every household signed."))
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None, **kwargs):
        decision = self.get_object()
        data = self.payload(StepSerializer)
        run_write(services.decision_record_step, decision=decision, user=request.user, **data)
        return self._detail(decision, status=201)

    @extend_schema(request=SignSerializer, responses={200: DecisionDetailSerializer},
                   description=_("Households' signatures in the consultation (民议) of a six-step decision."))
    @action(detail=True, methods=["post"])
    def signatures(self, request, pk=None, **kwargs):
        decision = self.get_object()
        data = self.payload(SignSerializer)
        households = (services.village_households(decision.village) if data["everyone"]
                      else data["households"])
        run_write(services.decision_sign, decision=decision, households=households, user=request.user,
                  signed_on=data["signed_on"], agrees=data["agrees"])
        return self._detail(decision)


router.register("ledger/decisions", DecisionViewSet, basename="ledger-decision")
