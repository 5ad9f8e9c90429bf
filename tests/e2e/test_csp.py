"""The portal's main pages in a real browser under the Content-Security-Policy: nothing refused, and the
scripts still do their work.

Chromium enforces the policy the portal sends (no inline script, no on*= handler, no eval; scripts only
from the portal's files). Each page below is loaded and fails the test on any console message that the
browser refused something ("Refused to execute …", "… violates the following Content Security Policy
directive …") or any ``securitypolicyviolation`` event; the interactive parts are exercised — the
dashboard's charts draw, the voucher form adds a line, the contract form adds a schedule row, the
decision page works out the quorum as counts are typed, the sidebar folds, the Swagger UI reads the
schema and lists the operations.
"""

import re

import pytest
from django.utils import timezone

from collective_economy.models import Step
from collective_economy.services.decisions import next_step
from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month, this_month
from governance.roles import user_sync_permissions
from grid.models import CaseCategory
from grid.services import cases as svc
from tests.helpers.browser import log_in
from tests.helpers.decisions import hold, register
from tests.helpers.ledger import new_book

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

# Recorded by the page itself from its first moment (an init script is not subject to the page's policy).
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" +
                    e.lineNumber);
});
"""
REFUSED = re.compile(r"Refused to|Content Security Policy|Content-Security-Policy", re.I)
COUNTED = (Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.RESOLUTION)


class Watch:
    """Console messages that say the browser refused something, and the page's violation events."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(WATCH_VIOLATIONS)
        page.on("console", lambda message: REFUSED.search(message.text) and self.console.append(message.text))
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def open(self, path: str):
        response = self.page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        return response

    def proves_it_sees(self):
        """An inline script slipped into the page is refused, and the watch hears of it (then forgets)."""
        self.page.evaluate("""() => { const s = document.createElement("script");
                                      s.textContent = "window.__inline_ran = true"; document.head.appendChild(s); }""")
        self.page.wait_for_timeout(150)
        assert self.page.evaluate("window.__inline_ran === undefined"), "an inline script ran: no policy"
        events = self.page.evaluate("window.__csp.splice(0)")
        assert any("script-src" in event for event in events), events
        # Chromium's words: "Executing inline script violates the following Content Security Policy …"
        # (older ones: "Refused to execute inline script …"): the pattern the pages are checked with.
        assert any(REFUSED.search(message) and "inline script" in message for message in self.console), self.console
        self.console.clear()

    def check(self, where: str):
        self.page.wait_for_timeout(150)  # let late scripts (charts, htmx) run
        events = self.page.evaluate("window.__csp || []")
        assert self.console == [] and events == [], f"{where}: {self.console} {events}"


def switch_user(page, username: str):
    page.context.clear_cookies()
    log_in(page, username)
    page.wait_for_url(re.compile(r"/$"))


def test_the_main_pages_run_under_the_policy(page, live_server, county, admin_user, clerk_a, village_a,
                                               county_official):
    for user in (admin_user, clerk_a, village_a, county_official):
        user_sync_permissions(user)
    for month in (shift_month(this_month(), -1), this_month()):
        assert rollup_month(month).status == "complete"
    case = svc.case_create(user=clerk_a, title="危房", description="墙体开裂", grid=county.micro_grids[0],
                           category=CaseCategory.objects.get(code="hazard-building"))
    village = county.villages[0]
    book = new_book(village, year=timezone.localdate().year)
    decision = register(village, village_a)
    while next_step(decision) not in COUNTED:
        hold(decision, next_step(decision), village_a)
        decision.refresh_from_db()
    watch = Watch(page)

    # The administrator: workbench, cases, dashboard, the admin and its roster import, the API's docs.
    log_in(page, "admin")
    page.wait_for_url(re.compile(r"/$"))
    watch.check("workbench")
    watch.proves_it_sees()
    assert page.evaluate("document.documentElement.classList.contains('js')"), "the head script ran"
    page.locator("#sidebar-toggle").click()  # portal.js folds the sidebar and remembers it
    expect(page.locator("html")).to_have_class(re.compile(r"sidebar-collapsed"))
    page.locator("#sidebar-toggle").click()

    watch.open("/grid/cases/")
    expect(page.locator(f"a[href='/grid/cases/{case.pk}/']").first).to_be_visible()
    watch.check("case list")
    watch.open(f"/grid/cases/{case.pk}/")
    expect(page.locator("h1")).to_contain_text("危房")
    watch.check("case detail")
    watch.open("/grid/cases/new/")
    watch.check("case form")

    watch.open("/dashboard/")
    charts = page.locator(".dashboard-chart[data-chart]")
    assert charts.count() > 0
    expect(charts.first.locator("svg").first).to_be_attached()  # ECharts drew (its SVG renderer)
    watch.check("dashboard")

    watch.open("/admin/")
    expect(page.locator("#content-main")).to_be_visible()
    watch.check("admin index")
    watch.open("/admin/governance/resident/roster/import/")
    expect(page.locator("input[type=file]").first).to_be_attached()
    watch.check("roster import")
    watch.open(f"/admin/grid/case/{case.pk}/change/")
    watch.check("admin change form")

    watch.open("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=20_000)
    expect(page.locator(".opblock").first).to_be_visible()
    watch.check("API docs")

    # The village's bookkeeper: the voucher form adds a line, the contract form a schedule row, the
    # decision page works out the quorum.
    switch_user(page, "village_a")
    watch.check("village workbench")
    watch.open(f"/ledger/books/{book.pk}/vouchers/new/")
    lines = page.locator("tr.voucher-line")
    before = lines.count()
    page.locator("#line-add").click()
    expect(lines).to_have_count(before + 1)
    watch.check("voucher form")

    watch.open("/ledger/contracts/new/")
    rows = page.locator("#schedule-rows tr")
    before = rows.count()
    page.locator("#schedule-add").click()
    expect(rows).to_have_count(before + 1)
    watch.check("contract form")

    watch.open(f"/ledger/decisions/{decision.pk}/")
    page.fill("#id_expected", "9")
    page.fill("#id_attended", "8")
    expect(page.locator("#quorum-needed")).not_to_have_text("—")
    expect(page.locator("#votes-needed")).not_to_have_text("—")
    watch.check("decision detail")

    watch.open(f"/public/{village.code}/")
    watch.check("public village page")
