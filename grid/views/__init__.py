"""Staff web pages of the grid app: ``workers`` (grid workers, vacancies, liaisons) and ``cases``."""

from grid.views.cases import *  # noqa: F403
from grid.views.work import *  # noqa: F403
from grid.views.workers import *  # noqa: F403
