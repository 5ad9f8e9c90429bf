"""The grid app's panel of the workbench: the user's cases to act on today, counted by section,
with the most urgent few listed (the whole of it is My work, ``grid:my-work``)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.portal.workbench import Panel, register
from grid.selectors.work import my_work
from grid.views.work import SECTIONS

# Cases the workbench lists under the counts (My work lists 20 a section).
URGENT_ROWS = 5
# The section whose first cases the workbench lists: the first of these that has any.
URGENT_ORDER = ("overdue", "intake", "check", "unit", "due_soon", "assigned")


@register("grid.todo", order=10)
def todo(user):
    if not user.has_perm("grid.view_case"):
        return None
    sections = my_work(fetched_by=user, rows=URGENT_ROWS)
    by_key = {section.key: section for section in sections}
    work = reverse("grid:my-work")
    tiles = [
        {"key": section.key, "title": SECTIONS[section.key][0], "icon": SECTIONS[section.key][1],
         "count": section.count, "url": f"{work}#section-{section.key}"}
        for section in sections
    ]
    urgent = next((by_key[key] for key in URGENT_ORDER if key in by_key and by_key[key].count), None)
    return Panel(title=_("To do today"), template="grid/_workbench_todo.html", context={
        "tiles": tiles, "work_url": work, "total": sum(section.count for section in sections),
        "urgent": urgent, "urgent_title": SECTIONS[urgent.key][0] if urgent else "",
    })
