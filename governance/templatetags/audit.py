"""``{% object_history obj %}``: an object's audit history on its page (the one include every detail page uses).

The page that shows it has already checked that the user may see the object; the events say only
who changed what (personal data masked in the record). The addresses and the link to the whole
trail are for administrators.
"""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from governance.audit import Action
from governance.audit.selectors import can_read_trail
from governance.audit.selectors import object_history as history_of

register = template.Library()


@register.inclusion_tag("audit/_history.html", takes_context=True, name="object_history")
def object_history_panel(context, obj):
    user = getattr(context.get("request"), "user", None)
    events = history_of(obj=obj) if obj is not None and obj.pk else []
    labels = dict(Action.choices)
    for event in events:
        event.action_label = labels.get(event.action, event.action)
    admin = can_read_trail(user)
    trail_url = ""
    if admin and obj is not None:
        trail_url = reverse("audit:trail") + "?" + urlencode({"obj": f"{obj._meta.label}:{obj.pk}"})
    return {"events": events, "show_address": admin, "trail_url": trail_url}

