"""The grid's rosters for Excel import and export, registered with the roster engine
(``governance.rosters``), which imports this package: ``workers`` (grid workers and household
liaisons) and ``cases`` (historical cases from a county's old system); and ``terms``, the term
lists a county may name its own way (``governance.terms``)."""

from grid.rosters import cases, terms, workers  # noqa: F401 - importing registers the rosters and term lists
