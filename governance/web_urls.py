"""Staff web pages of the org chain, mounted at /org/ (URL names in the "org" namespace)."""

from django.urls import path

from governance import views

# A namespace keeps these names apart from the API router's (household-list ...).
app_name = "org"

urlpatterns = [
    path("units/<str:code>/", views.OrgUnitDetailView.as_view(), name="orgunit-detail"),
    path("households/", views.HouseholdListView.as_view(), name="household-list"),
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household-detail"),
    path("residents/", views.ResidentListView.as_view(), name="resident-list"),
]
