"""The admin in Chinese as Django and its libraries say it: the portal's catalogue does not change Django's
words (修改, 增加 ...), and the libraries' sections and fields are translated."""

import re

from django.urls import reverse

ADD_LINK = re.compile(r'class="addlink"[^>]*>([^<]+)<')
CHANGE_LINK = re.compile(r'class="changelink"[^>]*>([^<]+)<')


def test_the_admin_index_says_change_and_add_as_django_does(county, admin_user, login):
    page = login(admin_user).get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    changes, adds = CHANGE_LINK.findall(page), ADD_LINK.findall(page)
    assert changes and {text.strip() for text in changes} == {"修改"}
    assert adds and {text.strip() for text in adds} == {"增加"}
    assert "增减" not in page


def test_an_app_page_and_a_change_form_say_change_as_django_does(county, admin_user, login):
    client = login(admin_user)
    page = client.get(reverse("admin:app_list", args=["governance"])).content.decode()
    assert {text.strip() for text in CHANGE_LINK.findall(page)} == {"修改"}
    form = client.get(reverse("admin:governance_household_change", args=[county.households[0].pk])).content.decode()
    # The history link reads as the object pages' history does (the audit trail's 变更历史).
    assert "修改 住户" in form and ">变更历史<" in form and "增减" not in form


def test_login_protection_is_in_chinese(county, admin_user, login):
    client = login(admin_user)
    index = client.get(reverse("admin:index")).content.decode()
    assert "登录防护" in index and "登录尝试" in index and "登录日志" in index
    assert "Axes" not in index and "Access attempts" not in index
    page = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "尝试时间" in page and "Attempt Time" not in page
