"""Statement endpoints (filled in by the statements work): plain routes under /api/v1/ledger/."""

urlpatterns = []
