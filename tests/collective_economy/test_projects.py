"""The project library (4+N): a project's income is what the books say (a voucher posted on its income account
shows on the page), categories are the four and the county's own (another county's refused), the
list filters by category, status and village; township B sees nothing of A; constant queries."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from collective_economy.models import Project, ProjectCategory, ProjectStatus
from collective_economy.services.books import sub_account_create
from collective_economy.services.registers import project_save
from collective_economy.services.vouchers import (
    LineInput,
    voucher_post,
    voucher_reverse,
    voucher_review,
    voucher_save,
    voucher_submit,
)
from tests.helpers.ledger import accounts, new_book, post_on

pytestmark = pytest.mark.django_db

PROJECTS = reverse("collective_economy:project-list")
CATEGORIES = reverse("collective_economy:project-category-list")


@pytest.fixture
def book_a(county, village_a):
    book = new_book(county.villages[0], bookkeepers=[village_a])
    book.rent = sub_account_create(book=book, account=accounts(book)["501"], code="501001", name="民宿经营收入")
    return book


@pytest.fixture
def category():
    return ProjectCategory.objects.get(name="文旅康养")


@pytest.fixture
def project_a(county, village_a, book_a, category):
    return project_save(user=village_a, village=county.villages[0], category=category, name="德A村民宿",
                        investment=Decimal("200000.00"), status=ProjectStatus.OPERATING,
                        income_accounts=[book_a.rent])


def test_the_four_categories_are_shipped():
    names = set(ProjectCategory.objects.filter(county__isnull=True).values_list("name", flat=True))
    assert names == {"城郊服务", "生态经济", "特优农业", "文旅康养"}


def test_a_projects_income_is_what_the_books_say(staff, village_a, clerk_a, book_a, project_a):
    client = staff(clerk_a)
    row = client.get(PROJECTS).context["object_list"][0]
    assert row == project_a and row.income == Decimal("0.00")
    post_on(book_a, datetime.date(2025, 5, 1), book_a.rent, "12345.60", preparer=village_a, reviewer=clerk_a)
    post_on(book_a, datetime.date(2025, 6, 1), book_a.rent, "345.60", preparer=village_a, reviewer=clerk_a,
            side="debit")
    response = client.get(PROJECTS)
    assert response.context["object_list"][0].income == Decimal("12000.00")
    page = response.content.decode()
    assert 'data-income="12000.00">12,000.00' in page
    assert "200,000.00" in page


def test_a_red_letter_reversal_takes_the_income_back_out(staff, village_a, clerk_a, book_a, project_a):
    posted = post_on(book_a, datetime.date(2025, 5, 1), book_a.rent, "100.00", preparer=village_a,
                     reviewer=clerk_a)
    reversal = voucher_reverse(voucher=posted, user=village_a, date=datetime.date(2025, 6, 1))
    voucher_submit(voucher=reversal, user=village_a)
    voucher_review(voucher=reversal, user=clerk_a)
    voucher_post(voucher=reversal, user=village_a)
    assert staff(clerk_a).get(PROJECTS).context["object_list"][0].income == Decimal("0.00")


def test_a_draft_voucher_does_not_count(staff, village_a, clerk_a, book_a, project_a):
    chart = accounts(book_a)
    voucher_save(book=book_a, date=datetime.date(2025, 5, 1), user=village_a, lines=[
        LineInput(account=chart["102"], debit="500.00", summary="项目收入"),
        LineInput(account=book_a.rent.account, sub_account=book_a.rent, credit="500.00", summary="项目收入")])
    assert staff(clerk_a).get(PROJECTS).context["object_list"][0].income == Decimal("0.00")


def test_income_accounts_are_the_involved_villages_own(county, village_a, book_a, category):
    other = new_book(county.villages[1])
    foreign = sub_account_create(book=other, account=accounts(other)["501"], code="501001", name="别村收入")
    with pytest.raises(ValidationError) as refused:
        project_save(user=village_a, village=county.villages[0], category=category, name="民宿",
                     investment=Decimal("1"), income_accounts=[foreign])
    assert "income_accounts" in refused.value.message_dict
    # With the other village involved, its account is the project's as well.
    project = project_save(user=village_a, village=county.villages[0], villages=[county.villages[1]],
                           category=category, name="两村联营民宿", investment=Decimal("1"),
                           income_accounts=[book_a.rent, foreign])
    assert set(project.villages.all()) == set(county.villages[:2])


def test_the_project_form_saves_through_the_service(staff, village_a, county, book_a, category):
    client = staff(village_a)
    form = client.get(reverse("collective_economy:project-create")).context["form"]
    assert book_a.rent in set(form.fields["income_accounts"].queryset)
    assert set(form.fields["category"].queryset.values_list("name", flat=True)) >= {"城郊服务", "文旅康养"}
    response = client.post(reverse("collective_economy:project-create"), {
        "village": county.villages[0].pk, "category": category.pk, "name": "德A村民宿", "status": "planned",
        "investment": "200000", "income_accounts": [book_a.rent.pk]})
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    project = Project.objects.get()
    assert list(project.villages.all()) == [county.villages[0]]
    assert list(project.income_accounts.all()) == [book_a.rent]
    assert project.created_by == village_a


def test_a_county_adds_a_local_category_and_another_county_cannot_use_it(staff, county_official, other_county,
                                                                        village_a, county, book_a):
    client = staff(county_official)
    response = client.post(CATEGORIES, {"name": "光伏发电", "sort_order": "11", "is_active": "on"})
    assert response.status_code == 302
    local = ProjectCategory.objects.get(name="光伏发电")
    assert local.county == county.county and local.code.startswith(county.county.code)
    # The same name twice is said on the field.
    response = client.post(CATEGORIES, {"name": "光伏发电", "sort_order": "12"})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    # The county's villages may use it; another county's may not.
    project = project_save(user=village_a, village=county.villages[0], category=local, name="屋顶光伏",
                           investment=Decimal("50000"))
    assert project.category == local
    with pytest.raises(ValidationError) as refused:
        project_save(user=None, village=other_county.villages[0], category=local, name="光伏",
                     investment=Decimal("1"))
    assert refused.value.message_dict["category"] == ["该类别属于其他县。"]


def test_another_countys_category_is_not_offered_on_the_form(staff, village_a, county, other_county):
    foreign = ProjectCategory.objects.create(county=other_county.county, code="513425-1", name="会理石榴")
    client = staff(village_a)
    form = client.get(reverse("collective_economy:project-create")).context["form"]
    assert foreign not in set(form.fields["category"].queryset)
    response = client.post(reverse("collective_economy:project-create"), {
        "village": county.villages[0].pk, "category": foreign.pk, "name": "石榴园", "status": "planned",
        "investment": "1"})
    assert response.status_code == 200 and response.context["form"].errors["category"]
    assert "会理石榴" not in client.get(PROJECTS).content.decode()


def test_the_shipped_categories_are_not_changed_on_the_page(staff, county_official, category):
    client = staff(county_official)
    assert client.get(reverse("collective_economy:project-category-edit", args=[category.pk])).status_code == 403


def test_only_a_county_officer_adds_categories(staff, clerk_a):
    client = staff(clerk_a)
    assert 'id="category-form"' not in client.get(CATEGORIES).content.decode()
    assert client.post(CATEGORIES, {"name": "光伏发电"}).status_code == 403
    assert not ProjectCategory.objects.filter(name="光伏发电").exists()


def test_the_list_filters_by_category_status_and_village(staff, county_official, county, village_a, project_a):
    other = project_save(user=None, village=county.villages[1], category=ProjectCategory.objects.get(name="特优农业"),
                         name="德B村花椒基地", investment=Decimal("80000"), status=ProjectStatus.PLANNED)
    joint = project_save(user=None, village=county.villages[1], villages=[county.villages[0]],
                         category=ProjectCategory.objects.get(name="特优农业"), name="两村联营果园",
                         investment=Decimal("1000"))
    client = staff(county_official)
    tourism = ProjectCategory.objects.get(name="文旅康养").code
    assert set(client.get(PROJECTS, {"category": tourism}).context["object_list"]) == {project_a}
    category_code = ProjectCategory.objects.get(name="特优农业").code
    assert set(client.get(PROJECTS, {"category": category_code}).context["object_list"]) == {other, joint}
    assert set(client.get(PROJECTS, {"status": "operating"}).context["object_list"]) == {project_a}
    # A village's projects are those it leads and those it takes part in.
    listed = client.get(PROJECTS, {"township": county.township_a.code, "village": county.villages[0].code})
    assert set(listed.context["object_list"]) == {project_a, joint}
    page = client.get(PROJECTS).content.decode()
    assert 'data-category="' + category_code + '"' in page


def test_the_list_exports_to_excel_with_the_income(staff, clerk_a, village_a, book_a, project_a):
    post_on(book_a, datetime.date(2025, 5, 1), book_a.rent, "800.00", preparer=village_a, reviewer=clerk_a)
    response = staff(clerk_a).get(PROJECTS, {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    assert rows[0][1] == "德A村民宿" and rows[0][8] == 800


def test_township_b_sees_nothing_of_township_a(staff, clerk_b, project_a):
    client = staff(clerk_b)
    assert project_a not in set(client.get(PROJECTS).context["object_list"])
    assert client.get(reverse("collective_economy:project-edit", args=[project_a.pk])).status_code == 404


def test_the_list_costs_the_same_queries_for_more_projects(staff, county_official, county, book_a, category,
                                                          village_a, clerk_a, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(n, start):
        for i in range(start, start + n):
            project_save(user=None, village=county.villages[i % 2], villages=[county.villages[(i + 1) % 2]],
                         category=category, name=f"项目{i}", investment=Decimal("10"),
                         income_accounts=[book_a.rent])

    client = staff(county_official)
    grow(1, 0)
    post_on(book_a, datetime.date(2025, 5, 1), book_a.rent, "10.00", preparer=village_a, reviewer=clerk_a)
    with CaptureQueriesContext(connection) as one:
        assert client.get(PROJECTS).status_code == 200
    grow(6, 1)
    with django_assert_max_num_queries(len(one)):
        assert client.get(PROJECTS).status_code == 200


# --- Admin ----------------------------------------------------------------------------------------


def admin_url(model, view="changelist", *args):
    return reverse(f"admin:collective_economy_{model}_{view}", args=args)


def test_the_admin_keeps_the_shipped_categories_read_only_and_the_countys_own(
        admin_for_every_role, staff, county_official, other_county, category):
    from tests.helpers.admin import listed

    foreign = ProjectCategory.objects.create(county=other_county.county, code="513425-1", name="会理石榴")
    client = staff(county_official)
    shown = listed(client.get(admin_url("projectcategory")))
    assert category in shown and foreign not in shown
    response = client.post(admin_url("projectcategory", "change", category.pk),
                           {"name": "改名", "code": category.code, "sort_order": 1, "is_active": "on"})
    assert response.status_code == 403
    category.refresh_from_db()
    assert category.name == "文旅康养"
    response = client.post(admin_url("projectcategory", "add"), {"name": "光伏发电", "code": "513424-pv",
                                                                  "sort_order": 11, "is_active": "on"})
    assert response.status_code == 302
    assert ProjectCategory.objects.get(code="513424-pv").county == county_official.home_unit
    response = client.post(admin_url("projectcategory", "add"), {"name": "光伏发电", "code": "513424-pv2",
                                                                  "sort_order": 12})
    assert response.status_code == 200 and response.context["adminform"].form.errors["name"]


def test_the_admin_saves_a_project_through_the_service(staff, clerk_a, county, book_a, category, project_a,
                                                       village_a, clerk_b):
    from tests.helpers.admin import listed, refused

    post_on(book_a, datetime.date(2025, 5, 1), book_a.rent, "321.00", preparer=village_a, reviewer=clerk_a)
    client = staff(clerk_a)
    assert listed(client.get(admin_url("project"))) == [project_a]
    page = client.get(admin_url("project", "change", project_a.pk)).content.decode()
    assert "321.00" in page
    response = client.post(admin_url("project", "add"), {
        "village": county.villages[0].pk, "category": category.pk, "name": "德A村康养中心", "investment": "1000",
        "status": "planned", "income_accounts": [book_a.rent.pk]})
    assert response.status_code == 302, response.content[:2000]
    added = Project.objects.get(name="德A村康养中心")
    assert list(added.villages.all()) == [county.villages[0]] and list(added.income_accounts.all()) == [book_a.rent]
    assert refused(staff(clerk_b).get(admin_url("project", "change", project_a.pk)))


def test_a_project_links_its_village_decision(staff, clerk_a, village_a, county, project_a):
    from collective_economy.services.decisions import decision_create

    decision = decision_create(village=county.villages[0], title="建设民宿", description="村集体投资建设民宿",
                               user=village_a)
    project_save(user=village_a, project=project_a, decision=decision, villages=[],
                 income_accounts=list(project_a.income_accounts.all()))
    page = staff(clerk_a).get(PROJECTS).content.decode()
    assert f'href="{reverse("collective_economy:decision-detail", args=[decision.pk])}" class="decision-link"' in page
    assert decision.title in page
    # Another village's decision is refused on the field.
    other = decision_create(village=county.villages[1], title="别村事项", description="说明", user=clerk_a)
    with pytest.raises(ValidationError) as refused:
        project_save(user=village_a, project=project_a, decision=other)
    assert list(refused.value.message_dict) == ["decision"]
