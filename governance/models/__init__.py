"""The core app's models, one module per concern, all importable from ``governance.models``.

``org``: the OrgUnit tree and its level and code rules; ``people``: households, residents,
tags; ``users``: staff users and the export log; ``audit``: the audit trail; ``messaging``: notifications and the
outbox; ``indicators``: indicator values, rollup runs, month approvals, targets; ``terms``: the
local names a county gives levels, grid-worker types and case categories.
"""

from governance.models.audit import AuditEvent
from governance.models.indicators import (
    TARGET_LEVELS,
    IndicatorTarget,
    IndicatorValue,
    MonthApproval,
    PeriodValue,
    RollupRun,
    RollupStatus,
)
from governance.models.messaging import Heartbeat, Notification, OutboxMessage
from governance.models.org import (
    DIVISION_LEVELS,
    HOUSEHOLD_LEVELS,
    KINDS_BY_LEVEL,
    LEVEL_ORDER,
    Kind,
    Level,
    OrgUnit,
    OrgUnitManager,
    OrgUnitQuerySet,
    TreeNode,
    division_code_error,
    level_error,
)
from governance.models.people import Household, Relation, Resident, Sex, Tag
from governance.models.terms import LOCAL_NAME_LEVELS, LocalName
from governance.models.users import ExportLog, Role, User, UserManager, UserQuerySet

__all__ = [
    "AuditEvent",
    "DIVISION_LEVELS",
    "HOUSEHOLD_LEVELS",
    "KINDS_BY_LEVEL",
    "LEVEL_ORDER",
    "LOCAL_NAME_LEVELS",
    "TARGET_LEVELS",
    "ExportLog",
    "Heartbeat",
    "Household",
    "IndicatorTarget",
    "IndicatorValue",
    "PeriodValue",
    "Kind",
    "Level",
    "LocalName",
    "MonthApproval",
    "Notification",
    "OrgUnit",
    "OrgUnitManager",
    "OrgUnitQuerySet",
    "OutboxMessage",
    "Relation",
    "Resident",
    "Role",
    "RollupRun",
    "RollupStatus",
    "Sex",
    "Tag",
    "TreeNode",
    "User",
    "UserManager",
    "UserQuerySet",
    "division_code_error",
    "level_error",
]
