"""Staff web pages of party building, mounted at /party/ (URL names in the "partybuild" namespace)."""

from django.urls import path

from partybuild.views import members, organizations, pickers, registrations, volunteering, wishes

app_name = "partybuild"
urlpatterns = [
    path("organizations/", organizations.OrganizationListView.as_view(), name="organization-list"),
    path("members/", members.MemberListView.as_view(), name="member-list"),
    path("members/<int:pk>/", members.MemberDetailView.as_view(), name="member-detail"),
    path("registrations/", registrations.MemberRegistrationListView.as_view(), name="registration-list"),
    path("registrations/new/", registrations.MemberRegistrationCreateView.as_view(), name="registration-create"),
    path("registrations/units/", registrations.UnitRegistrationListView.as_view(), name="unit-registration-list"),
    path("registrations/units/new/", registrations.UnitRegistrationCreateView.as_view(),
         name="unit-registration-create"),
    path("wishes/", wishes.WishBoardView.as_view(), name="wish-board"),
    path("wishes/list/", wishes.WishListView.as_view(), name="wish-list"),
    path("wishes/new/", wishes.WishCreateView.as_view(), name="wish-create"),
    path("wishes/<int:pk>/", wishes.WishDetailView.as_view(), name="wish-detail"),
    path("wishes/<int:pk>/<slug:step>/", wishes.wish_step, name="wish-step"),
    path("services/", volunteering.ServiceRecordListView.as_view(), name="service-list"),
    path("pickers/members/", pickers.member_picker, name="member-picker"),
    path("pickers/households/", pickers.household_picker, name="household-picker"),
]
