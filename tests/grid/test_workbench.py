"""Part 7: the home page is the work bench — every role lands on what it must do today."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.audit import Action, record
from governance.indicators.engine import rollup_month
from governance.models import Role, RollupRun, RollupStatus
from grid.services import cases as svc
from tests.helpers.people import new_user

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def tiles(html: str) -> dict[str, str]:
    """The number on each to-do tile of the page."""
    import re

    return dict(re.findall(r'<span data-count="(\w+)">([\d,]+)</span>', html))


def test_a_township_clerk_lands_on_his_to_do_with_counts(staff, county, clerk_a, village_a, new_case):
    waiting = new_case("待受理")
    resolved = svc.case_accept(case=new_case("待核查"), user=clerk_a, triage="minor")
    svc.case_dispatch(case=resolved, user=clerk_a, unit=county.villages[0])
    svc.case_take(case=resolved, user=village_a, start=True)
    svc.case_resolve(case=resolved, user=village_a, result="已处理")
    html = text(staff(clerk_a).get("/"))
    counts = tiles(html)
    # The cast's own dispute case waits for acceptance too.
    assert counts["intake"] == "2" and counts["check"] == "1" and counts["overdue"] == "0"
    assert waiting.number in html  # the most urgent section's cases are listed under the tiles
    assert 'href="/grid/work/#section-intake"' in html
    # The org chain's counts moved to the org pages.
    assert "户数" not in html or 'id="unit-summary"' not in html


def test_a_village_clerk_sees_what_was_sent_to_his_unit(staff, county, clerk_a, village_a, new_case):
    case = svc.case_accept(case=new_case(), user=clerk_a, triage="minor")
    svc.case_dispatch(case=case, user=clerk_a, unit=county.villages[0])
    html = text(staff(village_a).get("/"))
    assert tiles(html)["unit"] == "1"
    row = html[html.index(f"data-case=\"{case.pk}\""):]
    assert case.number in row and "接单" in row[:row.index("</tr>")]  # who acts next, on the row


def test_a_county_official_lands_on_the_dashboard(staff, county, county_official):
    response = staff(county_official).get("/")
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_an_administrator_sees_his_to_do_and_the_last_runs_and_imports(staff, county, django_assert_max_num_queries):
    admin = new_user("admin_a", Role.ADMIN, county.county, is_superuser=True)
    rollup_month(datetime.date(2025, 5, 1))
    RollupRun.objects.create(period=datetime.date(2025, 5, 1), status=RollupStatus.COMPLETE, started_at=timezone.now(),
                             duration_s=1.5)
    record(Action.IMPORT, user=admin, object_type="governance.Resident",  # as a roster import records itself
           changes={"kind": [None, "residents"], "rows": [None, 1]})
    client = staff(admin)
    with django_assert_max_num_queries(30):
        html = text(client.get("/"))
    assert 'id="workbench-todo"' in html
    runs = html[html.index('id="workbench-runs"'):]
    assert "2025-05" in runs
    imports = html[html.index('id="workbench-imports"'):]
    assert "/admin/governance/resident/" in imports


def test_the_workbench_costs_the_same_queries_however_many_cases(staff, county, clerk_a, new_case,
                                                               django_assert_max_num_queries):
    client = staff(clerk_a)
    client.get("/")
    for n in range(12):
        new_case(f"事件{n}")
    with django_assert_max_num_queries(22):
        client.get("/")
