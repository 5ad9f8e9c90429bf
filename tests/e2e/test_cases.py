"""A case through the closed loop in a browser: the township clerk reports it with the keyboard-first
form, accepts and dispatches it to village A; the village takes, starts and resolves it; the clerk
verifies, records the rating and closes it, and finds it in the list."""

import re

import pytest

from governance.roles import user_sync_permissions
from grid.models import Case, CaseState
from tests.helpers.browser import log_in
from tests.helpers.cases import PNG_1PX

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

TITLE = "三组李家房屋外墙开裂"


def act(page, action: str, button: str | None = None):
    page.locator(f"#action-{action} button[data-action={button or action}]").click()
    page.wait_for_load_state()


def switch_user(page, username: str, case: Case):
    page.context.clear_cookies()
    log_in(page, username)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/grid/cases/{case.pk}/")


def test_case_goes_round_the_loop(page, shoot, county, clerk_a, village_a, tmp_path):
    # The browser logs them in; their roles' permissions let them report and work the case.
    for user in (clerk_a, village_a):
        user_sync_permissions(user)
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG_1PX)
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))

    # 上报: the title has the focus; the category is found by typing, the grid by the type-ahead.
    page.goto("/grid/cases/new/")
    expect(page.locator("#id_title")).to_be_focused()
    page.keyboard.type(TITLE)
    page.fill("#category-filter", "房屋")
    expect(page.locator("#id_category option:checked")).to_have_text("房屋安全")
    page.fill(".form-field-grid .search-select-q", "第一微网格")
    expect(page.locator("#id_grid")).to_have_value(str(county.micro_grids[0].pk))
    page.fill("#id_description", "外墙出现多条裂缝，雨天渗水，住户担心安全。")
    page.check("input[name=colour][value=yellow]")
    page.select_option("#id_source", "hotline")
    page.fill("#id_reporter_name", "李四")
    page.fill("#id_reporter_phone", "13912345678")
    page.fill("#id_address", "德A村三组12号")
    page.set_input_files("#id_attachments", str(photo))
    shoot("40-case-new")
    page.locator("#id_address").press("Enter")  # Enter submits
    page.wait_for_url(re.compile(r"/grid/cases/\d+/$"))
    case = Case.objects.get(title=TITLE)
    expect(page.locator(".alert-success")).to_contain_text(case.number)
    expect(page.locator("#case-attachments img")).to_have_count(1)

    # 受理 (minor matter) and 派单 to village A, to the village user.
    page.select_option("#id_accept-triage", "minor")
    act(page, "accept")
    expect(page.locator("#action-dispatch")).to_be_visible()
    page.select_option("#id_dispatch-unit", str(county.villages[0].pk))
    expect(page.locator(f"#id_dispatch-assignee option[value='{village_a.pk}']")).to_have_count(1)
    page.select_option("#id_dispatch-assignee", str(village_a.pk))
    page.fill("#id_dispatch-comment", "请三日内到现场核实并处置。")
    shoot("41-case-detail")
    act(page, "dispatch")
    expect(page.locator(".case-state")).to_have_class(re.compile("case-state-dispatched"))
    # Who holds it now, and what they must do by when.
    expect(page.locator("#case-holder")).to_contain_text(county.villages[0].display_name)
    expect(page.locator("#case-holder")).to_contain_text("须接单")
    case.refresh_from_db()
    assert case.assignee == village_a and case.due_at is not None

    # The village takes it and starts work in one click, then resolves it with a photo.
    switch_user(page, "village_a", case)
    act(page, "take", "take-start")
    expect(page.locator(".case-state")).to_have_class(re.compile("case-state-in_progress"))
    page.fill("#id_resolve-result", "已联系住户并请专业人员加固外墙，裂缝已修补。")
    page.set_input_files("#id_resolve-attachments", str(photo))
    act(page, "resolve")
    expect(page.locator(".case-state")).to_have_class(re.compile("case-state-resolved"))
    expect(page.locator("#no-actions")).to_be_visible()

    # The clerk verifies, records the rating, closes.
    switch_user(page, "township_a", case)
    act(page, "verify")
    page.check("input[name=rate-rating][value=satisfied]")
    act(page, "rate")
    act(page, "close")
    expect(page.locator(".case-state")).to_have_class(re.compile("case-state-closed"))
    expect(page.locator("#case-timeline li")).to_have_count(9)
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.rating == "satisfied"
    assert case.attachments.count() == 2

    # The printable dispatch sheet (交办单), on screen and as printed.
    page.goto(f"/grid/cases/{case.pk}/sheet/")
    expect(page.locator("#case-sheet")).to_contain_text(case.number)
    expect(page.locator("#case-sheet")).to_contain_text("139****5678")  # masked for a township clerk
    shoot("43-case-sheet")
    page.emulate_media(media="print")
    expect(page.locator(".toolbar")).to_be_hidden()
    shoot("44-case-sheet-print")
    page.emulate_media(media="screen")

    # In the list, under its tab.
    page.goto("/grid/cases/")
    expect(page.locator("#case-table tbody tr")).to_have_count(2)  # ours and the cast's dispute
    page.locator("#case-state-tabs a[data-state=closed]").click()
    expect(page.locator("#case-table tbody tr")).to_have_count(1)
    expect(page.locator("#case-table")).to_contain_text(case.number)
    page.goto("/grid/cases/")
    shoot("42-case-list")
