from django.urls import path

from governance.accounts import views

urlpatterns = [
    path("", views.account, name="account"),
    path("password/", views.password_change, name="account-password"),
    path("token/", views.token_new, name="account-token-new"),
    path("token/revoke/", views.token_revoke, name="account-token-revoke"),
    path("otp/setup/", views.otp_setup, name="account-otp-setup"),
    path("otp/verify/", views.otp_verify, name="account-otp-verify"),
    path("otp/remove/", views.otp_remove, name="account-otp-remove"),
]
