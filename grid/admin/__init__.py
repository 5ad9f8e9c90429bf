"""The grid app's admin: ``workers`` and ``cases``."""

from grid.admin import cases, workers  # noqa: F401 - importing registers the model admins
