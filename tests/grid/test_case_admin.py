"""Admin of cases: taxonomy, deadlines, cases (scoped, read-only loop), mediations, Open311 clients (key shown once)."""

import hashlib
import re

import pytest
from django.utils import translation

from grid.models import Case, CaseCategory, ColourDeadline, Mediation, Open311Client
from grid.services import cases as svc
from tests.helpers.cases import cases_xlsx, good_rows

# The admin's rules for every role, as an operator who names them in ADMIN_ROLES meets them.
pytestmark = pytest.mark.usefixtures("admin_for_every_role")

KEY = re.compile(r'class="open311-key"[^>]*>([^<]+)<')


# --- Open311 clients ------------------------------------------------------------------------------


def test_adding_a_client_shows_its_key_once_and_stores_the_hash(county, admin_user, clerk_a, staff):
    client = staff(admin_user)
    response = client.post("/admin/grid/open311client/add/", {
        "name": "随手拍", "user": clerk_a.pk, "per_minute": 20, "is_active": "on",
    })
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    [key] = KEY.findall(response.content.decode())
    stored = Open311Client.objects.get(name="随手拍")
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and stored.key_prefix == key[:8]
    assert key not in stored.key_hash
    # Nowhere to be seen again.
    for url in ("/admin/grid/open311client/", f"/admin/grid/open311client/{stored.pk}/change/"):
        page = client.get(url).content.decode()
        assert key not in page and stored.key_prefix in page
    # And the key works.
    assert client.get("/open311/v2/services.json", {"api_key": key}).status_code == 200


def test_issuing_a_new_key_replaces_the_old_one(county, admin_user, clerk_a, staff):
    from grid.admin.cases import open311_key_issue

    api = Open311Client(name="App", user=clerk_a)
    old_key = open311_key_issue(api)
    api.save()
    client = staff(admin_user)
    response = client.post("/admin/grid/open311client/", {"action": "issue_new_key", "_selected_action": [api.pk]})
    assert response.status_code == 200
    [new_key] = KEY.findall(response.content.decode())
    api.refresh_from_db()
    assert new_key != old_key and api.key_hash == hashlib.sha256(new_key.encode()).hexdigest()
    assert client.get("/open311/v2/requests.json", {"api_key": old_key}).status_code == 403
    assert client.get("/open311/v2/requests.json", {"api_key": new_key}).status_code == 200


def test_clients_are_scoped_and_kept_by_the_administrator(county, admin_user, clerk_a, clerk_b, staff):
    from grid.admin.cases import open311_key_issue

    for name, user in (("A", clerk_a), ("B", clerk_b)):
        api = Open311Client(name=f"App {name}", user=user)
        open311_key_issue(api)
        api.save()
    assert staff(admin_user).get("/admin/grid/open311client/").status_code == 200
    # A township clerk has no permission on clients at all.
    assert staff(clerk_a).get("/admin/grid/open311client/").status_code == 403


# --- Cases ------------------------------------------------------------------------------------------


def test_case_list_is_scoped(county, clerk_a, staff):
    page = staff(clerk_a).get("/admin/grid/case/").content.decode()
    assert county.cases[0].number in page and county.cases[1].number not in page
    assert staff(clerk_a).get(f"/admin/grid/case/{county.cases[1].pk}/change/").status_code == 302  # "not found"


def test_case_list_filters(county, clerk_a, staff):
    client = staff(clerk_a)
    case = county.cases[0]
    for query in ("state=reported", "colour=green", "category=dispute", "is_overdue__exact=0",
                  f"q={case.number}"):
        assert case.number in client.get(f"/admin/grid/case/?{query}").content.decode(), query
    for query in ("state=closed", "colour=red", "category=fire", "is_overdue__exact=1"):
        assert case.number not in client.get(f"/admin/grid/case/?{query}").content.decode(), query


def test_case_list_query_count_is_constant(county, clerk_a, staff, django_assert_max_num_queries):
    client = staff(clerk_a)
    client.get("/admin/grid/case/")
    with django_assert_max_num_queries(30) as first:
        client.get("/admin/grid/case/")
    for i in range(6):
        svc.case_create(user=clerk_a, title=f"危房{i}", description="墙体开裂",
                        category=CaseCategory.objects.get(code="hazard-building"), grid=county.micro_grids[0])
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/admin/grid/case/")


def _case_form(case, **changes):
    """The admin form's POST for ``case`` as it stands, with ``changes``."""
    data = {
        "title": case.title, "description": case.description, "category": case.category.pk,
        "address": case.address, "latitude": "", "longitude": "", "reporter_name": case.reporter_name,
        "reporter_phone": case.reporter_phone,
        **{f"{prefix}-{k}": v for prefix in ("events", "attachments", "mediations")
           for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))},
    }
    data.update(changes)
    return data


def test_township_staff_and_grid_workers_only_read_cases_in_the_admin(county, clerk_a, grid_worker_a, staff):
    case = county.cases[0]
    url = f"/admin/grid/case/{case.pk}/change/"
    for user in (clerk_a, grid_worker_a):
        client = staff(user)
        page = client.get(url)
        # The page opens, read-only: no form fields, no save button.
        assert page.status_code == 200, user
        assert not page.context["adminform"].form.fields and 'name="_save"' not in page.content.decode()
        if user == clerk_a:  # a township clerk sees the reporter's phone masked
            assert case.reporter_phone not in page.content.decode()
        response = client.post(url, _case_form(case, title="改过的标题", description="改过的描述"))
        assert response.status_code == 403, user
    case.refresh_from_db()
    assert case.title != "改过的标题" and not case.events.filter(action="edit").exists()


def test_an_administrator_only_reads_cases_in_the_admin_too(county, admin_user, staff):
    case = county.cases[0]
    url = f"/admin/grid/case/{case.pk}/change/"
    client = staff(admin_user)
    page = client.get(url)
    assert page.status_code == 200 and not page.context["adminform"].form.fields
    response = client.post(url, _case_form(case, title="邻里院墙纠纷", description="院墙倒塌"))
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.title != "邻里院墙纠纷" and not case.events.filter(action="edit").exists()


def test_the_edit_service_refuses_the_loops_fields_and_non_administrators(county, admin_user, clerk_a):
    import pytest
    from django.core.exceptions import ValidationError

    from grid.services.case_edits import case_edit_by_admin

    case = county.cases[0]
    with pytest.raises(ValidationError):
        case_edit_by_admin(case=case, user=admin_user, changes={"state": "closed"})
    with pytest.raises(ValidationError):
        case_edit_by_admin(case=case, user=clerk_a, changes={"title": "x"})
    with pytest.raises(ValidationError):  # the model's own rules: a top category with sub-categories
        case_edit_by_admin(case=case, user=admin_user, changes={"category": CaseCategory.objects.get(code="fire")})
    case.refresh_from_db()
    assert case.state == "reported" and case.title != "x" and not case.events.filter(action="edit").exists()


def test_a_phone_correction_is_masked_on_the_timeline(county, admin_user):
    from grid.services.case_edits import case_edit_by_admin

    case = county.cases[0]
    event = case_edit_by_admin(case=case, user=admin_user, changes={"reporter_phone": "13912345678"})
    assert "13912345678" not in event.comment and "139****5678" in event.comment


def test_cases_are_neither_added_nor_deleted_in_the_admin(county, admin_user, staff):
    client = staff(admin_user)
    assert client.get("/admin/grid/case/add/").status_code == 403
    assert client.get(f"/admin/grid/case/{county.cases[0].pk}/delete/").status_code == 403
    assert Case.objects.filter(pk=county.cases[0].pk).exists()


def test_case_page_shows_the_timeline_and_attachments(county, clerk_a, staff):
    with translation.override("en"):
        page = staff(clerk_a).get(f"/admin/grid/case/{county.cases[0].pk}/change/").content.decode()
    assert "现场.png" in page and "矛盾纠纷调解室" in page


def test_mediations_are_scoped(county, clerk_a, staff):
    client = staff(clerk_a)
    page = client.get("/admin/grid/mediation/").content.decode()
    assert county.townships[0].name + "矛盾纠纷调解室" in page
    assert county.townships[1].name + "矛盾纠纷调解室" not in page
    other = Mediation.objects.get(case=county.cases[1])
    assert client.get(f"/admin/grid/mediation/{other.pk}/change/").status_code == 302


def test_a_mediation_records_who_entered_it(county, clerk_a, staff):
    response = staff(clerk_a).post("/admin/grid/mediation/add/", {
        "case": county.cases[0].pk, "held_on": "2026-05-06", "mediator": "王调解员", "room": "调解室",
        "outcome": "partial", "notes": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert Mediation.objects.get(mediator="王调解员").recorded_by == clerk_a


# --- Taxonomy and deadlines ----------------------------------------------------------------------------


def test_deadlines_are_configurable(county, admin_user, clerk_a, village_a, staff):
    red = ColourDeadline.objects.get(colour="red")
    response = staff(admin_user).post(f"/admin/grid/colourdeadline/{red.pk}/change/", {"hours": 12})
    assert response.status_code == 302
    case = svc.case_create(user=clerk_a, title="火情", description="电动车充电", grid=county.micro_grids[0],
                           category=CaseCategory.objects.get(code="fire-ebike"), colour="red")
    svc.case_accept(case=case, user=clerk_a, triage="minor")
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])
    case.refresh_from_db()
    assert (case.due_at - case.dispatched_at).total_seconds() == 12 * 3600


def test_categories_admin(county, admin_user, staff):
    client = staff(admin_user)
    page = client.get("/admin/grid/casecategory/?parent=top").content.decode()
    assert "消防安全" in page and "消防通道堵塞" not in page
    fire = CaseCategory.objects.get(code="fire")
    assert "消防通道堵塞" in client.get(f"/admin/grid/casecategory/?parent={fire.pk}").content.decode()
    form = client.get("/admin/grid/casecategory/add/").context["adminform"].form
    assert set(form.fields["parent"].queryset.values_list("parent", flat=True)) == {None}
    response = client.post("/admin/grid/casecategory/add/", {
        "parent": fire.pk, "code": "fire-forest", "name": "森林防火", "description": "", "sort_order": 9,
        "is_active": "on",
    })
    assert response.status_code == 302
    assert CaseCategory.objects.get(code="fire-forest").parent == fire
    # A code in use is fixed.
    used = CaseCategory.objects.get(code="dispute-neighbour")
    form = client.get(f"/admin/grid/casecategory/{used.pk}/change/").context["adminform"].form
    assert "code" not in form.fields


# --- Historical cases by Excel import ---------------------------------------------------------------


def test_an_administrator_imports_historical_cases_in_the_admin(county, admin_user, clerk_a, staff, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    settings.MEDIA_ROOT = tmp_path
    import_url = reverse("admin:grid_case_roster_import")
    changelist = reverse("admin:grid_case_changelist")
    # Township staff work cases but do not bring in an old system's.
    clerk = staff(clerk_a)
    assert import_url not in clerk.get(changelist).content.decode()
    assert clerk.get(import_url).status_code == 403

    client = staff(admin_user)
    assert import_url in client.get(changelist).content.decode()
    before = Case.objects.count()
    upload = SimpleUploadedFile("cases.xlsx", cases_xlsx(good_rows(county, 5)), content_type="application/octet-stream")
    response = client.post(import_url, {"file": upload})
    report = response.context["report"]
    assert (report.new, report.error_rows) == (5, 0) and Case.objects.count() == before
    response = client.post(import_url, {"token": response.context["token"]})
    assert response.status_code == 302 and Case.objects.count() == before + 5


def test_the_cases_template_says_existing_cases_are_left_alone(county, admin_user, staff):
    import io

    import openpyxl
    from django.urls import reverse

    response = staff(admin_user).get(reverse("admin:grid_case_roster_template"), HTTP_ACCEPT_LANGUAGE="en")
    notes = [row[0] for row in openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[1].iter_rows(
        values_only=True)]
    assert any(note and "left as it is" in note for note in notes)
    assert not any(note and "is updated" in note for note in notes)
