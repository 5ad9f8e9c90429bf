"""Staff web pages of the grid rosters and cases, mounted at /grid/ (URL names in the "grid" namespace)."""

from django.urls import path

from grid.views import cases, work, workers

app_name = "grid"
urlpatterns = [
    path("workers/", workers.WorkerListView.as_view(), name="worker-list"),
    path("workers/<int:pk>/", workers.WorkerDetailView.as_view(), name="worker-detail"),
    path("vacancies/", workers.VacancyListView.as_view(), name="vacancy-list"),
    path("liaisons/", workers.LiaisonListView.as_view(), name="liaison-list"),
    path("liaisons/<int:pk>/", workers.LiaisonDetailView.as_view(), name="liaison-detail"),
    path("liaisons/<int:pk>/unassign/", workers.liaison_unassign, name="liaison-unassign"),
    # Cases (part 3)
    path("cases/", cases.CaseListView.as_view(), name="case-list"),
    path("cases/new/", cases.CaseCreateView.as_view(), name="case-create"),
    path("cases/duplicates/", cases.duplicates_fragment, name="case-duplicates"),
    path("cases/<int:pk>/", cases.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<int:pk>/sheet/", cases.case_sheet, name="case-sheet"),
    path("cases/<int:pk>/assignees/", cases.case_assignees, name="case-assignees"),
    path("cases/<int:pk>/<slug:action>/", cases.case_action, name="case-action"),
    path("attachments/<int:pk>/", cases.case_attachment, name="case-attachment"),
    path("grids/search/", cases.grid_search, name="grid-search"),
    # My work and dispute mediation
    path("work/", work.MyWorkView.as_view(), name="my-work"),
    path("mediation/", work.MediationListView.as_view(), name="mediation-list"),
    path("mediation/summary/", work.MediationSummaryView.as_view(), name="mediation-summary"),
    path("cases/<int:pk>/mediations/new/", work.MediationCreateView.as_view(), name="mediation-create"),
]
