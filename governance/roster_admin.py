"""Admin integration of roster import/export (placeholder: filled by the roster engine work)."""


class RosterAdminMixin:
    """Adds template download, import with preview, and Excel export to a scoped ModelAdmin."""

    roster_kind: str | None = None
