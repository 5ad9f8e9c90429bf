"""What each role may do: the role → model-permission mapping, applied to users by one service.

The role says WHAT a user may do (Django model permissions: view/add/change/delete); the
home unit says WHERE (``visible_to``). A user's direct ``user_permissions`` belong to his
role and are rewritten by ``user_sync_permissions``; extra rights are granted through groups.
"""

from django.contrib.auth.models import Permission
from django.db import transaction

from governance.models import Role, User

_ALL = ("view", "add", "change", "delete")
_EDIT = ("view", "add", "change")
_VIEW = ("view",)

# model name (app "governance") → actions, per role.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.ADMIN: {"orgunit": _ALL, "household": _ALL, "resident": _ALL, "tag": _ALL, "user": _ALL},
    Role.COUNTY: {"orgunit": _ALL, "household": _ALL, "resident": _ALL, "tag": _VIEW, "user": _EDIT},
    # A township keeps its own villages and grids, registers households, manages its staff.
    Role.TOWNSHIP: {"orgunit": _EDIT, "household": _ALL, "resident": _ALL, "tag": _VIEW, "user": _EDIT},
    Role.VILLAGE: {"orgunit": _VIEW, "household": _EDIT, "resident": _EDIT, "tag": _VIEW, "user": _VIEW},
    Role.GRID: {"orgunit": _VIEW, "household": _EDIT, "resident": _EDIT, "tag": _VIEW},
}

# From the widest to the narrowest: a user may give others only his own role or a narrower one.
ROLE_RANK = [Role.ADMIN, Role.COUNTY, Role.TOWNSHIP, Role.VILLAGE, Role.GRID]


def role_permission_codenames(role: str) -> set[str]:
    return {f"{action}_{model}" for model, actions in ROLE_PERMISSIONS.get(role, {}).items() for action in actions}


def role_permissions(role: str):
    codenames = role_permission_codenames(role)
    return Permission.objects.filter(content_type__app_label="governance", codename__in=codenames or [""])


def roles_grantable_by(user) -> list[str]:
    """The roles ``user`` may give to others: all for a superuser, else his own and narrower ones."""
    if user.is_superuser:
        return list(ROLE_RANK)
    if user.role not in ROLE_RANK:
        return []
    return ROLE_RANK[ROLE_RANK.index(user.role) :]


def role_outranks(role: str, other: str) -> bool:
    """True when ``role`` is strictly wider than ``other``."""
    if role not in ROLE_RANK or other not in ROLE_RANK:
        return False
    return ROLE_RANK.index(role) < ROLE_RANK.index(other)


def user_sync_permissions(user: User) -> None:
    """Give ``user`` exactly the model permissions of his role (direct permissions only)."""
    with transaction.atomic():
        user.user_permissions.set(role_permissions(user.role))
    # ModelBackend caches permissions on the instance.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def users_sync_permissions(users=None) -> int:
    """Apply the mapping to many users (e.g. after the mapping changed); returns how many."""
    users = User.objects.all() if users is None else users
    count = 0
    for user in users.iterator():
        user_sync_permissions(user)
        count += 1
    return count
