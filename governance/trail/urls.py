"""The audit trail's page, mounted at /audit/."""

from django.urls import path

from governance.trail import views

app_name = "audit"

urlpatterns = [
    path("", views.TrailView.as_view(), name="trail"),
]
