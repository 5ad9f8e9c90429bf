"""Forms of the grid app's pages: ``workers`` (filter bars, the liaison's household), ``cases``
(the case list's filters, a new case, each step) and ``work`` (dispute mediation)."""
