"""A city district's party chain and its roster files, as Yangquan's city district publishes its own
(街道党工委 → 社区党委 → 网格党支部 → 楼栋党小组 → 党员中心户), laid over township A of the cast:
a community with a grid, two buildings (micro-grids) and a household in each whose head is a party member."""

import datetime

from governance.models import Level
from governance.services import household_create, orgunit_create, resident_create
from tests.helpers.excel import fill_template
from tests.helpers.people import make_id_number


class District:
    """Handles to the city district's units and people, by role in the story."""


def build_district(county) -> District:
    d = District()
    township = county.township_a
    d.street = township
    d.community = orgunit_create(code=f"{township.code[:9]}202", name="城东社区居民委员会", short_name="城东社区",
                                 level=Level.VILLAGE, kind="community", parent=township)
    d.grid = orgunit_create(code=f"{d.community.code}001", name="城东社区第一网格", level=Level.GRID,
                            kind="grid_old_estate", parent=d.community)
    d.buildings = [
        orgunit_create(code=f"{d.grid.code}0{n}", name=f"城东社区{n}号楼", level=Level.MICRO_GRID, kind="micro_grid",
                       parent=d.grid)
        for n in (1, 2)
    ]
    d.households = [
        household_create(number=f"{building.code}0101", address=f"城东社区{n}号楼1单元101", grid=building)
        for n, building in enumerate(d.buildings, start=1)
    ]
    d.heads = [
        resident_create(household=household, name=name, id_number=make_id_number("513424", "19700101", 700 + n),
                        phone="13700000000", relation="head")
        for n, (household, name) in enumerate(zip(d.households, ("王建国", "李秀英"), strict=True))
    ]
    return d


def chain_organizations(d) -> bytes:
    """The district's organisation file: kinds as the district names them, parents by name."""
    return fill_template("party_organizations", [
        {"name": "城东街道党工委", "kind": "街道党工委", "org_unit": d.street.code},
        {"name": "城东社区党委", "kind": "社区党委", "org_unit": d.community.code, "parent": "城东街道党工委"},
        {"name": "城东社区第一网格党支部", "kind": "网格党支部", "org_unit": d.grid.code, "parent": "城东社区党委"},
        {"name": "1号楼党小组", "kind": "楼栋党小组", "org_unit": d.buildings[0].code,
         "parent": "城东社区第一网格党支部"},
        {"name": "2号楼党小组", "kind": "楼栋党小组", "org_unit": d.buildings[1].code,
         "parent": "城东社区第一网格党支部"},
    ])


def chain_members(d) -> bytes:
    """Each building's head of household is a member of his building's party group."""
    return fill_template("party_members", [
        {"resident": head.id_number, "organization": f"{n}号楼党小组", "joined_on": datetime.date(1998, 7, 1)}
        for n, head in enumerate(d.heads, start=1)
    ])


def chain_central_households(d, grid: str | None = None) -> bytes:
    """The district's 党员中心户 file: no household numbers, the head's ID number and the grid's name."""
    return fill_template("central_households", [
        {"head": head.id_number, "grid": grid or d.grid.name, "member": head.id_number, "since": "2024-07-01"}
        for head in d.heads
    ])
