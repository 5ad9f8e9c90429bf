"""Staff web pages of the grid app: ``workers`` (grid workers, vacancies, liaisons), ``cases`` and
``work`` (My work, dispute mediation). ``grid.urls`` imports each module."""
