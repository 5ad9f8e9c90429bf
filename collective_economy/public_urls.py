"""The public village-affairs pages (村务公开), mounted at /public/ — the only pages outside the login."""

from collective_economy.views import public

app_name = "public"
urlpatterns = [*public.urlpatterns]
