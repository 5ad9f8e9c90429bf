"""A township clerk works the part 2 pages in a browser: the micro-wish board through its six
steps, an in-service member's double report, two hours of service on the member's page, and the
grid worker roster filtered to party members with its vacancies."""

import datetime
import re

import pytest
from django.utils import timezone

from governance.roles import user_sync_permissions
from governance.services import household_create, orgunit_create, resident_create
from grid.services import gridworker_create
from partybuild.models import WishState
from partybuild.services import party_member_create, wish_dispatch, wish_post, wish_take
from tests.helpers.browser import log_in
from tests.helpers.people import make_id_number

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

WISH_TITLES = ["帮忙代购药品", "陪同老人就医", "辅导孩子作业", "更换楼道灯泡", "清理排水沟", "修补院墙"]


@pytest.fixture
def township_a_rosters(county, clerk_a):
    """Township A with more to show: micro-grids with and without workers, members, wishes at every step."""
    village, grid, micro = county.villages[0], county.grids[0], county.micro_grids[0]
    micros = [micro] + [
        orgunit_create(
            code=f"{grid.code}{n:02d}", name=f"德A村第{n}微网格", level="micro_grid", kind="micro_grid", parent=grid
        )
        for n in range(2, 6)
    ]
    surnames = "王李张刘陈杨黄赵"
    households = []
    for n in range(8):
        household = household_create(number=f"{micros[n % 5].code}{n + 2:04d}", address=f"德A村{n + 2}组8号",
                                     grid=micros[n % 5])
        resident_create(household=household, name=f"{surnames[n]}秀兰",
                        id_number=make_id_number("513424", "19560101", 400 + n), phone=f"1390000{n:04d}")
        households.append(household)
    # Micro-grids 2 and 3 get a worker (the first is a party member); 4 and 5 stay vacant.
    branch = county.branches[0]
    for n, micro_grid in enumerate(micros[1:3]):
        resident = resident_create(household=households[n], name=f"{surnames[n]}网格员", relation="child",
                                   id_number=make_id_number("513424", "19900101", 500 + n), phone=f"1370000{n:04d}")
        member = None
        if n == 0:
            member = party_member_create(resident=resident, organization=branch, joined_on=datetime.date(2015, 7, 1))
        gridworker_create(
            name=resident.name, id_number=resident.id_number, phone=resident.phone, worker_type="micro",
            unit=micro_grid, start_date=datetime.date(2024, 1, 1), resident=resident, party_member=member,
            is_party_member=member is not None,
        )
    # An in-service member, not yet registered with his community.
    commuter = resident_create(household=households[2], name="赵在职", relation="spouse",
                               id_number=make_id_number("513424", "19880808", 600), phone="13600000000")
    in_service = party_member_create(resident=commuter, organization=branch, joined_on=datetime.date(2012, 7, 1),
                                     in_service=True, work_unit="县教育局")
    # Wishes already on the board, one per early step.
    member = county.members[0]
    for n, title in enumerate(WISH_TITLES[:4]):
        wish = wish_post(user=clerk_a, community=village, household=households[n], title=title,
                         category="daily_life")
        if n >= 2:
            wish_dispatch(wish=wish, user=clerk_a, member=member)
        if n >= 3:
            wish_take(wish=wish, user=clerk_a, member=member)
    return {"households": households, "in_service": in_service, "member": member}


@pytest.fixture
def clerk(clerk_a):
    """Township A's clerk with his role's permissions (the forms and steps need them)."""
    user_sync_permissions(clerk_a)
    return clerk_a


def test_clerk_runs_a_wish_through_the_board(page, shoot, county, clerk, township_a_rosters):
    household = township_a_rosters["households"][5]
    member = township_a_rosters["member"]
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))

    page.click(".portal-sidebar a[href='/party/wishes/']")
    page.wait_for_url("**/party/wishes/")
    expect(page.locator("#column-posted .wish-card")).to_have_count(3)  # the cast's wish and two of ours
    shoot("2x-01-wish-board")

    # 新建微心愿: community, then a household found by typing (the picker searches the server).
    page.click("#new-wish")
    page.wait_for_url("**/party/wishes/new/")
    page.select_option("#id_community", label=county.villages[0].display_name)
    page.fill(".form-field-household .search-select-q", household.address)
    expect(page.locator("#id_household option")).to_have_count(2)  # the "found" hint and the household
    page.select_option("#id_household", str(household.pk))
    page.fill("#id_title", "修理漏雨的屋顶")
    page.select_option("#id_category", "housing")
    page.fill("#id_content", "卧室屋顶漏雨，需要更换瓦片。")
    shoot("2x-02-wish-new")
    page.click("#wish-form button[type=submit]")
    page.wait_for_url("**/party/wishes/")
    card = page.locator(".wish-card", has_text="修理漏雨的屋顶")
    expect(card).to_have_attribute("data-state", "posted")
    expect(page.locator(".alert-success")).to_contain_text("修理漏雨的屋顶")

    # 派单: the card loads its member picker, already listing the members who may serve.
    card.locator("a", has_text=re.compile("派单|Dispatch")).click()
    picker = card.locator("select[name=member]")
    expect(picker.locator(f"option[value='{member.pk}']")).to_have_count(1)
    picker.select_option(str(member.pk))
    shoot("2x-03-wish-dispatch")
    card.locator("button[type=submit]").click()
    page.wait_for_load_state()
    card = page.locator(".wish-card", has_text="修理漏雨的屋顶")
    expect(card).to_have_attribute("data-state", "dispatched")
    expect(card).to_contain_text(member.resident.name)

    # 接单, 消单 (with what was done), 核单, 晒单: one button each, the card moves one column on.
    card.locator("button[type=submit]").click()
    expect(page.locator(".wish-card", has_text="修理漏雨的屋顶")).to_have_attribute("data-state", "taken")
    card = page.locator(".wish-card", has_text="修理漏雨的屋顶")
    card.locator("textarea[name=result]").fill("已更换破损瓦片，屋顶不再漏雨。")
    card.locator("button[type=submit]").click()
    expect(page.locator(".wish-card", has_text="修理漏雨的屋顶")).to_have_attribute("data-state", "done")
    page.locator(".wish-card", has_text="修理漏雨的屋顶").locator("button[type=submit]").click()
    expect(page.locator(".wish-card", has_text="修理漏雨的屋顶")).to_have_attribute("data-state", "verified")
    page.locator(".wish-card", has_text="修理漏雨的屋顶").locator("button[type=submit]").click()
    card = page.locator("#column-published .wish-card", has_text="修理漏雨的屋顶")
    expect(card).to_have_attribute("data-state", "published")
    expect(card).to_contain_text(member.resident.name)
    shoot("2x-04-wish-board-published")

    # The wish's own page shows all six steps done.
    card.locator(".wish-card-title a").click()
    page.wait_for_url(re.compile(r"/party/wishes/\d+/$"))
    expect(page.locator(".wish-timeline li.done")).to_have_count(6)
    shoot("2x-05-wish-detail")


def test_stale_board_shows_the_refusal(page, county, clerk, township_a_rosters):
    """Two clerks on one wish: the second click meets the service's message, not an error page."""
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/party/wishes/")
    wish = county.wishes[0]
    card = page.locator(f"#wish-{wish.pk}")
    card.locator("a", has_text=re.compile("派单|Dispatch")).click()
    card.locator(f"select[name=member] option[value='{county.members[0].pk}']").wait_for(state="attached")
    card.locator("select[name=member]").select_option(str(county.members[0].pk))
    wish_dispatch(wish=wish, user=clerk, member=county.members[0])  # someone else was quicker
    card.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".alert-danger")).to_be_visible()
    assert page.locator(f"#wish-{wish.pk}").get_attribute("data-state") == WishState.DISPATCHED


def test_double_report_and_service_hours(page, shoot, county, clerk, township_a_rosters):
    in_service = township_a_rosters["in_service"]
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))

    page.click(".portal-sidebar a[href='/party/registrations/']")
    page.wait_for_url("**/party/registrations/")
    shoot("2x-06-registrations")
    page.click("a[href='/party/registrations/new/'] >> nth=0")
    page.wait_for_url("**/party/registrations/new/")
    page.fill(".form-field-member .search-select-q", "赵在职")
    expect(page.locator("#id_member option")).to_have_count(2)  # the "found" hint and him
    expect(page.locator("#id_member")).to_have_value(str(in_service.pk))  # the only match is taken
    page.select_option("#id_member", str(in_service.pk))
    page.select_option("#id_community", label=county.villages[0].display_name)
    page.fill("#id_registered_on", timezone.localdate().isoformat())
    page.check("input[name=posts][value=patrol]")
    page.check("input[name=posts][value=policy]")
    shoot("2x-07-registration-form")
    page.click("#registration-form button[type=submit]")

    # On to the member's page: the registration with its two claimed posts.
    page.wait_for_url(f"**/party/members/{in_service.pk}/")
    registration = page.locator("#registration-table tbody tr")
    expect(registration).to_have_count(1)
    expect(registration).to_contain_text(county.villages[0].display_name)
    assert len(registration.locator(".portal-tag").all()) == 2

    # 登记志愿服务: two hours; a second, overlapping one is refused with its reason.
    today = timezone.localdate().isoformat()
    page.select_option("#id_community", label=county.villages[0].display_name)
    page.fill("#id_date", today)
    page.fill("#id_start_time", "09:00")
    page.fill("#id_end_time", "11:00")
    page.select_option("#id_kind", "patrol")
    page.fill("#id_description", "小区夜间巡逻")
    page.click("#service-form button[type=submit]")
    page.wait_for_url(f"**/party/members/{in_service.pk}/")
    expect(page.locator("[data-total=hours]")).to_have_text("2.0")
    expect(page.locator("[data-total=points]")).to_have_text("20")
    expect(page.locator("#service-table tbody tr")).to_have_count(1)

    page.select_option("#id_community", label=county.villages[0].display_name)
    page.fill("#id_date", today)
    page.fill("#id_start_time", "10:00")
    page.fill("#id_end_time", "12:00")
    page.select_option("#id_kind", "patrol")
    page.click("#service-form button[type=submit]")
    expect(page.locator(".form-field-start_time .field-error")).to_contain_text("09:00")
    expect(page.locator("#id_end_time")).to_have_value("12:00")  # what was typed is kept
    expect(page.locator("[data-total=hours]")).to_have_text("2.0")
    shoot("2x-08-member-page")


def test_grid_workers_filtered_to_party_members_and_vacancies(page, shoot, county, clerk, township_a_rosters):
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))

    page.click(".portal-sidebar a[href='/grid/workers/']")
    page.wait_for_url("**/grid/workers/")
    expect(page.locator("#worker-table tbody tr")).to_have_count(4)  # the cast's two and our two
    page.select_option("#id_party", "yes")
    expect(page.locator("#worker-table tbody tr")).to_have_count(1)
    assert "party=yes" in page.url
    ids = page.locator("#worker-table tbody td:nth-child(3)").all_inner_texts()
    assert ids and all("********" in value for value in ids)  # masked for a township clerk
    shoot("2x-09-grid-workers-party")
    with page.expect_download() as download:
        page.click("#export-button")
    assert download.value.suggested_filename.endswith(".xlsx")

    page.click(".portal-tabs a[href='/grid/vacancies/']")
    page.wait_for_url("**/grid/vacancies/")
    # The standard grid (no full-time worker) and micro-grids 4 and 5.
    expect(page.locator("#vacancy-table tbody tr")).to_have_count(3)
    expect(page.locator("[data-count=micro_grids_vacant]")).to_have_text("2")
    expect(page.locator("[data-count=micro_party_share]")).to_have_text("33.3%")
    shoot("2x-10-vacancies")

    page.click(".portal-tabs a[href='/grid/liaisons/']")
    page.wait_for_url("**/grid/liaisons/")
    page.click("#liaison-table tbody tr a >> nth=0")
    page.wait_for_url(re.compile(r"/grid/liaisons/\d+/$"))
    page.fill("#id_household", township_a_rosters["households"][1].number)
    page.click("#assign-card button[type=submit]")
    expect(page.locator("#liaison-household-table tbody tr")).to_have_count(2)
    shoot("2x-11-liaison")


def test_pages_of_part_two_are_clean_at_1366(page, shoot, county, clerk, township_a_rosters):
    """The remaining lists, for the screenshots (nothing scrolls sideways at 1366×768)."""
    log_in(page, "township_a")
    page.wait_for_url(re.compile(r"/$"))
    for url, name in (
        ("/party/members/", "2x-12-party-members"),
        ("/party/services/", "2x-13-services"),
        ("/party/registrations/units/", "2x-14-unit-registrations"),
        ("/party/registrations/units/new/", "2x-15-unit-registration-form"),
        ("/party/wishes/list/", "2x-16-wish-list"),
        (f"/grid/workers/{county.workers[0].pk}/", "2x-17-worker-detail"),
    ):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, (url, width)
        shoot(name)
