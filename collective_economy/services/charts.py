"""Loading a chart of accounts from its data file (``collective_economy/charts/<code>.json``).

Loading is idempotent: accounts, statement rows and the mapping are matched by code and
updated in place, so a corrected data file is loaded again over the old one. Accounts that a
file no longer lists are kept (lines may point at them) but marked not in use.
"""

import datetime
import json
from pathlib import Path

from django.apps import apps as global_apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

CHARTS_DIR = Path(__file__).resolve().parent.parent / "charts"
SHIPPED = ("2004", "2023")  # in the order they are loaded: a chart maps from an older one


def chart_data(code: str) -> dict:
    """The shipped data file of the chart ``code``."""
    return json.loads((CHARTS_DIR / f"{code}.json").read_text(encoding="utf-8"))


def _check(data: dict) -> None:
    codes = [row[0] for row in data.get("accounts", [])]
    if not codes:
        raise ValidationError(_("The chart lists no account."))
    duplicated = sorted({code for code in codes if codes.count(code) > 1})
    if duplicated:
        raise ValidationError(_("Account codes listed twice: %(codes)s.") % {"codes": "、".join(duplicated)})
    classes = {"asset", "liability", "equity", "cost", "income", "expense"}
    for code, name, account_class, side, _role, operating in data["accounts"]:
        if account_class not in classes or side not in ("debit", "credit"):
            raise ValidationError(_("Account %(code)s %(name)s: unknown class or balance side.")
                                  % {"code": code, "name": name})
        if operating and account_class != "income":
            raise ValidationError(_("Account %(code)s %(name)s counts as operating income but is not an income "
                                    "account.") % {"code": code, "name": name})


@transaction.atomic
def chart_load(data: dict, *, apps=global_apps):
    """Create or update the chart described by ``data`` (the format of the shipped files); returns it.

    ``apps`` is the app registry (a migration passes its historical one).
    """
    _check(data)
    Chart = apps.get_model("collective_economy", "Chart")
    ChartAccount = apps.get_model("collective_economy", "ChartAccount")
    ChartMapping = apps.get_model("collective_economy", "ChartMapping")
    StatementRow = apps.get_model("collective_economy", "StatementRow")
    in_force = data.get("in_force_from")
    chart, _created = Chart.objects.update_or_create(code=data["code"], defaults={
        "name": data["name"], "regulation": data.get("regulation", ""), "notes": data.get("notes", ""),
        "in_force_from": datetime.date.fromisoformat(in_force) if in_force else None,
    })
    listed = []
    # Roles are unique per chart: clear them first so a role may move from one account to another.
    ChartAccount.objects.filter(chart=chart).update(role="")
    for code, name, account_class, side, role, operating in data["accounts"]:
        ChartAccount.objects.update_or_create(chart=chart, code=code, defaults={
            "name": name, "account_class": account_class, "side": side, "role": role,
            "operating_income": bool(operating), "is_active": True})
        listed.append(code)
    ChartAccount.objects.filter(chart=chart).exclude(code__in=listed).update(is_active=False, operating_income=False)
    for statement, rows in data.get("statements", {}).items():
        numbers = []
        for number, label, formula, indent, bold in rows:
            StatementRow.objects.update_or_create(chart=chart, statement=statement, number=number, defaults={
                "label": label, "formula": formula, "indent": indent, "bold": bold})
            numbers.append(number)
        StatementRow.objects.filter(chart=chart, statement=statement).exclude(number__in=numbers).delete()
    mapping = data.get("maps_from")
    if mapping:
        source_chart = Chart.objects.filter(code=mapping["chart"]).first()
        if source_chart is None:
            raise ValidationError(_("Load the chart %(code)s first: this chart maps from it.")
                                  % {"code": mapping["chart"]})
        sources = {a.code: a for a in ChartAccount.objects.filter(chart=source_chart)}
        targets = {a.code: a for a in ChartAccount.objects.filter(chart=chart)}
        for old, new in mapping["accounts"].items():
            if old not in sources or new not in targets:
                raise ValidationError(_("The account table maps %(old)s to %(new)s, but one of them is not in its "
                                        "chart.") % {"old": old, "new": new})
            ChartMapping.objects.update_or_create(source=sources[old], defaults={"target": targets[new]})
    return chart


def charts_load_shipped(*, apps=global_apps) -> list:
    """Load (or refresh) every chart the portal ships."""
    return [chart_load(chart_data(code), apps=apps) for code in SHIPPED]


def operating_income_definition(chart) -> str:
    """The chart's collective operating income as its accounts (``Chart.operating_income_definition``)."""
    return chart.operating_income_definition()
