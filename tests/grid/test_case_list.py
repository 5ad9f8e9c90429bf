"""The case list: filters, counts by state, sorting, export, and a query count that does not grow with the rows."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from governance.models import ExportLog
from governance.roles import user_sync_permissions
from grid.models import Case, CaseCategory, CaseState
from grid.selectors import cases as selectors
from grid.services import cases as svc


@pytest.fixture
def clerk(clerk_a):
    user_sync_permissions(clerk_a)
    return clerk_a


@pytest.fixture
def sanitation(db):
    return CaseCategory.objects.get(code="sanitation-garbage")


def make_cases(county, clerk, category, n, **fields):
    return [
        svc.case_create(user=clerk, title=f"事件{i}", description="描述", category=category,
                        grid=county.micro_grids[0], **fields)
        for i in range(n)
    ]


def numbers(response) -> set[str]:
    return {case.number for case in response.context["object_list"]}


def test_list_shows_only_the_township(client, login, county, clerk):
    login(clerk)
    response = client.get(reverse("grid:case-list"))
    assert response.status_code == 200
    assert numbers(response) == {county.cases[0].number}


def test_filters_and_state_tabs(client, login, county, clerk, hazard, sanitation):
    red = make_cases(county, clerk, hazard, 2, colour="red")
    green = make_cases(county, clerk, sanitation, 3)
    svc.case_accept(case=green[0], user=clerk, triage="minor")
    login(clerk)
    url = reverse("grid:case-list")
    assert numbers(client.get(url, {"colour": "red"})) == {c.number for c in red}
    # A top category matches its sub-categories.
    assert numbers(client.get(url, {"category": sanitation.parent_id})) == {c.number for c in green}
    assert numbers(client.get(url, {"q": red[0].number})) == {red[0].number}
    assert numbers(client.get(url, {"q": "事件"})) == {c.number for c in red + green}
    assert numbers(client.get(url, {"triage": "minor"})) == {green[0].number}
    assert numbers(client.get(url, {"state": "accepted"})) == {green[0].number}
    # The tabs count by state within the other filters, in one grouped query.
    response = client.get(url, {"category": sanitation.parent_id, "state": "accepted"})
    tabs = {tab["value"]: tab["count"] for tab in response.context["state_tabs"]}
    assert tabs[""] == 3 and tabs["accepted"] == 1 and tabs["reported"] == 2 and tabs["closed"] == 0
    active = [tab["value"] for tab in response.context["state_tabs"] if tab["active"]]
    assert active == ["accepted"]
    assert 'data-state="accepted"' in response.content.decode()
    # The unit picker: only the clerk's own village.
    response = client.get(url, {"village": county.villages[0].code})
    assert numbers(response) == {c.number for c in red + green} | {county.cases[0].number}
    # A foreign village is dropped, not an error.
    assert client.get(url, {"village": county.villages[1].code}).status_code == 200
    # Bad values do not filter and do not fail.
    assert client.get(url, {"reported_from": "yesterday", "category": "x", "page": "999"}).status_code == 200


def test_search_finds_a_number_by_its_start_and_words_in_title_or_description(client, login, county, clerk, hazard):
    wall, = make_cases(county, clerk, hazard, 1)
    wall.title, wall.description = "外墙开裂 A12345", "雨天渗水"
    wall.save()
    login(clerk)
    url = reverse("grid:case-list")
    assert numbers(client.get(url, {"q": "渗水"})) == {wall.number}  # in the description
    assert numbers(client.get(url, {"q": "开裂"})) == {wall.number}  # in the title
    assert numbers(client.get(url, {"q": wall.number[:12]})) >= {wall.number}  # a number's start
    # What can only be a case number is looked up by number: a title holding it is not a match.
    assert numbers(client.get(url, {"q": "A12345"})) == set()
    assert numbers(client.get(url, {"q": "A12"})) == {wall.number}  # too short to be a number
    # The API searches by the same rule.
    api = client.get("/api/v1/cases/", {"search": "渗水"}, HTTP_ACCEPT="application/json").json()
    assert [row["number"] for row in api["results"]] == [wall.number]
    assert client.get("/api/v1/cases/", {"search": "A12345"}).json()["results"] == []


def test_date_range_overdue_and_mine(client, login, county, clerk, village_a, hazard):
    cases = make_cases(county, clerk, hazard, 3)
    Case.objects.filter(pk=cases[0].pk).update(reported_at=timezone.now() - datetime.timedelta(days=40))
    svc.case_accept(case=cases[1], user=clerk, triage="minor")
    svc.case_dispatch(case=cases[1], user=clerk, unit=county.villages[0], assignee=village_a)
    Case.objects.filter(pk=cases[1].pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    login(clerk)
    url = reverse("grid:case-list")
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    response = client.get(url, {"reported_from": since})
    assert cases[0].number not in numbers(response) and cases[1].number in numbers(response)
    old = (timezone.localdate() - datetime.timedelta(days=40)).isoformat()
    assert numbers(client.get(url, {"reported_from": old, "reported_to": old})) == {cases[0].number}
    response = client.get(url, {"overdue": "on"})
    assert numbers(response) == {cases[1].number}
    assert "case-overdue" in response.content.decode()
    assert numbers(client.get(url, {"mine": "on"})) == set()
    login(village_a)
    assert numbers(client.get(url, {"mine": "on"})) == {cases[1].number}


def test_sorting(client, login, county, clerk, hazard):
    cases = make_cases(county, clerk, hazard, 3)
    login(clerk)
    url = reverse("grid:case-list")
    ordered = [c.number for c in client.get(url, {"sort": "number"}).context["object_list"]]
    assert ordered == sorted(ordered)
    ordered = [c.number for c in client.get(url, {"sort": "-number"}).context["object_list"]]
    assert ordered == sorted(ordered, reverse=True)
    assert client.get(url, {"sort": "due"}).status_code == 200
    assert client.get(url, {"sort": "password"}).status_code == 200
    assert len(cases) == 3


def test_export_masks_the_phone_and_is_logged(client, login, county, clerk, hazard):
    make_cases(county, clerk, hazard, 2, reporter_name="王五", reporter_phone="13912345678")
    login(clerk)
    response = client.get(reverse("grid:case-list"), {"export": "xlsx", "colour": "green"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert "13912345678" not in cells and "139****5678" in cells
    log = ExportLog.objects.get(user=clerk)
    assert log.kind == "cases" and log.rows == 3 and not log.unmasked


def _list_queries(client, django_assert_max_num_queries, limit):
    url = reverse("grid:case-list")
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url, {"overdue": "", "sort": "-reported"})
    assert response.status_code == 200
    return len(captured), len(response.context["object_list"])


def test_query_count_is_constant(client, login, county, clerk, hazard, django_assert_max_num_queries):
    login(clerk)
    few, rows = _list_queries(client, django_assert_max_num_queries, 20)
    assert rows == 1
    make_cases(county, clerk, hazard, 35)
    Case.objects.filter(state=CaseState.REPORTED).update(due_at=timezone.now())
    many, rows = _list_queries(client, django_assert_max_num_queries, 20)
    assert rows == 30
    assert many == few


def test_selectors_counts_one_query(county, clerk, hazard, django_assert_num_queries):
    make_cases(county, clerk, hazard, 3)
    with django_assert_num_queries(1):
        counts = selectors.state_counts(fetched_by=clerk, filters={"state": "closed"})
    assert counts["reported"] == 4 and counts["closed"] == 0
