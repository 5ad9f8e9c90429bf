"""The grid app's API, registered on the shared router: ``workers`` and ``cases``."""

from grid.api import cases, workers  # noqa: F401 - importing registers the viewsets
