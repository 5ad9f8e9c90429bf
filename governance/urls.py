"""Root URLconf. Apps are included by dotted string, so governance imports none of them."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.module_loading import autodiscover_modules

from governance import health, views
from governance.accounts import api as accounts_api
from governance.api.docs import SchemaView, SwaggerView
from governance.indicators import api as indicators_api  # noqa: F401 - registers /api/v1/indicators/
from governance.indicators import views as dashboard_views
from governance.portal.api import router
from governance.portal.outage import server_error

# Each app's api module (governance's own too) registers its viewsets on the shared router,
# as admin.py registers models.
autodiscover_modules("api")

# A database outage raised outside a view answers 503 (governance.portal.outage), anything else the 500 page.
handler500 = server_error

urlpatterns = [
    path("", views.home, name="home"),
    # For monitors: no login, no personal data (governance.health).
    path("healthz", health.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("governance.accounts.urls")),
    path("org/", include("governance.web_urls")),
    path("dashboard/", dashboard_views.dashboard_page, name="dashboard"),
    path("dashboard/runs/", dashboard_views.rollup_start, name="dashboard-run-start"),
    path("dashboard/runs/<int:pk>/", dashboard_views.rollup_run, name="dashboard-run"),
    path("dashboard/runs/<int:pk>/restart/", dashboard_views.rollup_run_restart, name="dashboard-run-restart"),
    path("dashboard/approval/", dashboard_views.month_approval, name="dashboard-approval"),
    path("dashboard/<str:code>/", dashboard_views.dashboard_page, name="dashboard-unit"),
    path("grid/", include("grid.urls")),
    path("party/", include("partybuild.urls")),
    path("ledger/", include("collective_economy.urls")),
    # Village affairs published to villagers (村务公开): the only pages without a login.
    path("public/", include("collective_economy.public_urls")),
    path("audit/", include("governance.trail.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", accounts_api.TokenObtainView.as_view(), name="api-token"),
    path("api/v1/auth/token/revoke/", accounts_api.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Open311 GeoReport v2, for civic-reporting clients (cases filed from outside).
    path("open311/v2/", include("grid.api.open311")),
]
