"""The grid roster pages: scope on every page, masking, filters, liaison forms, constant query counts."""

import datetime
import importlib.util

import pytest
from django.urls import reverse
from django.utils import translation

from governance.models import OrgUnit
from governance.services import household_create, orgunit_create
from grid.models import GridWorker, LiaisonHousehold
from grid.services.workers import gridworker_create, gridworker_end, liaison_assign
from tests.helpers.people import make_id_number

WORKERS = "/grid/workers/"
VACANCIES = "/grid/vacancies/"
LIAISONS = "/grid/liaisons/"


def worker_url(worker):
    return reverse("grid:worker-detail", args=[worker.pk])


def liaison_url(liaison):
    return reverse("grid:liaison-detail", args=[liaison.pk])


def text(response) -> str:
    return response.content.decode()


def rows(response) -> list:
    return list(response.context["object_list"])


def add_micro_workers(county, count: int, start: int, *, party_every: int = 2) -> list[GridWorker]:
    """``count`` more micro-grids in township A's grid, each with a micro-grid worker."""
    grid = county.grids[0]
    workers = []
    for n in range(start, start + count):
        micro = orgunit_create(
            code=f"{grid.code}{n:02d}", name=f"德A村测试微网格{n}", level="micro_grid", kind="micro_grid", parent=grid
        )
        workers.append(
            gridworker_create(
                name=f"测试网格员{n}", id_number=make_id_number("513424", "19920202", n), phone=f"1350000{n:04d}",
                worker_type="micro", unit=micro, start_date=datetime.date(2024, 1, 1),
                is_party_member=n % party_every == 0,
            )
        )
    return workers


# --- Login and scope ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [WORKERS, VACANCIES, LIAISONS, "/grid/workers/1/", "/grid/liaisons/1/"])
def test_anonymous_is_sent_to_login(client, county, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_clerk_b_sees_nothing_of_township_a_on_any_page(staff, county, clerk_b):
    client = staff(clerk_b)
    a_values = [
        county.workers[0].name, county.liaisons[0].name, county.micro_grids[0].code, county.grids[0].name,
        county.villages[0].display_name,
    ]
    for url in (WORKERS, VACANCIES, LIAISONS, f"{WORKERS}?status=all", f"{VACANCIES}?level=micro_grid"):
        body = text(client.get(url))
        for value in a_values:
            assert value not in body, (url, value)
    assert county.workers[1].name in text(client.get(WORKERS))
    assert county.liaisons[1].name in text(client.get(LIAISONS))


def test_detail_pages_of_township_a_are_404_for_clerk_b(staff, county, clerk_b):
    client = staff(clerk_b)
    assert client.get(worker_url(county.workers[0])).status_code == 404
    assert client.get(worker_url(county.liaisons[0])).status_code == 404
    assert client.get(liaison_url(county.liaisons[0])).status_code == 404
    assert client.get(worker_url(county.workers[1])).status_code == 200
    assert client.get(liaison_url(county.liaisons[1])).status_code == 200
    # Writes too: the liaison of A is not found, his household stays with him.
    household = county.households[0]
    assert client.post(liaison_url(county.liaisons[0]), {"household": household.number}).status_code == 404
    unassign = reverse("grid:liaison-unassign", args=[county.liaisons[0].pk])
    assert client.post(unassign, {"household": household.pk}).status_code == 404
    assert LiaisonHousehold.objects.filter(household=household, liaison=county.liaisons[0]).exists()


def test_a_worker_is_not_a_liaison_page(staff, county, clerk_a):
    assert staff(clerk_a).get(liaison_url(county.workers[0])).status_code == 404


def test_county_official_sees_both_townships_and_no_other_county(staff, county, other_county, county_official):
    client = staff(county_official)
    body = text(client.get(WORKERS))
    assert county.workers[0].name in body and county.workers[1].name in body
    assert other_county.workers[0].name not in body
    assert client.get(worker_url(other_county.workers[0])).status_code == 404
    vacancies = text(client.get(VACANCIES))
    assert county.grids[0].name in vacancies and other_county.grids[0].name not in vacancies


# --- Masking -----------------------------------------------------------------------------


def test_township_clerk_sees_masked_id_numbers_and_phones(staff, county, clerk_a):
    worker = county.workers[0]
    client = staff(clerk_a)
    for url in (WORKERS, worker_url(worker), LIAISONS, liaison_url(county.liaisons[0])):
        body = text(client.get(url))
        assert worker.id_number not in body and county.liaisons[0].id_number not in body
        assert "13900000000" not in body and "13900000001" not in body
    body = text(client.get(WORKERS))
    assert worker.id_number[:6] + "********" + worker.id_number[-4:] in body
    assert "139****0000" in body


def test_village_staff_sees_full_id_numbers_and_phones(staff, county, village_a):
    body = text(staff(village_a).get(WORKERS))
    assert county.workers[0].id_number in body and "13900000000" in body


# --- Filters, search, sorting ------------------------------------------------------------


def test_filters_by_type_party_post_and_status(staff, county, clerk_a):
    workers = add_micro_workers(county, 3, start=10)  # 10 and 12 are party members
    client = staff(clerk_a)
    assert set(rows(client.get(WORKERS, {"worker_type": "liaison"}))) == {county.liaisons[0]}
    assert set(rows(client.get(WORKERS, {"party": "yes"}))) == {workers[0], workers[2]}
    assert county.workers[0] in rows(client.get(WORKERS, {"party": "no"}))
    assert rows(client.get(WORKERS, {"post": "A"})) == []
    assert len(rows(client.get(WORKERS, {"post": "none"}))) == 5
    gridworker_end(worker=workers[1], end_date=datetime.date(2025, 1, 1))
    assert workers[1] not in rows(client.get(WORKERS))  # current ones by default
    assert rows(client.get(WORKERS, {"status": "ended"})) == [workers[1]]
    assert workers[1] in rows(client.get(WORKERS, {"status": "all"}))


def test_search_by_name_full_id_number_and_full_phone(staff, county, clerk_a):
    worker = county.workers[0]
    client = staff(clerk_a)
    assert rows(client.get(WORKERS, {"q": worker.name})) == [worker]
    assert rows(client.get(WORKERS, {"q": worker.id_number.lower()})) == [worker]
    assert rows(client.get(WORKERS, {"q": "13900000001"})) == [county.liaisons[0]]
    # Parts of an ID number or phone find nothing: no unmasking by guessing.
    assert rows(client.get(WORKERS, {"q": worker.id_number[:12]})) == []
    assert rows(client.get(WORKERS, {"q": "1390000"})) == []


def test_unit_filters_narrow_to_a_subtree_and_ignore_foreign_units(staff, county, county_official, clerk_b):
    client = staff(county_official)
    found = rows(client.get(WORKERS, {"township": county.township_a.code}))
    assert set(found) == {county.workers[0], county.liaisons[0]}
    clerk = staff(clerk_b)
    response = clerk.get(WORKERS, {"village": county.villages[0].code})
    assert response.status_code == 200
    assert set(rows(response)) == {county.workers[1], county.liaisons[1]}


def test_bad_query_parameters_never_fail(staff, county, county_official):
    client = staff(county_official)
    for params in (
        {"page": "abc"}, {"page": "999"}, {"sort": "password"}, {"sort": "-"}, {"worker_type": "boss"},
        {"party": "maybe"}, {"post": "C"}, {"status": "x"}, {"level": "county"}, {"township": "x' OR 1=1"},
        {"q": "x" * 500},
    ):
        for url in (WORKERS, VACANCIES, LIAISONS):
            assert client.get(url, params).status_code == 200, (url, params)


def test_sorting_by_header(staff, county, county_official):
    client = staff(county_official)
    names = [w.name for w in rows(client.get(WORKERS, {"sort": "-name"}))]
    assert names == sorted(names, reverse=True)
    counts = [w.n_households for w in rows(client.get(LIAISONS, {"sort": "-households"}))]
    assert counts == sorted(counts, reverse=True)


# --- Vacancies ---------------------------------------------------------------------------


def test_vacancies_list_unstaffed_units_with_the_coverage(staff, county, clerk_a):
    add_micro_workers(county, 2, start=10, party_every=1)
    grid = county.grids[0]
    empty = orgunit_create(code=f"{grid.code}20", name="德A村空缺微网格", level="micro_grid", kind="micro_grid",
                           parent=grid)
    response = staff(clerk_a).get(VACANCIES)
    assert response.status_code == 200
    # The standard grid has no full-time worker; the new micro-grid has nobody.
    assert {unit.code for unit in rows(response)} == {grid.code, empty.code}
    coverage = response.context["coverage"]
    assert (coverage["micro_grids"], coverage["micro_grids_staffed"], coverage["micro_grids_vacant"]) == (4, 3, 1)
    assert coverage["micro_party_share"] == pytest.approx(66.7)
    body = text(response)
    assert "66.7%" in body
    only_micro = rows(staff(clerk_a).get(VACANCIES, {"level": "micro_grid"}))
    assert [unit.code for unit in only_micro] == [empty.code]


def test_vacancy_coverage_follows_the_picked_village(staff, county, county_official):
    response = staff(county_official).get(VACANCIES, {"township": county.township_b.code})
    assert response.context["coverage_unit"] == county.township_b
    assert {unit.code for unit in rows(response)} == {county.grids[1].code}


# --- Liaisons ----------------------------------------------------------------------------


def _household(county, n: int, grid: OrgUnit | None = None):
    grid = grid or county.micro_grids[0]
    return household_create(number=f"{grid.code}{n:04d}", address=f"德A村9组{n}号", grid=grid)


def test_liaison_list_shows_household_counts(staff, county, clerk_a):
    liaison_assign(liaison=county.liaisons[0], household=_household(county, 50))
    response = staff(clerk_a).get(LIAISONS)
    assert [(row.pk, row.n_households) for row in rows(response)] == [(county.liaisons[0].pk, 2)]


def test_liaison_page_assigns_a_household_by_number(staff, county, clerk_a):
    household = _household(county, 51)
    client = staff(clerk_a)
    page = client.get(liaison_url(county.liaisons[0]))
    assert household.number in text(page)  # offered among the households nobody looks after
    response = client.post(liaison_url(county.liaisons[0]), {"household": household.number})
    assert response.status_code == 302
    assert LiaisonHousehold.objects.get(household=household).liaison == county.liaisons[0]
    page = client.get(response.url)
    assert household.address in text(page)


def test_assigning_a_household_with_a_liaison_shows_the_reason(staff, county, clerk_a):
    household = _household(county, 52)
    other = gridworker_create(
        name="另一联户长", id_number=make_id_number("513424", "19700707", 700), phone="13500000700",
        worker_type="liaison", unit=county.grids[0], start_date=datetime.date(2024, 1, 1),
    )
    liaison_assign(liaison=other, household=household)
    response = staff(clerk_a).post(liaison_url(county.liaisons[0]), {"household": household.number})
    assert response.status_code == 200
    form = response.context["assign_form"]
    with translation.override("en"):
        assert "already has a liaison" in str(form.errors["household"][0])
    assert "另一联户长" in text(response)
    assert LiaisonHousehold.objects.get(household=household).liaison == other


def test_assigning_a_household_of_another_township_is_not_found(staff, county, clerk_a):
    response = staff(clerk_a).post(liaison_url(county.liaisons[0]), {"household": county.households[1].number})
    assert response.status_code == 200
    assert response.context["assign_form"].errors["household"]
    assert not LiaisonHousehold.objects.filter(household=county.households[1], liaison=county.liaisons[0]).exists()


def test_the_liaison_limit_is_shown_and_enforced(staff, county, clerk_a, settings):
    settings.LIAISON_MAX_HOUSEHOLDS = 2
    client = staff(clerk_a)
    liaison_assign(liaison=county.liaisons[0], household=_household(county, 53))
    page = client.get(liaison_url(county.liaisons[0]))
    assert page.context["n_households"] == 2
    assert "assign-card" in text(page) and 'id="id_household"' not in text(page)
    response = client.post(liaison_url(county.liaisons[0]), {"household": _household(county, 54).number})
    assert response.status_code == 200
    assert response.context["assign_form"].errors
    assert LiaisonHousehold.objects.filter(liaison=county.liaisons[0]).count() == 2


def test_unassign_releases_the_household(staff, county, clerk_a):
    household = county.households[0]
    client = staff(clerk_a)
    response = client.post(reverse("grid:liaison-unassign", args=[county.liaisons[0].pk]), {"household": household.pk})
    assert response.status_code == 302
    assert not LiaisonHousehold.objects.filter(household=household).exists()
    # Again: nothing to release, a message instead of an error.
    response = client.post(reverse("grid:liaison-unassign", args=[county.liaisons[0].pk]), {"household": household.pk})
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200


def test_roles_that_may_not_write_see_no_form_and_are_refused(staff, county, grid_worker_a):
    client = staff(grid_worker_a)  # a grid worker reads the liaisons of his grid
    page = client.get(liaison_url(county.liaisons[0]))
    assert page.status_code == 200
    assert 'id="id_household"' not in text(page) and "liaison-unassign" not in text(page)
    household = _household(county, 60, county.grids[0])
    assert client.post(liaison_url(county.liaisons[0]), {"household": household.number}).status_code == 403
    unassign = reverse("grid:liaison-unassign", args=[county.liaisons[0].pk])
    assert client.post(unassign, {"household": county.households[0].pk}).status_code == 403
    assert LiaisonHousehold.objects.filter(liaison=county.liaisons[0]).count() == 1


def test_worker_page_shows_backup_and_liaison_households(staff, county, clerk_a):
    partner = gridworker_create(
        name="顶岗网格员", id_number=make_id_number("513424", "19810101", 710), phone="13500000710",
        worker_type="micro", unit=county.micro_grids[0], start_date=datetime.date(2024, 1, 1),
        post="B", backup=county.workers[0],
    )
    client = staff(clerk_a)
    body = text(client.get(worker_url(county.workers[0])))
    assert partner.name in body
    body = text(client.get(worker_url(county.liaisons[0])))
    assert county.households[0].number in body


# --- Query counts and export ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url,params",
    [
        (WORKERS, {}),
        (WORKERS, {"township": "513424100000", "party": "yes", "sort": "-name"}),
        (LIAISONS, {"sort": "-households"}),
        (VACANCIES, {}),
        (VACANCIES, {"level": "micro_grid", "sort": "-code"}),
    ],
)
def test_list_pages_query_count_is_constant(staff, county, county_official, django_assert_max_num_queries, url, params):
    client = staff(county_official)
    add_micro_workers(county, 2, start=10)
    with django_assert_max_num_queries(14):
        assert client.get(url, params).status_code == 200
    add_micro_workers(county, 20, start=30)
    for n in range(20):
        orgunit_create(code=f"{county.grids[0].code}{60 + n:02d}", name=f"空缺{n}", level="micro_grid",
                       kind="micro_grid", parent=county.grids[0])
        gridworker_create(
            name=f"联户长{n}", id_number=make_id_number("513424", "19750505", 800 + n), phone=f"1330000{n:04d}",
            worker_type="liaison", unit=county.grids[0], start_date=datetime.date(2024, 1, 1),
        )
    with django_assert_max_num_queries(14):
        assert client.get(url, params).status_code == 200


def test_liaison_page_query_count_is_constant(staff, county, clerk_a, django_assert_max_num_queries):
    client = staff(clerk_a)
    url = liaison_url(county.liaisons[0])
    with django_assert_max_num_queries(14):
        client.get(url)
    for n in range(10):
        liaison_assign(liaison=county.liaisons[0], household=_household(county, 100 + n))
        _household(county, 200 + n)
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200


export_ready = pytest.mark.skipif(
    importlib.util.find_spec("governance.rosters") is None, reason="governance.rosters (Excel export) not there yet"
)


@export_ready
@pytest.mark.parametrize("url", [WORKERS, LIAISONS])
def test_export_button_returns_the_filtered_list_as_xlsx(staff, county, clerk_a, url):
    client = staff(clerk_a)
    page = text(client.get(url, {"party": "no"}))
    assert "export=xlsx" in page
    response = client.get(url, {"party": "no", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content[:2] == b"PK"


@export_ready
def test_export_holds_the_filtered_rows_of_the_scope_only(staff, county, clerk_a):
    import io

    from openpyxl import load_workbook

    response = staff(clerk_a).get(WORKERS, {"worker_type": "micro", "export": "xlsx"})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    cells = {str(cell) for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True) for cell in row}
    assert county.workers[0].name in cells
    assert county.liaisons[0].name not in cells and county.workers[1].name not in cells
    assert county.workers[0].id_number not in cells  # masked for a township clerk
