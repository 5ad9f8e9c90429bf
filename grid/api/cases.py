"""API of cases (事件/诉求), registered on the shared router (/api/v1/):

- ``cases/``: list, detail, create (report); no update or delete — a case moves only through its
  steps, one POST each: ``cases/{id}/accept/``, ``reject/``, ``dispatch/``, ``take/``, ``start/``,
  ``resolve/``, ``verify/``, ``return/``, ``rate/``, ``close/``, ``escalate/``;
- ``case-events/``: the steps of the cases in the caller's scope (read-only);
- ``case-categories/``: the taxonomy (read-only; also the Open311 service codes).

Scope comes from ``ScopedViewSetMixin``: a case outside it answers 404. Every write goes through
``grid.services.cases``, whose rules decide who may take which step: a refused step (wrong
state, wrong user, bad input) is a 400 with the message by field. The reporter's phone is masked
unless the caller's role allows the full view.
"""

import datetime

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.filters import key_filter, scoped_units, subtree_filter
from governance.masking import mask_phone
from governance.models import Household, OrgUnit, Resident, User
from governance.portal.api import (
    ModelChangePermission,
    ModelWritePermission,
    PersonalDataSerializerMixin,
    ScopedIdField,
    ScopedRelatedField,
    ScopedViewSetMixin,
    router,
    run_write,
)
from governance.selectors import subtree_q
from grid.models import (
    OPEN_STATES,
    Case,
    CaseAction,
    CaseAttachment,
    CaseCategory,
    CaseEvent,
    CaseSource,
    CaseState,
    Colour,
    Rating,
    Triage,
)
from grid.selectors.cases import case_search_q, day_start
from grid.services import cases as services

# --- Serializers --------------------------------------------------------------------------


class CaseCategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True,
        help_text=_("Code of the category; null for a top category."),
    )

    class Meta:
        model = CaseCategory
        fields = ["id", "code", "name", "parent", "description", "sort_order", "is_active"]


@extend_schema_field(OpenApiTypes.STR)
class CategoryField(serializers.SlugRelatedField):
    """A category by its code (active ones only)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=CaseCategory.objects.filter(is_active=True), **kwargs)


class CaseEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True,
                                        help_text=_("Where the case went (dispatch, escalation)."))
    unit_name = serializers.CharField(source="unit.display_name", read_only=True, default=None, allow_null=True)
    # Plain strings in the schema: the states are the case's ``state`` values (one enum, one name).
    from_state = serializers.CharField(read_only=True, help_text=_("The case's state before the step."))
    to_state = serializers.CharField(read_only=True, help_text=_("The case's state after the step."))

    class Meta:
        model = CaseEvent
        fields = ["id", "case", "action", "from_state", "to_state", "actor", "actor_name", "unit", "unit_name", "at",
                  "comment", "migrated"]

    def get_actor_name(self, event) -> str | None:
        return _user_name(event.actor)


class CaseAttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("Where users in scope download it (the portal page)."))

    class Meta:
        model = CaseAttachment
        fields = ["id", "name", "content_type", "size", "event", "uploaded_at", "url"]

    def get_url(self, attachment) -> str:
        return reverse("grid:case-attachment", args=[attachment.pk])


def _user_name(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.username


class CaseSerializer(PersonalDataSerializerMixin, serializers.ModelSerializer):
    """A case; the reporter's phone is masked unless the caller's role allows the full view."""

    personal_fields = {"reporter_phone": ("reporter_phone", mask_phone)}

    category = CategoryField(help_text=_("Code of the sub-category (or of a category without sub-categories)."))
    category_name = serializers.CharField(source="category.__str__", read_only=True)
    grid = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the grid or micro-grid."))
    grid_name = serializers.CharField(source="grid.display_name", read_only=True)
    household = ScopedRelatedField(
        model=Household, key_field="number", required=False, allow_null=True, help_text=_("Household number (or id).")
    )
    reporter = ScopedIdField(
        model=Resident, required=False, allow_null=True, help_text=_("Id of the resident who raised it, if any.")
    )
    reporter_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text=_("Masked unless your role allows the full view.")
    )
    handling_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    handling_unit_name = serializers.CharField(source="handling_unit.display_name", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    dispatcher_unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    # Blank until the reporter's rating is recorded (a read-only field loses the model's allow_blank).
    rating = serializers.ChoiceField(choices=Rating.choices, read_only=True, allow_blank=True)
    token = serializers.UUIDField(
        write_only=True, required=False, allow_null=True,
        help_text=_("Idempotency key: a report sent twice with the same token creates one case."),
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), write_only=True, required=False,
        help_text=_("Images or PDF files (multipart form)."),
    )

    class Meta:
        model = Case
        fields = [
            "id", "number", "title", "description", "category", "category_name", "source", "triage", "colour",
            "grid", "grid_name", "household", "address", "latitude", "longitude", "reporter", "reporter_name",
            "reporter_phone", "state", "handling_unit", "handling_unit_name", "assignee", "assignee_name",
            "dispatcher", "dispatcher_unit", "due_at", "is_overdue", "result", "rating", "reported_at",
            "accepted_at", "dispatched_at", "taken_at", "resolved_at", "verified_at", "closed_at", "updated_at",
            "created_by", "migrated", "token", "attachments",
        ]
        read_only_fields = [
            "state", "assignee", "dispatcher", "due_at", "is_overdue", "result", "rating", "reported_at",
            "accepted_at", "dispatched_at", "taken_at", "resolved_at", "verified_at", "closed_at", "updated_at",
            "created_by", "migrated",
        ]

    def get_assignee_name(self, case) -> str | None:
        return _user_name(case.assignee)

    def create(self, validated_data):
        request = self.context["request"]
        validated_data = {key: value for key, value in validated_data.items() if value is not None}
        return run_write(services.case_create, user=request.user, **validated_data)


class CaseDetailSerializer(CaseSerializer):
    """A case with its timeline, its attachments and the steps the caller may take now."""

    events = CaseEventSerializer(many=True, read_only=True)
    case_attachments = CaseAttachmentSerializer(source="attachments", many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text=_("The steps you may take now (the names of the action endpoints).")
    )

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "events", "case_attachments", "allowed_actions"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(services.RULES))))
    def get_allowed_actions(self, case) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [str(name) for name in services.case_allowed_actions(case=case, user=request.user)]


# One small serializer per step: what the step takes besides the case and the user.


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AcceptSerializer(CommentSerializer):
    triage = serializers.ChoiceField(choices=Triage.choices, help_text=_("三事分流: major, minor or private."))
    colour = serializers.ChoiceField(choices=Colour.choices, required=False,
                                     help_text=_("Correct the colour; kept when left out."))


class TakeSerializer(CommentSerializer):
    start = serializers.BooleanField(required=False, default=False,
                                     help_text=_("true: start work at once (接单并开始处置)."))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000, help_text=_("Why (required)."))


class DispatchSerializer(CommentSerializer):
    unit = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the unit to act."))
    assignee = ScopedIdField(model=User, required=False, allow_null=True,
                             help_text=_("Id of the person in that unit, if one."))


class ResolveSerializer(serializers.Serializer):
    result = serializers.CharField(allow_blank=True, max_length=Case._meta.get_field("result").max_length,
                                   help_text=_("What was done."))
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=_("Evidence: images or PDF files (multipart form).")
    )


class RateSerializer(CommentSerializer):
    rating = serializers.ChoiceField(choices=Rating.choices, help_text=_("The reporter's rating."))


# --- Filters ------------------------------------------------------------------------------


class CaseFilterSet(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=CaseState.choices, help_text=_("Repeat it to match any of several."))
    open = filters.BooleanFilter(method="filter_open", help_text=_("true: not yet closed or rejected."))
    colour = filters.MultipleChoiceFilter(choices=Colour.choices)
    triage = filters.MultipleChoiceFilter(choices=Triage.choices)
    source = filters.MultipleChoiceFilter(choices=CaseSource.choices)
    category = filters.CharFilter(
        method="filter_category", help_text=_("Category code: a category matches its sub-categories too.")
    )
    org = subtree_filter("grid", _("Cases located anywhere below this unit (code or id)."))
    handling_unit = key_filter(
        scoped_units, _("Cases handled by this unit or a unit below it (code or id)."), method="filter_handling_unit"
    )
    overdue = filters.BooleanFilter(field_name="is_overdue")
    mine = filters.BooleanFilter(method="filter_mine", help_text=_("true: cases assigned to you."))
    reported_from = filters.DateFilter(method="filter_reported_from", help_text=_("Reported on or after this day."))
    reported_to = filters.DateFilter(method="filter_reported_to", help_text=_("Reported on or before this day."))
    search = filters.CharFilter(method="filter_search",
                                help_text=_("The start of a case number, or text in the title or description."))

    class Meta:
        model = Case
        fields = ["state", "open", "colour", "triage", "source", "category", "org", "handling_unit", "overdue",
                  "mine", "reported_from", "reported_to", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(case_search_q(value)) if value.strip() else queryset

    def filter_open(self, queryset, name, value):
        condition = Q(state__in=OPEN_STATES)
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_category(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(category__code=value) | Q(category__parent__code=value))

    def filter_handling_unit(self, queryset, name, value):
        return queryset.filter(subtree_q(value, "handling_unit"))

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        mine = Q(assignee_id=getattr(user, "pk", None))
        return queryset.filter(mine) if value else queryset.exclude(mine)

    def filter_reported_from(self, queryset, name, value):
        return queryset.filter(reported_at__gte=day_start(value))

    def filter_reported_to(self, queryset, name, value):
        return queryset.filter(reported_at__lt=day_start(value + datetime.timedelta(days=1)))


class CaseEventFilterSet(filters.FilterSet):
    case = filters.NumberFilter(method="filter_case", help_text=_("The case's id."))
    action = filters.MultipleChoiceFilter(choices=CaseAction.choices)

    class Meta:
        model = CaseEvent
        fields = ["case", "action"]

    def filter_case(self, queryset, name, value):
        # Ids are bigints: anything else matches nothing (and never reaches the database).
        if value != value.to_integral_value() or not 0 < value < 2**63:
            return queryset.none()
        return queryset.filter(case_id=int(value))


class CaseCategoryFilterSet(filters.FilterSet):
    parent = filters.CharFilter(field_name="parent__code", help_text=_("Sub-categories of this category (code)."))
    top = filters.BooleanFilter(field_name="parent", lookup_expr="isnull", help_text=_("true: top categories only."))
    is_active = filters.BooleanFilter()

    class Meta:
        model = CaseCategory
        fields = ["parent", "top", "is_active"]


# --- Viewsets -----------------------------------------------------------------------------


def step(payload_class, description, **options):
    """A step of the loop as an action: a POST on the case that needs ``change_case`` (the services'
    rules decide the rest), documented with what it takes and the case it answers."""

    def decorate(method):
        method = action(detail=True, methods=["post"], permission_classes=[ModelChangePermission], **options)(method)
        return extend_schema(request=payload_class, responses=CaseDetailSerializer, description=description)(method)

    return decorate


class CaseViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  viewsets.GenericViewSet):
    """Cases located in the caller's subtree or handled by a unit in it, newest first. Search matches the number,
    the title or the description.

    A case is reported with POST and then moves only through its steps (``accept/`` … ``close/``);
    each answers 400 with the reason when the step is not allowed to you now.
    """

    model = Case
    serializer_class = CaseSerializer
    lookup_value_regex = r"\d{1,18}"  # ids are bigints: anything else is simply not found
    filterset_class = CaseFilterSet
    permission_classes = [ModelWritePermission]
    search_fields = []  # "search" is a filter of CaseFilterSet: the same rule as the case list's search box
    ordering_fields = ["reported_at", "due_at", "updated_at", "number", "state", "colour"]

    def get_serializer_class(self):
        return CaseSerializer if self.action in ("list", "create") else CaseDetailSerializer

    def optimise(self, queryset, *, detail: bool | None = None):
        queryset = queryset.select_related("category__parent", "grid", "handling_unit", "assignee",
                                           "dispatcher_unit", "household")
        if detail or (detail is None and self.action not in ("list", "create")):
            queryset = queryset.prefetch_related("events__actor", "events__unit", "attachments")
        return queryset

    @extend_schema(responses={201: CaseDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = serializer.save()
        return Response(self._detail(case), status=201)

    def _detail(self, case) -> dict:
        """The case as the detail shows it, read again in the caller's scope after a write."""
        fresh = self.optimise(Case.objects.visible_to(self.request.user), detail=True).filter(pk=case.pk).first()
        return CaseDetailSerializer(fresh or case, context=self.get_serializer_context()).data

    def _step(self, request, function, payload_class=None):
        case = self.get_object()
        arguments = {}
        if payload_class is not None:
            payload = payload_class(data=request.data, context=self.get_serializer_context())
            payload.is_valid(raise_exception=True)
            arguments = dict(payload.validated_data)
        run_write(function, case=case, user=request.user, **arguments)
        return Response(self._detail(case))

    @step(AcceptSerializer, _("受理: accept the case and sort it (三事分流); the colour may be corrected."))
    def accept(self, request, pk=None):
        return self._step(request, services.case_accept, AcceptSerializer)

    @step(ReasonSerializer, _("不予受理: reject the case, with the reason."))
    def reject(self, request, pk=None):
        return self._step(request, services.case_reject, ReasonSerializer)

    # ``dispatch`` is APIView's request handler, hence the method name ``dispatch_case``.
    @step(DispatchSerializer, _("派单: to a unit in your area (and optionally one person there)."), url_path="dispatch",
          url_name="dispatch")
    def dispatch_case(self, request, pk=None):
        return self._step(request, services.case_dispatch, DispatchSerializer)

    @step(ReasonSerializer,
          _("撤回: the dispatching unit takes back a case nobody has taken yet, to dispatch it anew."))
    def recall(self, request, pk=None):
        return self._step(request, services.case_recall, ReasonSerializer)

    @step(TakeSerializer, _("接单: take the case dispatched to you or your unit (and start work at once with start)."))
    def take(self, request, pk=None):
        return self._step(request, services.case_take, TakeSerializer)

    @step(CommentSerializer, _("处置中: work on the case has started."))
    def start(self, request, pk=None):
        return self._step(request, services.case_start, CommentSerializer)

    @step(ResolveSerializer, _("办结: what was done, with the evidence."))
    def resolve(self, request, pk=None):
        return self._step(request, services.case_resolve, ResolveSerializer)

    @step(CommentSerializer, _("核查: the dispatching level accepts the result."))
    def verify(self, request, pk=None):
        return self._step(request, services.case_verify, CommentSerializer)

    # ``return`` is a Python keyword, hence the method name ``return_case``.
    @step(ReasonSerializer, _("退回: the result is not good enough; back to work, with the reason."), url_path="return",
          url_name="return")
    def return_case(self, request, pk=None):
        return self._step(request, services.case_return, ReasonSerializer)

    @step(RateSerializer, _("评价: record the reporter's rating."))
    def rate(self, request, pk=None):
        return self._step(request, services.case_rate, RateSerializer)

    @step(CommentSerializer, _("结案: close the case."))
    def close(self, request, pk=None):
        return self._step(request, services.case_close, CommentSerializer)

    @step(ReasonSerializer, _("上报上级: move the case to the unit above the one handling it."))
    def escalate(self, request, pk=None):
        return self._step(request, services.case_escalate, ReasonSerializer)


class CaseEventViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Steps of the cases in the caller's subtree, oldest first (filter by ``case``)."""

    model = CaseEvent
    serializer_class = CaseEventSerializer
    lookup_value_regex = r"\d{1,18}"
    filterset_class = CaseEventFilterSet
    ordering_fields = ["at"]

    def optimise(self, queryset):
        return queryset.select_related("actor", "unit")


class CaseCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The case taxonomy: categories and their sub-categories, in order."""

    # Tree order: each category, then its sub-categories.
    queryset = CaseCategory.objects.select_related("parent").order_by(
        Coalesce("parent__sort_order", "sort_order"), Coalesce("parent__code", "code"),
        F("parent_id").asc(nulls_first=True), "sort_order", "code",
    )
    serializer_class = CaseCategorySerializer
    lookup_value_regex = r"\d{1,18}"
    filterset_class = CaseCategoryFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "sort_order"]


router.register("cases", CaseViewSet, basename="case")
router.register("case-events", CaseEventViewSet, basename="caseevent")
router.register("case-categories", CaseCategoryViewSet, basename="casecategory")
