"""The grid admin: scoped lists and choices, masking, filters, search, and writes through the services."""


import pytest
from django.test import override_settings
from django.urls import reverse

from governance.masking import mask_id_number, mask_phone
from governance.models import Level
from governance.services import household_create, orgunit_create
from grid.models import GridWorker, LiaisonHousehold, Post
from tests.helpers.admin import listed, refused
from tests.helpers.growth import grow_grid_workers
from tests.helpers.people import make_id_number, new_liaison

# The admin's rules for every role, as an operator who names them in ADMIN_ROLES meets them.
pytestmark = pytest.mark.usefixtures("admin_for_every_role")


def url(model, view="changelist", *args):
    return reverse(f"admin:grid_{model}_{view}", args=args)


def form_errors(response):
    assert response.status_code == 200, response.content[:300]
    form = response.context["adminform"].form
    return {field: list(errors) for field, errors in form.errors.items()}


def worker_form(county, **extra):
    data = {
        "name": "新网格员",
        "id_number": make_id_number("513424", "19920202", 31),
        "phone": "13912345678",
        "worker_type": "micro",
        "unit": county.micro_grids[0].pk,
        "start_date": "2024-03-01",
        "end_date": "",
        "resident": "",
        "party_member": "",
        "post": "",
        "backup": "",
    }
    data.update(extra)
    return data


# --- Lists ---------------------------------------------------------------------------------------


def test_clerk_b_lists_nothing_of_township_a(county, other_county, clerk_b, staff):
    client = staff(clerk_b)
    assert set(listed(client.get(url("gridworker")))) == {county.workers[1], county.liaisons[1]}
    assert [link.household for link in listed(client.get(url("liaisonhousehold")))] == [county.households[1]]


def test_change_view_of_township_a_is_refused(county, clerk_b, staff):
    client = staff(clerk_b)
    assert refused(client.get(url("gridworker", "change", county.workers[0].pk)))
    link = LiaisonHousehold.objects.get(household=county.households[0])
    assert refused(client.get(url("liaisonhousehold", "change", link.pk)))


def test_township_clerk_sees_masked_id_and_phone(county, clerk_b, staff):
    page = staff(clerk_b).get(url("gridworker")).content.decode()
    worker = county.workers[1]
    assert mask_id_number(worker.id_number) in page and worker.id_number not in page
    assert mask_phone(worker.phone) in page
    change = staff(clerk_b).get(url("gridworker", "change", worker.pk)).content.decode()
    assert worker.id_number not in change and mask_id_number(worker.id_number) in change


def test_village_staff_sees_them_in_full(county, village_a, staff):
    page = staff(village_a).get(url("gridworker")).content.decode()
    assert county.workers[0].id_number in page


def test_filters_and_search(county, county_official, staff):
    client = staff(county_official)
    assert set(listed(client.get(url("gridworker"), {"worker_type__exact": "liaison"}))) == set(county.liaisons)
    assert set(listed(client.get(url("gridworker"), {"in_township": county.township_b.pk}))) == {
        county.workers[1],
        county.liaisons[1],
    }
    assert set(listed(client.get(url("gridworker"), {"current": "no"}))) == set()
    assert set(listed(client.get(url("gridworker"), {"q": county.workers[0].id_number}))) == {county.workers[0]}
    assert listed(client.get(url("gridworker"), {"q": county.workers[0].id_number[:10]})) == []
    assert set(listed(client.get(url("gridworker"), {"q": county.micro_grids[1].code}))) == {county.workers[1]}
    links = listed(client.get(url("liaisonhousehold"), {"in_township": county.township_a.pk}))
    assert [link.household for link in links] == [county.households[0]]


def test_township_filter_offers_only_units_in_scope(county, clerk_b, county_official, staff):
    page = staff(county_official).get(url("gridworker")).content.decode()
    assert county.township_a.name in page and county.township_b.name in page
    # A township clerk's list has no township choices but his own subtree's units.
    page = staff(clerk_b).get(url("gridworker")).content.decode()
    assert county.township_a.name not in page


# --- Forms and writes ------------------------------------------------------------------------------


def test_add_a_worker_through_the_service(county, clerk_a, staff):
    client = staff(clerk_a)
    assert client.get(url("gridworker", "add")).status_code == 200
    assert client.get(url("liaisonhousehold", "add")).status_code == 200
    response = client.post(url("gridworker", "add"), worker_form(county))
    assert response.status_code == 302, form_errors(response)
    worker = GridWorker.objects.get(name="新网格员")
    assert (worker.unit, worker.phone) == (county.micro_grids[0], "13912345678")


def test_rule_messages_are_shown_on_their_fields(county, clerk_a, staff):
    client = staff(clerk_a)
    response = client.post(
        url("gridworker", "add"), worker_form(county, unit=county.grids[0].pk), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert form_errors(response)["unit"] == ["A micro-grid worker must serve a micro-grid."]
    response = client.post(url("gridworker", "add"), worker_form(county, end_date="2099-01-01"))
    assert "end_date" in form_errors(response)


def test_backup_in_another_village_is_refused_on_the_form(county, county_official, staff):
    client = staff(county_official)
    response = client.post(url("gridworker", "add"), worker_form(county, backup=county.workers[1].pk, post=Post.A))
    errors = form_errors(response)
    assert "backup" in errors
    assert not GridWorker.objects.filter(name="新网格员").exists()


def test_pairing_through_the_form_is_mutual(county, clerk_a, staff):
    grid = county.grids[0]
    micro2 = orgunit_create(
        code=f"{grid.code}02", name="第二微网格", level=Level.MICRO_GRID, kind="micro_grid", parent=grid
    )
    client = staff(clerk_a)
    response = client.post(
        url("gridworker", "add"), worker_form(county, unit=micro2.pk, backup=county.workers[0].pk, post=Post.B)
    )
    assert response.status_code == 302, form_errors(response)
    new = GridWorker.objects.get(name="新网格员")
    partner = GridWorker.objects.get(pk=county.workers[0].pk)
    assert (partner.backup, partner.post) == (new, Post.A)


def test_masked_user_edits_a_worker_without_touching_his_id_number(county, clerk_b, staff):
    client = staff(clerk_b)
    worker = county.workers[1]
    data = worker_form(county, name="改名", unit=worker.unit.pk, start_date="2023-01-01")
    del data["id_number"], data["phone"]
    response = client.post(url("gridworker", "change", worker.pk), data)
    assert response.status_code == 302, form_errors(response)
    worker = GridWorker.objects.get(pk=worker.pk)
    assert (worker.name, worker.id_number) == ("改名", county.workers[1].id_number)


def test_unit_choices_are_scoped(county, clerk_b, staff):
    client = staff(clerk_b)
    response = client.post(url("gridworker", "add"), worker_form(county, unit=county.micro_grids[0].pk))
    assert "unit" in form_errors(response)


def test_liaison_change_page_lists_his_households(county, clerk_a, staff):
    page = staff(clerk_a).get(url("gridworker", "change", county.liaisons[0].pk)).content.decode()
    assert county.households[0].address in page


@override_settings(LIAISON_MAX_HOUSEHOLDS=1)
def test_assign_a_household_in_the_admin(county, clerk_a, staff):
    client = staff(clerk_a)
    micro = county.micro_grids[0]
    household = household_create(number=f"{micro.code}0050", address="新户", grid=micro)
    data = {"liaison": county.liaisons[0].pk, "household": household.pk, "since": ""}
    response = client.post(url("liaisonhousehold", "add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert form_errors(response)["liaison"] == ["A household liaison looks after at most 1 households."]

    second = new_liaison(county.grids[0], 44)
    response = client.post(
        url("liaisonhousehold", "add"),
        {**data, "liaison": second.pk, "household": county.households[0].pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert form_errors(response)["household"] == [f"This household already has a liaison: {county.liaisons[0].name}."]
    response = client.post(url("liaisonhousehold", "add"), {**data, "household": county.households[0].pk})
    assert "household" in form_errors(response)  # the same pair again
    response = client.post(url("liaisonhousehold", "add"), {**data, "liaison": second.pk})
    assert response.status_code == 302, form_errors(response)
    assert LiaisonHousehold.objects.get(household=household).liaison == second


def test_changing_a_link_moves_the_household(county, clerk_a, staff):
    second = new_liaison(county.grids[0], 44)
    link = LiaisonHousehold.objects.get(household=county.households[0])
    response = staff(clerk_a).post(url("liaisonhousehold", "change", link.pk), {"liaison": second.pk, "since": ""})
    assert response.status_code == 302, form_errors(response)
    assert LiaisonHousehold.objects.get(pk=link.pk).liaison == second


# --- Query counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gridworker", "liaisonhousehold"])
def test_changelist_query_count_is_constant(county, county_official, staff, django_assert_max_num_queries, model):
    client = staff(county_official)
    bound = 13  # session, user, permissions, filter choices, counts, page
    with django_assert_max_num_queries(bound):
        first = listed(client.get(url(model)))
    grow_grid_workers(county, 12)
    with django_assert_max_num_queries(bound):
        second = listed(client.get(url(model)))
    assert len(second) > len(first)
