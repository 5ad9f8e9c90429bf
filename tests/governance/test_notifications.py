"""In-app notifications (站内通知): a user lists and marks only his own; opening one follows its link."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.models import Notification
from governance.notifications import notification_send

LIST = "/org/notifications/"


def read_url(notification=None) -> str:
    if notification is None:
        return reverse("org:notification-read")
    return reverse("org:notification-read", args=[notification.pk])


@pytest.fixture
def notes(clerk_a, clerk_b):
    notification_send(users=[clerk_a], text="案件 A-1 已派给你", url="/grid/cases/1/", key="a1")
    notification_send(users=[clerk_a], text="案件 A-2 已超期", url="/grid/cases/2/", key="a2")
    notification_send(users=[clerk_b], text="乙镇的通知", url="/grid/cases/3/", key="b1")
    return {n.key: n for n in Notification.objects.all()}


def test_the_url_names(db):
    assert reverse("org:notifications") == LIST
    assert read_url() == "/org/notifications/read/"


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.post(read_url()).status_code == 302


def test_a_user_lists_only_his_own_newest_first(login, clerk_a, notes):
    Notification.objects.filter(key="a1").update(created_at=timezone.now() - timezone.timedelta(hours=1))
    response = login(clerk_a).get(LIST)
    assert response.status_code == 200
    assert [n.key for n in response.context["notifications"]] == ["a2", "a1"]
    html = response.content.decode()
    assert "乙镇的通知" not in html
    assert html.count('class="unread"') == 2


def test_the_navbar_bell_counts_ones_own_unread(login, clerk_a, clerk_b, notes):
    """Every page's bell shows the user's unread count and leads to his list; none read, no badge."""

    def badge(user):
        html = login(user).get("/").content.decode()
        bell = re.search(r'<a class="portal-bell[^"]*" href="([^"]+)" id="notification-bell"(.*?)</a>', html, re.S)
        assert bell and bell.group(1) == LIST
        count = re.search(r'data-unread="(\d+)"', bell.group(2))
        return int(count.group(1)) if count else 0

    assert badge(clerk_a) == 2 and badge(clerk_b) == 1
    login(clerk_a).post(read_url(), {"next": LIST})
    assert badge(clerk_a) == 0 and badge(clerk_b) == 1


def test_the_unread_tab(login, clerk_a, notes):
    notes["a1"].read_at = timezone.now()
    notes["a1"].save()
    response = login(clerk_a).get(LIST, {"unread": "1"})
    assert [n.key for n in response.context["notifications"]] == ["a2"]


def test_opening_one_marks_it_read_and_follows_its_link(login, clerk_a, notes):
    response = login(clerk_a).post(read_url(notes["a1"]), {"next": LIST})
    assert response.status_code == 302 and response.url == "/grid/cases/1/"
    notes["a1"].refresh_from_db()
    notes["a2"].refresh_from_db()
    assert notes["a1"].read_at is not None and notes["a2"].read_at is None


def test_mark_read_without_following(login, clerk_a, notes):
    response = login(clerk_a).post(read_url(notes["a1"]), {"stay": "1", "next": f"{LIST}?page=1"})
    assert response.url == f"{LIST}?page=1"
    notes["a1"].refresh_from_db()
    assert notes["a1"].read_at is not None


def test_another_users_notification_is_not_found(login, clerk_a, notes):
    assert login(clerk_a).post(read_url(notes["b1"])).status_code == 404
    notes["b1"].refresh_from_db()
    assert notes["b1"].read_at is None


def test_mark_all_read_marks_only_ones_own(login, clerk_a, notes):
    response = login(clerk_a).post(read_url(), {"next": LIST}, follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert "已将全部通知标为已读。" in response.content.decode()
    assert not Notification.objects.filter(user=clerk_a, read_at__isnull=True).exists()
    assert Notification.objects.get(key="b1").read_at is None
    assert 'class="unread"' not in response.content.decode()


def test_a_link_elsewhere_is_not_followed(login, clerk_a, notes):
    Notification.objects.filter(key="a1").update(url="https://evil.example/phish")
    response = login(clerk_a).post(read_url(notes["a1"]), {"next": "https://evil.example/"})
    assert response.url == LIST


def test_marking_needs_a_post(login, clerk_a, notes):
    client = login(clerk_a)
    assert client.get(read_url(notes["a1"])).status_code == 405
    assert client.get(read_url()).status_code == 405
    notes["a1"].refresh_from_db()
    assert notes["a1"].read_at is None


def test_the_empty_list_says_so(login, village_a):
    response = login(village_a).get(LIST)
    assert "暂无通知。" in response.content.decode()


def test_pages_and_a_bad_page_number(login, clerk_a, db):
    notification_send(users=[clerk_a], text="x")
    Notification.objects.bulk_create([Notification(user=clerk_a, text=f"通知{n}") for n in range(34)])
    client = login(clerk_a)
    assert len(client.get(LIST).context["notifications"]) == 30
    assert len(client.get(LIST, {"page": "2"}).context["notifications"]) == 5
    assert client.get(LIST, {"page": "99"}).context["page_obj"].number == 2
    assert client.get(LIST, {"page": "x"}).context["page_obj"].number == 1


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(LIST).status_code == 200
    return len(context)


def test_the_list_costs_the_same_queries_however_many(login, clerk_a, notes, django_assert_max_num_queries):
    client = login(clerk_a)
    before = _queries(client)
    Notification.objects.bulk_create([Notification(user=clerk_a, text=f"通知{n}", url="/grid/") for n in range(20)])
    assert _queries(client) == before
    with django_assert_max_num_queries(7):
        client.get(LIST)
