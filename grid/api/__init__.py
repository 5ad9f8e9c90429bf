"""The grid app's API, registered on the shared router: ``workers`` and ``cases``; and ``open311``,
the Open311 GeoReport v2 façade over cases, with its own URLconf (the root one mounts it)."""

from grid.api import cases, workers  # noqa: F401 - importing registers the viewsets
