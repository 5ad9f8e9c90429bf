"""Staff web pages of party building, mounted at /party/ (URL names in the "partybuild" namespace)."""

from django.urls import path

from partybuild import views

app_name = "partybuild"
urlpatterns = [
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/<int:pk>/", views.MemberDetailView.as_view(), name="member-detail"),
    path("registrations/", views.MemberRegistrationListView.as_view(), name="registration-list"),
    path("registrations/new/", views.MemberRegistrationCreateView.as_view(), name="registration-create"),
    path("registrations/units/", views.UnitRegistrationListView.as_view(), name="unit-registration-list"),
    path("registrations/units/new/", views.UnitRegistrationCreateView.as_view(), name="unit-registration-create"),
    path("wishes/", views.WishBoardView.as_view(), name="wish-board"),
    path("wishes/list/", views.WishListView.as_view(), name="wish-list"),
    path("wishes/new/", views.WishCreateView.as_view(), name="wish-create"),
    path("wishes/<int:pk>/", views.WishDetailView.as_view(), name="wish-detail"),
    path("wishes/<int:pk>/<slug:step>/", views.wish_step, name="wish-step"),
    path("services/", views.ServiceRecordListView.as_view(), name="service-list"),
    path("pickers/members/", views.member_picker, name="member-picker"),
    path("pickers/households/", views.household_picker, name="household-picker"),
]
