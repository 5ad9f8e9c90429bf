"""The case API (/api/v1/cases/, /case-events/, /case-categories/): scope, masking, report, every step, filters."""

import datetime
import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from governance.masking import mask_phone
from governance.roles import user_sync_permissions
from grid.models import Case, CaseCategory, CaseEvent, CaseState
from grid.services import cases as svc
from tests.helpers.api import get, post
from tests.helpers.cases import PNG_1PX

CASES = "/api/v1/cases/"
EVENTS = "/api/v1/case-events/"
CATEGORIES = "/api/v1/case-categories/"
ACTIONS = ["accept", "reject", "dispatch", "take", "start", "resolve", "verify", "return", "rate", "close",
           "escalate"]


def step(client, case, name, data=None):
    return post(client, f"{CASES}{case.pk}/{name}/", data)


def numbers(payload):
    return [row["number"] for row in payload["results"]]


@pytest.fixture
def writer(db):
    """A test client of its own, logged in as ``user`` with the permissions of his role."""

    def _writer(user):
        user_sync_permissions(user)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _writer


# --- Scope and masking ------------------------------------------------------------------------


def test_clerk_a_lists_and_reads_only_township_a(county, clerk_a, login):
    client = login(clerk_a)
    case_a, case_b = county.cases
    assert numbers(get(client, CASES)) == [case_a.number]
    detail = get(client, f"{CASES}{case_a.pk}/")
    assert detail["grid"] == county.micro_grids[0].code and detail["category"] == "dispute-neighbour"
    assert [e["action"] for e in detail["events"]] == ["create"]
    assert [a["name"] for a in detail["case_attachments"]] == ["现场.png"]
    assert set(detail["allowed_actions"]) == {"accept", "reject", "escalate"}
    assert client.get(f"{CASES}{case_b.pk}/").status_code == 404


def test_reporter_phone_is_masked_unless_the_role_allows(county, clerk_a, village_a, login):
    case = county.cases[0]
    assert get(login(clerk_a), f"{CASES}{case.pk}/")["reporter_phone"] == mask_phone(case.reporter_phone)
    assert get(login(village_a), f"{CASES}{case.pk}/")["reporter_phone"] == case.reporter_phone


def test_events_are_scoped(county, clerk_a, login):
    client = login(clerk_a)
    rows = get(client, EVENTS)["results"]
    assert {row["case"] for row in rows} == {county.cases[0].pk}
    other = CaseEvent.objects.get(case=county.cases[1])
    assert client.get(f"{EVENTS}{other.pk}/").status_code == 404
    assert get(client, EVENTS, case=county.cases[1].pk)["results"] == []


def test_categories_are_listed_in_tree_order(county, clerk_a, login):
    client = login(clerk_a)
    rows = get(client, CATEGORIES, page_size=500)["results"]
    codes = [row["code"] for row in rows]
    assert codes[0] == "dispute" and codes[1].startswith("dispute-")
    assert {row["code"] for row in get(client, CATEGORIES, parent="fire")["results"]} >= {"fire-lane"}
    assert all(row["parent"] is None for row in get(client, CATEGORIES, top="true", page_size=500)["results"])


# --- Report ----------------------------------------------------------------------------------


def test_clerk_reports_a_case(county, clerk_a, writer):
    client = writer(clerk_a)
    token = str(uuid.uuid4())
    data = {"title": "危房", "description": "墙体开裂", "category": "hazard-building",
            "grid": county.micro_grids[0].code, "reporter_name": "张三", "reporter_phone": "13811112222",
            "colour": "red", "token": token}
    response = post(client, CASES, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "reported" and body["handling_unit"] == county.township_a.code
    assert body["reporter_phone"] == "138****2222"
    case = Case.objects.get(pk=body["id"])
    assert case.created_by == clerk_a and case.reporter_phone == "13811112222" and case.colour == "red"
    # Sent again with the same token: the same case.
    again = post(client, CASES, data)
    assert again.status_code == 201 and again.json()["id"] == case.pk
    assert Case.objects.filter(token=token).count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"grid": "513424101201001"}, "grid", "not found or is outside your scope"),
        ({"category": "hazard"}, "category", "Choose a sub-category"),
        ({"category": "nope"}, "category", "does not exist"),
        ({"title": ""}, "title", "blank"),
        ({"latitude": "30.1"}, "longitude", "both latitude and longitude"),
    ],
)
def test_a_bad_report_is_a_400_by_field(county, clerk_a, writer, change, field, message):
    data = {"title": "危房", "description": "墙体开裂", "category": "hazard-building",
            "grid": county.micro_grids[0].code, **change}
    response = post(writer(clerk_a), CASES, data)
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()[field])
    assert not Case.objects.filter(title="危房").exists()


def test_reporting_needs_the_add_permission(county, clerk_a, login):
    data = {"title": "危房", "description": "墙体开裂", "category": "hazard-building",
            "grid": county.micro_grids[0].code}
    assert post(login(clerk_a), CASES, data).status_code == 403  # no permissions synced


def test_report_with_an_attachment_in_a_multipart_form(county, clerk_a, writer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = writer(clerk_a)
    response = client.post(CASES, {
        "title": "垃圾", "description": "路边垃圾", "category": "sanitation-garbage", "grid": county.grids[0].code,
        "attachments": [SimpleUploadedFile("photo.png", PNG_1PX, content_type="image/png")],
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201, response.content
    assert [a["content_type"] for a in response.json()["case_attachments"]] == ["image/png"]
    exe = SimpleUploadedFile("photo.png", b"MZ\x90\x00" + b"\x00" * 60, content_type="image/png")
    refused = client.post(CASES, {"title": "垃圾", "description": "x", "category": "sanitation-garbage",
                                  "grid": county.grids[0].code, "attachments": [exe]}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and "attachments" in refused.json()


# --- The steps --------------------------------------------------------------------------------


def test_the_whole_loop_through_the_api(county, clerk_a, village_a, writer, new_case):
    case = new_case()
    clerk = writer(clerk_a)

    def ok(client, name, data=None, state=None):
        response = step(client, case, name, data)
        assert response.status_code == 200, response.content
        if state:
            assert response.json()["state"] == state
        return response.json()

    ok(clerk, "accept", {"triage": "minor", "colour": "yellow"}, "accepted")
    body = ok(clerk, "dispatch", {"unit": county.villages[0].code, "assignee": village_a.pk, "comment": "请处理"},
              "dispatched")
    assert body["handling_unit"] == county.villages[0].code and body["assignee"] == village_a.pk and body["due_at"]
    village = writer(village_a)
    assert get(village, f"{CASES}{case.pk}/")["allowed_actions"] == ["take", "escalate"]
    ok(village, "take", {}, "taken")
    ok(village, "start", None, "in_progress")
    ok(village, "resolve", {"result": "已加固"}, "resolved")
    ok(clerk, "return", {"reason": "照片不清楚"}, "in_progress")
    ok(village, "resolve", {"result": "已加固，补拍照片"}, "resolved")
    ok(clerk, "verify", {}, "verified")
    ok(clerk, "rate", {"rating": "satisfied"}, "rated")
    body = ok(clerk, "close", {"comment": "结案"}, "closed")
    assert [e["action"] for e in body["events"]] == [
        "create", "accept", "dispatch", "take", "start", "resolve", "return", "resolve", "verify", "rate", "close"
    ]
    assert body["allowed_actions"] == []


def test_reject_and_escalate(county, clerk_a, writer, new_case):
    client = writer(clerk_a)
    rejected, escalated = new_case(), new_case()
    response = step(client, rejected, "reject", {"reason": "重复上报"})
    assert response.status_code == 200 and response.json()["state"] == "rejected"
    response = step(client, escalated, "escalate", {"reason": "超出乡镇职权"})
    assert response.status_code == 200, response.content
    assert response.json()["handling_unit"] == county.county.code and response.json()["state"] == "reported"


def test_a_private_matter_is_resolved_with_guidance(clerk_a, writer, new_case):
    client = writer(clerk_a)
    case = new_case()
    assert step(client, case, "accept", {"triage": "private"}).status_code == 200
    refused = step(client, case, "dispatch", {"unit": case.grid.code})
    assert refused.status_code == 400
    response = step(client, case, "resolve", {"result": "已电话答复政策"})
    assert response.status_code == 200 and response.json()["state"] == "resolved"


def test_wrong_state_is_a_400_with_the_message(clerk_a, writer, new_case):
    client = writer(clerk_a)
    case = new_case()
    assert step(client, case, "accept", {"triage": "minor"}).status_code == 200
    again = step(client, case, "accept", {"triage": "major"})
    assert again.status_code == 400
    assert "cannot be accepted" in " ".join(again.json()["non_field_errors"])
    assert Case.objects.get(pk=case.pk).triage == "minor"


def test_wrong_role_is_a_400_with_the_message(county, village_a, writer, new_case):
    case = new_case()
    response = step(writer(village_a), case, "accept", {"triage": "minor"})
    assert response.status_code == 400
    assert "by you" in " ".join(response.json()["non_field_errors"])
    assert Case.objects.get(pk=case.pk).state == CaseState.REPORTED


@pytest.mark.parametrize(
    ("name", "data", "field", "message"),
    [
        ("accept", {"triage": "bogus"}, "triage", "not a valid choice"),
        ("accept", {}, "triage", "required"),
        ("reject", {"reason": "  "}, "reason", "Say why"),
        ("reject", {}, "reason", "required"),
        ("escalate", {"reason": ""}, "reason", "Say why"),
    ],
)
def test_bad_step_input_is_a_400_by_field(clerk_a, writer, new_case, name, data, field, message):
    case = new_case()
    response = step(writer(clerk_a), case, name, data)
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()[field])
    assert Case.objects.get(pk=case.pk).state == CaseState.REPORTED


def test_dispatch_refusals(county, clerk_a, village_a, grid_worker_a, writer, new_case):
    client = writer(clerk_a)
    case = new_case()
    step(client, case, "accept", {"triage": "minor"})
    # A unit of township B is not even found; a township is the wrong level for a minor matter.
    outside = step(client, case, "dispatch", {"unit": county.villages[1].code})
    assert outside.status_code == 400 and "outside your scope" in " ".join(outside.json()["unit"])
    level = step(client, case, "dispatch", {"unit": county.township_a.code})
    assert level.status_code == 400 and "unit" in level.json()
    elsewhere = step(client, case, "dispatch", {"unit": county.grids[0].code, "assignee": village_a.pk})
    assert elsewhere.status_code == 400 and "does not work in" in " ".join(elsewhere.json()["assignee"])
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED


def test_rate_needs_a_rating_and_return_a_reason(county, clerk_a, village_a, writer, new_case):
    client = writer(clerk_a)
    case = new_case()
    step(client, case, "accept", {"triage": "minor"})
    step(client, case, "dispatch", {"unit": county.villages[0].code})
    village = writer(village_a)
    for name, data in (("take", {}), ("start", {}), ("resolve", {"result": "好了"})):
        assert step(village, case, name, data).status_code == 200
    assert "Say why" in " ".join(step(client, case, "return", {"reason": ""}).json()["reason"])
    assert step(client, case, "verify").status_code == 200
    bad = step(client, case, "rate", {"rating": "great"})
    assert bad.status_code == 400 and "rating" in bad.json()


@pytest.mark.parametrize("name", ACTIONS)
def test_every_step_on_a_case_outside_scope_is_404(county, clerk_b, writer, name):
    response = step(writer(clerk_b), county.cases[0], name, {"reason": "x", "result": "x", "triage": "minor"})
    assert response.status_code == 404


@pytest.mark.parametrize("name", ACTIONS)
def test_every_step_on_a_closed_case_is_refused(county, clerk_a, village_a, writer, new_case, name):
    case = new_case()
    svc.case_accept(case=case, user=clerk_a, triage="minor")
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])
    svc.case_take(case=case, user=village_a)
    svc.case_start(case=case, user=village_a)
    svc.case_resolve(case=case, user=village_a, result="好了")
    svc.case_verify(case=case, user=clerk_a)
    svc.case_rate(case=case, user=clerk_a, rating="basic")
    svc.case_close(case=case, user=clerk_a)
    data = {"reason": "x", "result": "x", "triage": "minor", "rating": "satisfied", "unit": county.villages[0].code}
    response = step(writer(clerk_a), case, name, data)
    assert response.status_code == 400, response.content
    assert "cannot be" in " ".join(response.json()["non_field_errors"])


def test_steps_need_the_change_permission(clerk_a, login, new_case):
    case = new_case()
    assert step(login(clerk_a), case, "accept", {"triage": "minor"}).status_code == 403


# --- Filters, search, ordering, query count -----------------------------------------------------


@pytest.fixture
def several(county, clerk_a, village_a, new_case):
    """Four more cases of township A: red in a grid, accepted and dispatched to village_a (overdue), old, garbage."""
    red = new_case(title="红色危房", colour="red", grid=county.grids[0], source="hotline")
    svc.case_accept(case=red, user=clerk_a, triage="minor")
    svc.case_dispatch(case=red, user=clerk_a, unit=county.villages[0], assignee=village_a)
    Case.objects.filter(pk=red.pk).update(is_overdue=True)
    old = new_case(title="去年的", reported_at=timezone.make_aware(datetime.datetime(2025, 3, 9, 10)))
    garbage = new_case(title="垃圾堆放", description="村口垃圾无人清运",
                       category=CaseCategory.objects.get(code="sanitation-garbage"))
    closed = new_case(title="已驳回")
    svc.case_reject(case=closed, user=clerk_a, reason="重复")
    return {"red": red, "old": old, "garbage": garbage, "closed": closed}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "dispatched"}, {"red"}),
        ({"state": ["rejected", "dispatched"]}, {"red", "closed"}),
        ({"open": "false"}, {"closed"}),
        ({"colour": "red"}, {"red"}),
        ({"triage": "minor"}, {"red"}),
        ({"source": "hotline"}, {"red"}),
        ({"category": "sanitation"}, {"garbage"}),
        ({"category": "sanitation-garbage"}, {"garbage"}),
        ({"org": "513424100201001"}, {"red", "old", "garbage", "closed", "cast"}),  # the grid and its micro-grid
        ({"org": "51342410020100101"}, {"old", "garbage", "closed", "cast"}),  # the micro-grid only
        ({"handling_unit": "513424100201"}, {"red"}),
        ({"overdue": "true"}, {"red"}),
        ({"mine": "1"}, {"red"}),
        ({"reported_to": "2025-03-09"}, {"old"}),
        ({"reported_from": "2025-03-10", "reported_to": "2025-12-31"}, set()),
        ({"search": "无人清运"}, {"garbage"}),
        ({"search": "红色"}, {"red"}),
    ],
)
def test_filters(county, several, village_a, clerk_a, login, params, expected):
    user = village_a if "mine" in params else clerk_a
    rows = get(login(user), CASES, page_size=500, **params)["results"]
    by_number = {case.number: name for name, case in several.items()} | {county.cases[0].number: "cast"}
    assert {by_number[row["number"]] for row in rows} == expected


def test_search_by_number_and_ordering(county, several, clerk_a, login):
    client = login(clerk_a)
    red = several["red"]
    assert numbers(get(client, CASES, search=red.number)) == [red.number]
    ordered = numbers(get(client, CASES, ordering="reported_at", page_size=500))
    assert ordered[0] == several["old"].number
    assert numbers(get(client, CASES, ordering="-reported_at", page_size=500))[-1] == several["old"].number


def test_an_out_of_scope_org_filter_is_a_400(county, clerk_a, login):
    response = login(clerk_a).get(CASES, {"org": county.township_b.code}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "outside your scope" in json.dumps(response.json())


def test_list_query_count_is_constant(county, several, county_official, clerk_a, new_case, login,
                                      django_assert_max_num_queries):
    client = login(county_official)
    bound = 6  # session, user, count, page (+ margin); the same however many rows
    with django_assert_max_num_queries(bound):
        first = get(client, CASES, page_size=500)
    for i in range(8):
        case = new_case(title=f"危房{i}", grid=county.micro_grids[0] if i % 2 else county.grids[0])
        if i % 3 == 0:
            svc.case_accept(case=case, user=clerk_a, triage="major")
            svc.case_dispatch(case=case, user=clerk_a, unit=county.township_a, assignee=clerk_a)
    with django_assert_max_num_queries(bound):
        second = get(client, CASES, page_size=500)
    assert second["count"] == first["count"] + 8


def test_schema_lists_the_case_endpoints(county, county_official, login):
    schema = login(county_official).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (CASES, "/api/v1/cases/{id}/", EVENTS, CATEGORIES,
                 *(f"/api/v1/cases/{{id}}/{name}/" for name in ACTIONS)):
        assert path in schema["paths"], path
    dispatch = schema["paths"]["/api/v1/cases/{id}/dispatch/"]["post"]
    assert "requestBody" in dispatch


def test_schema_generation_has_no_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


@pytest.mark.parametrize("bad", ["abc", "99999999999999999999999", "-1"])
def test_a_malformed_id_is_404(county, clerk_a, writer, bad):
    client = writer(clerk_a)
    assert client.get(f"{CASES}{bad}/").status_code == 404
    assert step(client, county.cases[0], "accept", {"triage": "minor"}).status_code == 200
    assert post(client, f"{CASES}{bad}/accept/", {"triage": "minor"}).status_code == 404
    assert client.get(f"{EVENTS}{bad}/").status_code == 404
    assert client.get(EVENTS, {"case": bad}, HTTP_ACCEPT_LANGUAGE="en").status_code in (200, 400)
