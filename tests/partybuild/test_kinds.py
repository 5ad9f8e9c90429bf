"""The kinds of party organisation as data: today's kinds and rules plus the city district's by default, an
administrator adding a kind and its rule in the admin, and the rules that keep stored organisations valid."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from governance.rosters import roster_import
from partybuild.models import OrgKind, PartyOrganization, PartyOrganizationKind
from partybuild.services import (
    KIND_IN_USE,
    organization_kind_create,
    organization_kind_delete,
    organization_kind_update,
    party_organization_create,
)
from tests.helpers.admin import listed
from tests.helpers.excel import fill_template
from tests.helpers.messages import english, errors_of

KINDS = reverse("admin:partybuild_partyorganizationkind_changelist")
ADD_KIND = reverse("admin:partybuild_partyorganizationkind_add")


def change_url(kind):
    return reverse("admin:partybuild_partyorganizationkind_change", args=[kind.pk])


def kind(code):
    return PartyOrganizationKind.objects.get(code=code)


def form_errors(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [message for messages in response.context["adminform"].form.errors.values() for message in messages]


def test_the_defaults_keep_todays_rules_and_add_the_city_districts_chain(kinds):
    rules = PartyOrganizationKind.rules()
    assert list(rules.names.values()) == ["党委", "街道党工委", "社区党委", "党总支", "党支部", "网格党支部", "党小组"]
    # Today's chain: 党委 → 党总支/党支部 → 网格党支部 → 党小组.
    for child, parent in [("committee", "committee"), ("general_branch", "committee"), ("branch", "committee"),
                          ("branch", "general_branch"), ("grid_branch", "branch"), ("group", "branch"),
                          ("group", "grid_branch")]:
        assert rules.fits(child, parent), (child, parent)
    # The city district's: 街道党工委 → 社区党委 → 网格党支部 → 楼栋党小组.
    for child, parent in [("street_committee", "committee"), ("community_committee", "street_committee"),
                          ("grid_branch", "community_committee"), ("group", "grid_branch")]:
        assert rules.fits(child, parent), (child, parent)
    assert not rules.fits("grid_branch", "general_branch") and not rules.fits("committee", "group")
    assert kind(OrgKind.GROUP).alias_list() == ["楼栋党小组", "庭院党小组", "楼栋/庭院党小组"]


def test_the_city_districts_chain_through_the_services(county):
    street = party_organization_create(name="城东街道党工委", kind=OrgKind.STREET_COMMITTEE, org_unit=county.township_a)
    community = party_organization_create(name="城东社区党委", kind=OrgKind.COMMUNITY_COMMITTEE,
                                          org_unit=county.villages[0], parent=street)
    grid_branch = party_organization_create(name="第一网格党支部", kind=OrgKind.GRID_BRANCH, org_unit=county.grids[0],
                                            parent=community)
    group = party_organization_create(name="1号楼党小组", kind=OrgKind.GROUP, org_unit=county.micro_grids[0],
                                      parent=grid_branch)
    assert list(group.get_ancestors()) == [street, community, grid_branch]


def test_a_disallowed_nesting_is_refused_in_chinese(county):
    general = party_organization_create(name="村党总支", kind=OrgKind.GENERAL_BRANCH, org_unit=county.villages[0],
                                        parent=county.committees[0])
    with pytest.raises(ValidationError) as excinfo:
        party_organization_create(name="第二网格党支部", kind=OrgKind.GRID_BRANCH, org_unit=county.grids[0],
                                  parent=general)
    with translation.override("zh-hans"):
        assert list(excinfo.value.messages) == [
            "网格党支部不能设在党总支之下：网格党支部只能设在社区党委、党支部之下。"]
    assert errors_of(excinfo) == [
        "A 网格党支部 cannot be placed under a 党总支: a 网格党支部 sits under 社区党委、党支部."]
    assert not PartyOrganization.objects.filter(name="第二网格党支部").exists()


def test_an_unknown_kind_is_refused(county):
    with pytest.raises(ValidationError) as excinfo:
        party_organization_create(name="临时党组织", kind="temporary", org_unit=county.villages[0])
    assert errors_of(excinfo) == ["There is no kind of party organisation “temporary”."]


# --- The administrator keeps the kinds ---------------------------------------------------------


def test_an_administrator_adds_a_kind_and_its_rule_and_the_import_accepts_it(county, admin_user, staff):
    client = staff(admin_user)
    response = client.post(ADD_KIND, {
        "name": "联合党支部", "code": "joint_branch", "aliases": "联合支部", "sort_order": 55,
        "parents": [kind(OrgKind.COMMITTEE).pk, kind(OrgKind.COMMUNITY_COMMITTEE).pk],
    })
    assert response.status_code == 302, form_errors(response)
    # Grid branches may now sit under the joint branch as well: the rule is edited on the child kind.
    grid_branch = kind(OrgKind.GRID_BRANCH)
    response = client.post(change_url(grid_branch), {
        "name": grid_branch.name, "code": grid_branch.code, "aliases": grid_branch.aliases, "sort_order": 60,
        "parents": [p.pk for p in grid_branch.parents.all()] + [kind("joint_branch").pk],
    })
    assert response.status_code == 302, form_errors(response)
    content = fill_template("party_organizations", [
        {"name": "三村联合党支部", "kind": "联合支部", "org_unit": county.villages[0].code,
         "parent": county.committees[0].name},
        {"name": "联合网格党支部", "kind": "网格党支部", "org_unit": county.grids[0].code, "parent": "三村联合党支部"},
    ])
    report = roster_import(kind="party_organizations", file=content, user=admin_user)
    assert report.ok and report.new == 2, str(report)
    assert PartyOrganization.objects.get(name="联合网格党支部").parent.kind == "joint_branch"


def test_only_administrators_see_the_kinds(county, admin_user, county_official, staff):
    assert staff(county_official).get(KINDS).status_code == 403
    assert staff(county_official).get(ADD_KIND).status_code == 403
    client = staff(admin_user)
    rows = listed(client.get(KINDS))
    assert [row.name for row in rows][:3] == ["党委", "街道党工委", "社区党委"]
    assert client.get(ADD_KIND).status_code == 200
    assert client.get(change_url(kind(OrgKind.GROUP))).status_code == 200


def test_a_rule_stored_organisations_use_cannot_be_removed(county, admin_user, staff):
    grid_branch = kind(OrgKind.GRID_BRANCH)
    response = staff(admin_user).post(change_url(grid_branch), {
        "name": grid_branch.name, "code": grid_branch.code, "aliases": "", "sort_order": 60,
        "parents": [kind(OrgKind.COMMUNITY_COMMITTEE).pk],
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert form_errors(response) == [
        "Organisations of this kind sit under a 党支部 (2 of them): move them before removing 党支部."]
    assert kind(OrgKind.BRANCH) in kind(OrgKind.GRID_BRANCH).parents.all()


def test_a_kind_in_use_keeps_its_code_and_cannot_be_deleted(county, admin_user, staff):
    branch = kind(OrgKind.BRANCH)
    client = staff(admin_user)
    page = client.get(change_url(branch))
    assert "code" in page.context["adminform"].readonly_fields
    assert client.get(reverse("admin:partybuild_partyorganizationkind_delete", args=[branch.pk])).status_code == 403
    with pytest.raises(ValidationError) as excinfo:
        organization_kind_delete(kind=branch)
    assert errors_of(excinfo) == [english(KIND_IN_USE, count=2, kind="党支部")]
    with pytest.raises(ValidationError):
        organization_kind_update(kind=branch, code="party_branch")


def test_a_name_another_kind_answers_to_is_refused(kinds):
    with pytest.raises(ValidationError) as excinfo:
        organization_kind_create(code="building_group", name="楼栋党小组")
    assert errors_of(excinfo) == ["“楼栋党小组” already names the kind 党小组."]


def test_an_unused_kind_is_deleted_with_its_rules(kinds):
    joint = organization_kind_create(code="joint_branch", name="联合党支部", parents=[kind(OrgKind.COMMITTEE)])
    organization_kind_delete(kind=joint)
    assert not PartyOrganizationKind.objects.filter(code="joint_branch").exists()
    assert "joint_branch" not in PartyOrganizationKind.rules().children_of(OrgKind.COMMITTEE)
