"""Sessions, API tokens and the gates a logged-in user passes first, one copy each (issue 16 §3).

- A session ends after ``SESSION_IDLE_MINUTES`` idle: ``SessionRefreshMiddleware`` pushes its expiry
  forward at most once a minute, so a page does not write the session each time it is opened.
- The gates (``AccountGateMiddleware`` for pages, the two API authentication classes for the API):
  a user with a confirmed second factor enters his code after the password, a role in
  ``OTP_REQUIRED_ROLES`` sets one up first, and a password that must change (too old, or a first
  login outside demo mode) is changed before anything else opens. What the second factor needs is
  decided once, at login, and kept in the session: the pages pay no query for it.
- An API token expires ``API_TOKEN_DAYS`` after it was issued; a user's tokens are deleted when his
  password changes or he is deactivated (his sessions end by themselves: Django checks each session's
  password hash, and the backend refuses an inactive user).
- A lockout (django-axes) answers with a clear message, in JSON on the API, and is audited.
"""

import datetime
import time

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from governance.audit import Action, record

# Session keys: the second factor still to enter, or still to set up; and the last refresh (epoch seconds).
OTP_PENDING = "auth_otp_pending"
OTP_SETUP = "auth_otp_setup"
REFRESHED = "auth_refreshed"
REFRESH_EVERY = 60  # seconds

# The pages a gated user may still open (by URL name), and the paths no gate applies to: the API
# answers for itself (403 with a message), the public pages and Open311 have no login.
GATE_OPEN = {"login", "logout", "account-otp-verify", "account-otp-setup", "account-password", "jsi18n"}
UNGATED_PREFIXES = ("/api/", "/public/", "/open311/", "/healthz", "/static/")


# --- What a user must do before the portal opens -------------------------------------------------


def password_must_change(user) -> bool:
    """A first login outside demo mode, or a password older than PASSWORD_MAX_AGE_DAYS."""
    if user.must_change_password and not settings.DEMO_MODE:
        return True
    days = settings.PASSWORD_MAX_AGE_DAYS
    changed = user.password_changed_at
    return bool(days and changed and timezone.now() - changed > datetime.timedelta(days=days))


def password_expires_at(user) -> datetime.datetime | None:
    days = settings.PASSWORD_MAX_AGE_DAYS
    if not days or user.password_changed_at is None:
        return None
    return user.password_changed_at + datetime.timedelta(days=days)


def otp_required(user) -> bool:
    return user.role in settings.OTP_REQUIRED_ROLES


def gate(request) -> str | None:
    """What stands between the logged-in user and the portal: "otp", "otp_setup", "password" or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    session = request.session
    if session.get(OTP_PENDING):
        return "otp"
    if session.get(OTP_SETUP):
        return "otp_setup"
    if password_must_change(user):
        return "password"
    return None


GATE_PAGES = {"otp": "account-otp-verify", "otp_setup": "account-otp-setup", "password": "account-password"}


def gate_message(which: str) -> str:
    return {
        "otp": gettext("Enter the code of your authenticator app on the portal's login page first."),
        "otp_setup": gettext("Your role must use a second factor: set one up on your account page first."),
        "password": gettext("Your password has expired or must be changed: change it on your account page first."),
    }[which]


@receiver(user_logged_in)
def _decide_second_factor(sender, request, user, **kwargs):
    """Once per login: whether this session must enter a code, or set a second factor up, before it opens."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[REFRESHED] = int(time.time())  # the login wrote the session: no refresh this minute
    if has_second_factor(user):
        request.session[OTP_PENDING] = True
    elif otp_required(user):
        request.session[OTP_SETUP] = True


class AccountGateMiddleware:
    """Sends a gated user (see ``gate``) to the one page that lifts the gate; logging out stays open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        which = gate(request) if getattr(request, "user", None) is not None else None
        if which and not self._open(request):
            return redirect(f"{reverse(GATE_PAGES[which])}")
        return self.get_response(request)

    @staticmethod
    def _open(request) -> bool:
        path = request.path_info
        if path.startswith(UNGATED_PREFIXES) or path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return True
        match = getattr(request, "resolver_match", None)
        if match is None:
            from django.urls import Resolver404, resolve

            try:
                match = resolve(path)
            except Resolver404:
                return True  # a 404 is a 404 for everyone
        return match.url_name in GATE_OPEN


class SessionRefreshMiddleware:
    """An authenticated session's expiry moves to SESSION_IDLE_MINUTES from now, at most once a minute.

    ``SESSION_SAVE_EVERY_REQUEST`` would write the session on every page; a minute's granularity on a
    thirty-minute timeout costs one write a minute for an active user, and none for a page opened
    within the same minute.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get(REFRESHED, 0) > REFRESH_EVERY:
                session[REFRESHED] = now  # modified: SessionMiddleware saves it with a new expiry
        return response


# --- The API -----------------------------------------------------------------------------------


def token_expires_at(token) -> datetime.datetime:
    return token.created + datetime.timedelta(days=settings.API_TOKEN_DAYS)


def token_expired(token) -> bool:
    return timezone.now() >= token_expires_at(token)


class PortalSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session on the API, refused (403 with the reason) while a gate stands."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            which = gate(request._request)
            if which:
                raise exceptions.PermissionDenied(gate_message(which))
        return result


class ExpiringTokenAuthentication(authentication.TokenAuthentication):
    """A DRF token, refused with 401 once API_TOKEN_DAYS have passed since it was issued, and with 403
    while its user's password must change."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                gettext("This API token expired on %(date)s: issue a new one on your account page.")
                % {"date": timezone.localtime(token_expires_at(token)).strftime("%Y-%m-%d %H:%M")})
        if password_must_change(user):
            raise exceptions.PermissionDenied(gate_message("password"))
        return user, token


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _end_tokens_with_old_credentials(sender, instance, created, **kwargs):
    """A new password or a deactivation ends every API token of the user (governance.models.User.save
    tells which save did it)."""
    if not created and getattr(instance, "credentials_changed", False):
        deleted, _rows = Token.objects.filter(user=instance).delete()
        if deleted:
            record(Action.TOKEN, obj=instance, detail="revoked: password changed or deactivated")


# --- Lockout -----------------------------------------------------------------------------------


def client_address(request) -> str:
    """The client's address for the lockout (AXES_CLIENT_IP_CALLABLE): behind TRUSTED_PROXY_COUNT proxies, the
    entry of X-Forwarded-For the outermost one added (a client may forge the entries left of it, not that one)."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return gettext("Too many failed logins: this account or this address is locked for %(minutes)d minutes. "
                   "Try again later, or ask your system administrator to unlock it.") % {"minutes": minutes}


def lockout_response(request, credentials=None):
    """django-axes' answer to a locked login (AXES_LOCKOUT_CALLABLE): JSON on the API, a page otherwise."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=status)
    return render(request, "registration/locked_out.html", {"message": lockout_message()}, status=status)


@receiver(user_locked_out)
def _audit_lockout(sender, request, username, ip_address, **kwargs):
    user = get_user_model().objects.filter(username=username).first() if username else None
    record(Action.LOCKOUT, request=request, obj=user, address=ip_address,
           detail=f"username={username or ''} address={ip_address or ''}")


# --- Writes: tokens and second factors (the account page, the API and the admin call these) --------


def _actor(request, user):
    """Who acts: the logged-in user of the request (himself, or an administrator), else the user whose
    password was just checked (the API's token exchange)."""
    acting = getattr(request, "user", None)
    return acting if getattr(acting, "is_authenticated", False) else user


def token_issue(*, user, request=None) -> Token:
    """A new API token for ``user``; the one he had ends (DRF keeps one token per user)."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
    record(Action.TOKEN, request=request, user=_actor(request, user), obj=user, detail="issued")
    return token


def token_revoke(*, user, request=None) -> bool:
    """End ``user``'s API token; False when he had none."""
    deleted, _rows = Token.objects.filter(user=user).delete()
    if deleted:
        record(Action.TOKEN, request=request, user=_actor(request, user), obj=user, detail="revoked")
    return bool(deleted)


def totp_device_start(*, user):
    """The unconfirmed authenticator of ``user`` being set up (a new secret each time set-up starts over)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=gettext("Authenticator app"), confirmed=False)


def totp_device_confirm(*, device, code: str, request=None) -> bool:
    """Confirm a scanned device with a code it shows: it becomes the user's one second factor."""
    if not device.verify_token(code.strip()):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    record(Action.PERMISSION, request=request, user=_actor(request, device.user), obj=device.user,
           detail="second factor set up")
    if request is not None:
        request.session.pop(OTP_SETUP, None)
        request.session.pop(OTP_PENDING, None)
    return True


def totp_verify(*, user, code: str, request=None) -> bool:
    """Whether ``code`` is the current code of one of ``user``'s confirmed devices (throttled by django-otp:
    each failure doubles the wait before the next try)."""
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code.strip()):
            if request is not None:
                request.session.pop(OTP_PENDING, None)
            return True
    return False


def totp_devices_remove(*, user, request=None) -> int:
    """Remove ``user``'s second factor (a lost phone: an administrator does it in the admin)."""
    deleted, _rows = TOTPDevice.objects.filter(user=user).delete()
    if deleted:
        record(Action.PERMISSION, request=request, user=_actor(request, user), obj=user,
               detail="second factor removed")
    return deleted


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


class PortalSessionScheme(SessionScheme):
    """The API schema names the portal's session authentication as the cookie session it is."""

    target_class = PortalSessionAuthentication
