"""Reads of the grid app that are more than a filter, each taking the user.

``workers``: worker lists, vacancies, coverage. ``cases``: the case list, its counts, possible
duplicates, pickers. ``work``: My work, disputes and their mediation summaries.

The grid app itself imports from those modules; this package names the reads that other
apps (and the tests) may call, nothing else.
"""

from grid.selectors.cases import case_duplicates, case_list, dispatch_units, grid_choices, state_counts, unit_staff
from grid.selectors.work import dispute_cases, dispute_summary, mediation_rooms, my_work, summary_cases
from grid.selectors.workers import coverage_summary, vacancies, worker_list

__all__ = [
    "case_duplicates",
    "case_list",
    "coverage_summary",
    "dispatch_units",
    "dispute_cases",
    "dispute_summary",
    "grid_choices",
    "mediation_rooms",
    "my_work",
    "state_counts",
    "summary_cases",
    "unit_staff",
    "vacancies",
    "worker_list",
]
