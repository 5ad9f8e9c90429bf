"""The full view of personal data, audited: the one place that decides whether a request sees ID numbers
and phones in full (``governance.masking``) and records each such view (``Action.PII_VIEW``)."""

from governance.audit import Action, record
from governance.masking import can_view_personal_data


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
