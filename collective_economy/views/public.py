"""Pages: public."""

urlpatterns = []
