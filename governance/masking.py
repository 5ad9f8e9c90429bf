"""Masking of personal data for users whose role does not allow the full view; the full view, audited.

ID numbers and phones are masked by default in pages, the API, exports and the admin. A role in
``PII_FULL_VIEW_ROLES`` sees them in full, and each such view is recorded in the audit trail
(``Action.PII_VIEW``): every screen that shows full values asks ``full_view(request, ...)``, the
one place that decides and records. ``can_view_personal_data`` only decides (forms, permissions).
"""

from django.conf import settings

from governance.audit import Action, record


def can_view_personal_data(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or getattr(user, "role", None) in settings.PII_FULL_VIEW_ROLES


def full_view(request, *, obj=None, detail: str = "") -> bool:
    """Whether ``request`` shows ID numbers and phones in full; if so the view is recorded (once per
    request, object and detail): who, from where, which object, which page or field."""
    if not can_view_personal_data(getattr(request, "user", None)):
        return False
    record_full_view(request, obj=obj, detail=detail)
    return True


def record_full_view(request, *, obj=None, detail: str = "") -> None:
    """Record that ``request`` was shown personal data in full (also when a duty, not the role, allows it)."""
    seen = getattr(request, "_pii_views", None)
    if seen is None:
        seen = set()
        request._pii_views = seen
    key = (getattr(getattr(obj, "_meta", None), "label", None), getattr(obj, "pk", None), detail)
    if key not in seen:
        seen.add(key)
        path = getattr(request, "path", "")
        record(Action.PII_VIEW, request=request, obj=obj, detail=f"{detail} {path}".strip() if detail else path)


def mask_id_number(value: str) -> str:
    """Keep the region (first 6) and the last 4 characters: 513424********1234."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits: 138****5678."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def shown_id_number(user, value: str) -> str:
    return value if can_view_personal_data(user) else mask_id_number(value)


def shown_phone(user, value: str) -> str:
    return value if can_view_personal_data(user) else mask_phone(value)


def mask_name(name: str) -> str:
    """张三丰 → 张**: the surname only, for roles that do not see private persons' names."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
