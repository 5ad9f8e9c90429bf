"""The optional second factor (TOTP, django-otp): set up from the account page by scanning a QR code
drawn on the server and confirming a code; asked after the password at each login; required for the
roles OTP_REQUIRED_ROLES names. The codes are the real ones, computed from the device's key."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.helpers.people import PASSWORD

HOME = "/"


def code(device, *, offset: int = 0) -> str:
    """The six digits the phone shows now (``offset`` time steps away)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def log_in(client, username="township_a"):
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_setting_up_shows_a_qr_code_drawn_here_and_a_code_confirms_it(login, county, clerk_a):
    client = login(clerk_a)
    page = client.get(reverse("account-otp-setup")).content.decode()
    device = TOTPDevice.objects.get(user=clerk_a, confirmed=False)
    assert '<svg' in page and "qrline" in page  # inline SVG from segno, no image fetched from elsewhere
    assert "http" not in page.split('id="otp-qr"', 1)[1].split("</div>", 1)[0]
    secret = page.split('id="otp-secret">', 1)[1].split("<", 1)[0]
    assert secret and device.config_url.count(secret) == 1
    # A wrong code is refused with a message, and nothing is confirmed.
    response = client.post(reverse("account-otp-setup"), {"code": "000000" if code(device) != "000000" else "111111"})
    assert response.status_code == 200 and "验证码与应用当前显示的不符" in response.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    response = client.post(reverse("account-otp-setup"), {"code": code(device)})
    assert response.status_code == 302 and response.url == reverse("account")
    device.refresh_from_db()
    assert device.confirmed
    assert "已开启" in client.get(reverse("account")).content.decode()


def test_a_user_with_a_second_factor_enters_his_code_after_the_password(client, county, clerk_a):
    device = confirmed_device(clerk_a)
    log_in(client)
    for path in (HOME, "/org/households/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith(reverse("account-otp-verify")), path
    # The API refuses the half-logged-in session too.
    assert client.get("/api/v1/households/").status_code == 403
    response = client.post(reverse("account-otp-verify"), {"code": "12345x"})
    assert response.status_code == 200
    wrong = f"{(int(code(device)) + 1) % 1000000:06d}"
    response = client.post(reverse("account-otp-verify"), {"code": wrong})
    assert "验证码错误或已过期" in response.content.decode()
    assert client.get(HOME).status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    response = client.post(reverse("account-otp-verify"), {"code": code(device)})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(HOME).status_code == 200


def test_a_code_is_used_once(client, county, clerk_a):
    device = confirmed_device(clerk_a)
    log_in(client)
    current = code(device)
    assert client.post(reverse("account-otp-verify"), {"code": current}).status_code == 302
    client.logout()
    log_in(client)
    if code(device) == current:  # still the same 30-second step: the code was spent
        response = client.post(reverse("account-otp-verify"), {"code": current})
        assert response.status_code == 200


def test_the_role_that_must_use_one_sets_it_up_first(client, county, county_official, settings):
    settings.OTP_REQUIRED_ROLES = ["admin", "county"]
    log_in(client, "county")
    response = client.get(HOME)
    assert response.status_code == 302 and response.url == reverse("account-otp-setup")
    page = client.get(reverse("account-otp-setup")).content.decode()
    assert "您的角色必须使用双重认证" in page
    device = TOTPDevice.objects.get(user=county_official)
    assert client.post(reverse("account-otp-setup"), {"code": code(device)}).status_code == 302
    response = client.get(HOME, follow=True)  # a county official's home is the dashboard
    assert response.status_code == 200 and reverse("account-otp-setup") not in str(response.redirect_chain)


def test_a_role_not_named_needs_none(client, county, clerk_a, settings):
    settings.OTP_REQUIRED_ROLES = ["admin", "county"]
    log_in(client)
    assert client.get(HOME).status_code == 200


def test_the_api_token_exchange_asks_for_the_code(client, county, clerk_a, county_official, settings):
    device = confirmed_device(clerk_a)
    url = reverse("api-token")
    response = client.post(url, {"username": "township_a", "password": PASSWORD})
    assert response.status_code == 400 and "otp" in response.json()
    response = client.post(url, {"username": "township_a", "password": PASSWORD, "otp": code(device)})
    assert response.status_code == 200 and response.json()["token"]
    settings.OTP_REQUIRED_ROLES = ["county"]
    response = client.post(url, {"username": "county", "password": PASSWORD})
    assert response.status_code == 403 and "双重认证" in response.json()["detail"]


def test_removing_the_second_factor_takes_a_current_code(login, county, clerk_a):
    device = confirmed_device(clerk_a)
    client = login(clerk_a)
    session = client.session
    session.pop("auth_otp_pending", None)
    session.save()
    client.post(reverse("account-otp-remove"), {"code": "000000" if code(device) != "000000" else "111111"})
    assert TOTPDevice.objects.filter(user=clerk_a).exists()
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    client.post(reverse("account-otp-remove"), {"code": code(device)})
    assert not TOTPDevice.objects.filter(user=clerk_a).exists()


def test_an_administrator_removes_a_lost_phones_second_factor(county, admin_user, clerk_a, staff):
    confirmed_device(clerk_a)
    response = staff(admin_user).post(reverse("admin:governance_user_changelist"), {
        "action": "remove_second_factor", "_selected_action": [clerk_a.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk_a).exists()


@pytest.fixture(autouse=True)
def not_at_a_step_boundary():
    """A code computed at 29.9 s of a step may reach the server in the next one: wait past the edge."""
    if time.time() % 30 > 28:
        time.sleep(2.5)
