"""The admin of a county's own indicator targets (指标目标, ``IndicatorTarget``).

A county sets the target of any indicator that says which way is better, in the figure's own
unit (95 for 95%), and from which month it holds; the dashboards of the county and of every
unit below it show it beside the figure and colour their leagues by it
(``governance.indicators.dashboard``). A city sets them for counties that set none, a township
its own for its page and its villages. Without one, the target the indicator declares holds.
Rows are limited to the user's subtree like everything in the admin (``ScopedAdminMixin``).

``governance.admin`` imports this module, so the admin site registers it with the others.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.indicators.registry import LOWER, all_indicators, get_indicator
from governance.models import TARGET_LEVELS, IndicatorTarget
from governance.portal.admin import ScopedAdminMixin


def targetable() -> dict:
    """The indicators a county may set a target for: those that say which way is better (a
    breakdown's bars apart), by key."""
    return {indicator.key: indicator for indicator in all_indicators()
            if indicator.better is not None and not indicator.breakdown}


def _indicator(key: str):
    try:
        return get_indicator(key)
    except KeyError:
        return None


def _choice_label(indicator) -> str:
    unit = str(indicator.unit)
    return f"{indicator.label}（{unit}）" if unit else str(indicator.label)


class IndicatorTargetForm(forms.ModelForm):
    """One target: the county, the indicator (chosen among the registry's), the value in the figure's
    unit, how near is near, and the first month it holds for."""

    key = forms.ChoiceField(label=_("Indicator"))

    class Meta:
        model = IndicatorTarget
        fields = ("unit", "key", "value", "near", "valid_from")
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(key, _choice_label(indicator)) for key, indicator in targetable().items()]
        if self.instance.pk and self.instance.key not in dict(choices):
            choices.append((self.instance.key, self.instance.key))  # an indicator since removed: kept as it is
        self.fields["key"].choices = [("", "---------"), *choices]

    def clean(self):
        cleaned = super().clean()
        key, value, near = cleaned.get("key"), cleaned.get("value"), cleaned.get("near")
        indicator = targetable().get(key) if key else None
        if key and indicator is None:
            self.add_error("key", gettext("This indicator takes no target: it does not say which way is better."))
            return cleaned
        if indicator is not None and value is not None:
            if value < 0:
                self.add_error("value", gettext("A target is not negative."))
            elif indicator.percent and value > 100:
                self.add_error("value", gettext("A rate's target is a percentage, at most 100."))
        if near is not None and near < 0:
            self.add_error("near", gettext("The distance is not negative."))
        return cleaned


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A county's targets, one per indicator; the dashboards show them beside the figures."""

    form = IndicatorTargetForm
    list_display = ("unit", "indicator_label", "target_text", "near_text", "valid_from")
    list_display_links = ("indicator_label",)
    list_select_related = ("unit",)
    search_fields = ("key", "unit__name", "unit__code")
    ordering = ("unit__code", "key")

    @admin.display(description=_("indicator"), ordering="key")
    def indicator_label(self, obj):
        indicator = _indicator(obj.key)
        return str(indicator.label) if indicator is not None else obj.key

    @admin.display(description=_("target"), ordering="value")
    def target_text(self, obj):
        indicator = _indicator(obj.key)
        sign = "≤" if indicator is not None and indicator.better == LOWER else "≥"
        return f"{sign} {_plain(obj.value)}{'%' if indicator is not None and indicator.percent else ''}"

    @admin.display(description=_("near within"), ordering="near")
    def near_text(self, obj):
        return "—" if obj.near is None else _plain(obj.near)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "unit":  # a city, county or township in the user's scope
            formfield.queryset = formfield.queryset.filter(level__in=TARGET_LEVELS).order_by("code")
        return formfield

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        home = request.user.home_unit
        if home is not None and home.level in TARGET_LEVELS:
            initial.setdefault("unit", home.pk)
        return initial


def _plain(number) -> str:
    """95.0000 as 95, 2.5000 as 2.5."""
    return f"{Decimal(number).normalize():f}"
