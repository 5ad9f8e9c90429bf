"""A township clerk logs in, sees only his township, browses households, logs out."""

import re

import pytest

from governance.models import Tag
from governance.roles import user_sync_permissions
from governance.services import household_create, resident_create
from tests.helpers.browser import log_in
from tests.helpers.people import make_id_number

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect


def rendered_fonts(page, selector: str) -> set[str]:
    """The font families Chromium actually used to draw the text of ``selector``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {font["familyName"] for font in fonts}


@pytest.fixture
def many_households(county):
    """Enough households in township A's micro-grid to fill more than one page."""
    tag = Tag.objects.create(code="dibao", name="低保户", applies_to="household")
    elderly = Tag.objects.create(code="alone", name="独居老人", applies_to="resident")
    micro = county.micro_grids[0]
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    for n in range(45):
        household = household_create(
            number=f"{micro.code}{n + 2:04d}",
            address=f"德A村{n // 10 + 1}组{n % 10 + 2}号",
            grid=micro,
            tags=[tag] if n % 7 == 0 else [],
        )
        for m in range(1 + n % 4):
            resident_create(
                household=household,
                name=f"{surnames[(n + m) % len(surnames)]}{'建国秀英志强丽华'[m * 2 : m * 2 + 2]}",
                id_number=make_id_number("513424", f"{1950 + n:04d}0{m + 1}15", n * 4 + m + 10),
                phone=f"139{n:04d}{m:04d}",
                relation="head" if m == 0 else ["spouse", "child", "parent"][m - 1],
                tags=[elderly] if n % 9 == 0 and m == 0 else [],
            )


def test_login_page_is_chinese_and_drawn_with_a_cjk_font(page, shoot, db):
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("label[for=id_username]").inner_text() == "用户名"
    assert page.locator("label[for=id_password]").inner_text() == "密码"
    assert any(re.search(r"CJK|YaHei|PingFang|WenQuanYi", family) for family in rendered_fonts(page, "label"))
    shoot("01-login")


def test_wrong_password_shows_the_chinese_error(page, shoot, clerk_a):
    log_in(page, "township_a", "not-the-password")
    error = page.locator("#login-error")
    error.wait_for()
    assert "请输入一个正确的" in error.inner_text()
    assert page.locator("#id_username").input_value() == "township_a"  # what was typed is kept
    shoot("02-login-error")


def test_township_clerk_sees_his_township_browses_and_logs_out(page, shoot, county, clerk_a, clerk_b, many_households):
    user_sync_permissions(clerk_a)  # his role's permissions, as the admin gives them
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))

    # Home: his work bench; the org page (one click away) has his township with its villages.
    assert page.locator("#workbench-todo").is_visible()
    shoot("03-home-township")
    page.click(f".portal-page-header a[href='/org/units/{county.township_a.code}/']")
    page.wait_for_url(f"**/org/units/{county.township_a.code}/")
    body = page.locator("body").inner_text()
    assert county.township_a.name in page.locator(".portal-topbar-chain").inner_text()
    assert county.villages[0].display_name in page.locator("#children-table").inner_text()
    assert county.township_b.name not in body
    assert county.villages[1].display_name not in body
    assert page.locator("[data-count=households]").inner_text() == "46"
    shoot("03-org-township")

    # Drill down to the village, then its grid.
    page.click(f"#children-table a[href='/org/units/{county.villages[0].code}/']")
    page.wait_for_url(f"**/org/units/{county.villages[0].code}/")
    assert county.grids[0].name in page.locator("#children-table").inner_text()
    shoot("04-unit-village")

    # Households from the sidebar: a dense, paginated table of his households only.
    page.click(".portal-sidebar a[href='/org/households/']")
    page.wait_for_url("**/org/households/")
    rows = page.locator("#household-table tbody tr")
    assert rows.count() == 30
    assert county.households[1].number not in page.locator("body").inner_text()
    shoot("05-households")

    # Sorting by a header and paging keep working (htmx swaps the list in place, so wait
    # for the new rows rather than for a page load).
    page.click("#household-table thead a[href*='sort=-number']")
    expect(page.locator("#household-table tbody tr td").first).to_have_text(f"{county.micro_grids[0].code}0046")
    assert "sort=-number" in page.url
    page.click(".portal-pager a.page-link >> text=2")
    expect(page.locator("#household-table tbody tr")).to_have_count(16)
    assert "page=2" in page.url

    # Filter by tag: the select applies at once.
    page.select_option("#id_tag", "dibao")
    expect(page.locator("#household-table tbody tr")).to_have_count(7)
    assert "tag=dibao" in page.url
    shoot("06-households-filtered")

    # A household's detail with its members, ID numbers masked for a township clerk.
    page.click("#household-table tbody tr a >> nth=0")
    page.wait_for_url(re.compile(r"/org/households/\d+/$"))
    member_ids = page.locator("#member-table tbody tr td:nth-child(5)").all_inner_texts()
    assert member_ids and all("********" in value for value in member_ids)
    shoot("07-household-detail")

    page.click(".portal-sidebar a[href='/org/residents/']")
    page.wait_for_url("**/org/residents/")
    assert page.locator("#resident-table tbody tr").count() == 30
    shoot("08-residents")

    # Township B's pages do not exist for him: a friendly 404 inside the portal's frame.
    response = page.goto(f"/org/units/{county.township_b.code}/")
    assert response.status == 404
    assert county.township_b.name not in page.locator("body").inner_text()
    expect(page.locator(".portal-empty a[href='/']")).to_be_visible()
    shoot("09-not-found")

    # Logout is a POST from the user menu, back to the login page.
    page.click(".portal-user")
    page.click("#logout-button")
    page.wait_for_url("**/login/**")
    page.goto("/org/households/")
    page.wait_for_url("**/login/**")


def test_county_official_lands_on_the_dashboard_and_sees_both_townships(page, shoot, county, other_county,
                                                                       county_official):
    log_in(page, "county")
    page.wait_for_url("**/dashboard/")
    page.goto(f"/org/units/{county.county.code}/")
    table = page.locator("#children-table").inner_text()
    assert county.township_a.name in table and county.township_b.name in table
    assert other_county.county.name not in page.locator("body").inner_text()
    shoot("10-home-county")


def test_collapsed_sidebar_is_remembered(page, shoot, clerk_a):
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))
    page.click("#sidebar-toggle")
    page.goto("/org/households/")
    assert "sidebar-collapsed" in (page.locator("html").get_attribute("class") or "")
    shoot("11-sidebar-collapsed")
