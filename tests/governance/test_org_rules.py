"""Level and code rules of the org chain: each invalid combination gets its own message, in Chinese."""

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
        ("village", "village", "513424100301", "county", "parent", "应设在乡镇（街道）之下"),
        ("grid", "grid_standard", "513424100000001", "township_a", "parent", "应设在村（社区）之下"),
        ("micro_grid", "micro_grid", "51342410020100101", "village", "parent", "应设在网格之下"),
        ("township", "town", "513424300000", None, "parent", "只有市或县（市、区）可以作为顶级单位"),
        # code shapes and prefixes
        ("township", "town", "5134241010", "county", "code", "区划代码应为 12 位数字"),
        ("township", "town", "513424101001", "county", "code", "9 位数字后接 3 个 0"),
        ("township", "town", "513425101000", "county", "code", "应以上级单位的代码前缀 513424 开头"),
        ("village", "village", "513424100000", "township_a", "code", "末 3 位不能为 000"),
        ("village", "village", "513424101201", "township_a", "code", "前缀 513424100 开头"),
        ("county", "county", "513424000001", None, "code", "6 位数字后接 6 个 0"),
        ("grid", "grid_standard", "513424999201001", "village", "code", "后接 1 至 6 位字母或数字"),
        ("grid", "grid_standard", "513424100201-01", "village", "code", "后接 1 至 6 位字母或数字"),
        # kind must fit the level
        ("township", "village", "513424105000", "county", "kind", "与层级“乡镇（街道）”不符"),
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
    assert "住户必须归属于网格或微网格" in " ".join(exc.value.message_dict["grid"])


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
