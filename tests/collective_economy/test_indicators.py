"""Collective operating income on the monthly rollup and the dashboards: hand-computed yuan for a small cast,
the band edges (100,000.00 is not weak), reversals and the year-end carry-forward, township → county."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from collective_economy import indicators as ce
from collective_economy.models import Period
from collective_economy.services.periods import period_close, year_close
from collective_economy.services.vouchers import voucher_post, voucher_reverse, voucher_review, voucher_submit
from governance.indicators.engine import rollup_month
from governance.indicators.registry import get_indicator, without_definition
from governance.models import Level
from governance.services import orgunit_create
from tests.helpers.indicators import number
from tests.helpers.ledger import new_book, post

JUNE = datetime.date(2025, 6, 1)
MAY = datetime.date(2025, 5, 1)
BAND = ce.BAND_PREFIX


@pytest.fixture
def cast(county, village_a, clerk_a):
    """Township A's village (book a) and township B's (book b), kept under the 2023 rules in 2025."""
    a = new_book(county.villages[0], bookkeepers=[village_a])
    b = new_book(county.villages[1])

    def enter(book, day, lines):
        return post(book, day, lines, preparer=village_a, reviewer=clerk_a)

    # Book a: contracting income 60,000 (501) and investment income 15,000.50 (502) in May; in June 30,000 of
    # operating income, a subsidy of 80,000 (503: income, never operating) and expenses.
    enter(a, datetime.date(2025, 5, 10), [("102", "60000.00", "0", "收取土地发包款"), ("501", "0", "60000.00")])
    enter(a, datetime.date(2025, 5, 20), [("102", "15000.50", "0", "收到合作社分红"), ("502", "0", "15000.50")])
    enter(a, datetime.date(2025, 6, 5), [("101", "30000.00", "0", "门面出租收入"), ("501", "0", "30000.00")])
    enter(a, datetime.date(2025, 6, 8), [("102", "80000.00", "0", "上级补助"), ("503", "0", "80000.00")])
    enter(a, datetime.date(2025, 6, 9), [("513", "2000.00", "0", "办公费"), ("101", "0", "2000.00")])
    # Book b: 1,250,000.25 of operating income in June.
    enter(b, datetime.date(2025, 6, 12), [("102", "1250000.25", "0", "集体厂房租金"), ("501", "0", "1250000.25")])
    return a, b


def test_operating_income_of_the_month_and_the_year_so_far(cast, county):
    rollup_month(MAY)
    rollup_month(JUNE)
    village_a, village_b = county.villages
    assert number(MAY, ce.OPERATING, village_a) == Decimal("75000.50")
    assert number(JUNE, ce.OPERATING, village_a) == Decimal("30000.00")
    # The subsidy is income, never operating income.
    assert number(JUNE, ce.TOTAL, village_a) == Decimal("110000.00")
    assert number(JUNE, ce.OPERATING_YTD, village_a) == Decimal("105000.50")
    assert number(JUNE, ce.TOTAL_YTD, village_a) == Decimal("185000.50")
    assert number(MAY, ce.OPERATING_YTD, village_a) == Decimal("75000.50")
    # Summed up the tree: township A holds village a, township B village b, the county both.
    assert number(JUNE, ce.OPERATING_YTD, county.township_a) == Decimal("105000.50")
    assert number(JUNE, ce.OPERATING_YTD, county.township_b) == Decimal("1250000.25")
    assert number(JUNE, ce.OPERATING_YTD, county.county) == Decimal("1355000.75")
    assert number(JUNE, ce.OPERATING, county.county) == Decimal("1280000.25")


def test_villages_per_band_counted_at_the_village_and_summed_up(cast, county, village_a, clerk_a):
    rollup_month(JUNE)
    village_a_unit, village_b_unit = county.villages
    assert number(JUNE, BAND + "100k", village_a_unit) == 1
    assert number(JUNE, BAND + "weak", village_a_unit) == 0
    assert number(JUNE, BAND + "1m", village_b_unit) == 1
    assert number(JUNE, BAND + "1m", county.county) == 1
    assert number(JUNE, BAND + "100k", county.county) == 1
    assert number(JUNE, BAND + "500k", county.county) == 0
    assert number(JUNE, ce.AT_LEAST_100K, county.county) == 2
    assert number(JUNE, ce.AT_LEAST_500K, county.county) == 1
    assert number(JUNE, ce.WEAK, county.county) == 0
    # A third village with a book and no income at all is weak, and counted.
    third = orgunit_create(code=f"{county.township_a.code[:9]}202", name="德A二村村民委员会", short_name="德A二村",
                           level=Level.VILLAGE, kind="village", parent=county.township_a)
    new_book(third)
    rollup_month(JUNE)
    assert number(JUNE, ce.WEAK, third) == 1
    assert number(JUNE, ce.WEAK, county.township_a) == 1
    assert number(JUNE, BAND + "weak", county.county) == 1
    weak = get_indicator(ce.WEAK)
    assert weak.denominator == "villages"
    from governance.models import IndicatorValue
    assert IndicatorValue.objects.get(period=JUNE, key=ce.WEAK, org_unit=county.county).denominator == 3


@pytest.mark.parametrize(("amount", "band"), [("100000.00", "100k"), ("99999.99", "weak"),
                                               ("500000.00", "500k"), ("999999.99", "500k"),
                                               ("1000000.00", "1m")])
def test_band_edges(county, village_a, clerk_a, amount, band):
    book = new_book(county.villages[0], bookkeepers=[village_a])
    post(book, datetime.date(2025, 6, 3), [("102", amount, "0", "发包收入"), ("501", "0", amount)],
         preparer=village_a, reviewer=clerk_a)
    rollup_month(JUNE)
    found = {key: number(JUNE, BAND + key, county.villages[0]) for key in ("weak", "100k", "500k", "1m")}
    assert found == {key: (1 if key == band else 0) for key in found}
    assert number(JUNE, ce.WEAK, county.villages[0]) == (1 if band == "weak" else 0)


def test_a_reversal_takes_the_income_back_out(cast, county, village_a, clerk_a):
    a, _b = cast
    wrong = post(a, datetime.date(2025, 6, 20), [("102", "50000.00", "0", "误记收入"), ("501", "0", "50000.00")],
                 preparer=village_a, reviewer=clerk_a)
    rollup_month(JUNE)
    assert number(JUNE, ce.OPERATING_YTD, county.villages[0]) == Decimal("155000.50")
    reversal = voucher_reverse(voucher=wrong, user=village_a, date=datetime.date(2025, 6, 21))
    voucher_submit(voucher=reversal, user=village_a)
    voucher_review(voucher=reversal, user=clerk_a)
    voucher_post(voucher=reversal, user=village_a)
    rollup_month(JUNE)
    assert number(JUNE, ce.OPERATING, county.villages[0]) == Decimal("30000.00")
    assert number(JUNE, ce.OPERATING_YTD, county.villages[0]) == Decimal("105000.50")


def test_the_year_end_carry_forward_is_left_out_and_last_year_is_read(county, village_a, clerk_a):
    book = new_book(county.villages[0], year=2024, bookkeepers=[village_a])
    post(book, datetime.date(2024, 12, 10), [("102", "120000.00", "0", "发包收入"), ("501", "0", "120000.00")],
         preparer=village_a, reviewer=clerk_a)
    post(book, datetime.date(2024, 12, 11), [("513", "20000.00", "0", "办公费"), ("102", "0", "20000.00")],
         preparer=village_a, reviewer=clerk_a)
    for month in range(1, 12):
        period_close(period=Period.objects.get(book_year__book=book, book_year__year=2024, month=month), user=clerk_a)
    year_close(book_year=book.years.get(year=2024), user=clerk_a)
    december = datetime.date(2024, 12, 1)
    rollup_month(december)
    rollup_month(JUNE)
    # The carry-forward debits 501 with 120,000: it is no negative income.
    assert number(december, ce.OPERATING, county.villages[0]) == Decimal("120000.00")
    assert number(december, ce.OPERATING_YTD, county.villages[0]) == Decimal("120000.00")
    assert number(JUNE, ce.OPERATING_LAST_YEAR, county.villages[0]) == Decimal("120000.00")
    assert number(JUNE, ce.OPERATING_LAST_YEAR, county.county) == Decimal("120000.00")
    # Nothing yet this year: weak, with 0.00.
    assert number(JUNE, ce.OPERATING_YTD, county.villages[0]) == Decimal("0")
    assert number(JUNE, ce.WEAK, county.villages[0]) == 1


def test_verify_finds_the_leaf_sums_equal_to_plain_sums(cast, capsys):
    for month in (datetime.date(2025, 4, 1), MAY, JUNE):
        rollup_month(month)
    call_command("rollup_indicators", month="2025-06", verify=True, no_progress=True)
    out = capsys.readouterr().out
    assert "0 mismatches" in out
    assert "mismatches" in out.split("verify 2025-Q2")[1]


def test_every_figure_says_what_it_means():
    assert not [key for key in without_definition() if key.startswith("collective_economy.")]
    definition = get_indicator(ce.OPERATING_YTD).definition
    assert "2004" in str(definition)


def test_the_county_dashboard_shows_the_panel_and_the_league(cast, login, county_official, county):
    rollup_month(MAY)
    rollup_month(JUNE)
    response = login(county_official).get("/dashboard/?period=2025-06", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    panel = page[page.index('id="panel-collective-economy-income"'):]
    panel = panel[:panel.index("</section>")]
    assert "1,355,000.75" in panel  # this year so far, yuan with two decimals
    assert "135.50" in panel  # and in 万元
    assert 'data-band="band_1m"' in panel
    assert "2004" in panel  # the definition says which accounts count
    assert f"unit={county.county.pk}&amp;year=2025&amp;month=6" in panel
    # The league: the townships' operating income this year so far.
    league = response.context["league"]
    assert ce.OPERATING_YTD in league.keys and ce.OPERATING_LAST_YEAR in league.keys
    figures = {row.unit.pk: row.figures[ce.OPERATING_YTD].numerator for row in league.rows}
    assert figures == {county.township_a.pk: Decimal("105000.50"), county.township_b.pk: Decimal("1250000.25")}
    charts = {chart["key"]: chart for chart in response.context["breakdowns"]}
    chart = charts["collective_economy.villages_by_band"]
    assert sorted(chart["values"]) == [0, 0, 1, 1]  # every band a bar, the empty ones 0


def test_at_a_village_the_panel_opens_the_village_statement(cast, county):
    rollup_month(JUNE)
    from governance.indicators.dashboard import dashboard_figures
    from governance.indicators.dashboard.page import panels
    figures = dashboard_figures(unit=county.villages[0])
    html = {panel["key"]: panel["html"] for panel in panels(county.villages[0], figures.period, figures.values)}
    panel = html["collective-economy-income"]
    assert f"?unit={county.villages[0].pk}&amp;year=2025&amp;month=6" in panel
    assert "105,000.50" in panel
    assert 'data-link="income-statement"' in panel


def test_township_b_sees_nothing_of_township_a(cast, login, clerk_b, county):
    rollup_month(JUNE)
    client = login(clerk_b)
    assert client.get(f"/dashboard/{county.township_a.code}/?period=2025-06").status_code == 404
    page = client.get("/dashboard/?period=2025-06", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    panel = page[page.index('id="panel-collective-economy-income"'):]
    assert "1,250,000.25" in panel[:panel.index("</section>")]
    assert "105,000.50" not in page
