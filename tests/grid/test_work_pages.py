"""My work (/grid/work/): each section holds the right cases for the right user, scope, query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from grid.models import Case
from grid.selectors.work import my_work
from grid.services import cases as svc

MY_WORK = "/grid/work/"


@pytest.fixture
def work(county, clerk_a, village_a, new_case):
    """One case in every section of township A: its clerk's and its village worker's work."""
    village = county.villages[0]

    def dispatched(title, *, assignee=None, colour="green"):
        case = new_case(title, colour=colour)
        svc.case_accept(case=case, user=clerk_a, triage="minor")
        return svc.case_dispatch(case=case, user=clerk_a, unit=village, assignee=assignee)

    cases = {
        "assigned": dispatched("派给村干部", assignee=village_a),
        "unit": dispatched("派给本村"),
        "intake": new_case("新上报"),
        "due_soon": dispatched("红色紧急", assignee=village_a, colour="red"),
        "late": dispatched("已超期", assignee=village_a),
        "check": dispatched("待核查", assignee=village_a),
    }
    svc.case_take(case=cases["check"], user=village_a)
    svc.case_start(case=cases["check"], user=village_a)
    svc.case_resolve(case=cases["check"], user=village_a, result="已处理")
    Case.objects.filter(pk=cases["late"].pk).update(due_at=timezone.now() - datetime.timedelta(hours=2))
    return cases


def section_ids(response) -> dict[str, set[int]]:
    return {section["key"]: {case.pk for case in section["rows"]} for section in response.context["sections"]}


def counts(response) -> dict[str, int]:
    return {section["key"]: section["count"] for section in response.context["sections"]}


def test_anonymous_is_sent_to_login(client, county):
    response = client.get(MY_WORK)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_url_name(db):
    assert reverse("grid:my-work") == MY_WORK


def test_the_village_worker_sees_what_is_his_and_his_units(staff, village_a, work):
    response = staff(village_a).get(MY_WORK)
    assert response.status_code == 200
    ids = section_ids(response)
    # A village worker neither accepts nor checks: he has no such sections.
    assert set(ids) == {"overdue", "due_soon", "assigned", "unit"}
    assert ids["assigned"] == {work["assigned"].pk, work["due_soon"].pk, work["late"].pk}
    assert ids["unit"] == {work["unit"].pk}
    assert ids["due_soon"] == {work["due_soon"].pk}
    assert ids["overdue"] == {work["late"].pk}
    # Overdue first in its section, the most urgent deadline first in the others.
    assert [case.pk for case in response.context["sections"][2]["rows"]][0] == work["late"].pk


def test_the_clerk_sees_what_waits_for_his_township(staff, county, clerk_a, work):
    response = staff(clerk_a).get(MY_WORK)
    ids = section_ids(response)
    assert set(ids) == {"overdue", "due_soon", "assigned", "unit", "intake", "check"}
    assert ids["assigned"] == set() and ids["unit"] == set()
    # The cast's own case, reported to township A, waits there too.
    assert ids["intake"] == {work["intake"].pk, county.cases[0].pk}
    assert ids["check"] == {work["check"].pk}
    # He dispatched them: their deadlines are his concern as well.
    assert ids["due_soon"] == {work["due_soon"].pk}
    assert ids["overdue"] == {work["late"].pk}
    assert counts(response) == {"overdue": 1, "due_soon": 1, "assigned": 0, "unit": 0, "intake": 2, "check": 1}


def test_the_page_links_every_case_and_says_when_a_section_is_empty(staff, clerk_a, work):
    with translation.override("en"):
        response = staff(clerk_a).get(MY_WORK)
    html = response.content.decode()
    assert reverse("grid:case-detail", args=[work["check"].pk]) in html
    assert reverse("grid:case-detail", args=[work["intake"].pk]) in html
    assert "暂无指派给您的事件。" in html
    assert 'data-count="intake">2<' in html


def test_township_b_sees_none_of_it(staff, county, clerk_b, work):
    response = staff(clerk_b).get(MY_WORK)
    # Only its own case, reported to township B, waiting to be accepted.
    assert {key: ids for key, ids in section_ids(response).items() if ids} == {"intake": {county.cases[1].pk}}
    assert counts(response)["intake"] == 1 and sum(counts(response).values()) == 1
    html = response.content.decode()
    assert not any(case.number in html for case in work.values())


def test_checking_follows_the_rule_of_the_loop(clerk_a, county_official, village_a, work):
    """Whoever the check section lists may verify the case; the village worker may not."""
    for user in (clerk_a, county_official):
        rows = {section.key: section.rows for section in my_work(fetched_by=user)}["check"]
        assert rows and all("verify" in svc.case_allowed_actions(case=case, user=user) for case in rows)
    assert "verify" not in svc.case_allowed_actions(case=work["check"], user=village_a)


def test_a_closed_or_taken_case_leaves_the_sections(clerk_a, village_a, work):
    svc.case_take(case=work["unit"], user=village_a)  # now his own
    svc.case_verify(case=work["check"], user=clerk_a)
    sections = {section.key: {c.pk for c in section.rows} for section in my_work(fetched_by=village_a)}
    assert work["unit"].pk in sections["assigned"] and not sections["unit"]
    check = {section.key: {c.pk for c in section.rows} for section in my_work(fetched_by=clerk_a)}["check"]
    assert work["check"].pk in check  # verified: still his, to rate and close
    svc.case_rate(case=work["check"], user=clerk_a, rating="satisfied")
    svc.case_close(case=work["check"], user=clerk_a)
    check = {section.key: {c.pk for c in section.rows} for section in my_work(fetched_by=clerk_a)}["check"]
    assert work["check"].pk not in check


def test_a_section_lists_its_first_rows_and_counts_all(clerk_a, new_case):
    for n in range(4):
        new_case(f"上报{n}")
    sections = {section.key: section for section in my_work(fetched_by=clerk_a, rows=3)}
    assert sections["intake"].count == 5 and len(sections["intake"].rows) == 3


def test_the_system_operator_without_a_unit_gets_a_page(staff, django_user_model, county, work):
    operator = django_user_model.objects.create_superuser("root", password="pw-for-tests-only")
    response = staff(operator).get(MY_WORK)
    assert response.status_code == 200
    assert work["check"].pk in section_ids(response)["check"]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(MY_WORK).status_code == 200
    return len(context)


def test_the_page_costs_the_same_queries_however_many_cases(staff, county, clerk_a, village_a, work, new_case,
                                                            django_assert_max_num_queries):
    client = staff(clerk_a)
    before = _queries(client)
    for n in range(8):
        case = new_case(f"更多{n}", grid=county.grids[0])
        svc.case_accept(case=case, user=clerk_a, triage="minor")
        svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0], assignee=village_a)
    assert _queries(client) == before
    with django_assert_max_num_queries(14):
        client.get(MY_WORK)
