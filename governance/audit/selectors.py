"""Reading the trail: the administrators' search, and one object's history for its page."""

import datetime

from django.db.models import Q
from django.utils import timezone

from governance.models import AuditEvent, OrgUnit, Role

HISTORY_ROWS = 20


def can_read_trail(user) -> bool:
    """The whole trail is for administrators (and the system operator) only."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active
                and (user.is_superuser or getattr(user, "role", None) == Role.ADMIN))


def trail_events(*, fetched_by, q: str = "", user: str = "", obj: str = "", action: str = "", source: str = "",
                 township: OrgUnit | None = None, date_from: datetime.date | None = None,
                 date_to: datetime.date | None = None):
    """The events that match, newest first; none for a user who may not read the trail.

    ``q``: any text of the event (actor, object, detail); ``user``: a login or name; ``obj``: an object type
    (``grid.Case``) or type and id (``grid.Case:12``); the dates are local days, both included."""
    events = AuditEvent.objects.all()
    if not can_read_trail(fetched_by):
        return events.none()
    if q:
        events = events.filter(Q(actor__icontains=q) | Q(object_repr__icontains=q) | Q(object_type__icontains=q)
                                | Q(detail__icontains=q) | Q(address=q) | Q(object_id=q))
    if user:
        events = events.filter(actor__icontains=user)
    if obj:
        kind, _sep, pk = obj.partition(":")
        events = events.filter(object_type__iexact=kind.strip())
        if pk.strip():
            events = events.filter(object_id=pk.strip())
    if action:
        events = events.filter(action=action)
    if source:
        events = events.filter(source=source)
    if township is not None:
        subtree = OrgUnit.objects.filter(tree_id=township.tree_id, lft__gte=township.lft, lft__lt=township.rght)
        events = events.filter(org_unit_id__in=subtree.values("pk"))
    if date_from:
        events = events.filter(at__gte=_day_start(date_from))
    if date_to:
        events = events.filter(at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    return events.order_by("-at", "-id")


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def object_history(*, obj, limit: int = HISTORY_ROWS) -> list[AuditEvent]:
    """The last events of one object (its page's history), newest first; one query."""
    return list(AuditEvent.objects.filter(object_type=obj._meta.label, object_id=str(obj.pk))
                .order_by("-at", "-id")[:limit])


def units_named(events) -> dict[int, OrgUnit]:
    """The org units the events name, for their page (one query)."""
    ids = {event.org_unit_id for event in events if event.org_unit_id}
    return OrgUnit.objects.only("name", "code").in_bulk(ids) if ids else {}
