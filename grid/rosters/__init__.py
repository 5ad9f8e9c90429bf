"""The grid's rosters for Excel import and export, registered with the roster engine
(``governance.rosters``), which imports this package: ``workers`` (grid workers and household
liaisons) and ``cases`` (historical cases from a county's old system)."""

from grid.rosters import cases, workers  # noqa: F401 - importing registers the rosters
