"""Template helpers of the staff pages: numbers, masking, sortable table headers."""

from django import template
from django.utils.translation import gettext as _

from governance import masking
from governance.selectors import unit_for_level_display

register = template.Library()


@register.filter
def thousands(value):
    """12345 → 12,345 (the separator Chinese government tables use)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value


@register.filter
def shown_id_number(value, user):
    return masking.shown_id_number(user, value)


@register.filter
def shown_phone(value, user):
    return masking.shown_phone(user, value)


@register.filter
def unit_at(unit, level):
    """The unit at ``level`` above (or at) ``unit``, from parents already joined in the query."""
    if unit is None:
        return None
    return unit_for_level_display(unit, level)


@register.inclusion_tag("includes/sort_th.html", takes_context=True)
def sort_th(context, key, label, numeric=False):
    """A table header that sorts the list by ``key``; a second click reverses the order."""
    current = context.get("sort", "")
    active = current.lstrip("-") == key
    descending = active and current.startswith("-")
    query = context["request"].GET.copy()
    query["sort"] = key if descending or not active else f"-{key}"
    query.pop("page", None)
    if active:
        state = _("sorted descending") if descending else _("sorted ascending")
    else:
        state = ""
    return {
        "href": f"?{query.urlencode()}",
        "label": label,
        "active": active,
        "descending": descending,
        "numeric": numeric,
        "state": state,
    }


@register.filter
def count_of(unit, key):
    """The subtree count ``key`` annotated on a unit by ``selectors.with_subtree_counts``."""
    return getattr(unit, f"n_{key}", "")
