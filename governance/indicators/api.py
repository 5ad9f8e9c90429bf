"""The monthly indicators as data (/api/v1/indicators/), the numbers the dashboards show.

``GET /api/v1/indicators/?org=CODE&period=P[&children=1]``
    Every indicator value of the unit over the period, or of each unit one level down.
``GET /api/v1/indicators/series/?org=CODE&key=K&from=P&to=P[&every=month|quarter|half|year]``
    One indicator of the unit period by period (a period never computed for the unit is null).

A period ``P`` is a month ``2025-05``, a quarter ``2025-Q2``, a half-year ``2025-H1``, a year
``2025`` or any range of months ``2025-01..2025-06`` (the year so far is the range from January).
Values over several months add up as each indicator declares (``over``: a flow sums its months,
a stock is its last month's, a ratio sums numerators and denominators, a median is taken over
the period's own samples), exactly as the dashboard and its Excel export show them. In a period
computed for the unit, a count the rollup stored no row of is 0 and a ratio "0 of 0" (value null):
``Indicator.unstored``.

Both read the stored values only, through ``governance.indicators.dashboard``. ``org`` defaults to
the top of the caller's scope; a unit outside it answers 404. A malformed period or an unknown
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
from governance.indicators.months import Period, format_period, parse_period_text
from governance.models import IndicatorValue, OrgUnit
from governance.portal.api import router

MAX_SERIES_MONTHS = 120


PERIOD_HELP = ("A month 2025-05, a quarter 2025-Q2, a half-year 2025-H1, a year 2025, or a range of months "
               "2025-01..2025-06 (at most 120 months).")
EVERY = {"month": lambda first: Period.month(first),
         "quarter": lambda first: Period.quarter(first.year, (first.month + 2) // 3),
         "half": lambda first: Period.half(first.year, 1 if first.month <= 6 else 2),
         "year": lambda first: Period.year(first.year)}


class PeriodField(serializers.Field):
    """A period as the API writes it (``PERIOD_HELP``), read as a ``Period``."""

    default_error_messages = {"period": _("Enter a month 2025-05, a quarter 2025-Q2, a half-year 2025-H1, a year "
                                          "2025 or a range 2025-01..2025-06 of at most 120 months.")}

    def to_internal_value(self, data):
        period = parse_period_text(data) if isinstance(data, str) and len(data) <= 32 else None
        if period is None:
            self.fail("period")
        return period

    def to_representation(self, value):
        return str(value)


class ValuesQuerySerializer(serializers.Serializer):
    org = serializers.CharField(required=False, max_length=32)
    period = PeriodField(required=False)
    children = serializers.BooleanField(required=False, default=False)


class SeriesQuerySerializer(serializers.Serializer):
    org = serializers.CharField(required=False, max_length=32)
    key = serializers.CharField(max_length=64)
    from_ = PeriodField(required=False)
    to = PeriodField(required=False)
    every = serializers.ChoiceField(choices=list(EVERY), required=False, default="month")

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
            if start.first > end.last:
                raise serializers.ValidationError({"from": _("The first month is after the last.")})
            if Period(start.first, end.last).length > MAX_SERIES_MONTHS:
                raise serializers.ValidationError({"from": _("Ask for at most 120 months at a time.")})
        return attrs


class IndicatorValueSerializer(serializers.Serializer):
    org = serializers.CharField(help_text=_("Code of the org unit."))
    org_name = serializers.CharField()
    period = serializers.CharField(help_text=_("The period, written as it was asked for (2025-05, 2025-Q2 ...)."))
    first = serializers.CharField(help_text=_("Its first month, YYYY-MM."))
    last = serializers.CharField(help_text=_("Its last month, YYYY-MM."))
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(help_text=_("Unit of measure (a ratio is '%': value is a fraction)."))
    kind = serializers.CharField(help_text=_("count, ratio or median."))
    over = serializers.CharField(allow_null=True, help_text=_(
        "How it adds up over months: flow (summed), stock (the last month's); null for a median."))
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    value = serializers.FloatField(allow_null=True)


class SeriesPointSerializer(serializers.Serializer):
    period = serializers.CharField(help_text=_("The period: a month 2025-05, or 2025-Q2, 2025-H1, 2025 by 'every'."))
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
    every = serializers.CharField(help_text=_("month, quarter, half or year."))
    points = SeriesPointSerializer(many=True)


def _float(value):
    return None if value is None else float(value)


def _value_dict(unit: OrgUnit, period: Period, row: IndicatorValue, indicators) -> dict:
    indicator = indicators.get(row.key)
    return {
        "org": unit.code, "org_name": unit.display_name, "period": str(period),
        "first": format_period(period.first), "last": format_period(period.last),
        "key": row.key, "label": str(indicator.label) if indicator else row.key,
        "unit": str(indicator.unit) if indicator else "", "kind": indicator.kind if indicator else "count",
        "over": indicator.over if indicator else None,
        "numerator": _float(row.numerator), "denominator": _float(row.denominator), "value": _float(row.value),
    }


ORG = OpenApiParameter("org", OpenApiTypes.STR, description="Org unit code (default: the top of your scope).")
PERIOD = OpenApiParameter("period", OpenApiTypes.STR,
                          description=f"{PERIOD_HELP} Default: the last month with values.")


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
        period = query.validated_data.get("period") or Period.month(dashboard.default_period(unit))
        units = (list(OrgUnit.objects.visible_to(request.user).filter(parent=unit).order_by("lft"))
                 if query.validated_data["children"] else [unit])
        indicators = dashboard.indicator_map()
        values = dashboard.values_over(units, period, indicators)
        data = [_value_dict(shown, period, row, indicators)
                for shown in units for _key, row in sorted(values.get(shown.pk, {}).items())]
        return Response(IndicatorValueSerializer(data, many=True).data)

    @extend_schema(
        parameters=[
            ORG,
            OpenApiParameter("key", OpenApiTypes.STR, required=True,
                             description="Indicator key, e.g. households."),
            OpenApiParameter("from", OpenApiTypes.STR,
                             description=f"The first period: {PERIOD_HELP} Default: 11 steps before 'to'."),
            OpenApiParameter("to", OpenApiTypes.STR,
                             description=f"The last period: {PERIOD_HELP} Default: the last month with values."),
            OpenApiParameter("every", OpenApiTypes.STR, enum=[*EVERY],
                             description="The step of the series: month (default), quarter, half or year."),
        ],
        responses=SeriesSerializer,
    )
    @action(detail=False, url_path="series")
    def series(self, request):
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        unit = self._unit(data.get("org"))
        step = EVERY[data["every"]]
        end = step(data["to"].last if data.get("to") else dashboard.default_period(unit))
        start = step(data["from"].first) if data.get("from") else end.shifted(-11 * end.length)
        if start.first > end.last:
            raise serializers.ValidationError({"from": [_("The first month is after the last.")]})
        if Period(start.first, end.last).length > MAX_SERIES_MONTHS:
            raise serializers.ValidationError({"from": [_("Ask for at most 120 months at a time.")]})
        indicator = dashboard.indicator_map()[data["key"]]
        periods, period = [], start
        while period.first <= end.last:
            periods.append(period)
            period = period.following
        found = dashboard.series_over(unit, indicator, periods)
        points = [{"period": str(period), "numerator": _float(found[period].numerator) if period in found else None,
                   "denominator": _float(found[period].denominator) if period in found else None,
                   "value": _float(found[period].value) if period in found else None} for period in periods]
        return Response(SeriesSerializer({
            "org": unit.code, "org_name": unit.display_name, "key": indicator.key, "label": str(indicator.label),
            "unit": str(indicator.unit), "kind": indicator.kind, "every": data["every"], "points": points,
        }).data)


router.register("indicators", IndicatorViewSet, basename="indicator")
