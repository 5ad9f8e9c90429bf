"""Level and code rules of the org chain: each invalid combination gets its own message."""

import pytest
from django.core.exceptions import ValidationError

from governance.models import OrgUnit
from governance.services import orgunit_create, orgunit_move
from governance.tree_check import tree_violations


def errors_of(**kwargs):
    with pytest.raises(ValidationError) as exc:
        orgunit_create(**kwargs)
    return exc.value.message_dict


def test_a_valid_chain_is_accepted(county):
    micro = county.micro_grids[0]
    assert [u.level for u in micro.get_ancestors(include_self=True)] == [
        "county", "township", "village", "grid", "micro_grid",
    ]
    assert tree_violations() == []


@pytest.mark.parametrize(
    "level,kind,code,parent_attr,field,fragment",
    [
        # wrong parent level
        ("village", "village", "513424100301", "county", "parent", "belongs under a Township"),
        ("grid", "grid_standard", "513424100000001", "township_a", "parent", "belongs under a Village"),
        ("micro_grid", "micro_grid", "51342410020100101", "village", "parent", "belongs under a Grid"),
        ("township", "town", "513424300000", None, "parent", "Only a city or a county"),
        # code shapes and prefixes
        ("township", "town", "5134241010", "county", "code", "exactly 12 digits"),
        ("township", "town", "513424101001", "county", "code", "9 digits followed by 3 zeros"),
        ("township", "town", "513425101000", "county", "code", "must start with the parent's prefix 513424"),
        ("village", "village", "513424100000", "township_a", "code", "must not end with 000"),
        ("village", "village", "513424101201", "township_a", "code", "prefix 513424100"),
        ("county", "county", "513424000001", None, "code", "6 digits followed by 6 zeros"),
        ("grid", "grid_standard", "513424999201001", "village", "code", "followed by 1-6 letters or digits"),
        ("grid", "grid_standard", "513424100201-01", "village", "code", "followed by 1-6 letters or digits"),
        # kind must fit the level
        ("township", "village", "513424105000", "county", "kind", "does not fit level"),
    ],
)
def test_invalid_combinations_are_refused_with_a_message(county, level, kind, code, parent_attr, field, fragment):
    parents = {
        None: None,
        "county": county.county,
        "township_a": county.township_a,
        "village": county.villages[0],
    }
    before = OrgUnit.objects.count()
    messages = errors_of(code=code, name="测试单元", level=level, kind=kind, parent=parents[parent_attr])
    assert field in messages, messages
    assert fragment in " ".join(messages[field])
    assert OrgUnit.objects.count() == before


def test_a_household_may_hang_under_a_grid_without_micro_grids(county):
    from governance.services import household_create

    household = household_create(number="H-1", address="南街1号", grid=county.grids[1])
    assert household.grid.level == "grid"


def test_a_household_cannot_hang_under_a_village(county):
    from governance.services import household_create

    with pytest.raises(ValidationError) as exc:
        household_create(number="H-2", address="南街2号", grid=county.villages[0])
    assert "grid or a micro-grid" in " ".join(exc.value.message_dict["grid"])


def test_moving_a_grid_to_another_village_needs_a_matching_code(county):
    grid = county.grids[0]
    target = county.villages[1]
    with pytest.raises(ValidationError) as exc:
        orgunit_move(unit=grid, new_parent=target)
    assert "code" in exc.value.message_dict
    moved = orgunit_move(unit=grid, new_parent=target, new_code=target.code + "009")
    assert moved.parent_id == target.pk
    micro = OrgUnit.objects.get(pk=county.micro_grids[0].pk)
    assert micro.code == target.code + "00901"  # the micro-grid's code followed its grid
    assert micro.is_descendant_of(OrgUnit.objects.get(pk=target.pk))
    assert tree_violations() == []


def test_a_unit_cannot_move_under_its_own_descendant(county):
    with pytest.raises(ValidationError) as exc:
        orgunit_move(unit=county.township_a, new_parent=county.villages[0])
    assert "parent" in exc.value.message_dict
