"""Staff web pages of the org chain, mounted at /org/ (URL names in the "org" namespace)."""

from django.urls import path

from governance import notifications, views

# A namespace keeps these names apart from the API router's (household-list ...).
app_name = "org"

urlpatterns = [
    path("", views.org_overview, name="overview"),
    path("units/<str:code>/", views.OrgUnitDetailView.as_view(), name="orgunit-detail"),
    path("households/", views.HouseholdListView.as_view(), name="household-list"),
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household-detail"),
    path("residents/", views.ResidentListView.as_view(), name="resident-list"),
    path("notifications/", notifications.notification_list, name="notifications"),
    # Without a pk: mark all read; with one: mark it read and follow its link.
    path("notifications/read/", notifications.notification_read, name="notification-read"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification-read"),
]
