from django.conf import settings
from django.utils.functional import SimpleLazyObject

from governance.roles import may_use_admin


def _home_chain(user) -> list:
    """The user's home unit with its ancestors, top down (the top bar's 县 › 乡镇 › 村), in one query.

    The home unit's range is read inside the statement, so the unit itself need not be loaded.
    His own chain, above his scope too: where he sits is no secret to him.
    """
    unit_id = getattr(user, "home_unit_id", None) if getattr(user, "is_authenticated", False) else None
    if unit_id is None:
        return []
    from governance.models import OrgUnit
    from governance.scope import unit_field

    return list(OrgUnit.objects.filter(tree_id=unit_field(OrgUnit, unit_id, "tree_id"),
                                       lft__lte=unit_field(OrgUnit, unit_id, "lft"),
                                       rght__gte=unit_field(OrgUnit, unit_id, "rght")).order_by("lft"))


def _unread(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    from governance.models import Notification

    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def portal(request):
    user = getattr(request, "user", None)
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        # Lazy: pages that do not show the top bar (the admin, the API) pay no query.
        "home_chain": SimpleLazyObject(lambda: _home_chain(user)),
        "unread_notifications": SimpleLazyObject(lambda: _unread(user)),
        # The admin's links, for those it lets in (grid workers and village clerks work in the portal's pages).
        "may_use_admin": bool(user is not None and user.is_staff and may_use_admin(user)),
    }
