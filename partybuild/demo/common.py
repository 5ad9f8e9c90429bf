"""What the party-building demo's parts share: a planned organisation and member, where a unit lies, dates."""

import datetime
from dataclasses import dataclass, field
from itertools import accumulate

from governance.models import Level
from partybuild.models import MemberStatus, ServicePost

POST_WEIGHTS = (
    (ServicePost.POLICY, 3), (ServicePost.POVERTY, 3), (ServicePost.PUBLIC, 4),
    (ServicePost.GREENING, 2), (ServicePost.ENVIRONMENT, 4), (ServicePost.PATROL, 3),
)
# Plain strings in the hot loops (a str-enum formats slower).
POSTS, POST_CUM = [p.value for p, _ in POST_WEIGHTS], list(accumulate(w for _, w in POST_WEIGHTS))


@dataclass(eq=False)
class Org:
    name: str
    kind: str
    unit: object  # a plan Unit
    parent: "Org | None" = None
    work_unit: str = ""
    children: list["Org"] = field(default_factory=list)
    pk: int = 0
    lft: int = 0
    rght: int = 0
    depth: int = 0

    def add(self, child: "Org") -> "Org":
        child.parent = self
        self.children.append(child)
        return child


@dataclass(eq=False)
class Member:
    resident_id: int
    household_id: int
    leaf: object  # the plan Unit the household hangs under
    birth: int  # ordinal
    age: int
    relation: str
    pk: int = 0
    org: Org | None = None
    status: str = MemberStatus.FULL
    joined_on: int = 0  # ordinal
    in_service: bool = False
    work_unit: str = ""
    is_mobile: bool = False
    volunteer_in: object = None  # the village-level Unit where he volunteers
    volunteer_from: int = 0  # ordinal: first day he may serve there
    claims: tuple = ()


def village_of(unit):
    while unit.level != Level.VILLAGE:
        unit = unit.parent
    return unit


def county_of(unit):
    while unit.level != Level.COUNTY:
        unit = unit.parent
    return unit


_DAYS: dict[int, str] = {}


def day_text(ordinal: int) -> str:
    text = _DAYS.get(ordinal)
    if text is None:
        text = _DAYS[ordinal] = datetime.date.fromordinal(ordinal).isoformat()
    return text
