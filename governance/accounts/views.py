"""The account page and the pages that lift the login's gates (second factor, password change)."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from governance.accounts.forms import CodeForm
from governance.audit import Action, record
from governance.portal import auth
from governance.portal.views import safe_next


@login_required
def account(request, new_token=None):
    user = request.user
    token = new_token or Token.objects.filter(user=user).first()
    context = {
        "token": token,
        "new_token": new_token,
        "token_expires_at": auth.token_expires_at(token) if token else None,
        "token_expired": auth.token_expired(token) if token else False,
        "token_days": settings.API_TOKEN_DAYS,
        "has_second_factor": auth.has_second_factor(user),
        "otp_required": auth.otp_required(user),
        "password_expires_at": auth.password_expires_at(user),
    }
    return render(request, "accounts/account.html", context)


@login_required
@require_POST
def token_new(request):
    token = auth.token_issue(user=request.user, request=request)
    # The key is shown on this answer; a reload shows the account page without it.
    return account(request, new_token=token)


@login_required
@require_POST
def token_revoke(request):
    if auth.token_revoke(user=request.user, request=request):
        messages.success(request, gettext("Your API token is revoked: programs using it are refused from now on."))
    return redirect("account")


@login_required
def password_change(request):
    forced = auth.password_must_change(request.user)
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.user.must_change_password = False
        user = form.save()
        update_session_auth_hash(request, user)  # this session goes on; every other one ends
        record(Action.PASSWORD, request=request, obj=user)
        messages.success(request, gettext("Your password is changed. Your other sessions and your API token ended."))
        return redirect("home" if forced else "account")
    return render(request, "accounts/password_change.html", {"form": form, "forced": forced})


@login_required
def otp_setup(request):
    """Scan the QR code, then confirm with a code: the device becomes the user's second factor."""
    device = None
    device_id = request.session.get("auth_otp_device")
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=request.user, confirmed=False).first()
    form = CodeForm(request.POST or None)
    if request.method == "POST" and device is not None and form.is_valid():
        if auth.totp_device_confirm(device=device, code=form.cleaned_data["code"], request=request):
            request.session.pop("auth_otp_device", None)
            messages.success(request, gettext("Your second factor is set up: each login now asks for its code."))
            return redirect("account")
        form.add_error("code", gettext("That code is not the one your app shows now. Try the next code."))
    if device is None or request.method == "GET":
        device = auth.totp_device_start(user=request.user)
        request.session["auth_otp_device"] = device.pk
    uri = device.config_url
    context = {
        "form": form,
        # The QR code of the otpauth:// address, drawn here: the secret never leaves the server but to the user.
        "qr_svg": mark_safe(segno.make(uri, error="m").svg_inline(scale=5, dark="#1f2937")),
        "secret": uri.split("secret=", 1)[1].split("&", 1)[0],
        "required": request.session.get(auth.OTP_SETUP, False),
    }
    return render(request, "accounts/otp_setup.html", context)


@login_required
def otp_verify(request):
    """The login's second step, for a user with a confirmed second factor."""
    if not request.session.get(auth.OTP_PENDING):
        return redirect(safe_next(request, "home"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if auth.totp_verify(user=request.user, code=form.cleaned_data["code"], request=request):
            return redirect(safe_next(request, "home"))
        form.add_error("code", gettext("Wrong or expired code. Wait for the next code and try again."))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": safe_next(request, "")})


@login_required
@require_POST
def otp_remove(request):
    form = CodeForm(request.POST)
    if form.is_valid() and auth.totp_verify(user=request.user, code=form.cleaned_data["code"]):
        auth.totp_devices_remove(user=request.user, request=request)
        messages.success(request, gettext("Your second factor is removed."))
    else:
        messages.error(request, gettext("Enter the current code of your authenticator app to remove it."))
    return redirect("account")
