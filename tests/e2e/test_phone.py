"""The pages a grid worker and a village clerk use, on a phone (390 × 844, and 360 wide).

Each page opens as the user who uses it and must fit the screen: the document is no wider than
the viewport (a failure names the elements that stick out), no list table scrolls sideways in its
card (lists are cards on a phone), the rail is hidden and the menu button opens it over the page.
A full-page screenshot of each is kept in the screenshot directory as phone-<user>-<page>.png.
The filter bar folds behind its 筛选 button, the new-case form is one column with a full-width
submit. One browser context per user keeps the file fast.
"""

import datetime
import re

import pytest
from django.utils import timezone

from governance.models import Notification
from governance.roles import user_sync_permissions
from governance.services import household_create, resident_create
from grid.models import CaseCategory
from grid.services import cases as case_services
from tests.helpers.browser import NARROW_PHONE, fit_problems, log_in, phone_context
from tests.helpers.people import make_id_number

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

# A long unbroken word and a long number: they must wrap, not widen the page.
LONG_WORD = "https://xinxi.example.invalid/" + "wangge" * 12
LONG_TITLE = "三组李家老房屋外墙开裂且屋顶漏水雨天渗水住户担心安全请尽快到现场核实处置并回复群众"

@pytest.fixture
def phone_data(county, clerk_a, village_a, grid_worker_a):
    """Township A as its grid worker and village clerk meet it: cases in their work lists (one
    overdue, one with a long title and an unbroken link), a household with a long address, and
    notifications; the cast brings the rosters, a mediation, a wish and the double report."""
    for user in (clerk_a, village_a, grid_worker_a):
        user_sync_permissions(user)
    village, grid, micro = county.villages[0], county.grids[0], county.micro_grids[0]
    hazard = CaseCategory.objects.get(code="hazard-building")

    def dispatched(title, unit, assignee, description="墙体开裂", colour="green"):
        case = case_services.case_create(user=clerk_a, title=title, description=description, category=hazard,
                                         grid=micro, colour=colour, address="德A村三组12号")
        case_services.case_accept(case=case, user=clerk_a, triage="minor")
        return case_services.case_dispatch(case=case, user=clerk_a, unit=unit, assignee=assignee)

    long_case = dispatched(LONG_TITLE, village, village_a, description=f"现场照片见 {LONG_WORD} 。", colour="red")
    late = dispatched("排水沟堵塞", village, village_a)
    type(late).objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(hours=3))
    dispatched("楼道灯不亮", grid, grid_worker_a)
    household = household_create(number=f"{micro.code}0099", address="德A村三组十二号附近的老供销社院内东侧第二排平房",
                                 grid=micro)
    resident_create(household=household, name="欧阳秀兰", id_number=make_id_number("513424", "19560101", 777),
                    phone="13912345678")
    for user in (village_a, grid_worker_a):
        Notification.objects.create(user=user, text=f"事件“{LONG_TITLE}”已派给您，请在三日内到现场核实处置。",
                                    url=f"/grid/cases/{long_case.pk}/")
        Notification.objects.create(user=user, text="排水沟堵塞 已超期，请尽快办理。")
    return {"case": long_case, "household": household}


def pages_of(county, data, *, clerk: bool) -> list[tuple[str, str]]:
    """(name, URL) of each page the user works with; the clerk also opens the village's wishes and records
    mediations and registrations."""
    pages = [
        ("home", "/"),
        ("case-new", "/grid/cases/new/"),
        ("case-list", "/grid/cases/"),
        ("case-detail", f"/grid/cases/{data['case'].pk}/"),
        ("work", "/grid/work/"),
        ("mediation-list", "/grid/mediation/"),
        ("mediation-summary", "/grid/mediation/summary/?period=month"),
        ("liaison-list", "/grid/liaisons/"),
        ("liaison-detail", f"/grid/liaisons/{county.liaisons[0].pk}/"),
        ("worker-list", "/grid/workers/"),
        ("worker-detail", f"/grid/workers/{county.workers[0].pk}/"),
        ("vacancy-list", "/grid/vacancies/"),
        ("household-list", "/org/households/"),
        ("household-detail", f"/org/households/{data['household'].pk}/"),
        ("resident-list", "/org/residents/"),
        ("member-list", "/party/members/"),
        ("member-detail", f"/party/members/{county.members[0].pk}/"),
        ("organization-list", "/party/organizations/"),
        ("wish-board", "/party/wishes/"),
        ("wish-list", "/party/wishes/list/"),
        ("wish-new", "/party/wishes/new/"),
        ("registration-list", "/party/registrations/"),
        ("unit-registration-list", "/party/registrations/units/"),
        ("service-list", "/party/services/"),
        ("notifications", "/org/notifications/"),
    ]
    if clerk:  # a grid worker neither records these nor sees the village's wishes
        pages += [
            ("wish-detail", f"/party/wishes/{county.wishes[0].pk}/"),
            ("mediation-form", f"/grid/cases/{county.cases[0].pk}/mediations/new/"),
            ("registration-new", "/party/registrations/new/"),
            ("unit-registration-new", "/party/registrations/units/new/"),
        ]
    return pages


def rail_problems(page) -> list[str]:
    """The rail is hidden; the menu button opens it over the page and Escape closes it."""
    sidebar, toggle = page.locator("#portal-sidebar"), page.locator("#sidebar-toggle")
    if sidebar.is_visible():
        return ["the rail is shown beside the page"]
    toggle.click()
    try:
        expect(sidebar).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(sidebar.locator("a[href='/grid/work/']")).to_be_visible()
    except AssertionError as error:
        return [f"the menu button does not open the rail: {error}"]
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    return []


def walk(page, pages, user_key: str, screenshot_dir) -> list[str]:
    failures = []
    for name, url in pages:
        response = page.goto(url)
        if response is None or response.status != 200:
            failures.append(f"{name} ({url}): answered {response and response.status}")
            continue
        problems = fit_problems(page)
        page.screenshot(path=str(screenshot_dir / f"phone-{user_key}-{name}.png"), full_page=True)
        problems += rail_problems(page)
        failures += [f"{name} ({url}): {problem}" for problem in problems]
    return failures


@pytest.mark.parametrize("user_key", ["village", "grid"])
def test_every_page_fits_a_phone(browser, live_server, screenshot_dir, county, phone_data, user_key):
    username = {"village": "village_a", "grid": "grid_a"}[user_key]
    context = phone_context(browser, live_server)
    try:
        page = context.new_page()
        log_in(page, username)
        page.wait_for_url(re.compile(r"/$"))
        failures = walk(page, pages_of(county, phone_data, clerk=user_key == "village"), user_key, screenshot_dir)
    finally:
        context.close()
    assert not failures, "Pages that do not work on a 390px phone:\n" + "\n".join(failures)


def test_login_fits_a_phone(browser, live_server, screenshot_dir, db):
    context = phone_context(browser, live_server)
    try:
        page = context.new_page()
        page.goto("/login/")
        assert fit_problems(page) == []
        page.screenshot(path=str(screenshot_dir / "phone-login.png"), full_page=True)
    finally:
        context.close()


def test_a_360px_phone_folds_filters_and_stacks_the_form(browser, live_server, screenshot_dir, county, phone_data):
    """The narrowest phones: the list's filters fold behind 筛选, the form is one column."""
    context = phone_context(browser, live_server, NARROW_PHONE)
    try:
        page = context.new_page()
        log_in(page, "village_a")
        page.wait_for_url(re.compile(r"/$"))

        # Case list: the search box and the 筛选 button; the other filters open under them and
        # stay open while the list reloads for a changed filter, which the button then counts.
        page.goto("/grid/cases/")
        assert fit_problems(page) == [] and rail_problems(page) == []
        filters = page.locator("form.case-filters")
        expect(filters.locator("input[name=q]")).to_be_visible()
        expect(page.locator("#id_colour")).to_be_hidden()
        page.screenshot(path=str(screenshot_dir / "phone-360-case-list.png"), full_page=True)
        filters.locator(".portal-filters-toggle").click()
        expect(page.locator("#id_colour")).to_be_visible()
        page.select_option("#id_colour", "red")
        page.wait_for_url(re.compile(r"colour=red"))
        expect(page.locator("#id_colour")).to_be_visible()
        expect(page.locator("form.case-filters .portal-filters-toggle .count")).to_have_text("1")
        expect(page.locator("#case-table tbody tr")).to_have_count(1)
        assert fit_problems(page) == []
        page.screenshot(path=str(screenshot_dir / "phone-360-case-list-filters.png"), full_page=True)

        # New case: one column; the colours are whole words on one line; the selects and the
        # submit button take the form's width, the button on one line.
        page.goto("/grid/cases/new/")
        assert fit_problems(page) == [] and rail_problems(page) == []
        form = page.locator("#case-form").bounding_box()
        for selector in ("#id_title", "#id_category", "#id_grid", "#id_source", "#id_reporter_name", "#case-submit"):
            box = page.locator(selector).bounding_box()
            assert box["width"] >= form["width"] * 0.85, f"{selector}: {box['width']}px wide, form {form['width']}px"
        submit = page.locator("#case-submit").bounding_box()
        assert submit["height"] < 48, "the submit button wraps"
        lines = page.locator(".colour-choice label").evaluate_all(
            """labels => labels.map(label => {
                 const style = getComputedStyle(label);
                 const inner = label.getBoundingClientRect().height - parseFloat(style.paddingTop)
                   - parseFloat(style.paddingBottom);
                 return inner / parseFloat(style.lineHeight);
               })"""
        )
        assert len(lines) == 3 and max(lines) < 1.5, f"a colour wraps: lines of text per label {lines}"
        page.screenshot(path=str(screenshot_dir / "phone-360-case-new.png"), full_page=True)

        # My work: each case is a card whose title has the card's width, not one character.
        page.goto("/grid/work/")
        assert fit_problems(page) == []
        title = page.locator("table.work-table tbody tr td:nth-child(2)").first.bounding_box()
        assert title["width"] > 200, f"the title is {title['width']}px wide"
        page.screenshot(path=str(screenshot_dir / "phone-360-work.png"), full_page=True)
    finally:
        context.close()
