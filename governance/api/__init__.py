"""REST API of the org chain (/api/v1/): org units, households and residents.

Scope is applied in one place, ``governance.portal.api.ScopedViewSetMixin.get_queryset``: a
row outside the caller's subtree is not in the queryset, so its detail answers 404 like a row
that does not exist. Writes go through ``governance.services``; a rule they refuse becomes a
400 with the field's message, never a 500.
"""

from governance.api import views  # noqa: F401 - importing registers the viewsets on the shared router


