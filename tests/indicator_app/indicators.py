"""Registered by autodiscovery, like every app's indicators.py.

Its indicator is a headline card placed between the org chain's households (10) and residents
(20), a league column and a trend line with a target, all declared here: governance names none
of it.
"""

from django.db.models import Count, F

from governance.indicators.registry import HIGHER, Indicator, Panel, Target, register, register_panel
from governance.models import Level


def grid_counts(start, end, units):
    """One per grid (not micro-grid): a count anybody can check by hand."""
    return units.filter(level=Level.GRID).values(node=F("id")).annotate(n=Count("pk"))


def panel_context(unit, period, values):
    row = values.get("indicator_app.grids")
    return {"grids": int(row.numerator) if row is not None else None, "unit": unit}


register(Indicator(key="indicator_app.grids", label="测试应用：网格数", unit="个", leaf=grid_counts,
                   headline=15, league=15, trend=50, target=Target(green=2, yellow=1), better=HIGHER, over="stock"))
register_panel(Panel(key="indicator-app", title="测试应用面板", template="indicator_app/panel.html",
                     context=panel_context))
