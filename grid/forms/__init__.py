"""Forms of the grid app's pages: ``workers`` and ``cases``."""

from grid.forms.cases import *  # noqa: F403
from grid.forms.work import *  # noqa: F403
from grid.forms.workers import *  # noqa: F403
