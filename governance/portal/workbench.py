"""The workbench (the home page): what each role must do today, in panels the apps contribute.

An app lists its panels in a ``workbench.py`` module of its own (found on first use, as
``admin.py`` is), so governance never imports the apps above it::

    from governance.portal.workbench import Panel, register

    @register("grid.todo", order=10)
    def todo(user):
        return Panel(title=..., template="grid/_workbench_todo.html", context={...})

A panel's function returns None when it has nothing for that user. The org chain's own panels
(the last indicator runs and roster imports, for administrators) are declared here.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from governance.audit import Action
from governance.models import AuditEvent, Role, RollupRun
from governance.registry import Registry
from governance.rosters.specs import all_specs

# Runs and imports an administrator's workbench lists.
LAST_ROWS = 5


@dataclass
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    key: str = ""
    order: int = 100


_panels = Registry("workbench", core="governance.portal.workbench")


def register(key: str, *, order: int = 100):
    def decorate(build):
        _panels.add(key, (order, key, build))
        return build

    return decorate


def panels_for(user) -> list[Panel]:
    """The panels ``user`` sees, in their declared order."""
    panels = []
    for order, key, build in sorted(_panels.all(), key=lambda item: (item[0], item[1])):
        panel = build(user)
        if panel is not None:
            panel.key, panel.order = key, order
            panels.append(panel)
    return panels


def is_administrator(user) -> bool:
    return user.is_superuser or getattr(user, "role", None) == Role.ADMIN


@register("governance.runs", order=80)
def last_runs(user):
    """The last monthly rollups (administrators see whether the dashboards are up to date)."""
    if not is_administrator(user):
        return None
    # Runs of the whole system (no scope) concern every administrator; scoped ones only his area's.
    in_area = RollupRun.objects.visible_to(user).values("pk")
    runs = list(RollupRun.objects.filter(Q(org_unit__isnull=True) | Q(pk__in=in_area))
                .select_related("org_unit")[:LAST_ROWS])
    return Panel(title=_("Last indicator runs"), template="governance/_workbench_runs.html", context={"runs": runs})


@register("governance.imports", order=90)
def last_imports(user):
    """The last import of each roster: when, by whom, how many rows (from the audit trail's import events)."""
    if not is_administrator(user):
        return None
    specs = {spec.kind: spec for spec in all_specs()}
    imports, seen = [], set()
    # The last imports of every kind are among the last few hundred import events: one query.
    for event in AuditEvent.objects.filter(action=Action.IMPORT).only("at", "changes")[:300]:
        kind = ((event.changes or {}).get("kind") or [None, None])[1]
        if kind in seen or kind not in specs:
            continue
        seen.add(kind)
        spec, meta = specs[kind], specs[kind].model._meta
        try:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        except NoReverseMatch:
            url = ""
        rows = ((event.changes or {}).get("rows") or [None, 0])[1]
        imports.append({"label": spec.label, "kind": kind, "at": event.at, "rows": rows, "url": url})
    imports.sort(key=lambda item: item["at"], reverse=True)
    return Panel(title=_("Last roster imports"), template="governance/_workbench_imports.html",
                 context={"imports": imports[:LAST_ROWS]})
