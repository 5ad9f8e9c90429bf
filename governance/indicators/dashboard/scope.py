"""Where a user's dashboards start and how far they reach: his top unit, the units inside his
subtree (anything else is a 404 for the views), the breadcrumb above a unit, and the rollup
runs he may follow."""

from django.db.models import Exists, Q, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.indicators.engine import shard_ends
from governance.models import OrgUnit, RollupRun


def scope_top(user) -> OrgUnit | None:
    """Where the user's dashboard starts: his home unit, or the first top unit for the operator."""
    if user.home_unit_id is not None:
        return user.home_unit
    return OrgUnit.objects.visible_to(user).filter(parent__isnull=True).order_by("tree_id").first()


def visible_unit(user, code: str) -> OrgUnit:
    """The unit ``code`` inside the user's subtree (raises OrgUnit.DoesNotExist otherwise)."""
    return OrgUnit.objects.visible_to(user).get(code=code)


def unit_chain(user, code: str) -> list[OrgUnit]:
    """The unit ``code`` inside the user's subtree with the units above it up to the top of his scope
    (the breadcrumb, ending with the unit), in one query; raises OrgUnit.DoesNotExist outside it."""
    unit = OrgUnit.objects.filter(code=code)
    chain = list(OrgUnit.objects.visible_to(user).filter(
        tree_id=Subquery(unit.values("tree_id")[:1]), lft__lte=Subquery(unit.values("lft")[:1]),
        rght__gte=Subquery(unit.values("rght")[:1])).order_by("lft"))
    if not chain or chain[-1].code != code:
        raise OrgUnit.DoesNotExist(code)
    return chain


def rollup_runs(user):
    """The rollup runs the user may follow: those of his subtree, and the runs of the whole tree
    (no scope) when his own scope is the whole tree (no home unit, or a top unit)."""
    runs = RollupRun.objects.visible_to(user)
    if user.home_unit_id is None:
        return runs
    whole = RollupRun.objects.filter(org_unit__isnull=True).filter(
        Exists(OrgUnit.objects.filter(pk=user.home_unit_id, parent__isnull=True)))
    return RollupRun.objects.filter(Q(pk__in=runs.values("pk")) | Q(pk__in=whole.values("pk")))


def _part_label(code: str, part: dict, names: dict) -> str:
    """A part as the run's page names it: its township (or unit), or its shard's first and last township."""
    if code == "upper":
        return _("County and city levels")
    first, last = shard_ends(code)
    if first == last:
        return names.get(code) or code
    count = part.get("townships", 0)
    return ngettext("Part %(number)s: %(first)s … %(last)s (%(count)d township)",
                    "Part %(number)s: %(first)s … %(last)s (%(count)d townships)", count) % {
        "number": part.get("number", "?"), "first": names.get(first) or first, "last": names.get(last) or last,
        "count": count}


def rollup_progress(run: RollupRun) -> dict:
    """The run's parts in tree order with their units' names, and how far it has come (one query)."""
    ends = {code for name in run.parts for code in shard_ends(name)}
    names = dict(OrgUnit.objects.filter(code__in=ends).values_list("code", "name"))
    # In tree order, the levels above last: PostgreSQL's jsonb keeps a dict's keys in an order of its own.
    ordered = sorted(run.parts.items(), key=lambda item: (item[0] == "upper", item[1].get("number", 0), item[0]))
    parts = [{"name": _part_label(code, part, names), "code": "" if code == "upper" else code, **part}
             for code, part in ordered]
    done = sum(1 for part in parts if part["status"] not in ("pending", "working"))
    total = len(parts) or 1
    return {"parts": parts, "done": done, "total": len(parts), "percent": round(100 * done / total)}


def breadcrumb(user, unit: OrgUnit) -> list[OrgUnit]:
    """The units from the top of the user's scope down to ``unit`` (nothing above his scope)."""
    if unit.parent_id is None or unit.pk == user.home_unit_id:
        return [unit]  # the top of the tree, or of his scope: nothing above it to read
    return list(unit.get_ancestors(include_self=True).visible_to(user).order_by("lft"))
