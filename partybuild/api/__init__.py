"""REST API of the party-building app (/api/v1/), registered on the shared router, by subdomain:
``members`` (organisations, members, party-member households), ``registrations`` (the double
report), ``wishes`` and ``volunteering`` (service records).

Same rules as the org chain's API: every queryset is the caller's scope (``ScopedViewSetMixin``),
so a row outside it answers 404; related rows are looked up inside the scope too; writes go
through ``partybuild.services`` and a refused rule is a 400 with its message (``run_write``).
ID numbers and phones are masked unless the caller's role allows the full view.
"""

from partybuild.api import members, registrations, volunteering, wishes  # noqa: F401 - importing registers the viewsets
