"""Pages: assets."""

urlpatterns = []
