"""Masking of personal data for users whose role does not allow the full view.

ID numbers and phones are masked by default in pages, the API, exports and the admin. A role in
``PII_FULL_VIEW_ROLES`` sees them in full, and each such view is recorded in the audit trail: every
screen that shows full values asks ``governance.audit.full_view(request, ...)``, the one place that
decides and records. ``can_view_personal_data`` here only decides (forms, permissions).
"""

from django.conf import settings


def can_view_personal_data(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or getattr(user, "role", None) in settings.PII_FULL_VIEW_ROLES


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
