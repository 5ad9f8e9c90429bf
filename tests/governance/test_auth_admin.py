"""Django's admin is for those who keep rosters: administrators and the roles ADMIN_ROLES names (township
staff by default, each in his own township). Grid workers and village clerks work in the portal's pages,
even if their is_staff was set; and nobody edits a case's text in the admin."""

import pytest
from django.urls import reverse

from governance.models import Household, Resident, Role, User
from tests.helpers.admin import listed

ADMIN = "/admin/"


def refused_by_the_admin(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("who", ["village_a", "grid_worker_a"])
def test_grid_workers_and_village_clerks_get_no_admin_even_as_staff(county, staff, request, who):
    user = request.getfixturevalue(who)
    assert user.is_staff  # the cast's users are staff: the role alone keeps them out
    client = staff(user)
    for path in (ADMIN, "/admin/governance/household/", f"/admin/grid/case/{county.cases[0].pk}/change/"):
        assert refused_by_the_admin(client.get(path)), path
    page = client.get("/org/households/").content.decode()
    assert 'href="/admin/"' not in page  # and the portal offers no link to it


def test_the_admin_login_says_the_account_cannot_open_it(county, staff, village_a):
    response = staff(village_a).get(ADMIN, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert village_a.username in page and "没有这个页面的访问权限" in page


def test_county_officials_enter_while_the_setting_names_them(county, staff, county_official, settings):
    client = staff(county_official)
    assert client.get(ADMIN).status_code == 200  # by default: they keep the county's rules there
    settings.ADMIN_ROLES = ["township"]
    assert refused_by_the_admin(client.get(ADMIN))


def test_a_township_clerk_sees_only_the_rosters_of_his_township(county, staff, clerk_a):
    client = staff(clerk_a)
    assert client.get(ADMIN).status_code == 200
    assert 'href="/admin/"' in client.get("/org/households/").content.decode()
    households = listed(client.get("/admin/governance/household/"))
    assert households and set(households) == set(Household.objects.visible_to(clerk_a))
    assert county.households[1] not in households  # township B's
    residents = listed(client.get("/admin/governance/resident/"))
    assert residents and set(residents) == set(Resident.objects.visible_to(clerk_a))
    assert not set(residents) & set(Resident.objects.filter(household=county.households[1]))
    assert client.get(f"/admin/governance/household/{county.households[1].pk}/change/").status_code == 302


def test_administrators_enter(county, staff, admin_user):
    assert staff(admin_user).get(ADMIN).status_code == 200


def test_nobody_changes_a_case_in_the_admin(county, staff, admin_user, clerk_a):
    case = county.cases[0]
    url = f"/admin/grid/case/{case.pk}/change/"
    for user in (admin_user, clerk_a):
        client = staff(user)
        page = client.get(url)
        assert page.status_code == 200
        assert not page.context["adminform"].form.fields and 'name="_save"' not in page.content.decode()
        response = client.post(url, {"title": "改过的标题", "description": "改过的描述"})
        assert response.status_code == 403
    case.refresh_from_db()
    assert case.title != "改过的标题"


def test_the_user_admin_sets_is_staff_from_the_role(county, staff, clerk_a):
    response = staff(clerk_a).post(reverse("admin:governance_user_add"), {
        "username": "new_grid", "usable_password": "true", "password1": "a-long-enough-pass-42",
        "password2": "a-long-enough-pass-42", "role": Role.GRID, "home_unit": county.grids[0].pk, "is_staff": "on"})
    assert response.status_code == 302
    assert not User.objects.get(username="new_grid").is_staff
    response = staff(clerk_a).post(reverse("admin:governance_user_add"), {
        "username": "new_clerk", "usable_password": "true", "password1": "a-long-enough-pass-42",
        "password2": "a-long-enough-pass-42", "role": Role.TOWNSHIP, "home_unit": county.township_a.pk})
    assert response.status_code == 302
    assert User.objects.get(username="new_clerk").is_staff


def test_residents_of_township_a_are_not_in_the_list_of_township_bs_clerk(county, staff, clerk_a, clerk_b):
    residents = listed(staff(clerk_b).get("/admin/governance/resident/"))
    assert residents and set(residents) == set(Resident.objects.visible_to(clerk_b))
    assert not set(residents) & set(Resident.objects.visible_to(clerk_a))
