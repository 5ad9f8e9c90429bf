"""The party-organisation tree: which kind hangs under which, the unit covered, moves, the tree lock."""

import pytest
from django.core.exceptions import ValidationError

from partybuild.models import OrgKind, PartyOrganization
from partybuild.services import (
    ORG_CHILD_DOES_NOT_FIT,
    ORG_UNDER_ITSELF,
    party_organization_create,
    party_organization_update,
)
from tests.helpers.messages import english, errors_of


def test_committee_branch_grid_branch_group(county):
    committee = party_organization_create(name="新党委", kind=OrgKind.COMMITTEE, org_unit=county.township_a)
    branch = party_organization_create(
        name="村党支部", kind=OrgKind.BRANCH, org_unit=county.villages[0], parent=committee
    )
    grid_branch = party_organization_create(
        name="网格党支部", kind=OrgKind.GRID_BRANCH, org_unit=county.grids[0], parent=branch
    )
    group = party_organization_create(
        name="楼栋党小组", kind=OrgKind.GROUP, org_unit=county.micro_grids[0], parent=grid_branch
    )
    assert list(group.get_ancestors()) == [committee, branch, grid_branch]
    committee.refresh_from_db()  # MPTT renumbered it on each insert
    assert committee.get_descendant_count() == 3


@pytest.mark.parametrize(
    ("child", "parent", "expected"),
    [
        (OrgKind.GROUP, "committees",
         "A 党小组 cannot be placed under a 党委: a 党小组 sits under 党支部、网格党支部."),
        (OrgKind.COMMITTEE, "branches", "A 党委 cannot be placed under a 党支部: a 党委 sits under 党委、街道党工委."),
        (OrgKind.GENERAL_BRANCH, "branches",
         "A 党总支 cannot be placed under a 党支部: a 党总支 sits under 党委、街道党工委、社区党委."),
    ],
)
def test_kind_under_the_wrong_parent_is_refused(county, child, parent, expected):
    parent_org = getattr(county, parent)[0]
    with pytest.raises(ValidationError) as excinfo:
        party_organization_create(name="错位组织", kind=child, org_unit=county.grids[0], parent=parent_org)
    assert errors_of(excinfo) == [expected]
    assert not PartyOrganization.objects.filter(name="错位组织").exists()


def test_unit_outside_the_parents_unit_is_refused(county):
    with pytest.raises(ValidationError) as excinfo:
        party_organization_create(
            name="越界支部", kind=OrgKind.BRANCH, org_unit=county.villages[1], parent=county.committees[0]
        )
    assert errors_of(excinfo) == [english("The unit covered must lie inside the unit of the parent organisation.")]


def test_a_unit_party_organisation_may_cover_a_unit_elsewhere(county):
    """An agency's branch (with its work unit named) may sit under a committee of another township."""
    branch = party_organization_create(
        name="县财政局机关党支部", kind=OrgKind.BRANCH, org_unit=county.villages[1],
        parent=county.committees[0], work_unit="县财政局",
    )
    assert branch.parent == county.committees[0]


def test_moving_under_its_own_descendant_is_refused(county):
    committee = county.committees[0]
    grid_branch = county.branches[0].get_children().get()
    with pytest.raises(ValidationError) as excinfo:
        party_organization_update(organization=county.branches[0], parent=grid_branch)
    assert errors_of(excinfo) == [english(ORG_UNDER_ITSELF)]
    with pytest.raises(ValidationError):
        party_organization_update(organization=committee, parent=committee)


def test_a_kind_its_children_do_not_fit_is_refused(county):
    branch = county.branches[0]
    grid_branch = branch.get_children().get()
    with pytest.raises(ValidationError) as excinfo:
        party_organization_update(organization=branch, kind=OrgKind.GROUP)
    assert errors_of(excinfo) == [
        english(ORG_CHILD_DOES_NOT_FIT, child=grid_branch.name, child_kind="网格党支部", kind="党小组")
    ]


def test_move_keeps_the_tree_consistent(county):
    committee_a, committee_b = county.committees
    extra = party_organization_create(name="新党支部", kind=OrgKind.BRANCH, org_unit=county.villages[0],
                                      parent=committee_a)
    moved = party_organization_update(organization=extra, parent=committee_b, org_unit=county.villages[1])
    assert moved.parent == committee_b
    committee_b.refresh_from_db()
    assert moved in committee_b.get_descendants()
    # Every node's range lies inside its parent's range, and the ranges tile the tree.
    for node in PartyOrganization.objects.all():
        if node.parent_id:
            parent = PartyOrganization.objects.get(pk=node.parent_id)
            assert parent.tree_id == node.tree_id and parent.lft < node.lft < node.rght < parent.rght


def test_unknown_field_is_a_programming_error(county):
    with pytest.raises(TypeError):
        party_organization_update(organization=county.branches[0], tree_id=99)
