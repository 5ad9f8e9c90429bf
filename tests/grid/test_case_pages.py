"""The case pages township staff work in: new case, detail with its steps, dispatch sheet, attachments."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from governance.roles import user_sync_permissions
from grid.models import Case, CaseAttachment, CaseState
from grid.services import cases as svc
from tests.helpers.cases import PNG_1PX


@pytest.fixture
def clerk(clerk_a):
    user_sync_permissions(clerk_a)
    return clerk_a


@pytest.fixture
def village(village_a):
    user_sync_permissions(village_a)
    return village_a


def form_data(county, category, **extra):
    data = {
        "title": "危房墙体开裂", "description": "三组李家房屋外墙开裂", "category": category.pk,
        "grid": county.micro_grids[0].pk, "colour": "green", "source": "visit", "triage": "",
        "reporter_name": "李四", "reporter_phone": "13912345678", "token": str(uuid.uuid4()),
    }
    data.update(extra)
    return data


def text_of(response) -> str:
    return response.content.decode()


# --- Pages render, scope ----------------------------------------------------------------------------


def test_pages_render_for_the_clerk(client, login, county, clerk):
    login(clerk)
    case = county.cases[0]
    for url in (
        reverse("grid:case-list"), reverse("grid:case-create"), reverse("grid:case-detail", args=[case.pk]),
        reverse("grid:case-sheet", args=[case.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    detail = text_of(client.get(reverse("grid:case-detail", args=[case.pk])))
    assert case.number in detail
    assert reverse("grid:case-attachment", args=[case.attachments.get().pk]) in detail
    # The clerk may accept or reject a newly reported case of his township: both forms are there.
    assert 'id="action-accept"' in detail and 'id="action-reject"' in detail
    assert 'id="action-dispatch"' not in detail


def test_other_township_is_404(client, login, county, clerk):
    login(clerk)
    case_b = county.cases[1]
    attachment_b = case_b.attachments.get()
    assert client.get(reverse("grid:case-detail", args=[case_b.pk])).status_code == 404
    assert client.get(reverse("grid:case-sheet", args=[case_b.pk])).status_code == 404
    assert client.get(reverse("grid:case-attachment", args=[attachment_b.pk])).status_code == 404
    response = client.post(reverse("grid:case-action", args=[case_b.pk, "accept"]),
                           {"accept-triage": "minor", "accept-colour": "green"})
    assert response.status_code == 404
    case_b.refresh_from_db()
    assert case_b.state == CaseState.REPORTED
    assert client.get(reverse("grid:case-assignees", args=[case_b.pk])).status_code == 404


def test_unknown_action_is_404(client, login, county, clerk):
    login(clerk)
    assert client.post(reverse("grid:case-action", args=[county.cases[0].pk, "explode"])).status_code == 404


def test_attachment_streams_with_its_name(client, login, county, clerk):
    login(clerk)
    attachment = county.cases[0].attachments.get()
    response = client.get(reverse("grid:case-attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG_1PX
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "filename" in response["Content-Disposition"]
    assert "%E7%8E%B0%E5%9C%BA.png" in response["Content-Disposition"]  # 现场.png, RFC 5987-encoded
    download = client.get(reverse("grid:case-attachment", args=[attachment.pk]) + "?download=1")
    assert download["Content-Disposition"].startswith("attachment")


def test_html_in_a_title_is_shown_as_text(client, login, county, clerk, hazard):
    case = svc.case_create(user=clerk, title="<script>alert(1)</script>", description="<b>x</b>", category=hazard,
                           grid=county.micro_grids[0])
    login(clerk)
    for url in (reverse("grid:case-detail", args=[case.pk]), reverse("grid:case-list"),
                reverse("grid:case-sheet", args=[case.pk])):
        page = text_of(client.get(url))
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


# --- New case ---------------------------------------------------------------------------------------


def test_new_case_form_creates_and_redirects(client, login, county, clerk, hazard):
    login(clerk)
    data = form_data(county, hazard, attachments=[SimpleUploadedFile("现场照片.png", PNG_1PX, "image/png")])
    response = client.post(reverse("grid:case-create"), data)
    case = Case.objects.get(title="危房墙体开裂")
    assert response.status_code == 302
    assert response["Location"] == reverse("grid:case-detail", args=[case.pk])
    assert case.state == CaseState.REPORTED and case.created_by == clerk and case.colour == "green"
    assert case.attachments.get().name == "现场照片.png"
    assert str(case.token) == data["token"]


def test_double_submitted_form_creates_one_case(client, login, county, clerk, hazard):
    login(clerk)
    data = form_data(county, hazard)
    first = client.post(reverse("grid:case-create"), data)
    second = client.post(reverse("grid:case-create"), data)
    assert Case.objects.filter(title="危房墙体开裂").count() == 1
    case = Case.objects.get(title="危房墙体开裂")
    assert first["Location"] == second["Location"] == reverse("grid:case-detail", args=[case.pk])


def test_duplicate_warning_then_create_anyway(client, login, county, clerk, hazard):
    login(clerk)
    earlier = svc.case_create(user=clerk, title="外墙开裂", description="x", category=hazard,
                              grid=county.micro_grids[0])
    # The htmx fragment, on grid/category change.
    fragment = client.get(reverse("grid:case-duplicates"),
                          {"grid": county.micro_grids[0].pk, "category": hazard.pk}, HTTP_HX_REQUEST="true")
    assert earlier.number in text_of(fragment)
    other = client.get(reverse("grid:case-duplicates"), {"grid": county.grids[0].pk, "category": hazard.pk})
    assert earlier.number not in text_of(other)
    # On submit: the warning and no case, until "create anyway".
    data = form_data(county, hazard)
    response = client.post(reverse("grid:case-create"), data)
    assert response.status_code == 200
    assert 'id="duplicate-warning"' in text_of(response) and earlier.number in text_of(response)
    assert not Case.objects.filter(title="危房墙体开裂").exists()
    response = client.post(reverse("grid:case-create"), {**data, "confirm": "on"})
    assert response.status_code == 302
    assert Case.objects.filter(title="危房墙体开裂").count() == 1


def test_duplicate_fragment_ignores_other_townships(client, login, county, clerk, clerk_b, hazard):
    case_b = svc.case_create(user=clerk_b, title="B的危房", description="x", category=hazard,
                             grid=county.micro_grids[1])
    login(clerk)
    fragment = client.get(reverse("grid:case-duplicates"), {"grid": county.micro_grids[1].pk, "category": hazard.pk})
    assert fragment.status_code == 200
    assert case_b.number not in text_of(fragment)


def test_renamed_executable_is_refused(client, login, county, clerk, hazard):
    login(clerk)
    before = (Case.objects.count(), CaseAttachment.objects.count())
    data = form_data(county, hazard, attachments=[SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200,
                                                                     "image/jpeg")])
    with translation.override("en"):
        response = client.post(reverse("grid:case-create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "photo.jpg" in text_of(response) and "Only images" in text_of(response)
    assert (Case.objects.count(), CaseAttachment.objects.count()) == before


def test_grid_out_of_scope_is_refused(client, login, county, clerk, hazard):
    login(clerk)
    response = client.post(reverse("grid:case-create"), form_data(county, hazard, grid=county.micro_grids[1].pk))
    assert response.status_code == 200
    assert not Case.objects.filter(title="危房墙体开裂").exists()


def test_household_must_be_in_the_grid(client, login, county, clerk, hazard):
    login(clerk)
    data = form_data(county, hazard, grid=county.grids[0].pk, household=county.households[0].number)
    response = client.post(reverse("grid:case-create"), data)
    assert response.status_code == 200 and "has-error" in text_of(response)
    data = form_data(county, hazard, household=county.households[0].number,
                     reporter_id_number=county.residents[0].id_number, reporter_name="", reporter_phone="")
    assert client.post(reverse("grid:case-create"), data).status_code == 302
    case = Case.objects.get(title="危房墙体开裂")
    assert case.household == county.households[0]
    assert case.reporter == county.residents[0] and case.reporter_name == county.residents[0].name


def test_bad_input_never_500(client, login, county, clerk, hazard):
    login(clerk)
    for data in ({}, {"category": "abc", "grid": "999999999999999999999", "token": "x", "latitude": "north"}):
        assert client.post(reverse("grid:case-create"), data).status_code == 200
    assert client.get(reverse("grid:case-duplicates"), {"grid": "x", "category": "9" * 30}).status_code == 200


def test_grid_search_in_scope(client, login, county, clerk):
    login(clerk)
    json = client.get(reverse("grid:grid-search"), {"q": "第一", "format": "json"}).json()
    ids = {row["id"] for row in json["results"]}
    assert ids == {county.grids[0].pk, county.micro_grids[0].pk}
    options = client.get(reverse("grid:grid-search"), {"q": county.micro_grids[0].code}, HTTP_HX_REQUEST="true")
    assert f'value="{county.micro_grids[0].pk}"' in text_of(options)
    assert str(county.micro_grids[1].pk) not in text_of(options).split("value=")[1:]


# --- Steps ------------------------------------------------------------------------------------------


def test_refused_action_shows_its_message(client, login, county, village):
    login(village)
    case = county.cases[0]
    with translation.override("en"):
        response = client.post(reverse("grid:case-action", args=[case.pk, "accept"]),
                               {"accept-triage": "minor", "accept-colour": "green"}, follow=True,
                               HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "by you" in text_of(response)
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED


def test_stale_page_shows_now_state(client, login, county, clerk):
    login(clerk)
    case = county.cases[0]
    svc.case_reject(case=case, user=clerk, reason="重复")
    with translation.override("en"):
        response = client.post(reverse("grid:case-action", args=[case.pk, "accept"]),
                               {"accept-triage": "minor", "accept-colour": "green"}, follow=True,
                               HTTP_ACCEPT_LANGUAGE="en")
    assert "This case is now" in text_of(response) and "Rejected" in text_of(response)


def test_missing_reason_is_a_message(client, login, county, clerk):
    login(clerk)
    case = county.cases[0]
    response = client.post(reverse("grid:case-action", args=[case.pk, "reject"]), {"reject-reason": " "},
                           follow=True)
    assert response.status_code == 200
    assert "alert-danger" in text_of(response)
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED


def test_the_loop_through_the_pages(client, login, county, clerk, village):
    case = county.cases[0]
    url = lambda action: reverse("grid:case-action", args=[case.pk, action])  # noqa: E731
    login(clerk)
    client.post(url("accept"), {"accept-triage": "minor", "accept-colour": "yellow", "accept-comment": "受理"})
    case.refresh_from_db()
    assert (case.state, case.triage, case.colour) == (CaseState.ACCEPTED, "minor", "yellow")
    # The dispatch form offers the village (and its grid), not the township for a minor matter.
    detail = text_of(client.get(reverse("grid:case-detail", args=[case.pk])))
    assert f'<option value="{county.villages[0].pk}"' in detail
    assert f'<option value="{county.township_a.pk}"' not in detail
    people = client.get(reverse("grid:case-assignees", args=[case.pk]), {"dispatch-unit": county.villages[0].pk})
    assert f'value="{village.pk}"' in text_of(people)
    client.post(url("dispatch"), {"dispatch-unit": county.villages[0].pk, "dispatch-assignee": village.pk})
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.assignee == village and case.due_at
    sheet = text_of(client.get(reverse("grid:case-sheet", args=[case.pk])))
    assert county.villages[0].display_name in sheet
    login(village)
    client.post(url("take"))
    client.post(url("start"), {"start-comment": "已到现场"})
    client.post(url("resolve"), {"resolve-result": "双方达成协议",
                                 "resolve-attachments": [SimpleUploadedFile("after.png", PNG_1PX, "image/png")]})
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED
    assert case.attachments.filter(event__action="resolve").count() == 1
    login(clerk)
    client.post(url("verify"))
    client.post(url("rate"), {"rate-rating": "satisfied"})
    client.post(url("close"))
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.rating == "satisfied"
    detail = text_of(client.get(reverse("grid:case-detail", args=[case.pk])))
    assert 'id="no-actions"' in detail
    assert detail.count('data-action="') >= 9  # every step on the timeline


def test_write_needs_the_role_permission(client, login, county, clerk_a):
    login(clerk_a)  # no permissions synced
    assert client.get(reverse("grid:case-create")).status_code == 403
    response = client.post(reverse("grid:case-action", args=[county.cases[0].pk, "accept"]),
                           {"accept-triage": "minor", "accept-colour": "green"})
    assert response.status_code == 403


def test_renamed_executable_as_evidence_is_refused(client, login, county, clerk, village):
    case = county.cases[0]
    svc.case_accept(case=case, user=clerk, triage="minor")
    svc.case_dispatch(case=case, user=clerk, unit=county.villages[0], assignee=village)
    svc.case_take(case=case, user=village)
    svc.case_start(case=case, user=village)
    login(village)
    before = CaseAttachment.objects.count()
    with translation.override("en"):
        response = client.post(
            reverse("grid:case-action", args=[case.pk, "resolve"]),
            {"resolve-result": "已处理",
             "resolve-attachments": [SimpleUploadedFile("photo.jpg", b"MZ" + b"\x00" * 64)]},
            follow=True, HTTP_ACCEPT_LANGUAGE="en",
        )
    assert "photo.jpg" in text_of(response) and "alert-danger" in text_of(response)
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert CaseAttachment.objects.count() == before
