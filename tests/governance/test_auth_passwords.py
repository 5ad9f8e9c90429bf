"""Passwords expire after PASSWORD_MAX_AGE_DAYS and must then be changed before anything else opens; the
demo's users change the printed password at their first login outside demo mode (DEMO_MODE)."""

import datetime

from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from governance.models import User
from tests.helpers.people import PASSWORD

NEW = "a-fresh-long-pass-58"


def change(client, old=PASSWORD, new=NEW):
    return client.post(reverse("account-password"), {"old_password": old, "new_password1": new,
                                                     "new_password2": new})


def test_setting_a_password_records_when(clerk_a):
    before = timezone.now()
    clerk_a.set_password("x-long-enough-12")
    clerk_a.save()
    clerk_a.refresh_from_db()
    assert clerk_a.password_changed_at >= before
    stamp = clerk_a.password_changed_at
    clerk_a.first_name = "丽"
    clerk_a.save()
    clerk_a.refresh_from_db()
    assert clerk_a.password_changed_at == stamp  # other changes leave it


def test_an_expired_password_sends_every_page_to_the_change_until_changed(login, county, clerk_a, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(pk=clerk_a.pk).update(password_changed_at=timezone.now() - datetime.timedelta(days=91))
    clerk_a.refresh_from_db()
    client = login(clerk_a)
    for path in ("/", "/org/households/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == reverse("account-password"), path
    page = client.get(reverse("account-password")).content.decode()
    assert "您的密码已过期" in page
    assert change(client).status_code == 302
    assert client.get("/").status_code == 200
    clerk_a.refresh_from_db()
    assert timezone.now() - clerk_a.password_changed_at < datetime.timedelta(minutes=1)


def test_a_password_within_its_age_opens_the_portal(login, county, clerk_a, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(pk=clerk_a.pk).update(password_changed_at=timezone.now() - datetime.timedelta(days=89))
    clerk_a.refresh_from_db()
    assert login(clerk_a).get("/").status_code == 200


def test_the_api_answers_403_with_a_message_while_the_password_must_change(client, login, county, clerk_a):
    token = Token.objects.create(user=clerk_a)
    User.objects.filter(pk=clerk_a.pk).update(must_change_password=True)
    response = client.get("/api/v1/households/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403 and "密码" in response.json()["detail"]
    clerk_a.refresh_from_db()
    response = login(clerk_a).get("/api/v1/households/")
    assert response.status_code == 403 and "密码" in response.json()["detail"]
    client.logout()
    response = client.post(reverse("api-token"), {"username": "township_a", "password": PASSWORD})
    assert response.status_code == 403 and "密码" in response.json()["detail"]


def test_a_demo_user_changes_the_printed_password_at_first_login_outside_demo_mode(client, county, clerk_a,
                                                                                  settings):
    settings.DEMO_MODE = False
    User.objects.filter(pk=clerk_a.pk).update(must_change_password=True)
    response = client.post("/login/", {"username": "township_a", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("account-password")
    assert "发给您的初始密码别人也知道" in response.content.decode()
    # The same password again is no change: the form refuses a wrong old one, and the validators a weak new one.
    assert change(client, new="123").status_code == 200
    assert client.get("/").status_code == 302
    response = change(client)
    assert response.status_code == 302 and response.url == reverse("home")
    clerk_a.refresh_from_db()
    assert not clerk_a.must_change_password
    assert client.get("/").status_code == 200


def test_in_demo_mode_the_printed_password_opens_the_portal(client, county, clerk_a, settings):
    settings.DEMO_MODE = True
    User.objects.filter(pk=clerk_a.pk).update(must_change_password=True)
    response = client.post("/login/", {"username": "township_a", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home") and response.status_code == 200


def test_an_administrator_forces_a_password_change(county, admin_user, clerk_a, staff):
    response = staff(admin_user).post(reverse("admin:governance_user_changelist"), {
        "action": "force_password_change", "_selected_action": [clerk_a.pk]})
    assert response.status_code == 302
    clerk_a.refresh_from_db()
    assert clerk_a.must_change_password
