"""Every write of the grid app that has a business rule.

``workers``: grid workers, their A/B posts and backups, household liaisons.
``cases``: cases (事件/诉求) and every step of their closed loop.
"""

from grid.services.cases import *  # noqa: F403
from grid.services.workers import *  # noqa: F403
