"""The party chain's figures: organisations by kind and party-member households, counted up the org tree
by the monthly rollup, with a kind an administrator adds later counted among "other kinds"."""

import datetime

from governance.indicators.engine import rollup_month
from governance.indicators.months import month_bounds, month_start
from governance.indicators.registry import get_indicator
from governance.models import OrgUnit
from partybuild.models import CentralHousehold, PartyOrganization
from partybuild.services import organization_kind_create, party_organization_create
from tests.helpers.indicators import number

THIS_MONTH = month_start(datetime.date.today())


def kind_counts(unit) -> dict[str, int]:
    keys = ["committee", "street_committee", "community_committee", "general_branch", "branch", "grid_branch",
            "group", "other"]
    counts = {key: number(THIS_MONTH, f"partybuild.organizations_kind.{key}", unit) for key in keys}
    return {key: int(count) for key, count in counts.items() if count}


def test_organisations_by_kind_add_up_the_tree(county, chain):
    rollup_month(THIS_MONTH)
    d = chain
    assert kind_counts(d.buildings[0]) == {"group": 1}
    assert kind_counts(d.grid) == {"grid_branch": 1, "group": 2}
    assert kind_counts(d.community) == {"community_committee": 1, "grid_branch": 1, "group": 2}
    # Township A: the street working committee and the cast's committee, branch and grid branch.
    assert kind_counts(county.township_a) == {"committee": 1, "street_committee": 1, "community_committee": 1,
                                              "branch": 1, "grid_branch": 2, "group": 2}
    assert kind_counts(county.township_b) == {"committee": 1, "branch": 1, "grid_branch": 1}
    assert number(THIS_MONTH, "partybuild.organizations", county.township_a) == 8
    assert number(THIS_MONTH, "partybuild.organizations", county.county) == 11


def test_party_member_households_add_up_the_tree(county, chain):
    rollup_month(THIS_MONTH)
    assert number(THIS_MONTH, "partybuild.central_households", chain.buildings[1]) == 1
    assert number(THIS_MONTH, "partybuild.central_households", chain.community) == 2
    # The cast has one in each township already.
    assert number(THIS_MONTH, "partybuild.central_households", county.township_a) == 3
    assert number(THIS_MONTH, "partybuild.central_households", county.township_b) == 1
    assert number(THIS_MONTH, "partybuild.central_households", county.county) == 4
    # A household that became one this month is not counted in the month before.
    CentralHousehold.objects.filter(household=chain.households[0]).update(since=THIS_MONTH)
    earlier = month_start(THIS_MONTH - datetime.timedelta(days=1))
    rollup_month(earlier)
    assert number(earlier, "partybuild.central_households", chain.community) == 1


def test_a_kind_added_later_counts_among_the_other_kinds_and_in_the_total(county, chain):
    joint = organization_kind_create(code="joint_branch", name="联合党支部")
    party_organization_create(name="城东联合党支部", kind=joint.code, org_unit=chain.community)
    rollup_month(THIS_MONTH)
    assert kind_counts(chain.community)["other"] == 1
    assert number(THIS_MONTH, "partybuild.organizations", chain.community) == 5
    assert number(THIS_MONTH, "partybuild.organizations_kind.other", county.county) == 1


def test_an_inactive_organisation_is_not_counted(county, chain):
    PartyOrganization.objects.filter(name="2号楼党小组").update(is_active=False)
    rollup_month(THIS_MONTH)
    assert kind_counts(chain.grid) == {"grid_branch": 1, "group": 1}


def test_the_plain_counts_agree_with_the_rollup(county, chain):
    """What ``rollup_indicators --verify`` compares: each count's ``check`` against its stored value."""
    rollup_month(THIS_MONTH)
    start, end = month_bounds(THIS_MONTH)
    keys = ["partybuild.organizations", "partybuild.central_households", "partybuild.organizations_kind.group",
            "partybuild.organizations_kind.street_committee", "partybuild.organizations_kind.other"]
    for unit in (chain.community, county.township_a, county.county):
        unit.refresh_from_db()  # the tree was renumbered as units were added
        subtree = OrgUnit.objects.filter(tree_id=unit.tree_id, lft__gte=unit.lft, lft__lte=unit.rght)
        for key in keys:
            assert get_indicator(key).check(start, end, subtree) == number(THIS_MONTH, key, unit), (key, unit)


def test_the_dashboard_shows_the_chain_by_kind_and_its_households(county, chain, county_official, login):
    rollup_month(THIS_MONTH)
    response = login(county_official).get("/dashboard/")
    assert response.status_code == 200
    charts = response.context["breakdowns"]
    [by_kind] = [chart for chart in charts if chart["key"] == "partybuild.organizations_by_kind"]
    rows = {str(label): value for label, value in by_kind["rows"]}
    assert {label: rows[label] for label in ("街道党工委", "社区党委", "网格党支部", "党小组")} == {
        "街道党工委": 1, "社区党委": 1, "网格党支部": 3, "党小组": 2}
    html = response.content.decode()
    assert "党组织（按类型）" in html and 'data-key="partybuild.central_households"' in html
