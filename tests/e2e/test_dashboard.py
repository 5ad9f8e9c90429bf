"""The county dashboard in a browser: it opens, drills down twice (county → township →
village) by clicking league rows, and every number on screen equals the API's."""

import re

import pytest

from governance.indicators import dashboard
from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month, this_month
from tests.helpers.browser import log_in

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect


def check_numbers_equal_the_api(page, unit, period):
    """Every KPI card and league cell shows the API's value, formatted as the page formats it.

    ``period`` is a month, or a period as the API writes it (2025-Q2, 2025 ...).
    """
    indicators = dashboard.indicator_map()
    period = period if isinstance(period, str) else f"{period:%Y-%m}"
    response = page.request.get(f"/api/v1/indicators/?org={unit.code}&period={period}")
    assert response.ok, response.text()
    values = {row["key"]: row["value"] for row in response.json()}
    cards = page.locator("#dashboard-kpis [data-key]")
    assert cards.count() > 0
    for i in range(cards.count()):
        card = cards.nth(i)
        key = card.get_attribute("data-key")
        shown = card.locator("[data-value]").inner_text().strip()
        assert shown == dashboard.format_number(indicators[key], values.get(key)), key
    children = page.request.get(f"/api/v1/indicators/?org={unit.code}&period={period}&children=1").json()
    by_child = {(row["org"], row["key"]): row["value"] for row in children}
    rows = page.locator("#league-table tbody tr")
    for i in range(rows.count()):
        row = rows.nth(i)
        code = row.get_attribute("data-code")
        cells = row.locator("td[data-key]")
        for j in range(cells.count()):
            cell = cells.nth(j)
            key = cell.get_attribute("data-key")
            shown = cell.locator("[data-value]").inner_text().strip()
            assert shown == dashboard.format_number(indicators[key], by_child.get((code, key))), (code, key)
    return rows.count()


def test_county_dashboard_drills_down_twice(page, shoot, county, county_official):
    period = this_month()
    for month in (shift_month(period, -1), period):
        assert rollup_month(month).status == "complete"

    log_in(page, "county")
    page.wait_for_url(re.compile(r"/$"))
    page.click("a.portal-nav-link[href='/dashboard/']")
    page.wait_for_url(re.compile(r"/dashboard/$"))
    expect(page.locator("h1")).to_contain_text(county.county.display_name)
    expect(page.locator("#league-table")).to_be_visible()
    assert check_numbers_equal_the_api(page, county.county, period) == 2
    page.wait_for_timeout(400)  # let the charts (if ECharts is there) finish drawing
    shoot("50-dashboard-county")

    page.click(f"#league-table tr[data-code='{county.township_a.code}'] th a")
    page.wait_for_url(re.compile(rf"/dashboard/{county.township_a.code}/"))
    expect(page.locator("#dashboard-breadcrumb")).to_contain_text(county.county.display_name)
    assert check_numbers_equal_the_api(page, county.township_a, period) == 1
    page.wait_for_timeout(400)
    shoot("51-dashboard-township")

    page.click(f"#league-table tr[data-code='{county.villages[0].code}'] th a")
    page.wait_for_url(re.compile(rf"/dashboard/{county.villages[0].code}/"))
    check_numbers_equal_the_api(page, county.villages[0], period)
    page.wait_for_timeout(400)
    shoot("52-dashboard-village")

    # The breadcrumb leads back up to the county.
    page.click(f"#dashboard-breadcrumb a[href^='/dashboard/{county.county.code}/']")
    page.wait_for_url(re.compile(rf"/dashboard/{county.county.code}/"))
    expect(page.locator("h1")).to_contain_text(county.county.display_name)


def test_the_county_reads_its_year_and_drills_down_in_it(page, shoot, county, county_official):
    """The picker's 年度 shows the year so far month by month added up, as the API adds it; drilling
    down keeps the year."""
    period = this_month()
    for month in (shift_month(period, -1), period):
        assert rollup_month(month).status == "complete"
    log_in(page, "county")
    page.goto("/dashboard/")
    page.click(f"#dashboard-period-kinds a[data-period='{period.year}']")
    page.wait_for_url(re.compile(rf"period={period.year}"))
    expect(page.locator("#dashboard-period-name")).to_have_text(f"{period.year}年")
    expect(page.locator("#dashboard-period-kinds a.active")).to_have_text("年度")
    assert check_numbers_equal_the_api(page, county.county, str(period.year)) == 2
    expect(page.locator("#dashboard-definitions")).to_contain_text("结案率（截至今日）")
    shoot("53-dashboard-year")
    page.click(f"#league-table tr[data-code='{county.township_a.code}'] th a")
    page.wait_for_url(re.compile(rf"/dashboard/{county.township_a.code}/\?period={period.year}"))
    assert check_numbers_equal_the_api(page, county.township_a, str(period.year)) == 1


def test_an_administrator_computes_a_month_and_the_county_approves_it(page, shoot, county, admin_user,
                                                                       county_official, eager_celery):
    """Compute last month from the dashboard, follow the run to its end, then approve the month."""
    last_month = shift_month(this_month(), -1)
    month = f"{last_month:%Y-%m}"
    log_in(page, "admin")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/dashboard/?period={month}")
    expect(page.locator("#dashboard-empty")).to_be_visible()
    page.click("#dashboard-compute")
    page.wait_for_url(re.compile(r"/dashboard/runs/\d+/"))
    expect(page.locator("#rollup-progress")).to_have_attribute("data-status", "complete")
    expect(page.locator("#run-parts tbody tr[data-status='ok']")).to_have_count(3)
    shoot("53-dashboard-run-complete")
    page.click("#run-back")
    page.wait_for_url(re.compile(rf"/dashboard/\?period={month}"))
    expect(page.locator("#dashboard-kpis")).to_be_visible()
    expect(page.locator("#dashboard-last-run")).to_contain_text("完成")
    shoot("54-dashboard-admin-bar")

    page.context.clear_cookies()
    log_in(page, "county")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/dashboard/?period={month}")
    page.once("dialog", lambda dialog: dialog.accept())  # the confirmation asked before locking
    page.click("#dashboard-approve")
    expect(page.locator("#dashboard-approved")).to_be_visible()
    expect(page.locator(".portal-messages")).to_contain_text(month)
    shoot("55-dashboard-approved")


# Every pair of texts drawn in a chart (axis labels, legend, bar labels) that overlap on screen.
OVERLAPPING_LABELS = """() => {
  const found = [];
  document.querySelectorAll('.dashboard-chart svg').forEach(svg => {
    const chart = svg.closest('[data-chart]');
    const name = chart.dataset.chart + (chart.dataset.part ? '/' + chart.dataset.part : '');
    const boxes = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
      .filter(([text, r]) => text.trim() && r.width > 0 && r.height > 0);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i][1], b = boxes[j][1];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
        found.push([name, boxes[i][0], boxes[j][0]]);
    }
  });
  return found;
}"""
# Each chart as wide as it is drawn, and the card it sits in.
CHART_WIDTHS = """() => [...document.querySelectorAll('.dashboard-chart svg')].map(svg => [
  svg.closest('[data-chart]').dataset.chart, Math.round(svg.getBoundingClientRect().width),
  Math.round(svg.closest('.portal-card').getBoundingClientRect().width)])"""


def check_fits(page, width):
    """Nothing wider than the screen, each chart inside its card, no two chart labels on each other."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth") == width
    charts = page.evaluate(CHART_WIDTHS)
    assert charts and all(0 < drawn <= card for _name, drawn, card in charts), charts
    assert page.evaluate(OVERLAPPING_LABELS) == []
    return {name: drawn for name, drawn, _card in charts}


@pytest.mark.parametrize("username, shot", [("county", "dashboard"), ("township_a", "dashboard-township")])
def test_the_dashboard_fits_a_phone_and_a_wide_screen(page, screenshot_dir, county, county_official, clerk_a,
                                                      username, shot):
    """At 390 px (a phone) the county's and a township's dashboards are no wider than the screen: the
    cards stack, the charts take their card's width with labels that do not overlap, and the wide tables
    scroll inside their cards. Widened to 1440 px, the charts follow. The KPI's number opens the list
    of as many cases."""
    period = this_month()
    for month in (shift_month(period, -1), period):
        assert rollup_month(month).status == "complete"
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, username)
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/dashboard/")
    page.wait_for_selector(".dashboard-chart svg")
    page.wait_for_timeout(500)
    narrow = check_fits(page, 390)
    for table in ("#league-table", "#indicator-table"):  # wider than the phone: scrolled inside its card
        wrap = page.locator(table).locator("xpath=..")
        assert wrap.evaluate("el => getComputedStyle(el).overflowX") == "auto"
        assert wrap.evaluate("el => el.getBoundingClientRect().right") <= 390
    page.screenshot(path=str(screenshot_dir / f"{shot}-390.png"), full_page=True)

    page.set_viewport_size({"width": 1440, "height": 900})
    page.wait_for_timeout(700)  # the charts redraw 150 ms after the last resize
    wide = check_fits(page, 1440)
    assert wide["league"] > narrow["league"] * 2  # the league spans the page
    page.screenshot(path=str(screenshot_dir / f"{shot}-1440.png"), full_page=True)

    raised = page.locator("#dashboard-kpis [data-key='grid.cases_raised'] a[data-value]")
    number = raised.inner_text().strip()
    raised.click()
    page.wait_for_url(re.compile(r"/grid/cases/\?"))
    expect(page.locator("#case-state-tabs a[data-state='all'] .count")).to_have_text(number)
