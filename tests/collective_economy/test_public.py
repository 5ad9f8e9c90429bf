"""The public village-affairs page (村务公开): open to anyone, published matters only, never personal data,
cached, rate-limited, readable on a phone and printable for the notice board."""

import dataclasses
import datetime
import logging
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import models
from django.urls import reverse
from django.utils import timezone

from collective_economy.models import (
    PUBLISHED_STATES,
    Contract,
    DebtRecord,
    Decision,
    EconomicOrganisation,
    ProjectCategory,
    Step,
    VillageDecisionSetting,
)
from collective_economy.selectors import public as selectors
from collective_economy.services.books import sub_account_create
from collective_economy.services.decisions import (
    decision_create,
    decision_record_step,
    decision_sign,
    village_households,
)
from collective_economy.services.registers import contract_save, debt_record_save, project_save
from collective_economy.services.vouchers import LineInput, voucher_post, voucher_review, voucher_save, voucher_submit
from collective_economy.views import public as views
from governance.demo import seed_demo
from governance.models import Level, OrgUnit, Resident, User
from governance.portal import ratelimit
from governance.services import resident_create
from grid.models import GridWorker
from tests.helpers.ledger import accounts
from tests.helpers.people import make_id_number

REAL_AS_OF = selectors.as_of
AS_OF = datetime.date(2025, 7, 15)  # the page's day: Q3 2025 so far, and Q2 before it
PRIVATE_NAME = "欧阳承包户"
PRIVATE_PHONE = "13912345678"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """No page kept and no call counted from another test; the page is read for AS_OF."""
    cache.clear()
    monkeypatch.setattr(selectors, "as_of", lambda: AS_OF)
    yield
    cache.clear()


def page_url(code: str) -> str:
    return reverse("public:village", args=[code])


def _post(book, date, lines, *, preparer, reviewer):
    chart = accounts(book)
    inputs = [LineInput(account=chart[code], debit=Decimal(debit), credit=Decimal(credit), summary="摘要",
                        sub_account=sub) for code, debit, credit, sub in lines]
    voucher = voucher_save(book=book, date=date, lines=inputs, user=preparer, attachments=1)
    voucher_submit(voucher=voucher, user=preparer)
    voucher_review(voucher=voucher, user=reviewer)
    return voucher_post(voucher=voucher, user=preparer)


def _decision(village, user, title, *, through: str, description="修建村道一公里，硬化路面。",
              day=datetime.date(2025, 3, 1)):
    decision = decision_create(village=village, title=title, description=description, user=user,
                               amount=Decimal("68000.00"))
    for step in decision.steps:
        if step == Step.CONSULTATION:
            decision_sign(decision=decision, households=list(village_households(village)), signed_on=day, user=user)
        votes = {"expected": 9, "attended": 8, "votes_for": 7, "votes_against": 1} if step in (
            Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.RESOLUTION) else {}
        decision_record_step(decision=decision, step=step, user=user, held_on=day,
                             minutes=f"会议记录：{PRIVATE_NAME}发言", result_summary="村道已建成，验收合格。", **votes)
        day += datetime.timedelta(days=7)
        if step == through:
            break
    return decision


@pytest.fixture
def published(county, book, village_a, clerk_a):
    """Township A's village: a decision with its results published, one only resolved (not published yet),
    two quarters of income and expenses, a contract with a firm, one with a private person, an expired one,
    a project with income posted on its detail account, and a receivable from the same private person."""
    village = county.villages[0]
    household = county.households[0]
    person = resident_create(household=household, name=PRIVATE_NAME, phone=PRIVATE_PHONE,
                             id_number=make_id_number(county.county.code[:6], "19800202", 401), relation="spouse")
    _decision(village, village_a, "修建三组村道", through=Step.RESULT)
    _decision(village, village_a, "购置村级保洁车", through=Step.RESOLUTION)
    chart = accounts(book)
    project_account = sub_account_create(book=book, account=chart["501"], code="501001", name="花椒基地收入")
    receivable = sub_account_create(book=book, account=chart["112"], code="112001", name=PRIVATE_NAME)
    _post(book, datetime.date(2025, 5, 10), [("102", "80000", "0", None), ("501", "0", "80000", None)],
          preparer=village_a, reviewer=clerk_a)
    _post(book, datetime.date(2025, 7, 8), [("102", "120000", "0", None), ("501", "0", "100000", project_account),
                                            ("503", "0", "20000", None)], preparer=village_a, reviewer=clerk_a)
    _post(book, datetime.date(2025, 7, 9), [("513", "1234.56", "0", None), ("102", "0", "1234.56", None)],
          preparer=village_a, reviewer=clerk_a)
    _post(book, datetime.date(2025, 7, 10), [("112", "3000", "0", receivable), ("102", "0", "3000", None)],
          preparer=village_a, reviewer=clerk_a)
    term = {"signed_on": datetime.date(2024, 12, 1), "starts_on": datetime.date(2025, 1, 1)}
    contract_save(user=village_a, village=village, number="HT-001", title="东沟耕地发包", kind="letting",
                  subject_kind="land", subject="东沟耕地", area=Decimal("35.50"), amount=Decimal("30000.00"),
                  ends_on=datetime.date(2029, 12, 31), counterparty_kind="firm",
                  counterparty_name="德昌绿源农业有限公司", **term)
    contract_save(user=village_a, village=village, number="HT-002", title="村口鱼塘租赁", kind="lease",
                  subject_kind="water", subject="村口鱼塘", area=Decimal("4.20"), amount=Decimal("6000.00"),
                  ends_on=datetime.date(2027, 12, 31), counterparty_kind="resident", counterparty_resident=person,
                  **term)
    contract_save(user=village_a, village=village, number="HT-003", title="旧仓库租赁（已到期）", kind="lease",
                  subject_kind="building", amount=Decimal("1000.00"), ends_on=datetime.date(2025, 6, 30),
                  counterparty_kind="firm", counterparty_name="德昌旧货商行", **term)
    debt_record_save(user=village_a, village=village, kind="receivable", number="ZQ-001", origin="欠缴承包费",
                     opening_amount=Decimal("3000.00"), registered_on=datetime.date(2025, 2, 1),
                     counterparty_kind="resident", counterparty_resident=person)
    category = ProjectCategory.objects.filter(county__isnull=True).order_by("sort_order").first()
    project_save(user=village_a, village=village, villages=[county.villages[1]], category=category,
                 name="花椒种植基地", investment=Decimal("500000.00"), status="operating",
                 started_on=datetime.date(2024, 4, 1), income_accounts=[project_account])
    return person


# --- What the page shows -------------------------------------------------------------------------------


def test_a_villager_reads_his_village_page_without_logging_in(client, county, published):
    response = client.get(page_url(county.villages[0].code))
    assert response.status_code == 200
    page = response.content.decode()
    assert "德A村" in page and "德A镇" in page and "德昌县" in page
    # The decision whose results are published, with its steps' dates and votes, and its results.
    assert "修建三组村道" in page and "实施结果公开" in page and "68,000.00" in page
    assert "2025-03-01" in page and "村道已建成，验收合格。" in page
    assert re.search(r"应到\s*9\s*人，实到\s*8\s*人", page) and re.search(r"赞成\s*7", page)
    # A decision only resolved is not published yet.
    assert "购置村级保洁车" not in page
    # Q2 and Q3 2025 by account: 501 80,000 then 100,000; 503 20,000; 513 1,234.56; the totals and the net.
    assert "2025年第2季度" in page and "2025年第3季度" in page
    assert "经营收入" in page and "80,000.00" in page and "100,000.00" in page and "补助收入" in page
    assert "管理费用" in page and "1,234.56" in page and "118,765.44" in page  # 120,000 − 1,234.56
    # Contracts in force, the firm named and the private person not; the expired one left out.
    assert "东沟耕地发包" in page and "德昌绿源农业有限公司" in page and "35.50" in page and "30,000.00" in page
    assert "村口鱼塘租赁" in page and "个人（不公开姓名）" in page
    assert "旧仓库租赁" not in page
    # The project, with the villages involved and its income from the books.
    assert "花椒种植基地" in page and "500,000.00" in page and "德B村" in page
    assert re.search(r"100,000\.00</td>\s*</tr>\s*</tbody>", page)  # the project's income, the table's last cell


def test_a_six_step_decision_shows_its_motion_and_the_households_consulted_latest_first(client, county, published,
                                                                                      village_a):
    village = OrgUnit.objects.get(pk=county.villages[0].pk)  # its tree range as it is now
    VillageDecisionSetting.objects.create(village=village, six_step=True)
    households = village_households(village).count()
    _decision(village, village_a, "村集体厂房出租", through=Step.RESULT, day=datetime.date(2025, 5, 1))
    page = client.get(page_url(village.code)).content.decode()
    assert "六议两公开" in page and "动议" in page and "逐户民议" in page
    assert re.search(rf"应签\s*{households}\s*户，已签\s*{households}\s*户", page)
    assert page.index("村集体厂房出租") < page.index("修建三组村道")  # its steps are the latest


def test_a_private_counterparty_is_never_named(client, county, published):
    """Neither the contract's nor the receivable's private counterparty, nor the detail account that names
    him, nor a step's minutes that mention him reach the page: his name, ID number and phone are absent."""
    page = client.get(page_url(county.villages[0].code)).content.decode()
    assert PRIVATE_NAME not in page and published.id_number not in page and PRIVATE_PHONE not in page
    assert "会议记录" not in page  # minutes stay inside


def test_the_page_holds_no_model_instance(county, published):
    """The page's content is frozen dataclasses of plain values, all the way down: a template cannot reach a
    model (nor, through it, a resident)."""

    def walk(value):
        assert not isinstance(value, models.Model | models.QuerySet), value
        if dataclasses.is_dataclass(value):
            assert value.__dataclass_params__.frozen, type(value)
            for item in dataclasses.fields(value):
                walk(getattr(value, item.name))
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item)
        else:
            assert isinstance(value, str | int | bool | Decimal | datetime.date | type(None)), type(value)

    page = selectors.village_page(county.villages[0].code)
    walk(page)
    assert page.contracts and page.decisions and page.projects and page.summary.income


def test_an_empty_village_says_so(client, county):
    page = client.get(page_url(county.villages[1].code)).content.decode()
    assert "尚未公开村级重大事项决策" in page
    assert "村账套未在平台记账" in page
    assert "暂无执行中的合同" in page and "暂未参与项目" in page


def test_an_unknown_code_or_a_unit_that_is_not_a_village_is_not_found(client, county):
    OrgUnit.objects.filter(pk=county.villages[1].pk).update(is_active=False)
    for code in ("999999999999", county.townships[0].code, county.grids[0].code, county.county.code,
                 county.villages[1].code, "x" * 40):
        response = client.get(page_url(code))
        assert response.status_code == 404, code
        assert "未找到该村" in response.content.decode()
        assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_page_is_read_only(client, county):
    url = page_url(county.villages[0].code)
    assert client.head(url).status_code == 200
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(url).status_code == 405


def test_the_page_is_for_villagers_not_search_engines_and_carries_no_staff_frame(client, county, staff, village_a):
    response = client.get(page_url(county.villages[0].code))
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    page = response.content.decode()
    assert "portal-sidebar" not in page and "portal-topbar" not in page and "logout" not in page
    # A logged-in clerk gets the very same page (nothing of his is on it).
    assert staff(village_a).get(page_url(county.villages[0].code)).content == response.content


def test_the_page_prints_for_the_notice_board(client, county, published):
    page = client.get(page_url(county.villages[0].code)).content.decode()
    assert "@media print" in page and "@page" in page and "size: A4" in page
    assert 'data-print' in page and 'js/print.js' in page and "打印张贴" in page
    generated = re.search(r"信息截至\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2})", page)
    assert generated, "the date the figures were read is printed on the sheet"
    assert 'id="printed-on"' in page  # and the day it was printed, filled in as it prints


def test_the_page_fits_a_phone(client, county, published):
    page = client.get(page_url(county.villages[0].code)).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "@media (max-width: 700px)" in page
    assert 'data-label="对方"' in page  # a contract becomes a card, each value under its label


def test_the_index_lists_the_villages_by_township(client, county, other_county):
    page = client.get(reverse("public:index")).content.decode()
    for village in (*county.villages, *other_county.villages):
        assert f'href="{page_url(village.code)}"' in page
    assert "德A镇" in page and "会B镇" in page
    assert county.grids[0].name not in page  # villages only


# --- Cache and rate limit --------------------------------------------------------------------------------


def test_a_second_call_is_served_from_the_cache_without_the_database(client, county, published,
                                                                     django_assert_num_queries):
    url = page_url(county.villages[0].code)
    first = client.get(url)
    assert first.status_code == 200 and "max-age=300" in first["Cache-Control"]
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200 and second.content == first.content
    index = client.get(reverse("public:index"))
    with django_assert_num_queries(0):
        assert client.get(reverse("public:index")).content == index.content


def test_a_publication_shows_once_the_cached_page_is_forgotten(client, county, published, village_a):
    url = page_url(county.villages[0].code)
    assert "购置村级保洁车" not in client.get(url).content.decode()
    decision = Decision.objects.get(title="购置村级保洁车")
    decision_record_step(decision=decision, step=Step.PUBLICATION, user=village_a, held_on=datetime.date(2025, 6, 1),
                         minutes="村务公开栏张贴")
    assert "购置村级保洁车" not in client.get(url).content.decode()  # still the kept page
    selectors.public_page_forget(county.villages[0].code)
    assert "购置村级保洁车" in client.get(url).content.decode()


def test_the_cache_keeps_the_page_for_the_setting(client, county, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 600
    assert "max-age=600" in client.get(page_url(county.villages[0].code))["Cache-Control"]


def test_too_many_calls_from_one_address_get_a_polite_429(client, county, settings, django_assert_num_queries):
    settings.PUBLIC_PAGES_PER_MINUTE = 3
    here, there = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "198.51.100.8"}
    url = page_url(county.villages[0].code)
    for _i in range(3):
        assert client.get(url, **here).status_code == 200
    with django_assert_num_queries(0):  # a flood past the limit never reaches the database
        refused = client.get(reverse("public:index"), **here)  # every public page counts in the same window
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60" and "no-store" in refused["Cache-Control"]
    text = refused.content.decode()
    assert "请稍候" in text and "每分钟最多打开 3 次" in text
    assert client.get(url, **there).status_code == 200  # another address has its own window


class DownCache:
    """A cache whose server cannot be reached."""

    def __getattr__(self, name):
        def refuse(*args, **kwargs):
            raise ConnectionError("cache unreachable")
        return refuse


def test_a_cache_outage_still_serves_the_page(client, county, published, monkeypatch, caplog):
    monkeypatch.setattr(ratelimit, "default_cache", DownCache())
    monkeypatch.setattr(views, "cache", DownCache())
    with caplog.at_level(logging.WARNING):
        response = client.get(page_url(county.villages[0].code))
    assert response.status_code == 200 and "修建三组村道" in response.content.decode()
    assert "rate limit skipped" in caplog.text and "Public page cache unavailable" in caplog.text


# --- No personal data on any page of the demo ---------------------------------------------------------


def _personal_data() -> dict[str, set[str]]:
    """What must never appear on a public page, from every table of the demo that holds people.

    - every ID number and phone of a resident, a grid worker or a user: 18 and 11 digits, which no
      figure, date or code of the page can spell by chance (money carries separators);
    - the name of every private counterparty of a contract, receivable or debt, whatever its length:
      these are the people the page is about and must not name;
    - every other name of a resident, grid worker, user or legal representative of three characters or
      more. Two-character names (王芳, 李明) are left out: they occur inside place names and the words
      of an ordinary page (a village 李明村, 张家 in 张家湾), so scanning for them would fail on pages
      that name nobody; the names that matter most, the counterparties, are scanned at any length.
    """
    found = {"id_number": set(), "phone": set(), "name": set()}
    for model in (Resident, GridWorker):
        for id_number, phone, name in model.objects.values_list("id_number", "phone", "name"):
            found["id_number"].add(id_number)
            found["phone"].add(phone)
            found["name"].add(name)
    for phone, first, last in User.objects.values_list("phone", "first_name", "last_name"):
        found["phone"].add(phone)
        found["name"].add(f"{last}{first}")
    found["name"].update(EconomicOrganisation.objects.values_list("legal_representative", flat=True))
    found["name"] = {name for name in found["name"] if len(name) >= 3}
    for model in (Contract, DebtRecord):
        found["name"].update(model.objects.filter(counterparty_kind="resident").values_list(
            "counterparty_resident__name", flat=True))
    return {kind: {value.strip() for value in values if value and value.strip()} for kind, values in found.items()}


def test_no_public_page_of_the_demo_holds_personal_data(client, db, monkeypatch, settings):
    """Every village's public page of the demo, read anonymously, holds none of the demo's ID numbers, phones
    or names of private persons (see ``_personal_data`` for which names and why)."""
    monkeypatch.setattr(selectors, "as_of", REAL_AS_OF)  # the demo is seeded for today
    settings.PUBLIC_PAGES_PER_MINUTE = 10_000
    seed_demo(scale="small", seed=1, today=timezone.localdate())
    personal = _personal_data()
    assert len(personal["id_number"]) > 100 and len(personal["phone"]) > 100 and len(personal["name"]) > 100
    villages = list(OrgUnit.objects.filter(level=Level.VILLAGE, is_active=True).values_list("code", flat=True))
    assert villages
    pages = {"index": client.get(reverse("public:index"))}
    for code in villages:
        pages[code] = client.get(page_url(code))
    decisions = private = 0
    for code, response in pages.items():
        assert response.status_code == 200, code
        text = response.content.decode()
        for kind, values in personal.items():
            leaked = sorted(value for value in values if value in text)
            assert not leaked, f"the public page {code} shows {kind}: {leaked[:5]}"
        decisions += text.count('class="card decision"')
        private += text.count("个人（不公开姓名）")
    # The scan read full pages: every published decision of the demo, and its private counterparties unnamed.
    assert decisions == Decision.objects.filter(state__in=PUBLISHED_STATES).count() > 0
    assert private == Contract.objects.filter(counterparty_kind="resident", status="in_force",
                                              ends_on__gte=timezone.localdate()).count() > 0


def test_the_page_costs_the_same_few_queries_however_much_is_published(client, county, published, village_a,
                                                                       django_assert_num_queries):
    """Village, chain, decisions with their steps, book years, accounts, two grouped queries per quarter,
    contracts, projects with their villages and income: 14, with two decisions or twenty."""
    with django_assert_num_queries(14):
        client.get(page_url(county.villages[0].code))
    for n in range(5):
        _decision(county.villages[0], village_a, f"事项{n}", through=Step.PUBLICATION)
    cache.clear()
    with django_assert_num_queries(14):
        page = client.get(page_url(county.villages[0].code)).content.decode()
    assert "事项4" in page
