"""Monthly indicators (月度指标): declared by every app, rolled up once a month, read by the dashboards.

``registry`` (what apps declare: indicators and dashboard panels; ``org`` declares the org
chain's own), ``months`` (month arithmetic), ``engine`` (the rollup in set-based SQL),
``approval`` (approving and re-opening months), ``runs`` (starting a run), ``tasks`` (Celery),
``dashboard`` (the read side: selectors over ``IndicatorValue`` that build the pages from what
each indicator declares), ``views`` and ``api``.
Each module imports only those listed before it.
"""
