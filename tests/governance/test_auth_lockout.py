"""Brute force: an account is locked after 5 failures from any addresses, an address after 5 failures
over any accounts, each on its own; the lock ends after the cool-off, says so in Chinese on the page
and the API, and is audited."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from governance.models import AuditEvent
from tests.helpers.people import PASSWORD

LOGIN = "/login/"
TOKEN = "/api/v1/auth/token/"
LOCKED = "登录失败次数过多"


def attempt(client, username, password, address):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)


def test_five_failures_on_one_account_from_five_addresses_lock_the_account(client, clerk_a, clerk_b):
    for n in range(4):
        assert attempt(client, "township_a", "wrong", f"10.0.0.{n + 1}").status_code == 200
    # Four failures: the right password still opens the portal, from an address never seen.
    assert logged_in(attempt(client, "township_a", PASSWORD, "10.0.1.1"))
    client.logout()
    AccessAttempt.objects.all().delete()  # a success does not clear failures; start the five over
    for n in range(5):
        response = attempt(client, "township_a", "wrong", f"10.0.0.{n + 1}")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    # The right password from a sixth address is refused: the account is locked, not one address.
    response = attempt(client, "township_a", PASSWORD, "10.0.0.99")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert "30" in response.content.decode()  # how long
    # Those addresses are not locked for another account.
    assert logged_in(attempt(client, "township_b", PASSWORD, "10.0.0.1"))


def test_five_failures_from_one_address_over_five_accounts_lock_the_address(client, clerk_a, clerk_b):
    for name in ("township_a", "village_a", "nobody1", "nobody2", "county"):
        response = attempt(client, name, "wrong", "10.0.0.7")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    # From that address even a right password of an account never tried is refused ...
    assert attempt(client, "township_b", PASSWORD, "10.0.0.7").status_code == 429
    # ... and from another address the accounts tried there log in (each was tried only once).
    assert logged_in(attempt(client, "township_a", PASSWORD, "10.0.0.8"))


def test_the_lock_ends_after_the_cool_off(client, clerk_a):
    for _n in range(5):
        attempt(client, "township_a", "wrong", "10.0.0.1")
    assert attempt(client, "township_a", PASSWORD, "10.0.0.2").status_code == 429
    # Thirty-one minutes later (the attempts' clock moved back; axes reads nothing else).
    AccessAttempt.objects.update(attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=31))
    assert logged_in(attempt(client, "township_a", PASSWORD, "10.0.0.2"))


def test_the_cool_off_is_a_setting(client, clerk_a, settings):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=45)
    for _n in range(5):
        response = attempt(client, "township_a", "wrong", "10.0.0.1")
    assert response.status_code == 429 and "45" in response.content.decode()
    AccessAttempt.objects.update(attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=31))
    assert attempt(client, "township_a", PASSWORD, "10.0.0.2").status_code == 429  # not over yet


def test_the_api_answers_a_locked_account_with_a_message(client, clerk_a):
    for n in range(5):
        response = client.post(TOKEN, {"username": "township_a", "password": "wrong"}, REMOTE_ADDR=f"10.0.2.{n}")
    assert response.status_code == 429
    assert LOCKED in response.json()["detail"]
    response = client.post(TOKEN, {"username": "township_a", "password": PASSWORD}, REMOTE_ADDR="10.0.2.50")
    assert response.status_code == 429 and LOCKED in response.json()["detail"]
    assert "token" not in response.json()


def test_a_lockout_is_audited(client, clerk_a):
    for _n in range(5):
        attempt(client, "township_a", "wrong", "10.0.0.1")
    [lockout] = AuditEvent.objects.filter(action="lockout")
    assert lockout.address == "10.0.0.1" and "username=township_a" in lockout.detail
    assert AuditEvent.objects.filter(action="login_failed").count() == 5


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, clerk_a, clerk_b, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # Five failures from one client behind nginx (which adds the address it saw, on the right); the client
    # forges the left part of the header each time, to no avail.
    for n in range(5):
        client.post(LOGIN, {"username": f"nobody{n}", "password": "wrong"}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 10.9.9.9")
    response = client.post(LOGIN, {"username": "township_a", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                           HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429
    # Other clients behind the same proxy are not locked with him.
    response = client.post(LOGIN, {"username": "township_b", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                           HTTP_X_FORWARDED_FOR="10.9.9.10")
    assert logged_in(response)
