"""What an administrator does from the dashboard: start a month's computation and follow its
progress to the end; and what the county does after review: approve (lock) a month and
re-open it. Refusals come back as messages on the dashboard, never as an error page."""

import re

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from governance.indicators import runs
from governance.indicators.approval import APPROVAL_NOT_COMPUTED
from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month, this_month
from governance.models import IndicatorValue, MonthApproval, Role, RollupRun
from tests.helpers.markers import requires_postgres
from tests.helpers.people import new_user
from tests.helpers.processes import free_port, portal_process

pytestmark = pytest.mark.django_db


def last_month():
    return shift_month(this_month(), -1)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def follow(client, response):
    assert response.status_code == 302, response.content[:500]
    return client.get(response["Location"])


def test_an_administrator_computes_a_month_from_the_dashboard_and_sees_it_finish(
        login, admin_user, county, eager_celery):
    month = last_month()
    client = login(admin_user)
    page = client.get(f"/dashboard/?period={month:%Y-%m}").content.decode()
    last_run = page.split('id="dashboard-last-run"')[1].split("</span>")[0]
    assert "/dashboard/runs/" not in last_run  # nothing computed yet, no run to link to
    assert 'id="dashboard-compute"' in page

    back = f"/dashboard/?period={month:%Y-%m}"
    response = client.post("/dashboard/runs/", {"period": f"{month:%Y-%m}", "next": back})
    run = RollupRun.objects.get()
    assert re.fullmatch(rf"/dashboard/runs/{run.pk}/\?next=.+", response["Location"])
    progress = follow(client, response)
    assert progress.status_code == 200
    html = progress.content.decode()
    # Run eagerly (no broker): finished by the time the page shows, every part done, nothing left to poll.
    run.refresh_from_db()
    assert run.status == "complete" and run.org_unit == county.county
    assert set(run.parts) == {county.township_a.code, county.township_b.code, "upper"}
    assert 'data-status="complete"' in html and "hx-trigger" not in html
    assert html.count('data-status="ok"') == 3
    assert f'href="{back}"' in html.replace("&amp;", "&")
    # The figures are there, and the dashboard says when they were computed.
    assert IndicatorValue.objects.filter(period=month, org_unit=county.county).exists()
    dashboard_page = client.get(back)
    assert dashboard_page.context["has_values"] is True
    assert dashboard_page.context["last_run"] == run
    assert f"/dashboard/runs/{run.pk}/" in dashboard_page.content.decode()


def test_a_running_run_is_followed_every_two_seconds_until_it_ends(login, admin_user, county):
    month = last_month()
    run = RollupRun.objects.create(
        period=month, org_unit=county.county, started_at=timezone.now(),
        parts={county.township_a.code: {"status": "ok", "seconds": 1.5, "attempts": 1},
               county.township_b.code: {"status": "pending"}, "upper": {"status": "pending"}})
    client = login(admin_user)
    page = client.get(f"/dashboard/runs/{run.pk}/")
    html = page.content.decode()
    assert page.context["done"] == 1 and page.context["total"] == 3 and page.context["percent"] == 33
    assert 'hx-trigger="every 2s"' in html and 'aria-valuenow="33"' in html
    assert county.township_a.name in html and county.township_b.name in html
    # htmx asks for the progress alone, which replaces itself.
    fragment = client.get(f"/dashboard/runs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section class="portal-card" id="rollup-progress"')
    assert "<html" not in fragment

    run.parts = {code: {"status": "ok", "seconds": 1.0, "attempts": 1} for code in run.parts}
    run.parts[county.township_b.code] = {"status": "failed", "seconds": 3.0, "attempts": 4}
    run.errors = [{"part": f"{county.township_b.code} grid", "keys": ["grid.cases_raised"], "error": "boom"}]
    run.status, run.duration_s, run.finished_at = "partial", 9.0, timezone.now()
    run.save()
    fragment = client.get(f"/dashboard/runs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and 'data-status="partial"' in fragment
    assert 'id="run-errors"' in fragment and "boom" in fragment


def test_only_an_administrator_starts_a_run_or_follows_one(login, county_official, clerk_a, county):
    month = last_month()
    client = login(county_official)
    page = client.get(f"/dashboard/?period={month:%Y-%m}").content.decode()
    assert 'id="dashboard-compute"' not in page and 'id="dashboard-last-run"' not in page
    response = client.post("/dashboard/runs/", {"period": f"{month:%Y-%m}"})
    assert response.status_code == 302 and not RollupRun.objects.exists()
    assert messages_of(response) == [str(runs.ROLLUP_NOT_ALLOWED)]

    run = RollupRun.objects.create(period=month, org_unit=county.county, started_at=timezone.now(), parts={})
    assert client.get(f"/dashboard/runs/{run.pk}/").status_code == 403
    assert login(clerk_a).get(f"/dashboard/runs/{run.pk}/").status_code == 403
    # A GET does not start anything.
    assert client.get("/dashboard/runs/").status_code == 405


def test_a_township_administrator_computes_his_township_only(login, county, eager_celery):
    township_admin = new_user("admin_a", Role.ADMIN, county.township_a)
    month = last_month()
    response = login(township_admin).post("/dashboard/runs/", {"period": f"{month:%Y-%m}"})
    run = RollupRun.objects.get()
    assert response.status_code == 302 and run.org_unit == county.township_a
    assert set(run.parts) == {county.township_a.code}
    assert IndicatorValue.objects.filter(period=month, org_unit=county.township_a).exists()
    assert not IndicatorValue.objects.filter(period=month, org_unit=county.township_b).exists()
    # A run of the whole county is not his to see.
    other = RollupRun.objects.create(period=month, org_unit=None, started_at=timezone.now(), parts={})
    assert login(township_admin).get(f"/dashboard/runs/{other.pk}/").status_code == 404


@pytest.mark.parametrize("period, expected", [
    ("2999-01", runs.ROLLUP_NOT_BEGUN % {"month": "2999-01"}),
    ("soon", "YYYY-MM"),
])
def test_a_month_that_cannot_be_computed_is_refused_with_a_message(login, admin_user, county, period, expected):
    response = login(admin_user).post("/dashboard/runs/", {"period": period, "next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert not RollupRun.objects.exists()
    [message] = messages_of(response)
    assert str(expected) in message


def test_a_link_elsewhere_is_not_followed_after_starting(login, admin_user, county, eager_celery):
    response = login(admin_user).post("/dashboard/runs/", {"period": "2999-01", "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_the_county_approves_a_month_then_an_administrator_reopens_it(login, county_official, admin_user,
                                                                      county, eager_celery):
    month = last_month()
    url = f"/dashboard/?period={month:%Y-%m}"
    client = login(county_official)
    # Not computed yet: the approval is refused and says why.
    response = client.post("/dashboard/approval/", {"period": f"{month:%Y-%m}", "action": "approve", "next": url})
    assert response["Location"] == url and not MonthApproval.objects.exists()
    [message] = messages_of(response)
    assert message.startswith(str(APPROVAL_NOT_COMPUTED % {"month": f"{month:%Y-%m}", "status": ""})[:8])

    assert login(admin_user).post("/dashboard/runs/", {"period": f"{month:%Y-%m}"}).status_code == 302
    client = login(county_official)
    page = client.get(url).content.decode()
    assert 'id="dashboard-approve"' in page and 'id="dashboard-approved"' not in page
    response = client.post("/dashboard/approval/", {"period": f"{month:%Y-%m}", "action": "approve", "next": url})
    approval = MonthApproval.objects.get(period=month)
    assert approval.locked and approval.approved_by == county_official
    page = follow(client, response).content.decode()
    assert 'id="dashboard-approved"' in page and 'id="dashboard-reopen"' in page

    # Locked: an administrator cannot recompute it, and is told to re-open it first.
    admin = login(admin_user)
    page = admin.get(url).content.decode()
    assert 'id="dashboard-compute"' not in page
    before = RollupRun.objects.count()
    response = admin.post("/dashboard/runs/", {"period": f"{month:%Y-%m}", "next": url})
    assert RollupRun.objects.count() == before
    assert messages_of(response) == [runs.ROLLUP_LOCKED % {"month": f"{month:%Y-%m}"}]

    response = admin.post("/dashboard/approval/", {"period": f"{month:%Y-%m}", "action": "reopen", "next": url})
    approval.refresh_from_db()
    assert not approval.locked and approval.reopened_by == admin_user
    page = follow(admin, response).content.decode()
    assert 'id="dashboard-approved"' not in page and 'id="dashboard-compute"' in page


def test_this_month_cannot_be_approved_and_has_no_approve_button(login, county_official, county):
    month = this_month()
    rollup_month(month)
    client = login(county_official)
    assert 'id="dashboard-approve"' not in client.get(f"/dashboard/?period={month:%Y-%m}").content.decode()
    response = client.post("/dashboard/approval/", {"period": f"{month:%Y-%m}", "action": "approve"})
    assert response.status_code == 302 and not MonthApproval.objects.exists()


def test_a_clerk_cannot_approve(login, clerk_a, county):
    month = last_month()
    rollup_month(month)
    client = login(clerk_a)
    assert 'id="dashboard-approve"' not in client.get(f"/dashboard/?period={month:%Y-%m}").content.decode()
    client.post("/dashboard/approval/", {"period": f"{month:%Y-%m}", "action": "approve"})
    assert not MonthApproval.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_run_is_marked_failed_and_the_user_told(county):
    """A real Redis address with nothing listening: the publish fails at once, and the run does not hang."""
    dead_port = free_port()
    admin = new_user("admin_down", Role.ADMIN, county.county)
    result = portal_process(f"""
import json, time
from django.core.exceptions import ValidationError
from governance.models import RollupRun, User
from governance.indicators.runs import rollup_start
import datetime
started = time.monotonic()
try:
    rollup_start(period=datetime.date({last_month().year}, {last_month().month}, 1),
                 user=User.objects.get(pk={admin.pk}))
    message = None
except ValidationError as exc:
    message = exc.messages[0]
run = RollupRun.objects.get()
print(json.dumps({{"message": message, "status": run.status, "errors": run.errors,
                  "elapsed": time.monotonic() - started}}))
""", dead_port)
    assert result["message"] == str(runs.ROLLUP_NOT_QUEUED % {"month": f"{last_month():%Y-%m}"})
    assert result["status"] == "failed" and result["errors"][0]["part"] == "queue"
    assert result["elapsed"] < 15  # answered well within a request's patience


def test_a_run_of_the_whole_tree_is_the_county_administrators_to_follow(login, county):
    """The nightly and demo runs have no scope (every unit): the administrator of the top unit
    sees them as the month's last run; one of a township does not."""
    month = last_month()
    run = rollup_month(month)
    county_admin = new_user("admin_county", Role.ADMIN, county.county)
    client = login(county_admin)
    page = client.get(f"/dashboard/?period={month:%Y-%m}")
    assert page.context["last_run"] == run
    assert 'id="dashboard-compute"' in page.content.decode()
    assert client.get(f"/dashboard/runs/{run.pk}/").status_code == 200
    township_admin = new_user("admin_a", Role.ADMIN, county.township_a)
    client = login(township_admin)
    assert client.get(f"/dashboard/?period={month:%Y-%m}").context["last_run"] is None
    assert client.get(f"/dashboard/runs/{run.pk}/").status_code == 404
