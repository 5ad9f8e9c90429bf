"""API tokens expire after API_TOKEN_DAYS, can be revoked (by the user on his account page or the API, by
an administrator in the admin), and end when the password changes or the user is deactivated."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.helpers.people import PASSWORD

HOUSEHOLDS = "/api/v1/households/"


def auth(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def age(token, days: float):
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - datetime.timedelta(days=days))


def test_a_token_works_until_it_expires_then_says_so(client, county, clerk_b, settings):
    settings.API_TOKEN_DAYS = 30
    token = Token.objects.create(user=clerk_b)
    age(token, 29.9)
    assert client.get(HOUSEHOLDS, **auth(token)).status_code == 200
    age(token, 30.1)
    response = client.get(HOUSEHOLDS, **auth(token))
    assert response.status_code == 401
    assert "已于" in response.json()["detail"] and "过期" in response.json()["detail"]


def test_the_token_exchange_gives_a_new_token_for_an_expired_one(client, clerk_b):
    old = Token.objects.create(user=clerk_b)
    age(old, 31)
    response = client.post(reverse("api-token"), {"username": "township_b", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"] != old.key and response.json()["expires_at"]
    new = Token.objects.get(user=clerk_b)
    assert client.get(HOUSEHOLDS, **auth(new)).status_code == 200


def test_the_token_exchange_refuses_a_wrong_password_with_a_message(client, clerk_b):
    response = client.post(reverse("api-token"), {"username": "township_b", "password": "wrong"})
    assert response.status_code == 400 and response.json()["detail"] == "用户名或密码错误。"
    assert not Token.objects.exists()


def test_a_user_revokes_his_own_token_through_the_api(client, county, clerk_b, clerk_a):
    mine, other = Token.objects.create(user=clerk_b), Token.objects.create(user=clerk_a)
    assert client.post(reverse("api-token-revoke"), **auth(mine)).status_code == 204
    assert client.get(HOUSEHOLDS, **auth(mine)).status_code == 401
    assert client.get(HOUSEHOLDS, **auth(other)).status_code == 200  # only his own


def test_the_account_page_shows_the_tokens_age_and_issues_and_revokes_it(login, clerk_b, settings):
    settings.API_TOKEN_DAYS = 30
    client = login(clerk_b)
    page = client.get(reverse("account")).content.decode()
    assert 'id="token-none"' in page
    response = client.post(reverse("account-token-new"))
    token = Token.objects.get(user=clerk_b)
    page = response.content.decode()
    assert token.key in page  # shown once, on the answer to the issue
    expires = timezone.localtime(token.created + datetime.timedelta(days=30)).strftime("%Y-%m-%d")
    assert expires in page
    page = client.get(reverse("account")).content.decode()
    assert token.key not in page and expires in page
    age(token, 40)
    assert "已过期" in client.get(reverse("account")).content.decode()
    client.post(reverse("account-token-revoke"))
    assert not Token.objects.filter(user=clerk_b).exists()


def test_a_new_password_ends_the_users_tokens(client, county, clerk_b):
    token = Token.objects.create(user=clerk_b)
    clerk_b.set_password("another-long-pass-31")
    clerk_b.save()
    assert not Token.objects.filter(pk=token.pk).exists()
    assert client.get(HOUSEHOLDS, **auth(token)).status_code == 401


def test_deactivation_ends_the_users_tokens(client, county, clerk_b):
    token = Token.objects.create(user=clerk_b)
    clerk_b.is_active = False
    clerk_b.save()
    assert not Token.objects.filter(pk=token.pk).exists()


def test_other_changes_keep_the_token(county, clerk_b):
    token = Token.objects.create(user=clerk_b)
    clerk_b.refresh_from_db()
    clerk_b.last_name = "王"
    clerk_b.save()
    assert Token.objects.filter(pk=token.pk).exists()


def test_an_administrator_revokes_anyones_token_in_the_admin(county, admin_user, clerk_b, village_a, staff):
    tokens = [Token.objects.create(user=clerk_b), Token.objects.create(user=village_a)]
    response = staff(admin_user).post(reverse("admin:governance_user_changelist"), {
        "action": "revoke_api_tokens", "_selected_action": [clerk_b.pk, village_a.pk]})
    assert response.status_code == 302
    assert not Token.objects.filter(pk__in=[t.pk for t in tokens]).exists()


@pytest.mark.parametrize("model", ["authtoken/tokenproxy", "otp_totp/totpdevice"])
def test_keys_are_not_listed_in_the_admin(county, admin_user, staff, model):
    assert staff(admin_user).get(f"/admin/{model}/").status_code == 404
