"""Reads of the grid app that are more than a filter: ``workers`` and ``cases``."""

from grid.selectors.cases import *  # noqa: F403
from grid.selectors.work import *  # noqa: F403
from grid.selectors.workers import *  # noqa: F403
