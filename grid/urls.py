"""Staff web pages of the grid rosters, mounted at /grid/ (URL names in the "grid" namespace)."""

from django.urls import path

from grid import views

app_name = "grid"
urlpatterns = [
    path("workers/", views.WorkerListView.as_view(), name="worker-list"),
    path("workers/<int:pk>/", views.WorkerDetailView.as_view(), name="worker-detail"),
    path("vacancies/", views.VacancyListView.as_view(), name="vacancy-list"),
    path("liaisons/", views.LiaisonListView.as_view(), name="liaison-list"),
    path("liaisons/<int:pk>/", views.LiaisonDetailView.as_view(), name="liaison-detail"),
    path("liaisons/<int:pk>/unassign/", views.liaison_unassign, name="liaison-unassign"),
]
