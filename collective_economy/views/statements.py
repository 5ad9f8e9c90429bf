"""Statement pages (filled in by the statements work)."""

urlpatterns = []
