"""Pages: registers."""

urlpatterns = []
