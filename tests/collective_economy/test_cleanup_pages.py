"""The township officer's clean-up page (清化收): per village and rolled up, the contracts cleaned up, the
receivables collected and debts resolved against their opening amounts, and every overdue payment; the figures of
a small cast, a page that costs the same for more villages, and township B seeing nothing of A."""

import datetime
import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from collective_economy.selectors.cleanup import cleanup_figures
from collective_economy.services.registers import (
    contract_payment_record,
    contract_save,
    debt_record_save,
    debt_settle,
    instalments_set,
)
from governance.models import Level, OrgUnit
from governance.services import orgunit_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
FIRM = "德昌绿源农业有限公司"


def contract(village, user, number, *, is_regular=True, problem="", cleaned_up_on=None, schedule=()):
    saved = contract_save(user=user, village=village, number=number, title=f"合同{number}", kind="letting",
                          subject_kind="land", counterparty_name=FIRM, amount=Decimal("12000"),
                          signed_on=TODAY - 400 * DAY, starts_on=TODAY - 400 * DAY, ends_on=TODAY + 900 * DAY,
                          is_regular=is_regular, problem=problem, cleaned_up_on=cleaned_up_on)
    if schedule:
        instalments_set(contract=saved, schedule=list(schedule))
    return saved


def debt(village, user, number, kind, opening, settled=None):
    record = debt_record_save(user=user, village=village, kind=kind, number=number, counterparty_name=FIRM,
                              origin="历年欠缴承包费", opening_amount=Decimal(opening), registered_on=TODAY - 100 * DAY)
    if settled:
        debt_settle(record=record, settled_on=TODAY - 10 * DAY, amount=settled, way="cash", user=user)
    return record


def fill_village(village, user, tag=""):
    """Three contracts (a regular one with a payment a month overdue, 5,000 of 6,000 outstanding; an irregular
    one cleaned up; an irregular one not), receivables of 8,000 (2,000 collected), a debt of 10,000 (2,500
    resolved)."""
    late = contract(village, user, f"{tag}HT-1", schedule=[(TODAY - 30 * DAY, "6000.00"), (TODAY + 30 * DAY, "6000")])
    contract_payment_record(instalment=late.instalments.get(due_on=TODAY - 30 * DAY), received_on=TODAY - 20 * DAY,
                            amount="1000.00", user=user)
    contract(village, user, f"{tag}HT-2", is_regular=False, problem="low_price", cleaned_up_on=TODAY - 5 * DAY)
    contract(village, user, f"{tag}HT-3", is_regular=False, problem="arrears")
    debt(village, user, f"{tag}ZQ-1", "receivable", "5000", settled="2000")
    debt(village, user, f"{tag}ZQ-2", "receivable", "3000")
    debt(village, user, f"{tag}ZW-1", "debt", "10000", settled="2500")
    return late


@pytest.fixture
def cast(county, village_a, clerk_b):
    """Village A as above; village B one irregular contract, cleaned up."""
    late = fill_village(county.villages[0], village_a)
    contract(county.villages[1], clerk_b, "B-HT-1", is_regular=False, problem="no_written",
             cleaned_up_on=TODAY - 3 * DAY)
    return late


def figures_of(page: str, unit: str) -> dict:
    """The figures of the row ``data-unit="<unit>"`` as the page writes them."""
    row = re.search(rf'<tr[^>]* data-unit="{re.escape(unit)}"[^>]*>(.*?)</tr>', page, re.S)
    assert row, f"no row for {unit}"
    return {name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", value)).strip()
            for name, value in re.findall(r'data-figure="(\w+)">(.*?)</td>', row.group(1), re.S)}


def test_the_selector_adds_up_per_village_and_for_the_scope(county, clerk_a, county_official, cast):
    mine = cleanup_figures(fetched_by=clerk_a)
    assert [row.unit for row in mine.rows] == [county.villages[0]]  # one township: no subtotal
    a = mine.total
    assert (a.contracts, a.irregular, a.cleaned_up, a.share_cleaned_up) == (3, 2, 1, Decimal("50.0"))
    assert (a.receivable_opening, a.receivable_collected, a.receivable_outstanding) == (
        Decimal("8000"), Decimal("2000"), Decimal("6000"))
    assert (a.debt_opening, a.debt_resolved, a.share_resolved) == (Decimal("10000"), Decimal("2500"), Decimal("25.0"))
    assert (a.overdue, a.overdue_amount) == (1, Decimal("5000"))
    county_wide = cleanup_figures(fetched_by=county_official)
    assert [(row.unit, row.kind) for row in county_wide.rows] == [
        (county.villages[0], "village"), (county.township_a, "township"),
        (county.villages[1], "village"), (county.township_b, "township")]
    total = county_wide.total
    assert (total.contracts, total.irregular, total.cleaned_up, total.share_cleaned_up) == (4, 3, 2, Decimal("66.7"))
    township_b = OrgUnit.objects.get(pk=county.township_b.pk)  # the tree moved since the cast was built
    only_b = cleanup_figures(fetched_by=county_official, within=township_b).total
    assert (only_b.contracts, only_b.receivable_opening, only_b.overdue) == (1, 0, 0)


def test_the_township_officer_reads_his_villages_and_the_overdue_payments(staff, county, clerk_a, cast):
    page = staff(clerk_a).get(reverse("collective_economy:cleanup")).content.decode()
    village = figures_of(page, county.villages[0].code)
    assert village == {
        "contracts": "3", "irregular": "2", "cleaned_up": "1", "share_cleaned_up": "50.0%",
        "receivable_opening": "8,000.00", "receivable_collected": "2,000.00 25.0%", "debt_opening": "10,000.00",
        "debt_resolved": "2,500.00 25.0%", "overdue": "1", "overdue_amount": "5,000.00"}
    assert figures_of(page, "total")["share_cleaned_up"] == "50.0%"
    overdue = re.search(r'id="overdue-table".*?</table>', page, re.S).group(0)
    assert "HT-1" in overdue and "5,000.00" in overdue and ">30<" in overdue  # days overdue
    assert county.villages[1].code not in page and "B-HT-1" not in page


def test_the_county_sees_each_township_rolled_up_and_the_county_total(staff, county, county_official, cast):
    page = staff(county_official).get(reverse("collective_economy:cleanup")).content.decode()
    assert figures_of(page, county.township_a.code)["contracts"] == "3"
    assert figures_of(page, county.township_b.code)["share_cleaned_up"] == "100.0%"
    total = figures_of(page, "total")
    assert (total["contracts"], total["irregular"], total["cleaned_up"], total["share_cleaned_up"]) == (
        "4", "3", "2", "66.7%")
    assert total["overdue_amount"] == "5,000.00"
    # The county reads: no button to open a case.
    assert 'data-instalment="' in page and 'class="register-case-form"' not in page
    narrowed = staff(county_official).get(reverse("collective_economy:cleanup"),
                                          {"township": county.township_b.code}).content.decode()
    assert figures_of(narrowed, "total")["contracts"] == "1"
    assert county.villages[0].code not in narrowed


def test_township_b_sees_nothing_of_township_a(staff, county, clerk_b, cast):
    page = staff(clerk_b).get(reverse("collective_economy:cleanup")).content.decode()
    assert county.villages[0].code not in page
    assert figures_of(page, "total")["contracts"] == "1"
    assert 'id="overdue-table"' not in page  # nothing of A's overdue payment
    assert f'data-instalment="{cast.instalments.first().pk}"' not in page


def test_the_page_costs_the_same_for_more_villages(staff, county, clerk_a, village_a, cast):
    client = staff(clerk_a)
    url = reverse("collective_economy:cleanup")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for n in range(3):
        village = orgunit_create(code=f"{county.township_a.code[:9]}{210 + n}", name=f"德A{n}村村民委员会",
                                 level=Level.VILLAGE, kind="village", parent=county.township_a)
        fill_village(village, village_a, tag=f"{n}-")
    with CaptureQueriesContext(connection) as four:
        page = client.get(url).content.decode()
    assert figures_of(page, "total")["contracts"] == "12"
    assert page.count('data-figure="contracts"') == 5  # four villages and the total
    assert len(four) == len(one)


def test_the_village_table_exports_to_excel(staff, county, county_official, cast):
    response = staff(county_official).get(reverse("collective_economy:cleanup"), {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[-1][:4] == ("合计", 4, 3, 2)
    assert float(rows[-1][4]) == 66.7 and float(rows[-1][-1]) == 5000
    a, b = county.township_a.display_name, county.township_b.display_name
    assert [row[0] for row in rows[1:-1]] == [county.villages[0].display_name, f"{a}（小计）",
                                              county.villages[1].display_name, f"{b}（小计）"]


def test_the_village_sees_its_own_page_and_an_empty_area_says_so(staff, village_a, county):
    page = staff(village_a).get(reverse("collective_economy:cleanup")).content.decode()
    assert figures_of(page, county.villages[0].code)["contracts"] == "0"
    assert "没有逾期未收的合同款" in page
