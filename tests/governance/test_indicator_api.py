"""/api/v1/indicators/: the dashboard's numbers as data, scoped like the pages, with a 400
naming the field for a malformed month or an unknown indicator."""

import pytest
from rest_framework.test import APIClient

from governance.indicators import dashboard
from governance.indicators.months import shift_month

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def by_key(rows):
    return {row["key"]: row for row in rows}


def test_values_of_a_unit_equal_the_dashboards(login, county_official, county, rolled):
    response = api(county_official).get(f"/api/v1/indicators/?org={county.county.code}&period={rolled:%Y-%m}")
    assert response.status_code == 200
    values = by_key(response.json())
    assert values["households"]["value"] == 2 and values["households"]["org"] == county.county.code
    assert values["grid.closure_rate"] == {
        "org": county.county.code, "org_name": county.county.display_name, "period": f"{rolled:%Y-%m}",
        "first": f"{rolled:%Y-%m}", "last": f"{rolled:%Y-%m}", "over": "flow",
        "key": "grid.closure_rate", "label": values["grid.closure_rate"]["label"], "unit": "%", "kind": "ratio",
        "numerator": 0.0, "denominator": 2.0, "value": 0.0,
    }
    page = login(county_official).get("/dashboard/")
    for row in page.context["rows"]:
        if row.current.value is not None:
            assert values[row.key]["value"] == pytest.approx(row.current.number), row.key


def test_children_values_equal_the_league(login, county_official, county, rolled):
    response = api(county_official).get(f"/api/v1/indicators/?org={county.county.code}&children=1")
    assert response.status_code == 200
    rows = response.json()
    assert {row["org"] for row in rows} == {county.township_a.code, county.township_b.code}
    page = login(county_official).get("/dashboard/")
    for league_row in page.context["league"].rows:
        mine = by_key(row for row in rows if row["org"] == league_row.unit.code)
        for key, figure in league_row.figures.items():
            if figure.value is not None:
                assert mine[key]["value"] == pytest.approx(figure.number), (league_row.unit.code, key)


def test_org_defaults_to_the_callers_top_unit(clerk_a, county, rolled):
    rows = api(clerk_a).get("/api/v1/indicators/").json()
    assert {row["org"] for row in rows} == {county.township_a.code}
    assert by_key(rows)["grid.cases_raised"]["value"] == 1


def test_a_unit_outside_the_scope_answers_404(clerk_a, county, other_county, rolled):
    client = api(clerk_a)
    for foreign in (county.county, county.township_b, other_county.county):
        assert client.get(f"/api/v1/indicators/?org={foreign.code}").status_code == 404
        assert client.get(f"/api/v1/indicators/series/?org={foreign.code}&key=households").status_code == 404
    assert client.get("/api/v1/indicators/?org=nonexistent").status_code == 404


def test_bad_month_or_unknown_key_is_a_400_naming_the_field(county_official, county, rolled):
    client = api(county_official)
    response = client.get("/api/v1/indicators/?period=2025-13")
    assert response.status_code == 400 and "period" in response.json()
    response = client.get("/api/v1/indicators/series/?key=no.such.thing")
    assert response.status_code == 400 and "key" in response.json()
    response = client.get("/api/v1/indicators/series/")
    assert response.status_code == 400 and "key" in response.json()
    response = client.get("/api/v1/indicators/series/?key=households&from=2025-05&to=2025-01")
    assert response.status_code == 400 and "from" in response.json()
    response = client.get("/api/v1/indicators/series/?key=households&from=garbage")
    assert response.status_code == 400 and "from" in response.json()


def test_series_equals_the_trend(login, county_official, county, rolled):
    start = shift_month(rolled, -11)
    response = api(county_official).get(
        f"/api/v1/indicators/series/?org={county.county.code}&key=grid.cases_raised&from={start:%Y-%m}&to={rolled:%Y-%m}")
    assert response.status_code == 200
    body = response.json()
    assert body["key"] == "grid.cases_raised" and body["kind"] == "count"
    assert [point["period"] for point in body["points"]] == dashboard.trend(
        county.county, ["grid.cases_raised"], rolled)["periods"]
    page = login(county_official).get("/dashboard/")
    trend = next(s for s in page.context["trend"]["series"] if s["key"] == "grid.cases_raised")
    assert [point["value"] for point in body["points"]] == trend["values"]
    assert body["points"][-1]["value"] == 2


def test_series_defaults_to_twelve_months(county_official, county, rolled):
    body = api(county_official).get("/api/v1/indicators/series/?key=households").json()
    assert len(body["points"]) == 12 and body["points"][-1]["period"] == f"{rolled:%Y-%m}"


def test_anonymous_gets_nothing(county, rolled):
    assert APIClient().get("/api/v1/indicators/").status_code in (401, 403)


def test_schema_lists_the_endpoints(county_official):
    response = api(county_official).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/indicators/" in text and "/api/v1/indicators/series/" in text
