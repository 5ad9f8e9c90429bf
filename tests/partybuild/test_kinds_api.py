"""The API names a party organisation's kind by its code and says its name; a kind nobody keeps is refused."""

from partybuild.models import OrgKind, PartyOrganization
from tests.helpers.api import get, post

API = "/api/v1/party-organizations/"


def test_a_street_working_committee_is_created_and_read_with_its_kind_name(county, county_official, staff):
    client = staff(county_official)
    response = post(client, API, {"name": "城东街道党工委", "kind": OrgKind.STREET_COMMITTEE,
                                  "org_unit": county.township_a.code})
    assert response.status_code == 201, response.content
    created = PartyOrganization.objects.get(name="城东街道党工委")
    row = get(client, f"{API}{created.pk}/")
    assert (row["kind"], row["kind_name"]) == ("street_committee", "街道党工委")
    listed = get(client, API, kind=OrgKind.STREET_COMMITTEE)
    assert [r["name"] for r in listed["results"]] == ["城东街道党工委"]


def test_a_kind_nobody_keeps_is_refused_on_its_field(county, county_official, staff):
    response = post(staff(county_official), API, {"name": "临时党组织", "kind": "temporary",
                                                  "org_unit": county.villages[0].code})
    assert response.status_code == 400
    assert response.json()["kind"] == ["There is no kind of party organisation “temporary”."]


def test_a_grid_branch_under_a_general_branch_is_refused_with_the_rule(county, county_official, staff):
    client = staff(county_official)
    general = post(client, API, {"name": "村党总支", "kind": OrgKind.GENERAL_BRANCH,
                                 "org_unit": county.villages[0].code, "parent": county.committees[0].pk}).json()
    response = post(client, API, {"name": "网格党支部", "kind": OrgKind.GRID_BRANCH, "org_unit": county.grids[0].code,
                                  "parent": general["id"]})
    assert response.status_code == 400
    assert response.json()["kind"] == [
        "A 网格党支部 cannot be placed under a 党总支: a 网格党支部 sits under 社区党委、党支部."]
