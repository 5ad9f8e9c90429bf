"""The party-organisation page: the tree of the user's area with the counts per kind and each organisation's
members, search and the kind filter, the scope (township B sees none of A), constant queries."""

import re

from partybuild.models import OrgKind, PartyOrganization
from partybuild.services import party_organization_create
from tests.helpers.excel import cell_values
from tests.helpers.people import new_member

PAGE = "/party/organizations/"


def tree(response) -> list[tuple[int, str]]:
    """(depth, name) of each organisation listed, in order."""
    assert response.status_code == 200, response.content[:300]
    return [(org.depth, org.name) for org in response.context["object_list"]]


def counts(response) -> dict[str, int]:
    overview = response.context["overview"]
    return {row["name"]: row["count"] for row in overview["by_kind"]} | {
        "total": overview["total"], "households": overview["central_households"]}


def test_the_tree_of_the_area_with_its_counts_per_kind(county, chain, clerk_a, login):
    response = login(clerk_a).get(PAGE)
    assert tree(response) == [
        (0, "城东街道党工委"), (1, "城东社区党委"), (2, "城东社区第一网格党支部"),
        (3, "1号楼党小组"), (3, "2号楼党小组"),
        (0, "德A镇党委"), (1, "德A村党支部"), (2, "德A村第一网格党支部"),
    ]
    assert counts(response) == {"党委": 1, "街道党工委": 1, "社区党委": 1, "党支部": 1, "网格党支部": 2, "党小组": 2,
                                "total": 8, "households": 3}
    html = response.content.decode()
    assert "楼栋党小组" not in html and "党小组" in html and "党员中心户" in html


def test_each_organisation_shows_its_members_and_those_below(county, chain, clerk_a, login):
    rows = {org.name: (org.n_members, org.n_members_below) for org in login(clerk_a).get(PAGE).context["object_list"]}
    assert rows["1号楼党小组"] == (1, 1)
    assert rows["城东社区第一网格党支部"] == (0, 2)
    assert rows["城东街道党工委"] == (0, 2)
    assert rows["德A村党支部"] == (1, 1)  # the cast's member


def test_township_b_sees_none_of_township_a(county, chain, clerk_b, login):
    response = login(clerk_b).get(PAGE)
    assert tree(response) == [(0, "德B镇党委"), (1, "德B村党支部"), (2, "德B村第一网格党支部")]
    assert counts(response) == {"党委": 1, "党支部": 1, "网格党支部": 1, "total": 3, "households": 1}
    html = response.content.decode()
    assert "城东" not in html and "德A" not in html
    assert tree(login(clerk_b).get(PAGE, {"q": "城东"})) == []


def test_search_lists_the_matches_with_the_organisation_above_them(county, chain, county_official, login):
    response = login(county_official).get(PAGE, {"q": "号楼"})
    assert tree(response) == [(0, "1号楼党小组"), (0, "2号楼党小组")]
    assert "城东社区第一网格党支部" in response.content.decode()  # "under …"
    assert counts(response) == {"党小组": 2, "total": 2, "households": 4}


def test_the_kind_and_unit_filters(county, chain, county_official, login):
    client = login(county_official)
    by_kind = client.get(PAGE, {"kind": OrgKind.GRID_BRANCH})
    assert [name for _depth, name in tree(by_kind)] == [
        "城东社区第一网格党支部", "德A村第一网格党支部", "德B村第一网格党支部"]
    in_b = client.get(PAGE, {"township": county.township_b.code})
    assert [name for _depth, name in tree(in_b)] == ["德B镇党委", "德B村党支部", "德B村第一网格党支部"]
    assert counts(in_b)["households"] == 1


def test_the_page_is_listed_in_the_order_a_phone_reads(county, chain, clerk_a, login):
    """At 390 px the tree is a list whose rows wrap (no table to scroll sideways), indented by depth."""
    html = login(clerk_a).get(PAGE).content.decode()
    tree_html = html[html.index('id="organization-tree"'):]
    assert "<table" not in html[html.index('id="organization-counts"'):] and "portal-table-wrap" not in html
    assert re.findall(r'style="--depth: (\d)"', tree_html)[:5] == ["0", "1", "2", "3", "3"]
    # The portal's stylesheet narrows the indent on a phone (a deep tree must not push the names off-screen).
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/portal.css"), encoding="utf-8").read()
    assert ".party-tree > li { padding-left: calc(0.875rem + min(var(--depth, 0), 4) * 0.75rem); }" in css


def test_the_export_is_the_filtered_tree(county, chain, clerk_a, login):
    response = login(clerk_a).get(PAGE, {"kind": OrgKind.GROUP, "export": "xlsx"})
    assert response.status_code == 200
    rows = cell_values(b"".join(response.streaming_content) if response.streaming else response.content)
    assert [row[0] for row in rows[1:]] == ["1号楼党小组", "2号楼党小组"]


def test_the_query_count_does_not_grow_with_the_tree(county, chain, county_official, login,
                                                     django_assert_max_num_queries):
    client = login(county_official)
    area = {"township": county.township_a.code}
    # Session, user and home unit, the unit pickers (2), tags, kinds, the count, the counts by kind, the
    # households, the page's rows, the navigation's unit, the notifications badge.
    bound = 13
    with django_assert_max_num_queries(bound):
        first = tree(client.get(PAGE, area))
    grid_branch = PartyOrganization.objects.get(name="城东社区第一网格党支部")
    for n in range(3, 9):
        group = party_organization_create(name=f"{n}号楼党小组", kind=OrgKind.GROUP, org_unit=chain.grid,
                                          parent=grid_branch)
        new_member(county, organization=group)
    with django_assert_max_num_queries(bound):
        second = tree(client.get(PAGE, area))
    assert len(second) == len(first) + 6
