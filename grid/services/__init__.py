"""Every write of the grid app that has a business rule.

``workers``: grid workers, their A/B posts and backups, household liaisons.
``cases``: cases (事件/诉求) and every step of their closed loop. ``work``: dispute mediation records.

The grid app itself imports from those modules; this package names the writes that other
apps (and the tests) may call, nothing else.
"""

from grid.services.cases import (
    case_accept,
    case_allowed_actions,
    case_attach,
    case_close,
    case_create,
    case_dispatch,
    case_escalate,
    case_rate,
    case_recall,
    case_reject,
    case_resolve,
    case_return,
    case_start,
    case_take,
    case_verify,
    cases_mark_overdue,
)
from grid.services.work import mediation_record
from grid.services.workers import (
    gridworker_create,
    gridworker_end,
    gridworker_set_backup,
    gridworker_update,
    gridworker_validate,
    liaison_assign,
    liaison_unassign,
    liaison_validate,
)

__all__ = [
    "case_accept",
    "case_allowed_actions",
    "case_attach",
    "case_close",
    "case_create",
    "case_dispatch",
    "case_escalate",
    "case_rate",
    "case_recall",
    "case_reject",
    "case_resolve",
    "case_return",
    "case_start",
    "case_take",
    "case_verify",
    "cases_mark_overdue",
    "gridworker_create",
    "gridworker_end",
    "gridworker_set_backup",
    "gridworker_update",
    "gridworker_validate",
    "liaison_assign",
    "liaison_unassign",
    "liaison_validate",
    "mediation_record",
]
