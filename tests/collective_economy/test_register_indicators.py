"""The registers on the monthly rollup and the dashboards: contracts cleaned up, receivables collected, debts
resolved, decisions published, projects and their income from the books — hand-computed for a small cast, each
read at the end of its month, and added up village → township → county."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from collective_economy import indicators as ce
from collective_economy.models import Project, Step
from collective_economy.services.books import sub_account_create
from collective_economy.services.decisions import decision_create, decision_record_step
from collective_economy.services.registers import (
    categories_for,
    contract_save,
    debt_record_save,
    debt_settle,
    project_save,
)
from collective_economy.services.vouchers import LineInput, voucher_post, voucher_review, voucher_save, voucher_submit
from governance.indicators.engine import rollup_month
from governance.models import IndicatorValue
from tests.helpers.indicators import number
from tests.helpers.ledger import accounts, new_book, post

MAY, JUNE = datetime.date(2025, 5, 1), datetime.date(2025, 6, 1)
VOTES = {Step.PROPOSAL: (7, 7, 7), Step.DISCUSSION: (11, 10, 10), Step.REVIEW: (40, 35, 30),
         Step.RESOLUTION: (30, 25, 20)}


def value(period, key, unit):
    """(numerator, denominator, value as a float) of indicator ``key`` of ``unit``."""
    row = IndicatorValue.objects.get(period=period, key=key, org_unit=unit)
    return row.numerator, row.denominator, None if row.value is None else float(row.value)


def contract(user, village, number, *, regular=True, cleaned=None, signed=datetime.date(2025, 1, 10)):
    return contract_save(user=user, village=village, number=number, title="河滩地发包", kind="letting",
                         counterparty_kind="firm", counterparty_name="德昌果业有限公司", subject_kind="land",
                         amount=Decimal("10000"), signed_on=signed, starts_on=signed,
                         ends_on=datetime.date(2029, 12, 31), is_regular=regular,
                         problem="" if regular else "low_price", cleaned_up_on=cleaned)


def published(user, village, number, on: datetime.date, *, stop=Step.PUBLICATION):
    decision = decision_create(village=village, title="村道硬化工程", description="硬化村内主干道", user=user,
                               number=number)
    for offset, step in enumerate([Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.RESOLUTION, Step.PUBLICATION]):
        expected, attended, votes = VOTES.get(step, (None, None, None))
        decision_record_step(decision=decision, step=step, user=user, held_on=on - datetime.timedelta(days=4 - offset),
                             minutes="会议记录", expected=expected, attended=attended, votes_for=votes)
        if step == stop:
            break
    return decision


def test_the_clean_up_the_receivables_and_the_debts_read_at_each_months_end(county, village_a, clerk_b):
    a, b = county.villages
    contract(village_a, a, "HT-1", regular=False, cleaned=datetime.date(2025, 5, 20))
    contract(village_a, a, "HT-2", regular=False, cleaned=datetime.date(2025, 6, 15))
    contract(village_a, a, "HT-3", regular=False)
    contract(village_a, a, "HT-4")  # regular: not under the clean-up
    contract(village_a, a, "HT-5", regular=False, signed=datetime.date(2025, 7, 2))  # after June
    contract(clerk_b, b, "HT-1", regular=False)
    receivable = debt_record_save(user=village_a, village=a, kind="receivable", number="ZQ-1", origin="欠缴承包费",
                                  counterparty_kind="resident", counterparty_resident=county.residents[0],
                                  opening_amount=Decimal("10000.00"), registered_on=datetime.date(2025, 3, 31))
    debt = debt_record_save(user=village_a, village=a, kind="debt", number="ZW-1", origin="工程欠款",
                            counterparty_kind="firm", counterparty_name="德昌建筑公司",
                            opening_amount=Decimal("50000.00"), registered_on=datetime.date(2025, 3, 31))
    debt_record_save(user=clerk_b, village=b, kind="receivable", number="ZQ-1", origin="往来款",
                     counterparty_kind="firm", counterparty_name="会东商贸公司", opening_amount=Decimal("5000.50"),
                     registered_on=datetime.date(2025, 4, 1))
    debt_settle(record=receivable, settled_on=datetime.date(2025, 5, 20), amount="4000.00", way="cash",
                user=village_a)
    debt_settle(record=receivable, settled_on=datetime.date(2025, 7, 5), amount="1000.00", way="cash",
                user=village_a)
    debt_settle(record=debt, settled_on=datetime.date(2025, 6, 10), amount="20000.00", way="offset", user=village_a)
    rollup_month(MAY)
    rollup_month(JUNE)

    assert value(MAY, ce.CLEANED_SHARE, a) == (1, 3, pytest.approx(1 / 3))
    assert value(JUNE, ce.CLEANED_SHARE, a) == (2, 3, pytest.approx(2 / 3))
    assert number(JUNE, ce.IRREGULAR, a) == 3 and number(JUNE, ce.CLEANED, a) == 2
    # Township A holds village a, township B village b, the county both.
    assert value(JUNE, ce.CLEANED_SHARE, county.township_b) == (0, 1, 0)
    assert value(JUNE, ce.CLEANED_SHARE, county.county) == (2, 4, 0.5)
    assert number(JUNE, ce.IRREGULAR, county.county) == 4

    assert number(MAY, ce.COLLECTED, a) == Decimal("4000.00")
    assert value(JUNE, ce.COLLECTED_SHARE, a) == (Decimal("4000.00"), Decimal("10000.00"), 0.4)
    assert number(MAY, ce.RESOLVED, a) == 0 and number(JUNE, ce.RESOLVED, a) == Decimal("20000.00")
    assert value(JUNE, ce.RESOLVED_SHARE, county.township_a)[2] == 0.4
    collected, opening, share = value(JUNE, ce.COLLECTED_SHARE, county.county)
    assert (collected, opening) == (Decimal("4000.00"), Decimal("15000.50"))
    assert share == pytest.approx(4000 / 15000.5)
    assert value(JUNE, ce.RESOLVED_SHARE, county.county)[:2] == (Decimal("20000.00"), Decimal("50000.00"))


def test_decisions_published_of_the_month_and_to_date(county, village_a, clerk_b):
    a, b = county.villages
    published(village_a, a, "JC-1", datetime.date(2025, 5, 20))
    published(village_a, a, "JC-2", datetime.date(2025, 6, 12))
    published(village_a, a, "JC-3", datetime.date(2025, 6, 20), stop=Step.RESOLUTION)  # resolved, not published
    published(clerk_b, b, "JC-1", datetime.date(2025, 6, 25))
    rollup_month(MAY)
    rollup_month(JUNE)
    assert number(MAY, ce.PUBLISHED, a) == 1 and number(JUNE, ce.PUBLISHED, a) == 1
    assert number(JUNE, ce.PUBLISHED_TO_DATE, a) == 2
    assert number(JUNE, ce.PUBLISHED, county.county) == 2
    assert number(JUNE, ce.PUBLISHED_TO_DATE, county.county) == 3
    assert number(JUNE, ce.PUBLISHED_TO_DATE, county.township_b) == 1


def _post(book, day, lines, *, preparer, reviewer):
    """A voucher whose lines may name a detail account: (account code, detail account or None, debit, credit)."""
    chart = accounts(book.years.get(year=day.year))
    voucher = voucher_save(book=book, date=day, user=preparer, attachments=1, lines=[
        LineInput(account=chart[code], sub_account=sub, debit=Decimal(debit), credit=Decimal(credit), summary="收入")
        for code, sub, debit, credit in lines])
    voucher_submit(voucher=voucher, user=preparer)
    voucher_review(voucher=voucher, user=reviewer)
    return voucher_post(voucher=voucher, user=preparer)


def test_projects_and_their_income_from_the_books(county, village_a, clerk_a):
    a, b = county.villages
    book = new_book(a, bookkeepers=[village_a])
    chart = accounts(book)
    orchard = sub_account_create(book=book, account=chart["501"], code="501001", name="果园收入")
    category = categories_for(a).get(code="specialty-agriculture")
    project = project_save(user=village_a, village=a, villages=[b], income_accounts=[orchard], category=category,
                           name="特色水果种植园", investment=Decimal("300000"), status="operating")
    project_save(user=village_a, village=a, category=category, name="冷库", investment=Decimal("80000"))
    registered = timezone.make_aware(datetime.datetime(2025, 4, 10, 9))
    Project.objects.update(created_at=registered)
    _post(book, datetime.date(2025, 5, 8), [("102", None, "30000.00", "0"), ("501", orchard, "0", "30000.00")],
          preparer=village_a, reviewer=clerk_a)
    _post(book, datetime.date(2025, 6, 8), [("102", None, "12500.25", "0"), ("501", orchard, "0", "12500.25")],
          preparer=village_a, reviewer=clerk_a)
    # Income on 501 outside the project's detail account is the village's, not the project's.
    post(book, datetime.date(2025, 6, 9), [("102", "9000.00", "0"), ("501", "0", "9000.00")],
         preparer=village_a, reviewer=clerk_a)
    rollup_month(MAY)
    rollup_month(JUNE)
    assert number(JUNE, ce.PROJECT_COUNT, a) == 2 and number(JUNE, ce.PROJECT_COUNT, county.county) == 2
    assert number(MAY, ce.PROJECT_INCOME, a) == Decimal("30000.00")
    assert number(JUNE, ce.PROJECT_INCOME, a) == Decimal("42500.25")
    assert number(JUNE, ce.PROJECT_INCOME, county.township_a) == Decimal("42500.25")
    assert number(JUNE, ce.PROJECT_INCOME, county.county) == Decimal("42500.25")
    assert number(JUNE, ce.PROJECT_INCOME, county.township_b) == 0
    assert project.villages.count() == 2


def test_the_panel_and_the_league_show_them(county, village_a, county_official, login):
    a, _b = county.villages
    contract(village_a, a, "HT-1", regular=False, cleaned=datetime.date(2025, 5, 20))
    contract(village_a, a, "HT-2", regular=False)
    published(village_a, a, "JC-1", datetime.date(2025, 6, 12))
    rollup_month(JUNE)
    response = login(county_official).get("/dashboard/?period=2025-06", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    panel = page[page.index('id="panel-collective-economy-registers"'):]
    panel = panel[:panel.index("</section>")]
    assert "2份中已清理1份" in panel and "50.0%" in panel and "合同清理" in panel
    assert "本月1项，累计1项" in panel
    league = response.context["league"]
    assert ce.CLEANED_SHARE in league.keys and ce.PUBLISHED_TO_DATE in league.keys
