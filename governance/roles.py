"""What each role may do: the role → model-permission mapping, applied to users by one service.

The role says WHAT a user may do (Django model permissions: view/add/change/delete); the
home unit says WHERE (``visible_to``). A user's direct ``user_permissions`` belong to his
role and are rewritten by ``user_sync_permissions``; extra rights are granted through groups.
"""

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q

from governance.models import Role, User

# The actions a role may take on a model; apps use the same three in their AppConfig.ready().
ALL = ("view", "add", "change", "delete")
EDIT = ("view", "add", "change")
VIEW = ("view",)

# "app_label.model" → actions, per role. Apps above governance add theirs with
# ``register_role_permissions`` from their AppConfig.ready(), so governance names none of them.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {role: {} for role in Role.values}


def register_role_permissions(mapping: dict[str, dict[str, tuple[str, ...]]]) -> None:
    """Merge ``{role: {"app_label.model": actions}}`` into the role mapping."""
    for role, models in mapping.items():
        ROLE_PERMISSIONS[role].update(models)


register_role_permissions(
    {
        Role.ADMIN: {f"governance.{m}": ALL for m in ("orgunit", "household", "resident", "tag", "user", "localname")}
        | {"governance.exportlog": VIEW},
        Role.COUNTY: {
            "governance.localname": VIEW,
            "governance.orgunit": ALL,
            "governance.household": ALL,
            "governance.resident": ALL,
            "governance.tag": VIEW,
            "governance.user": EDIT,
            "governance.exportlog": VIEW,
        },
        # A township keeps its own villages and grids, registers households, manages its staff.
        Role.TOWNSHIP: {
            "governance.orgunit": EDIT,
            "governance.household": ALL,
            "governance.resident": ALL,
            "governance.tag": VIEW,
            "governance.user": EDIT,
            "governance.exportlog": VIEW,
        },
        Role.VILLAGE: {
            "governance.orgunit": VIEW,
            "governance.household": EDIT,
            "governance.resident": EDIT,
            "governance.tag": VIEW,
            "governance.user": VIEW,
        },
        Role.GRID: {
            "governance.orgunit": VIEW,
            "governance.household": EDIT,
            "governance.resident": EDIT,
            "governance.tag": VIEW,
        },
    }
)

# From the widest to the narrowest: a user may give others only his own role or a narrower one.
ROLE_RANK = [Role.ADMIN, Role.COUNTY, Role.TOWNSHIP, Role.VILLAGE, Role.GRID]


def role_permission_keys(role: str) -> set[tuple[str, str]]:
    """(app_label, codename) of every permission the role carries."""
    keys = set()
    for label, actions in ROLE_PERMISSIONS.get(role, {}).items():
        app_label, model = label.split(".")
        keys.update((app_label, f"{action}_{model}") for action in actions)
    return keys


def role_permissions(role: str):
    condition = Q(pk__in=[])
    for app_label, codename in role_permission_keys(role):
        condition |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(condition)


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


def may_use_admin(user) -> bool:
    """Django's admin is for those who keep rosters: superusers, administrators and the roles ADMIN_ROLES
    names (township staff by default, each in his own subtree). Grid workers and village clerks work in
    the portal's pages, whatever their ``is_staff`` says."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return user.is_superuser or user.role == Role.ADMIN or user.role in settings.ADMIN_ROLES
