"""The Open311 GeoReport v2 façade (/open311/v2/): keys, rate limit, services, filing cases, statuses, scope."""

import datetime
import hashlib
import logging

import pytest
from django.core.cache import cache

from governance.demo import seed_demo
from governance.models import HOUSEHOLD_LEVELS, OrgUnit, User
from grid.admin.cases import open311_key_issue
from grid.api import open311
from grid.models import Case, CaseCategory, CaseSource, ColourDeadline, Open311Client
from grid.services import cases as svc
from grid.taxonomy import seed_taxonomy

BASE = "/open311/v2/"


@pytest.fixture(autouse=True)
def fresh_rate_windows():
    """Each test starts with no call counted (the windows live in the shared cache)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def categories(db):
    """The seeded categories (a migration seeds them, but a transactional test empties every table)."""
    seed_taxonomy(CaseCategory, ColourDeadline)


@pytest.fixture
def api_client(clerk_a):
    """An Open311 client filing as township A's clerk; ``.key`` is the plain key."""
    client = Open311Client(name="随手拍", user=clerk_a, per_minute=100)
    key = open311_key_issue(client)
    client.save()
    client.key = key
    return client


@pytest.fixture
def located(county):
    """Centroids: township A's grid and micro-grid a few km apart, township B's grid next to them."""
    OrgUnit.objects.filter(pk=county.grids[0].pk).update(latitude="27.500000", longitude="102.300000")
    OrgUnit.objects.filter(pk=county.micro_grids[0].pk).update(latitude="27.400000", longitude="102.180000")
    OrgUnit.objects.filter(pk=county.grids[1].pk).update(latitude="27.450000", longitude="102.240000")
    return county


def get(client, url, key=None, **params):
    if key is not None:
        params["api_key"] = key
    return client.get(BASE + url, params, HTTP_ACCEPT_LANGUAGE="en")


def file(client, key, **data):
    body = {"service_code": "sanitation-garbage", "description": "村口垃圾堆放\n已有一周无人清运", **data}
    if key is not None:
        body["api_key"] = key
    return client.post(BASE + "requests.json", body, HTTP_ACCEPT_LANGUAGE="en")


def error(response) -> str:
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == response.status_code
    return body[0]["description"]


# --- Keys -----------------------------------------------------------------------------------------


def test_the_key_is_stored_as_its_hash(api_client):
    stored = Open311Client.objects.get(pk=api_client.pk)
    assert stored.key_hash == hashlib.sha256(api_client.key.encode()).hexdigest()
    assert stored.key_prefix == api_client.key[:8] and len(api_client.key) >= 40


@pytest.mark.parametrize("url", ["requests.json", "requests/X.json"])
def test_every_request_call_needs_a_valid_key(client, api_client, url):
    for key in (None, "", "wrong-key", api_client.key_hash):
        response = get(client, url, key)
        assert response.status_code == 403
        assert "api_key" in error(response)


def test_posting_needs_a_valid_key(client, api_client):
    assert file(client, None).status_code == 403
    assert file(client, "not-the-key").status_code == 403
    assert not Case.objects.filter(source=CaseSource.OPEN311).exists()


def test_an_inactive_client_or_user_is_refused(client, api_client):
    Open311Client.objects.filter(pk=api_client.pk).update(is_active=False)
    assert get(client, "requests.json", api_client.key).status_code == 403
    Open311Client.objects.filter(pk=api_client.pk).update(is_active=True)
    type(api_client.user).objects.filter(pk=api_client.user.pk).update(is_active=False)
    assert get(client, "requests.json", api_client.key).status_code == 403


# --- Public discovery -------------------------------------------------------------------------------


def test_discovery_answers_without_a_key(client, categories):
    """A standard GeoReport v2 client reads the services without a key; a stale key does not stop it."""
    for key in (None, "a-stale-key"):
        services = get(client, "services.json", key)
        assert services.status_code == 200
        codes = {row["service_code"] for row in services.json()}
        assert {"sanitation-garbage", "other"} <= codes
        definition = get(client, "services/sanitation-garbage.json", key)
        assert definition.status_code == 200 and definition.json()["service_code"] == "sanitation-garbage"
    assert get(client, "services/nope.json").status_code == 404


def test_requests_stay_keyed_when_discovery_is_public(client, county):
    assert get(client, "requests.json").status_code == 403
    assert get(client, f"requests/{county.cases[0].number}.json").status_code == 403
    response = file(client, None, **{"attribute[grid]": county.grids[0].code})
    assert response.status_code == 403 and "api_key" in error(response)
    assert not Case.objects.filter(source=CaseSource.OPEN311).exists()


def test_anonymous_discovery_is_limited_per_address(client, categories, monkeypatch):
    monkeypatch.setattr(open311, "ANONYMOUS_PER_MINUTE", 2)
    here, there = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "198.51.100.8"}
    assert client.get(BASE + "services.json", **here).status_code == 200
    assert client.get(BASE + "services/other.json", **here).status_code == 200
    refused = client.get(BASE + "services.json", HTTP_ACCEPT_LANGUAGE="en", **here)
    assert refused.status_code == 429 and "at most 2" in error(refused)
    assert client.get(BASE + "services.json", **there).status_code == 200  # another caller has his own window


def test_keyed_discovery_counts_against_the_clients_own_window(client, api_client, monkeypatch):
    monkeypatch.setattr(open311, "ANONYMOUS_PER_MINUTE", 1)
    for _i in range(3):  # more than an anonymous caller may, within the client's 100
        assert get(client, "services.json", api_client.key).status_code == 200


class DownCache:
    """A cache whose server cannot be reached."""

    def add(self, *args, **kwargs):
        raise ConnectionError("cache unreachable")

    incr = set = add


def test_a_cache_outage_lets_calls_through(client, county, api_client, monkeypatch, caplog):
    monkeypatch.setattr(open311, "cache", DownCache())
    with caplog.at_level(logging.WARNING, logger="grid.api.open311"):
        assert get(client, "services.json").status_code == 200
        assert get(client, "requests.json", api_client.key).status_code == 200
        assert get(client, "requests.json").status_code == 403  # the key is still checked
    assert "rate limit skipped" in caplog.text


def test_the_rate_limit_answers_429(client, api_client):
    Open311Client.objects.filter(pk=api_client.pk).update(per_minute=3)
    for _i in range(3):
        assert get(client, "services.json", api_client.key).status_code == 200
    refused = file(client, api_client.key, **{"attribute[grid]": api_client.user.home_unit.code})
    assert refused.status_code == 429
    assert "at most 3" in error(refused)
    assert not Case.objects.filter(source=CaseSource.OPEN311).exists()


# --- Services -------------------------------------------------------------------------------------


def test_services_are_the_leaf_categories(client, api_client):
    response = get(client, "services.json", api_client.key)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    services = {row["service_code"]: row for row in response.json()}
    assert "sanitation-garbage" in services and "other" in services  # "other" has no sub-categories
    assert "sanitation" not in services
    garbage = services["sanitation-garbage"]
    assert garbage["service_name"] == "垃圾堆放" and garbage["group"] == "环境卫生"
    assert garbage["type"] == "realtime" and set(garbage) >= {"description", "metadata", "keywords"}


def test_a_service_definition_names_the_grid_attribute(client, api_client):
    body = get(client, "services/sanitation-garbage.json", api_client.key).json()
    assert body["service_code"] == "sanitation-garbage"
    assert [a["code"] for a in body["attributes"]] == ["grid"]
    assert get(client, "services/sanitation.json", api_client.key).status_code == 404


def test_xml_and_other_methods_are_refused_clearly(client, api_client):
    response = get(client, "services.xml", api_client.key)
    assert response.status_code == 400 and "JSON" in error(response)
    response = client.post(BASE + "services.json", {"api_key": api_client.key})
    assert response.status_code == 405


# --- Filing a case ----------------------------------------------------------------------------------


def test_filing_in_the_grid_given_by_attribute(client, county, api_client, clerk_a):
    response = file(client, api_client.key, **{
        "attribute[grid]": county.micro_grids[0].code, "first_name": "三", "last_name": "张", "phone": "13811112222",
        "email": "z@example.com", "address_string": "村口", "lat": "27.41", "long": "102.19",
    })
    assert response.status_code == 201, response.content
    [row] = response.json()
    case = Case.objects.get(number=row["service_request_id"])
    assert row["service_notice"] and "account_id" in row
    assert case.grid == county.micro_grids[0] and case.created_by == clerk_a
    assert case.source == CaseSource.OPEN311 and case.category.code == "sanitation-garbage"
    assert case.title == "村口垃圾堆放" and case.description.startswith("村口垃圾堆放")
    assert (case.reporter_name, case.reporter_phone, case.address) == ("张三", "13811112222", "村口")
    assert str(case.latitude) == "27.410000" and case.state == "reported"
    assert [e.action for e in case.events.all()] == ["create"]


@pytest.mark.parametrize(
    ("lat", "long", "expected"),
    [("27.49", "102.29", "grid"), ("27.41", "102.17", "micro"), ("27.44", "102.22", "micro")],
)
def test_filing_in_the_nearest_grid_of_the_area(client, located, api_client, lat, long, expected):
    # The third point lies nearest to township B's grid, which is outside the client's area.
    response = file(client, api_client.key, lat=lat, long=long)
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.grid == {"grid": located.grids[0], "micro": located.micro_grids[0]}[expected]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"attribute[grid]": "513424101201001"}, "outside this client's area"),  # township B's grid
        ({"attribute[grid]": "513424100201"}, "outside this client's area"),  # a village is not a grid
        ({"lat": "40.0", "long": "116.4"}, "near"),  # Beijing: far from every grid
        ({}, "lat and long"),
        ({"lat": "27.4"}, "both lat and long"),
        ({"lat": "north", "long": "102.1"}, "not a number"),
        ({"lat": "127.4", "long": "102.1"}, "out of range"),
        ({"lat": "NaN", "long": "102.1"}, "out of range"),
        ({"service_code": "nope", "lat": "27.41", "long": "102.17"}, "service_code"),
        ({"service_code": "sanitation", "lat": "27.41", "long": "102.17"}, "service_code"),
        ({"service_code": "", "lat": "27.41", "long": "102.17"}, "service_code"),
        ({"description": " ", "lat": "27.41", "long": "102.17"}, "description"),
        ({"phone": "12", "lat": "27.41", "long": "102.17"}, "phone"),
    ],
)
def test_bad_requests_are_400_with_an_open311_error(client, located, api_client, data, message):
    response = file(client, api_client.key, **data)
    assert response.status_code == 400, response.content
    assert message in error(response)
    assert not Case.objects.filter(source=CaseSource.OPEN311).exists()


def test_no_grid_with_coordinates(client, county, api_client):
    response = file(client, api_client.key, lat="27.41", long="102.17")
    assert response.status_code == 400 and "attribute[grid]" in error(response)


# --- Reading requests ---------------------------------------------------------------------------------


def test_requests_show_open_and_closed_without_personal_data(client, county, api_client, clerk_a):
    case_a = county.cases[0]
    rejected = svc.case_create(user=clerk_a, title="重复", description="重复上报", category=case_a.category,
                               grid=county.micro_grids[0], reporter_name="李四", reporter_phone="13900001111")
    svc.case_reject(case=rejected, user=clerk_a, reason="与前案重复")
    svc.case_accept(case=case_a, user=clerk_a, triage="minor", comment="请村里处理")
    response = get(client, "requests.json", api_client.key)
    assert response.status_code == 200
    rows = {row["service_request_id"]: row for row in response.json()}
    assert set(rows) == {case_a.number, rejected.number}  # nothing of township B
    assert rows[rejected.number]["status"] == "closed" and rows[rejected.number]["status_notes"] == "与前案重复"
    assert rows[case_a.number]["status"] == "open" and rows[case_a.number]["status_notes"] == "请村里处理"
    assert rows[case_a.number]["service_code"] == "dispute-neighbour"
    text = response.content.decode()
    for personal in ("李四", "13900001111", case_a.reporter_phone, case_a.reporter_name):
        assert personal not in text
    only_open = get(client, "requests.json", api_client.key, status="open").json()
    assert [row["service_request_id"] for row in only_open] == [case_a.number]
    only_closed = get(client, "requests.json", api_client.key, status="closed").json()
    assert [row["service_request_id"] for row in only_closed] == [rejected.number]
    assert get(client, "requests.json", api_client.key, status="maybe").status_code == 400


def test_status_notes_fall_back_to_the_step_name(client, county, api_client, clerk_a):
    with_no_comment = get(client, f"requests/{county.cases[0].number}.json", api_client.key).json()
    assert with_no_comment[0]["status_notes"]  # the "create" step's label


def test_one_request_by_its_number(client, county, api_client):
    case_a, case_b = county.cases
    response = get(client, f"requests/{case_a.number}.json", api_client.key)
    assert response.status_code == 200
    [row] = response.json()
    assert row["service_request_id"] == case_a.number and row["status"] == "open"
    assert row["requested_datetime"] and row["updated_datetime"]
    assert get(client, f"requests/{case_b.number}.json", api_client.key).status_code == 404
    assert get(client, "requests/nothing.json", api_client.key).status_code == 404


def test_requests_by_id_code_and_date(client, county, api_client, clerk_a):
    case_a = county.cases[0]
    key = api_client.key
    by_ids = get(client, "requests.json", key, service_request_id=f"{case_a.number},{county.cases[1].number}")
    assert [row["service_request_id"] for row in by_ids.json()] == [case_a.number]
    assert len(get(client, "requests.json", key, service_code="dispute").json()) == 1
    assert get(client, "requests.json", key, service_code="fire-lane").json() == []
    assert get(client, "requests.json", key, start_date="2000-01-01T00:00:00+08:00").json()
    assert get(client, "requests.json", key, end_date="2000-01-01").json() == []
    assert get(client, "requests.json", key, start_date="yesterday").status_code == 400


def test_a_filed_request_reads_back(client, county, api_client):
    filed = file(client, api_client.key, **{"attribute[grid]": county.grids[0].code}).json()[0]
    rows = get(client, f"requests/{filed['service_request_id']}.json", api_client.key).json()
    assert rows[0]["status"] == "open" and rows[0]["service_code"] == "sanitation-garbage"


def test_a_json_body_is_accepted_too(client, county, api_client):
    import json

    body = {"api_key": api_client.key, "service_code": "other", "description": "路灯不亮",
            "attribute[grid]": county.grids[0].code, "lat": None}
    response = client.post(BASE + "requests.json", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    broken = client.post(BASE + "requests.json", "{nope", content_type="application/json",
                         HTTP_ACCEPT_LANGUAGE="en")
    assert broken.status_code == 400 and "JSON" in error(broken)


# --- The demo ----------------------------------------------------------------------------------------


def test_a_report_by_position_finds_its_grid_in_the_demo(client, db):
    """Every demo grid and micro-grid has a centroid; a report by lat/long lands in the nearest one."""
    seed_demo(scale="small", seed=1, today=datetime.date(2025, 7, 1))
    units = OrgUnit.objects.filter(level__in=HOUSEHOLD_LEVELS)
    assert not units.filter(latitude__isnull=True).exists() and not units.filter(longitude__isnull=True).exists()
    demo = Open311Client(name="随手拍", user=User.objects.get(username="county"), per_minute=100)
    key = open311_key_issue(demo)
    demo.save()
    micro = units.filter(level="micro_grid").order_by("code")[7]
    lat, lon = float(micro.latitude) + 0.0002, float(micro.longitude) - 0.0001  # a few metres off its centroid
    nearest = min(units, key=lambda u: open311.distance_km(lat, lon, float(u.latitude), float(u.longitude)))
    response = file(client, key, lat=f"{lat:.6f}", long=f"{lon:.6f}")
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.grid == nearest and nearest.code.startswith(micro.parent.code)
    # At a grid's own centroid, the grid itself.
    grid = micro.parent
    response = file(client, key, lat=str(grid.latitude), long=str(grid.longitude))
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).grid == grid
