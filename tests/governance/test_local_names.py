"""Local names: a county calls its micro-grids 优网格 and their workers 优网格员. An administrator sets
them; the county's pages, exports and imports use them; other counties keep the portal's words."""

import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from governance.models import LocalName, OrgUnit, Role
from governance.rosters import roster_export, roster_import
from governance.terms import LocalNameBook, local_names
from grid.models import Case, CaseCategory, GridWorker, WorkerType
from tests.helpers.excel import cell_values, headers, xlsx
from tests.helpers.people import make_id_number, new_user


@pytest.fixture
def dechang(county):
    """Dechang's own words; township B calls its micro-grids 片格 within its own area."""
    for vocabulary, code, name in (("level", "micro_grid", "优网格"), ("worker_type", "micro", "优网格员"),
                                   ("case_category", "dispute-neighbour", "邻里矛盾")):
        LocalName.objects.create(unit=county.county, vocabulary=vocabulary, code=code, name=name)
    LocalName.objects.create(unit=county.township_b, vocabulary="level", code="micro_grid", name="片格")
    return county


# --- The lookup ----------------------------------------------------------------------------------


def test_a_units_names_are_its_countys_then_its_townships(dechang, other_county, django_assert_num_queries):
    micro_a, micro_b = dechang.micro_grids
    with django_assert_num_queries(1):
        names = local_names(micro_a)
    assert names.level("micro_grid") == "优网格" and names.label("worker_type", "micro") == "优网格员"
    assert names.kind("micro_grid") == "优网格"
    with django_assert_num_queries(0):  # kept on the unit for the rest of the request
        assert local_names(micro_a).level("micro_grid") == "优网格"
    assert local_names(micro_b).level("micro_grid") == "片格"
    assert local_names(dechang.county).level("micro_grid") == "优网格"
    # Another county keeps the portal's words; a term without a local name keeps its label too.
    with translation.override("zh-hans"):
        assert local_names(other_county.micro_grids[0]).level("micro_grid") == "微网格"
        assert local_names(micro_a).level("grid") == "网格"
        assert local_names(micro_a).kind("grid_standard") == "综治网格"


def test_a_book_of_many_places_is_one_query(dechang, other_county, county_official, django_assert_num_queries):
    with django_assert_num_queries(1):
        book = LocalNameBook.for_area(county_official)
        assert book.at(dechang.micro_grids[1]).level("micro_grid") == "片格"
        assert book.at(dechang.grids[0].code).label("case_category", "dispute-neighbour") == "邻里矛盾"
    # A township clerk's area: his county's names and his township's, not his neighbour township's.
    clerk = new_user("clerk_b2", Role.TOWNSHIP, dechang.township_b)
    assert LocalNameBook.for_area(clerk).accepted("level") == {"优网格": "micro_grid", "片格": "micro_grid"}
    clerk_a = new_user("clerk_a2", Role.TOWNSHIP, dechang.township_a)
    assert LocalNameBook.for_area(clerk_a).accepted("level") == {"优网格": "micro_grid"}


# --- The admin -----------------------------------------------------------------------------------


@pytest.fixture
def county_admin(county):
    """An administrator of the county (not a superuser)."""
    return new_user("county_admin", Role.ADMIN, county.county)


def test_an_administrator_sets_his_countys_names(county, county_admin, staff):
    client = staff(county_admin)
    add = reverse("admin:governance_localname_add")
    page = client.get(add)
    assert page.status_code == 200 and page.context["adminform"].form.initial["unit"] == county.county.pk
    response = client.post(add, {"unit": county.county.pk, "term": "level:micro_grid", "name": " 优网格 "})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert LocalName.objects.filter(unit=county.county, vocabulary="level", code="micro_grid",
                                    name="优网格").exists()
    # The same term twice, a word that names another term, a unit outside his county: refused.
    for data, field in (
        ({"unit": county.county.pk, "term": "level:micro_grid", "name": "小网格"}, "term"),
        ({"unit": county.county.pk, "term": "level:micro_grid", "name": "网格"}, "name"),
        ({"unit": county.county.pk, "term": "worker_type:micro", "name": "专职网格员"}, "name"),
    ):
        response = client.post(add, data)
        assert response.status_code == 200 and field in response.context["adminform"].form.errors, data
    listing = client.get(reverse("admin:governance_localname_changelist")).content.decode()
    assert "优网格" in listing


def test_only_administrators_keep_names_and_only_in_their_own_county(county, other_county, county_admin, clerk_a,
                                                                      staff):
    huili = LocalName.objects.create(unit=other_county.county, vocabulary="level", code="micro_grid", name="小格")
    client = staff(county_admin)
    response = client.post(reverse("admin:governance_localname_add"),
                           {"unit": other_county.county.pk, "term": "level:micro_grid", "name": "优网格"})
    assert response.status_code == 200 and "unit" in response.context["adminform"].form.errors
    assert client.get(reverse("admin:governance_localname_change", args=[huili.pk])).status_code == 302
    assert not LocalName.objects.filter(name="优网格").exists()
    # A township clerk may not keep local names.
    assert staff(clerk_a).get(reverse("admin:governance_localname_add")).status_code == 403


# --- Pages and exports ---------------------------------------------------------------------------


def test_the_countys_pages_show_its_names(dechang, county_official, login):
    client = login(county_official)
    worker = dechang.workers[0]  # a micro-grid worker of township A
    page = client.get(reverse("grid:worker-list")).content.decode()
    assert "优网格员" in page
    page = client.get(reverse("grid:worker-detail", args=[worker.pk])).content.decode()
    assert "优网格员" in page and "（优网格）" in page
    # The grid's page lists its micro-grid by the county's word; township B's by its own.
    page = client.get(reverse("org:orgunit-detail", args=[dechang.grids[0].code])).content.decode()
    assert "<td>优网格</td>" in page and "<td>微网格</td>" not in page
    page = client.get(reverse("org:orgunit-detail", args=[dechang.micro_grids[1].code])).content.decode()
    assert "片格 · 片格" in " ".join(page.split())  # the micro-grid's level and kind
    case = dechang.cases[0]  # a neighbours' dispute in township A
    assert "邻里矛盾" in client.get(reverse("grid:case-list")).content.decode()
    assert "邻里矛盾" in client.get(reverse("grid:case-detail", args=[case.pk])).content.decode()
    assert "邻里矛盾" in client.get(reverse("grid:case-sheet", args=[case.pk])).content.decode()


def test_another_countys_pages_keep_the_portals_words(dechang, other_county, login):
    client = login(new_user("huili", Role.COUNTY, other_county.county))
    page = client.get(reverse("grid:worker-list")).content.decode()
    assert "优网格员" not in page and "微网格员" in page
    page = client.get(reverse("org:orgunit-detail", args=[other_county.grids[0].code])).content.decode()
    assert "优网格" not in page and "<td>微网格</td>" in page


def test_exports_show_the_row_countys_names(dechang, other_county, admin_user):
    workers = GridWorker.objects.filter(worker_type=WorkerType.MICRO)
    table = cell_values(roster_export(kind="grid_workers", queryset=workers, user=None))
    type_at, unit_at = table[0].index(headers("grid_workers", ["worker_type"])[0]), table[0].index(
        headers("grid_workers", ["unit"])[0])
    types = {row[unit_at]: row[type_at] for row in table[1:]}
    assert types[dechang.micro_grids[0].code] == "优网格员"
    assert types[other_county.micro_grids[0].code] == "微网格员"
    table = cell_values(roster_export(kind="grids", queryset=OrgUnit.objects.all(), user=admin_user))
    kinds = {row[0]: row[2] for row in table[1:]}
    assert kinds[dechang.micro_grids[0].code] == "优网格" and kinds[dechang.micro_grids[1].code] == "片格"
    assert kinds[dechang.grids[0].code] == "综治网格"


# --- Imports -------------------------------------------------------------------------------------


def test_imports_in_the_county_take_its_names(dechang, county_official):
    village, micro = dechang.villages[0], dechang.micro_grids[0]
    grid_code = f"{village.code}002"
    rows = [[grid_code, "第二网格", "单位型", village.code], [f"{grid_code}01", "第二网格一格", "优网格", grid_code]]
    report = roster_import(kind="grids", file=xlsx(headers("grids", ["code", "name", "kind", "parent"]), rows),
                           user=county_official)
    assert report.ok, str(report)
    assert OrgUnit.objects.get(code=f"{grid_code}01").kind == "micro_grid"
    columns = ["name", "id_number", "phone", "worker_type", "unit", "start_date"]
    rows = [["钱七", make_id_number("513424", "19910101", 7), "13700000007", "优网格员", micro.code, "2026-01-05"]]
    report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", columns), rows),
                           user=county_official)
    assert report.ok, str(report)
    assert GridWorker.objects.get(name="钱七").worker_type == WorkerType.MICRO


def test_another_county_does_not_take_dechangs_names(dechang, other_county):
    official = new_user("huili", Role.COUNTY, other_county.county)
    micro = other_county.micro_grids[0]
    columns = ["name", "id_number", "phone", "worker_type", "unit", "start_date"]
    rows = [["孙八", make_id_number("513425", "19910101", 8), "13700000008", "优网格员", micro.code, "2026-01-05"]]
    with translation.override("en"):
        report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", columns), rows), user=official)
    assert [(e.row, e.column) for e in report.errors] == [(2, "Type")]
    assert not GridWorker.objects.filter(name="孙八").exists()


def test_the_template_downloaded_in_the_county_lists_its_names(dechang, admin_user, staff):
    response = staff(admin_user).get(reverse("admin:grid_gridworker_roster_template"))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    instructions = {row[0]: row[2] for row in workbook.worksheets[1].iter_rows(values_only=True) if row and row[0]}
    assert "微网格员（优网格员、micro）" in instructions[headers("grid_workers", ["worker_type"])[0]]


def test_a_renamed_category_still_counts_as_itself(dechang):
    case = Case.objects.filter(grid__in=dechang.micro_grids).first()
    assert case.category == CaseCategory.objects.get(code="dispute-neighbour")
    assert local_names(case.grid).label("case_category", case.category.code, case.category.name) == "邻里矛盾"
