"""The monthly indicators as data (/api/v1/indicators/), the numbers the dashboards show.

``GET /api/v1/indicators/?org=CODE&period=YYYY-MM[&children=1]``
    Every indicator value of the unit for the month, or of each unit one level down.
``GET /api/v1/indicators/series/?org=CODE&key=K&from=YYYY-MM&to=YYYY-MM``
    One indicator of the unit month by month (a month without a value is null).

Both read ``IndicatorValue`` only, through ``governance.indicators.dashboard``. ``org`` defaults to the
top of the caller's scope; a unit outside it answers 404. A malformed month or an unknown
indicator is a 400 naming the field.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from governance.indicators import dashboard
from governance.indicators.months import format_period, parse_period, shift_month
from governance.models import IndicatorValue, OrgUnit
from governance.portal.api import router

MAX_SERIES_MONTHS = 120


class MonthField(serializers.CharField):
    """A month written ``YYYY-MM``, read as the first day of that month."""

    default_error_messages = {"month": _("Enter a month as YYYY-MM, for example 2025-03.")}

    def to_internal_value(self, data):
        period = parse_period(super().to_internal_value(data))
        if period is None:
            self.fail("month")
        return period


class ValuesQuerySerializer(serializers.Serializer):
    org = serializers.CharField(required=False, max_length=32)
    period = MonthField(required=False)
    children = serializers.BooleanField(required=False, default=False)


class SeriesQuerySerializer(serializers.Serializer):
    org = serializers.CharField(required=False, max_length=32)
    key = serializers.CharField(max_length=64)
    from_ = MonthField(required=False)
    to = MonthField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields

    def validate_key(self, value):
        if value not in dashboard.indicator_map():
            raise serializers.ValidationError(_("Unknown indicator."))
        return value

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start and end:
            if start > end:
                raise serializers.ValidationError({"from": _("The first month is after the last.")})
            if (end.year - start.year) * 12 + end.month - start.month >= MAX_SERIES_MONTHS:
                raise serializers.ValidationError({"from": _("Ask for at most 120 months at a time.")})
        return attrs


class IndicatorValueSerializer(serializers.Serializer):
    org = serializers.CharField(help_text=_("Code of the org unit."))
    org_name = serializers.CharField()
    period = serializers.CharField(help_text=_("The month, YYYY-MM."))
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(help_text=_("Unit of measure (a ratio is '%': value is a fraction)."))
    kind = serializers.CharField(help_text=_("count, ratio or median."))
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    value = serializers.FloatField(allow_null=True)


class SeriesPointSerializer(serializers.Serializer):
    period = serializers.CharField(help_text=_("The month, YYYY-MM."))
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    value = serializers.FloatField(allow_null=True)


class SeriesSerializer(serializers.Serializer):
    org = serializers.CharField()
    org_name = serializers.CharField()
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    kind = serializers.CharField(help_text=_("count, ratio or median."))
    points = SeriesPointSerializer(many=True)


def _float(value):
    return None if value is None else float(value)


def _value_dict(row: IndicatorValue, indicators) -> dict:
    indicator = indicators.get(row.key)
    return {
        "org": row.org_unit.code, "org_name": row.org_unit.display_name, "period": format_period(row.period),
        "key": row.key, "label": str(indicator.label) if indicator else row.key,
        "unit": str(indicator.unit) if indicator else "", "kind": indicator.kind if indicator else "count",
        "numerator": _float(row.numerator), "denominator": _float(row.denominator), "value": _float(row.value),
    }


ORG = OpenApiParameter("org", OpenApiTypes.STR, description="Org unit code (default: the top of your scope).")
PERIOD = OpenApiParameter("period", OpenApiTypes.STR,
                          description="Month YYYY-MM (default: the last month with values).")


class IndicatorViewSet(viewsets.GenericViewSet):
    """Monthly indicator values of the caller's subtree, as the dashboards show them."""

    queryset = IndicatorValue.objects.none()
    serializer_class = IndicatorValueSerializer
    pagination_class = None
    filter_backends = []

    def _unit(self, code: str | None) -> OrgUnit:
        user = self.request.user
        if not code:
            unit = dashboard.scope_top(user)
            if unit is None:
                raise NotFound(_("You have no unit to show."))
            return unit
        try:
            return dashboard.visible_unit(user, code)
        except OrgUnit.DoesNotExist:
            raise NotFound(_("No such unit in your area.")) from None

    @extend_schema(
        parameters=[ORG, PERIOD, OpenApiParameter(
            "children", OpenApiTypes.BOOL, description="1: the values of the units one level down instead.")],
        responses=IndicatorValueSerializer(many=True),
    )
    def list(self, request):
        query = ValuesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        unit = self._unit(query.validated_data.get("org"))
        period = query.validated_data.get("period") or dashboard.default_period(unit)
        rows = IndicatorValue.objects.visible_to(request.user).filter(period=period).select_related("org_unit")
        if query.validated_data["children"]:
            rows = rows.filter(org_unit__parent=unit).order_by("org_unit__lft", "key")
        else:
            rows = rows.filter(org_unit=unit).order_by("key")
        indicators = dashboard.indicator_map()
        return Response(IndicatorValueSerializer([_value_dict(row, indicators) for row in rows], many=True).data)

    @extend_schema(
        parameters=[
            ORG,
            OpenApiParameter("key", OpenApiTypes.STR, required=True,
                             description="Indicator key, e.g. households."),
            OpenApiParameter("from", OpenApiTypes.STR,
                             description="First month YYYY-MM (default: 11 months before 'to')."),
            OpenApiParameter("to", OpenApiTypes.STR,
                             description="Last month YYYY-MM (default: the last month with values)."),
        ],
        responses=SeriesSerializer,
    )
    @action(detail=False, url_path="series")
    def series(self, request):
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        unit = self._unit(data.get("org"))
        end = data.get("to") or dashboard.default_period(unit)
        start = data.get("from") or shift_month(end, -11)
        if start > end:
            raise serializers.ValidationError({"from": [_("The first month is after the last.")]})
        found = {
            row.period: row
            for row in IndicatorValue.objects.visible_to(request.user).filter(
                org_unit=unit, key=data["key"], period__gte=start, period__lte=end)
        }
        points, period = [], start
        while period <= end:
            row = found.get(period)
            points.append({"period": format_period(period), "numerator": _float(row.numerator) if row else None,
                           "denominator": _float(row.denominator) if row else None,
                           "value": _float(row.value) if row else None})
            period = shift_month(period, 1)
        indicator = dashboard.indicator_map()[data["key"]]
        return Response(SeriesSerializer({
            "org": unit.code, "org_name": unit.display_name, "key": indicator.key, "label": str(indicator.label),
            "unit": str(indicator.unit), "kind": indicator.kind, "points": points,
        }).data)


router.register("indicators", IndicatorViewSet, basename="indicator")
