"""Admin of the charts of accounts (会计科目表): configuration an administrator loads, reviews and edits.

A chart is added by loading a file in the shipped format (``collective_economy/charts/*.json``)
through ``chart_load``, or by loading the shipped charts again (``charts_load_shipped``); a bad
file is a message and nothing is written. Its accounts and statement rows are edited inline;
the old→new table (``ChartMapping``) has its own list with account search.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from collective_economy.models import Chart, ChartAccount, ChartMapping, StatementRow
from collective_economy.services.charts import chart_load, charts_load_shipped, operating_income_definition
from governance.portal.admin import ServiceWriteAdminMixin

MAX_CHART_FILE = 1024 * 1024
NOT_A_CHART = _("This is not a chart file: %(reason)s")


def _shape_error(data) -> str | None:
    """What is wrong with the file's structure (the service checks the accounting), or None."""
    if not isinstance(data, dict):
        return gettext("the file holds no JSON object.")
    for key in ("code", "name"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            return gettext("\"%(key)s\" is missing.") % {"key": key}
    if len(data["code"]) > 20 or len(data["name"]) > 100:
        return gettext("the code or the name is too long.")
    accounts = data.get("accounts")
    if not isinstance(accounts, list) or not accounts:
        return gettext("\"accounts\" lists no account.")
    for n, row in enumerate(accounts, start=1):
        if (not isinstance(row, list) or len(row) != 6 or not all(isinstance(v, str) for v in row[:5])
                or not row[0].isdigit() or not 3 <= len(row[0]) <= 6 or not 0 < len(row[1]) <= 40):
            return gettext("account %(n)s is not [code, name, class, side, role, operating income].") % {"n": n}
    statements = data.get("statements", {})
    if not isinstance(statements, dict) or any(s not in ("balance_sheet", "income") for s in statements):
        return gettext("\"statements\" names a statement other than balance_sheet and income.")
    for rows in statements.values():
        for row in rows if isinstance(rows, list) else [None]:
            if (not isinstance(row, list) or len(row) != 5 or not isinstance(row[0], int)
                    or not isinstance(row[1], str) or not isinstance(row[2], str) or not isinstance(row[3], int)
                    or len(row[1]) > 60 or len(row[2]) > 200 or row[0] < 0 or row[3] < 0):
                return gettext("a statement row is not [number, item, formula, indent, total row].")
    mapping = data.get("maps_from")
    if mapping is not None and (not isinstance(mapping, dict) or not isinstance(mapping.get("chart"), str)
                                or not isinstance(mapping.get("accounts"), dict)):
        return gettext("\"maps_from\" is not {\"chart\": code, \"accounts\": {old: new}}.")
    return None


class ChartLoadForm(forms.ModelForm):
    """Adding a chart = loading a chart file, or loading the shipped charts again."""

    file = forms.FileField(label=_("chart file (JSON)"), required=False,
                           help_text=_("In the format of the shipped files: code, name, regulation, accounts, "
                                       "statements and, for a newer chart, the table mapping an older one's "
                                       "accounts. A chart with the same code is updated in place."))
    shipped = forms.BooleanField(label=_("load the shipped charts again"), required=False,
                                 help_text=_("The 2004 and 2023 charts as the portal ships them; your edits to "
                                             "their accounts and rows are replaced."))

    class Meta:
        model = Chart
        fields = []

    def clean(self):
        cleaned = super().clean()
        upload, shipped = cleaned.get("file"), cleaned.get("shipped")
        if not upload and not shipped:
            raise ValidationError(_("Choose a chart file, or load the shipped charts again."))
        if upload:
            if upload.size > MAX_CHART_FILE:
                raise ValidationError({"file": NOT_A_CHART % {"reason": gettext("larger than 1 MB.")}})
            try:
                data = json.loads(upload.read().decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError):
                raise ValidationError({"file": NOT_A_CHART % {"reason": gettext("it is not UTF-8 JSON.")}}) from None
            reason = _shape_error(data)
            if reason:
                raise ValidationError({"file": NOT_A_CHART % {"reason": reason}})
            cleaned["data"] = data
        return cleaned


class ChartAccountInline(admin.TabularInline):
    model = ChartAccount
    fields = ("code", "name", "account_class", "side", "role", "operating_income", "is_active")
    extra = 0


class StatementRowInline(admin.TabularInline):
    model = StatementRow
    fields = ("statement", "number", "label", "formula", "indent", "bold")
    extra = 0


@admin.register(Chart)
class ChartAdmin(ServiceWriteAdminMixin, admin.ModelAdmin):
    """Charts of accounts. Add one by loading its file; edit its accounts and statement rows below."""

    list_display = ("code", "name", "regulation", "in_force_from", "operating_income")
    search_fields = ("code", "name")
    readonly_fields = ("operating_income",)
    actions = ["load_shipped"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ChartLoadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("file", "shipped")
        return ("code", "name", "regulation", "in_force_from", "notes", "operating_income")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [ChartAccountInline, StatementRowInline] if obj is not None else []

    @admin.display(description=_("collective operating income"))
    def operating_income(self, chart):
        return operating_income_definition(chart) or "—"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        try:
            if form.cleaned_data.get("data") is not None:
                saved = chart_load(form.cleaned_data["data"])
            else:
                saved = charts_load_shipped()[-1]
        except (DatabaseError, KeyError, TypeError, ValueError) as exc:
            raise ValidationError(NOT_A_CHART % {"reason": str(exc)}) from None
        self.became(obj, saved)

    def response_add(self, request, obj, post_url_continue=None):
        # The administrator reviews what was loaded: to the chart's page, with its accounts and rows.
        self.message_user(request, gettext("Loaded %(chart)s: review its accounts and statement rows below.")
                          % {"chart": obj}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:collective_economy_chart_change", args=[obj.pk]))

    @admin.action(description=_("Load the shipped charts again (2004, 2023)"), permissions=["change"])
    def load_shipped(self, request, queryset):
        charts = charts_load_shipped()
        self.message_user(request, ngettext("%(n)d chart loaded again.", "%(n)d charts loaded again.", len(charts))
                          % {"n": len(charts)}, messages.SUCCESS)


@admin.register(ChartAccount)
class ChartAccountAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "chart", "account_class", "side", "role", "operating_income", "is_active")
    list_select_related = ("chart",)
    list_filter = ("chart", "account_class", "side", "operating_income", "is_active")
    search_fields = ("code", "name")
    ordering = ("chart", "code")


@admin.register(ChartMapping)
class ChartMappingAdmin(admin.ModelAdmin):
    """The old→new account table (新旧科目对照表): where an old chart's balance goes at the change of rules."""

    list_display = ("source", "target")
    list_select_related = ("source", "target")
    list_filter = ("source__chart", "target__chart")
    search_fields = ("source__code", "source__name", "target__code", "target__name")
    autocomplete_fields = ("source", "target")
