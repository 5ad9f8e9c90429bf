"""A village decision in a browser, from the matter's registration to the published results: the village
worker of a six-step village (六议两公开) registers the matter, records 动议, 提议, 商议 and 审议 with their
attendance and votes (a photo of the minutes with one of them), has every household sign the consultation
(民议), records it, the villagers' representatives' resolution (决议), its publication and the results; then a
villager, without logging in, opens the village's public page and reads the decision and its results.
The list and the decision's page fit a 390px phone. Screenshots: decision-*.png."""

import re

import pytest

from collective_economy.models import Decision, DecisionState, VillageDecisionSetting
from governance.roles import user_sync_permissions
from tests.helpers.browser import fit_problems, log_in, phone_context
from tests.helpers.cases import PNG_1PX

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

WIDE = {"width": 1440, "height": 900}
TITLE = "三组村道硬化"
RESULTS = "三组村道硬化 1.2 公里已完工，经镇农经站验收合格，支出 86,500.00 元。"
# (step, counts typed: expected, attended, votes for) — a meeting that votes passes with 8 of 9 attending.
STEPS = [("motion", None), ("proposal", ("9", "8", "7")), ("discussion", ("7", "7", "6")),
         ("review", ("35", "30", "28")), ("consultation", None), ("resolution", ("31", "25", "22")),
         ("publication", None), ("result", None)]


def record(page, step: str, counts, *, photo: bool = False):
    form = page.locator("#step-form")
    expect(form.locator("input[name=step]")).to_have_value(step)
    if counts is not None:
        expected, attended, votes_for = counts
        page.fill("#id_expected", expected)
        page.fill("#id_attended", attended)
        page.fill("#id_votes_for", votes_for)
        page.fill("#id_votes_against", "1")
        # The quorum is worked out as the counts are typed.
        expect(page.locator("#quorum-needed")).not_to_have_text("—")
    page.fill("#id_minutes", f"{step}：会议讨论了村道硬化的必要性、资金来源和实施方案。")
    if step == "result":
        page.fill("#id_result_summary", RESULTS)
    if photo:
        page.set_input_files("#id_attachments", files=[{"name": "会议记录.png", "mimeType": "image/png",
                                                        "buffer": PNG_1PX}])
    page.locator("#step-record").click()
    expect(page.locator(f"#decision-tracker li[data-step={step}]")).to_have_attribute("data-status", "done")


def test_a_decision_is_recorded_through_its_steps_and_read_on_the_public_page(page, browser, live_server, shoot,
                                                                              screenshot_dir, county, village_a):
    user_sync_permissions(village_a)
    village = county.villages[0]
    VillageDecisionSetting.objects.create(village=village, six_step=True)
    page.set_viewport_size(WIDE)
    log_in(page, "village_a")
    page.wait_for_url(re.compile(r"/$"))

    page.goto("/ledger/decisions/")
    expect(page.locator(".portal-empty")).to_be_visible()
    page.locator("#decision-create").click()
    page.fill("#id_title", TITLE)
    page.fill("#id_description", "硬化三组村道 1.2 公里，宽 4.5 米，资金来自村集体经营收入和县级补助。")
    page.fill("#id_amount", "86,500.00")
    page.locator("#decision-save").click()
    page.wait_for_url(re.compile(r"/ledger/decisions/\d+/$"))
    decision = Decision.objects.get(title=TITLE)
    expect(page.locator("#decision-tracker li")).to_have_count(8)
    expect(page.locator("#decision-tracker li[data-step=motion]")).to_have_attribute("data-status", "next")
    shoot("decision-registered-1440")

    for step, counts in STEPS:
        if step == "consultation":
            expect(page.locator("#step-record")).to_be_disabled()
            page.once("dialog", lambda dialog: dialog.accept())
            page.locator("#sign-everyone").click()
            expect(page.locator("#signatures-complete")).to_be_visible()
            expect(page.locator("#signature-progress")).to_have_attribute("data-signed", "1")
            page.evaluate("window.scrollTo(0, 0)")
            shoot("decision-signatures-1440")
        if step == "resolution":
            shoot("decision-next-step-1440")
        record(page, step, counts, photo=step == "proposal")

    decision.refresh_from_db()
    assert decision.state == DecisionState.RESULT and decision.result_summary == RESULTS
    assert list(decision.records.values_list("step", flat=True)) == [step for step, _counts in STEPS]
    expect(page.locator("#decision-complete")).to_be_visible()
    expect(page.locator("#decision-results")).to_have_text(RESULTS)
    expect(page.locator("#decision-records .decision-file img")).to_have_count(1)
    shoot("decision-done-1440")

    # On a phone: the list and the decision's page fit the screen.
    context = phone_context(browser, live_server)
    failures = []
    try:
        phone = context.new_page()
        log_in(phone, "village_a")
        phone.wait_for_url(re.compile(r"/$"))
        for name, address in (("list", "/ledger/decisions/"), ("decision", f"/ledger/decisions/{decision.pk}/")):
            phone.goto(address)
            failures += [f"{name}: {problem}" for problem in fit_problems(phone)]
            phone.screenshot(path=str(screenshot_dir / f"decision-{name}-390.png"), full_page=True)
    finally:
        context.close()
    assert not failures, "\n".join(failures)

    # A villager, not logged in, reads it on the village's public page.
    page.context.clear_cookies()
    response = page.goto(f"/public/{village.code}/")
    assert response.status == 200 and "/login/" not in page.url
    published = page.locator(f"#decision-{decision.number}")
    expect(published).to_contain_text(TITLE)
    expect(published).to_contain_text(RESULTS)
    expect(published).to_contain_text("86,500.00")
    shoot("decision-public-1440")
