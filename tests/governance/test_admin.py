"""The admin: every list, form, choice, search, delete and history limited to the user's scope."""

import pytest
from django.urls import reverse
from django.utils import translation

from governance.masking import mask_id_number, mask_phone
from governance.models import Household, Level, OrgUnit, Resident, Role, User
from governance.services import orgunit_create
from tests.helpers.admin import listed, refused
from tests.helpers.audit import events
from tests.helpers.growth import grow_residents
from tests.helpers.people import make_id_number

# The admin's rules for every role, as an operator who names them in ADMIN_ROLES meets them.
pytestmark = pytest.mark.usefixtures("admin_for_every_role")


def url(model, view="changelist", *args):
    return reverse(f"admin:governance_{model}_{view}", args=args)


# --- Lists ---------------------------------------------------------------------------------


def test_clerk_b_changelists_have_nothing_of_township_a(county, other_county, clerk_b, staff):
    client = staff(clerk_b)
    assert listed(client.get(url("household"))) == [county.households[1]]
    assert listed(client.get(url("resident"))) == [county.residents[1]]
    units = {unit.code for unit in listed(client.get(url("orgunit") + "?q="))}  # the flat list
    b = county
    assert units == {b.township_b.code, b.villages[1].code, b.grids[1].code, b.micro_grids[1].code}


def test_county_official_sees_both_townships(county, other_county, county_official, staff):
    client = staff(county_official)
    assert set(listed(client.get(url("household")))) == set(county.households)
    assert set(listed(client.get(url("resident")))) == set(county.residents)
    units = set(listed(client.get(url("orgunit") + "?q=")))  # the flat list
    assert county.township_a in units and county.township_b in units
    assert not units & {other_county.county, *other_county.townships}


# --- The org tree ------------------------------------------------------------------------


def test_the_org_tree_opens_one_level_at_a_time(county, admin_user, staff):
    client = staff(admin_user)
    township, village = county.township_a, county.villages[0]
    # The county and its townships first.
    assert listed(client.get(url("orgunit"))) == [county.county, *county.townships]
    page = client.get(url("orgunit")).content.decode()
    assert f'href="?open={township.pk}"' in page and 'aria-expanded="false"' in page
    # Opening a township shows its villages; opening a village too shows its grids.
    assert listed(client.get(url("orgunit"), {"open": township.pk})) == [
        county.county, township, village, county.township_b]
    opened = listed(client.get(url("orgunit"), {"open": f"{township.pk},{village.pk}"}))
    assert opened == [county.county, township, village, county.grids[0], county.township_b]
    # Closing the township closes what was open below it.
    page = client.get(url("orgunit"), {"open": f"{township.pk},{village.pk}"}).content.decode()
    assert f'href="?open={village.pk}"' in page  # the township's ▾ keeps only the village in the URL
    assert listed(client.get(url("orgunit"), {"open": village.pk})) == [county.county, *county.townships]


def test_exporting_the_tree_exports_every_unit_in_scope(county, clerk_b, staff):
    import io

    import openpyxl

    client = staff(clerk_b)
    response = client.get(reverse("admin:governance_orgunit_roster_export"))
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    exported = {row[0] for row in rows[1:]}
    assert {county.grids[1].code, county.micro_grids[1].code} <= exported  # closed in the tree, still exported
    assert county.grids[0].code not in exported


def test_the_org_tree_starts_at_the_users_unit_and_opens_nothing_outside_it(county, clerk_b, staff):
    client = staff(clerk_b)
    assert listed(client.get(url("orgunit"))) == [county.township_b, county.villages[1]]
    outside = f"{county.township_a.pk},{county.villages[0].pk},{county.county.pk}"
    assert listed(client.get(url("orgunit"), {"open": outside})) == [county.township_b, county.villages[1]]
    assert listed(client.get(url("orgunit"), {"open": "x,,-1"})) == [county.township_b, county.villages[1]]


def test_search_finds_any_unit_and_shows_its_path(county, admin_user, staff):
    micro = county.micro_grids[0]
    response = staff(admin_user).get(url("orgunit"), {"q": micro.name})
    assert listed(response) == [micro]
    page = response.content.decode()
    path = " › ".join(unit.name for unit in (county.county, county.township_a, county.villages[0], county.grids[0]))
    assert path in page


def test_the_org_tree_costs_the_same_queries_for_a_large_county(county, admin_user, staff,
                                                                  django_assert_max_num_queries):
    from tests.helpers.cast import add_village_with_grid

    client = staff(admin_user)
    township = county.township_a
    client.get(url("orgunit"))
    views = ({}, {"open": township.pk}, {"q": "村"})
    counts = []
    for params in views:
        with django_assert_max_num_queries(20) as captured:
            client.get(url("orgunit"), params)
        counts.append(len(captured.captured_queries))
    for i in range(30):
        add_village_with_grid(township, f"{300 + i:03d}")
    for params, before in zip(views, counts, strict=True):
        with django_assert_max_num_queries(before):
            response = client.get(url("orgunit"), params)
        assert response.status_code == 200
    assert len(listed(client.get(url("orgunit"), {"open": township.pk}))) == 1 + 1 + 31 + 1


def test_search_is_limited_to_scope(county, clerk_b, county_official, staff):
    number_a = county.households[0].number
    assert listed(staff(clerk_b).get(url("household"), {"q": number_a})) == []
    assert listed(staff(county_official).get(url("household"), {"q": number_a})) == [county.households[0]]
    id_a = county.residents[0].id_number
    assert listed(staff(clerk_b).get(url("resident"), {"q": id_a})) == []


def test_resident_search_by_name_household_number_and_whole_id_number(county, county_official, staff):
    client = staff(county_official)
    a = county.residents[0]
    assert listed(client.get(url("resident"), {"q": a.name})) == [a]
    assert listed(client.get(url("resident"), {"q": county.households[0].number})) == [a]
    assert listed(client.get(url("resident"), {"q": a.id_number})) == [a]
    assert listed(client.get(url("resident"), {"q": a.id_number[:10]})) == []


def test_list_filters_offer_only_units_in_scope(county, clerk_b, county_official, staff):
    def township_choices(client):
        response = client.get(url("household"))
        spec = next(s for s in response.context["cl"].filter_specs if s.parameter_name == "in_township")
        return {int(value) for value, _ in spec.lookup_choices}

    assert township_choices(staff(clerk_b)) == {county.township_b.pk}
    assert township_choices(staff(county_official)) == {county.township_a.pk, county.township_b.pk}


def test_township_filter_narrows_the_list(county, clerk_b, county_official, staff):
    params = {"in_township": county.township_a.pk}
    assert listed(staff(county_official).get(url("household"), params)) == [county.households[0]]
    assert listed(staff(county_official).get(url("resident"), params)) == [county.residents[0]]
    # A unit out of scope filters to nothing, never to its rows.
    assert listed(staff(clerk_b).get(url("household"), params)) == []


def test_village_filter_follows_the_chosen_township(county, county_official, staff):
    client = staff(county_official)
    response = client.get(url("household"), {"in_township": county.township_b.pk})
    spec = next(s for s in response.context["cl"].filter_specs if s.parameter_name == "in_village")
    assert [int(value) for value, _ in spec.lookup_choices] == [county.villages[1].pk]


# --- Objects out of scope ------------------------------------------------------------------


@pytest.mark.parametrize(("model", "attr"), [("household", "households"), ("resident", "residents")])
def test_change_view_of_township_a_is_refused_for_clerk_b(county, clerk_b, staff, model, attr):
    client = staff(clerk_b)
    obj_a, obj_b = getattr(county, attr)
    response = client.get(url(model, "change", obj_a.pk))
    assert refused(response)
    assert client.get(url(model, "change", obj_b.pk)).status_code == 200


def test_org_unit_change_view_of_township_a_is_refused(county, clerk_b, staff):
    assert refused(staff(clerk_b).get(url("orgunit", "change", county.villages[0].pk)))


@pytest.mark.parametrize(("model", "attr"), [("household", "households"), ("resident", "residents")])
def test_history_of_township_a_is_refused(county, clerk_b, staff, model, attr):
    client = staff(clerk_b)
    obj_a = getattr(county, attr)[0]
    assert refused(client.get(url(model, "history", obj_a.pk)))


def test_delete_of_township_a_is_refused(county, clerk_b, staff):
    client = staff(clerk_b)
    household_a = county.households[0]
    response = client.post(url("household", "delete", household_a.pk), {"post": "yes"})
    assert refused(response)
    assert Household.objects.filter(pk=household_a.pk).exists()


def test_household_grid_choices_are_limited_to_scope(county, clerk_b, staff):
    client = staff(clerk_b)
    form = client.get(url("household", "add")).context["adminform"].form
    assert set(form.fields["grid"].queryset) == {county.grids[1], county.micro_grids[1]}
    response = client.post(
        url("household", "add"),
        {"number": "H-X", "address": "x", "grid": county.grids[0].pk, **empty_inline()},
    )
    assert response.status_code == 200
    assert "grid" in response.context["adminform"].form.errors
    assert not Household.objects.filter(number="H-X").exists()


def empty_inline():
    return {
        "residents-TOTAL_FORMS": "0",
        "residents-INITIAL_FORMS": "0",
        "residents-MIN_NUM_FORMS": "0",
        "residents-MAX_NUM_FORMS": "1000",
    }


def household_form(household, *new_residents):
    """The household change form with its residents inline (existing rows unchanged)."""
    existing = list(household.residents.all())
    data = {
        "number": household.number,
        "address": household.address,
        "grid": household.grid_id,
        "is_active": "on",
        "residents-TOTAL_FORMS": str(len(existing) + len(new_residents)),
        "residents-INITIAL_FORMS": str(len(existing)),
        "residents-MIN_NUM_FORMS": "0",
        "residents-MAX_NUM_FORMS": "1000",
    }
    rows = [
        {"id": r.pk, "household": household.pk, "name": r.name, "id_number": r.id_number, "phone": r.phone}
        | {"relation": r.relation, "is_active": "on"}
        for r in existing
    ]
    rows += [{"household": household.pk, "relation": "child", "is_active": "on", **row} for row in new_residents]
    for i, row in enumerate(rows):
        data.update({f"residents-{i}-{key}": str(value) for key, value in row.items()})
    return data


def test_full_view_user_adds_a_resident_inline(county, village_a, staff):
    client = staff(village_a)
    household = county.households[0]
    change = url("household", "change", household.pk)
    bad = household_form(household, {"name": "小明", "id_number": make_id_number("513424", "20100101", 9)[:-1] + "Y"})
    response = client.post(change, bad)
    assert response.status_code == 200
    assert not Resident.objects.filter(name="小明").exists()
    good = household_form(household, {"name": "小明", "id_number": make_id_number("513424", "20100101", 9)})
    response = client.post(change, good)
    assert response.status_code == 302
    assert Resident.objects.get(name="小明").birth_date.isoformat() == "2010-01-01"


def test_autocomplete_is_scoped(county, clerk_b, staff):
    response = staff(clerk_b).get(
        reverse("admin:autocomplete"),
        {"app_label": "governance", "model_name": "household", "field_name": "grid", "term": ""},
    )
    assert response.status_code == 200
    ids = {int(row["id"]) for row in response.json()["results"]}
    assert ids == {county.grids[1].pk, county.micro_grids[1].pk}


# --- Personal data -------------------------------------------------------------------------


def test_township_clerk_sees_masked_id_and_phone(county, clerk_b, staff):
    resident = county.residents[1]
    client = staff(clerk_b)
    pages = [url("resident"), url("resident", "change", resident.pk), url("household", "change", resident.household_id)]
    for page in pages:
        content = client.get(page).content.decode()
        assert resident.id_number not in content
        assert resident.phone not in content
        assert mask_id_number(resident.id_number) in content


def test_masked_user_edits_a_resident_without_touching_his_id_number(county, clerk_b, staff):
    resident = county.residents[1]
    data = {
        "household": resident.household_id,
        "name": "改名",
        "relation": "head",
        "is_active": "on",
        "id_number": "999",  # not on a masked user's form: ignored
    }
    response = staff(clerk_b).post(url("resident", "change", resident.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    resident.refresh_from_db()
    assert resident.name == "改名"
    assert resident.id_number == county.residents[1].id_number


def test_village_staff_sees_full_id_and_phone(county, village_a, staff):
    resident = county.residents[0]
    content = staff(village_a).get(url("resident")).content.decode()
    assert resident.id_number in content
    assert resident.phone in content


def test_the_recorded_change_masks_personal_data(county, clerk_a, staff):
    resident = Resident.objects.get(pk=county.residents[0].pk)
    old_phone = resident.phone
    resident.phone = "13912345678"
    resident.full_clean()
    resident.save()
    (event,) = events(resident, action="update")
    assert "13912345678" not in str(event.changes) and old_phone not in str(event.changes)
    # The application names the field (SQLite); the database's triggers its lookup hash (PostgreSQL).
    phone = event.changes.get("phone") or event.changes["phone_hash"]
    assert phone[1] in (mask_phone("13912345678"), "***")


# --- Org units -----------------------------------------------------------------------------


def orgunit_form(**fields):
    data = {"code": "", "name": "", "short_name": "", "level": "", "kind": "", "parent": "", "is_active": "on"}
    data.update({key: str(value) for key, value in fields.items()})
    return data


def test_bad_code_in_the_add_form_is_shown_on_the_field(county, admin_user, login):
    client = login(admin_user)
    data = orgunit_form(
        parent=county.township_a.pk, level=Level.VILLAGE, kind="village", code="5134241002", name="新村"
    )
    response = client.post(url("orgunit", "add"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    with translation.override("zh-hans"):
        expected = translation.gettext("Division code must be exactly 12 digits.")
    assert response.context["adminform"].form.errors["code"] == [expected]
    assert not OrgUnit.objects.filter(name="新村").exists()


def test_wrong_level_in_the_add_form_is_shown(county, admin_user, login):
    data = orgunit_form(parent=county.county.pk, level=Level.VILLAGE, kind="village", code="513424100299", name="新村")
    response = login(admin_user).post(url("orgunit", "add"), data)
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors


def test_add_org_unit_goes_through_the_service(county, county_official, staff):
    village = county.villages[0]
    data = orgunit_form(parent=village.pk, level=Level.GRID, kind="grid_standard", code=f"{village.code}009", name="九")
    response = staff(county_official).post(url("orgunit", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    unit = OrgUnit.objects.get(code=f"{village.code}009")
    assert unit.parent == village and unit.is_leaf_node()
    (created,) = events(unit, action="create")
    assert created.actor_id == county_official.pk


def test_clerk_cannot_add_outside_his_subtree_or_a_new_root(county, clerk_b, staff):
    client = staff(clerk_b)
    village_a = county.villages[0]
    data = orgunit_form(
        parent=village_a.pk, level=Level.GRID, kind="grid_standard", code=f"{village_a.code}009", name="九"
    )
    response = client.post(url("orgunit", "add"), data)
    assert "parent" in response.context["adminform"].form.errors
    root = orgunit_form(level=Level.COUNTY, kind="county", code="513499000000", name="新县")
    response = client.post(url("orgunit", "add"), root)
    assert "parent" in response.context["adminform"].form.errors
    assert not OrgUnit.objects.filter(code__in=[f"{village_a.code}009", "513499000000"]).exists()


def test_clerk_cannot_change_his_own_home_unit(county, clerk_b, staff):
    township = county.township_b
    data = orgunit_form(parent=county.county.pk, level=Level.TOWNSHIP, kind="town", code=township.code, name="改名")
    assert staff(clerk_b).post(url("orgunit", "change", township.pk), data).status_code == 403
    township.refresh_from_db()
    assert township.name != "改名"


def test_move_through_the_change_form(county, county_official, staff):
    client = staff(county_official)
    village_a, village_b = county.villages
    grid = orgunit_create(
        code=f"{village_a.code}009", name="九", level=Level.GRID, kind="grid_standard", parent=village_a
    )
    bad = orgunit_form(parent=village_b.pk, level=Level.GRID, kind="grid_standard", code=grid.code, name="九")
    response = client.post(url("orgunit", "change", grid.pk), bad)
    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors
    good = {**bad, "code": f"{village_b.code}009"}
    assert client.post(url("orgunit", "change", grid.pk), good).status_code == 302
    grid.refresh_from_db()
    assert grid.parent == village_b and grid.code == f"{village_b.code}009"
    county.township_b.refresh_from_db()  # the move renumbered the tree
    assert grid.is_descendant_of(county.township_b)


def test_delete_org_unit(county, county_official, staff):
    client = staff(county_official)
    village = county.villages[0]
    grid = orgunit_create(code=f"{village.code}009", name="九", level=Level.GRID, kind="grid_standard", parent=village)
    assert client.post(url("orgunit", "delete", grid.pk), {"post": "yes"}).status_code == 302
    assert not OrgUnit.objects.filter(pk=grid.pk).exists()
    # A unit with sub-units is protected: the admin lists what blocks it and deletes nothing.
    response = client.post(url("orgunit", "delete", village.pk), {"post": "yes"})
    assert response.status_code == 200
    assert OrgUnit.objects.filter(pk=village.pk).exists()


def test_orgunit_changelist_offers_the_division_import_to_administrators(county, admin_user, clerk_b, staff):
    import_url = reverse("admin:governance_orgunit_import_divisions")
    client = staff(admin_user)
    assert import_url in client.get(url("orgunit")).content.decode()
    assert client.get(import_url).status_code == 200
    client = staff(clerk_b)
    assert import_url not in client.get(url("orgunit")).content.decode()
    assert client.get(import_url).status_code == 403


# --- Users ---------------------------------------------------------------------------------


def test_clerk_user_form_is_scoped(county, clerk_b, staff):
    client = staff(clerk_b)
    form = client.get(url("user", "add")).context["adminform"].form
    assert set(form.fields["home_unit"].queryset) == {
        county.township_b,
        county.villages[1],
        county.grids[1],
        county.micro_grids[1],
    }
    assert {value for value, _ in form.fields["role"].choices} == {Role.TOWNSHIP, Role.VILLAGE, Role.GRID}


def user_form(**fields):
    data = {
        "username": "new_user",
        "usable_password": "true",
        "password1": "a-long-enough-pass-42",
        "password2": "a-long-enough-pass-42",
        "role": Role.VILLAGE,
        "is_staff": "on",
    }
    data.update({key: str(value) for key, value in fields.items()})
    return data


def test_clerk_cannot_give_a_home_unit_outside_his_scope(county, clerk_b, staff):
    response = staff(clerk_b).post(url("user", "add"), user_form(home_unit=county.villages[0].pk))
    assert response.status_code == 200
    assert "home_unit" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="new_user").exists()


def test_user_created_in_scope_gets_the_role_permissions(county, clerk_b, staff):
    response = staff(clerk_b).post(url("user", "add"), user_form(home_unit=county.villages[1].pk))
    assert response.status_code == 302
    user = User.objects.get(username="new_user")
    assert user.home_unit == county.villages[1]
    assert user.has_perm("governance.change_household") and not user.has_perm("governance.delete_household")


def test_clerk_cannot_grant_superuser(county, clerk_b, staff):
    client = staff(clerk_b)
    colleague = User.objects.create_user(
        username="village_b", password="x", role=Role.VILLAGE, home_unit=county.villages[1], is_staff=True
    )
    data = {
        "username": "village_b",
        "role": Role.VILLAGE,
        "home_unit": county.villages[1].pk,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
    }
    response = client.post(url("user", "change", colleague.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    colleague.refresh_from_db()
    assert not colleague.is_superuser


def test_clerk_cannot_edit_a_wider_role(county, clerk_b, staff):
    boss = User.objects.create_user(
        username="boss", password="x", role=Role.COUNTY, home_unit=county.township_b, is_staff=True
    )
    data = {"username": "boss", "role": Role.GRID, "home_unit": county.grids[1].pk, "is_active": "on"}
    assert staff(clerk_b).post(url("user", "change", boss.pk), data).status_code == 403
    boss.refresh_from_db()
    assert boss.role == Role.COUNTY


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["orgunit", "household", "resident", "user"])
def test_changelist_query_count_is_constant(county, county_official, staff, django_assert_max_num_queries, model):
    client = staff(county_official)
    bound = 13  # session, user, permissions, filter choices, counts, page, prefetch
    query = {"q": ""} if model == "orgunit" else {}  # the org units' flat list (the tree has its own test)
    with django_assert_max_num_queries(bound):
        first = listed(client.get(url(model), query))
    grow_residents(county, 12)
    for i in range(12):
        User.objects.create_user(username=f"u{i}", password="x", role=Role.GRID, home_unit=county.grids[i % 2])
    with django_assert_max_num_queries(bound):
        second = listed(client.get(url(model), query))
    assert len(second) > len(first)
