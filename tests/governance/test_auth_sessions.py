"""Sessions end after SESSION_IDLE_MINUTES idle and when the browser closes, without a write on every
page; a password change or a deactivation ends all of a user's sessions."""

import datetime

from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.portal.auth import REFRESHED
from tests.helpers.people import PASSWORD

HOME = "/"


def log_in(client, username="township_a"):
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    return client


def the_session(client) -> Session:
    return Session.objects.get(session_key=client.cookies["sessionid"].value)


def test_the_cookie_ends_with_the_browser_and_the_session_after_the_idle_minutes(client, clerk_a, settings):
    log_in(client)
    cookie = client.cookies["sessionid"]
    assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie
    left = the_session(client).expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < left <= datetime.timedelta(minutes=30)


def test_an_idle_session_ends(client, clerk_a):
    log_in(client)
    assert client.get(HOME).status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))  # 30 idle minutes passed
    response = client.get(HOME)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_active_session_is_refreshed_at_most_once_a_minute(client, clerk_a):
    log_in(client)
    client.get(HOME)
    # Within the minute: the page does not write the session.
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    client.get(HOME)
    assert the_session(client).expire_date < timezone.now() + datetime.timedelta(minutes=6)
    # Past the minute: the next page moves the expiry to 30 minutes from now.
    session = client.session
    session[REFRESHED] -= 61
    session.save()
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    client.get(HOME)
    assert the_session(client).expire_date > timezone.now() + datetime.timedelta(minutes=29)


def test_pages_within_the_minute_write_no_session(client, clerk_a):
    log_in(client)
    client.get(HOME)
    with CaptureQueriesContext(connection) as queries:
        client.get(HOME)
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and
                q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_a_password_change_ends_the_users_other_sessions(clerk_a):
    phone, desk = log_in(Client()), log_in(Client())
    response = desk.post(reverse("account-password"), {"old_password": PASSWORD, "new_password1": "a-new-long-pass-77",
                                                       "new_password2": "a-new-long-pass-77"})
    assert response.status_code == 302
    assert desk.get(HOME).status_code == 200  # the session that changed it goes on
    response = phone.get(HOME)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_password_set_by_an_administrator_ends_the_users_sessions(clerk_a):
    phone = log_in(Client())
    clerk_a.set_password("set-by-the-admin-99")
    clerk_a.save()
    assert phone.get(HOME).url.startswith(reverse("login"))


def test_deactivation_ends_the_users_sessions(clerk_a):
    phone = log_in(Client())
    clerk_a.is_active = False
    clerk_a.save()
    response = phone.get(HOME)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
