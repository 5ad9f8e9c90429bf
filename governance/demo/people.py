"""Households and their residents for the lowest units of a demo plan.

Each lowest unit draws from its own ``random.Random`` seeded by (seed, unit code), so what a
unit holds does not depend on how the writer chunks the work. Two things must be unique
across the whole place and are handed out in plan order instead: ID-number sequence digits
(per region, birth date and sex) and phone numbers (a seeded bijection of a counter, so no
set of the millions already issued has to be kept).

Rows come out as tuples in the column order of ``HOUSEHOLD_COLUMNS`` / ``RESIDENT_COLUMNS``.
"""

import datetime
import math
import random
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from governance.demo import names
from governance.demo.plan import Unit
from governance.models import Relation
from governance.validators import _ID_CHECK_CHARS, _ID_WEIGHTS

HOUSEHOLD_TAGS = (
    ("dibao", "低保户"),
    ("elderly_alone", "独居老人"),
    ("left_behind_child", "留守儿童"),
    ("disabled", "残疾人"),
    ("party_household", "党员中心户"),
    ("rental", "出租户"),
)
# Tag codes are unique across both kinds, hence the suffixes where a household tag has the same name.
RESIDENT_TAGS = (
    ("party_member", "党员"),
    ("veteran", "退役军人"),
    ("disabled_person", "残疾人"),
    ("dibao_member", "低保对象"),
)

HOUSEHOLD_COLUMNS = ("id", "number", "address", "grid_id", "is_active", "created_at")
RESIDENT_COLUMNS = (
    "id", "household_id", "name", "id_number", "birth_date", "sex", "phone", "relation", "is_active", "created_at",
)

# Household sizes 1-6: mean ≈ 2.85 persons.
_SIZES = (1, 2, 3, 4, 5, 6)
_SIZE_CUM = list(accumulate((18, 28, 24, 16, 9, 5)))
# (lowest age, highest age, weight) of a household head, and of a person living alone.
_HEAD_AGES = ((22, 29, 6), (30, 39, 14), (40, 49, 20), (50, 59, 24), (60, 69, 20), (70, 79, 12), (80, 88, 4))
_ALONE_AGES = ((20, 29, 10), (30, 39, 8), (40, 49, 8), (50, 59, 12), (60, 69, 20), (70, 79, 25), (80, 92, 17))
_PHONE_PREFIXES = tuple(
    [f"13{d}" for d in range(10)]
    + ["150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["198", "199"]
)
_PHONE_MODULUS = len(_PHONE_PREFIXES) * 10**8

HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, IN_LAW = (
    Relation.HEAD.value, Relation.SPOUSE.value, Relation.CHILD.value,
    Relation.PARENT.value, Relation.GRANDCHILD.value, Relation.OTHER.value,
)
# Who lives with the head, by household size, for a younger (< 58) and an older head.
_YOUNG_FAMILIES = {
    2: (((SPOUSE,), 60), ((CHILD,), 25), ((PARENT,), 15)),
    3: (((SPOUSE, CHILD), 80), ((SPOUSE, PARENT), 20)),
    4: (((SPOUSE, CHILD, CHILD), 60), ((SPOUSE, CHILD, PARENT), 40)),
    5: (((SPOUSE, CHILD, PARENT, PARENT), 50), ((SPOUSE, CHILD, CHILD, PARENT), 50)),
    6: (((SPOUSE, CHILD, CHILD, PARENT, PARENT), 100),),
}
_OLD_FAMILIES = {
    2: (((SPOUSE,), 85), ((CHILD,), 15)),
    3: (((SPOUSE, CHILD), 45), ((SPOUSE, GRANDCHILD), 55)),
    4: (((SPOUSE, CHILD, GRANDCHILD), 50), ((SPOUSE, GRANDCHILD, GRANDCHILD), 50)),
    5: (((SPOUSE, CHILD, IN_LAW, GRANDCHILD), 100),),
    6: (((SPOUSE, CHILD, IN_LAW, GRANDCHILD, GRANDCHILD), 100),),
}


def _cumulative(table):
    return [c[0] for c in table], list(accumulate(c[1] for c in table))


_SURNAME_VALUES, _SURNAME_CUM = _cumulative(names.SURNAMES)
# (first characters, second characters, share of one-character names), indexed era * 2 + female.
_GIVEN = [
    (*names.GIVEN_NAMES[(era, sex)], names.SINGLE_CHAR_SHARE[era]) for era in ("old", "mid", "new") for sex in "MF"
]
_HEAD_AGE_CUM = list(accumulate(w for _, _, w in _HEAD_AGES))
_ALONE_AGE_CUM = list(accumulate(w for _, _, w in _ALONE_AGES))
_YOUNG = {size: _cumulative(options) for size, options in _YOUNG_FAMILIES.items()}
_OLD = {size: _cumulative(options) for size, options in _OLD_FAMILIES.items()}


@dataclass
class Batch:
    """Rows waiting to be written, and the next free primary keys."""

    next_household_id: int
    next_resident_id: int
    households: list = field(default_factory=list)
    residents: list = field(default_factory=list)
    household_tags: list = field(default_factory=list)
    resident_tags: list = field(default_factory=list)

    def take(self) -> tuple[list, list, list, list]:
        """Hand the rows over (to a writer that may still hold them) and start new lists."""
        rows = (self.households, self.residents, self.household_tags, self.resident_tags)
        self.households, self.residents, self.household_tags, self.resident_tags = [], [], [], []
        return rows


_SEQ_TEXT = [f"{seq:03d}" for seq in range(1000)]
_SEQ_SUMS = [sum(int(d) * w for d, w in zip(text, _ID_WEIGHTS[14:], strict=True)) for text in _SEQ_TEXT]


class _IdNumbers:
    """GB 11643 ID numbers of one region (county code), unique, sex digit matching the sex."""

    _days: dict[int, tuple[str, str, int]] = {}  # ordinal -> (YYYYMMDD, ISO date, weighted digit sum)

    def __init__(self, region: str):
        self.region = region
        self.region_sum = sum(int(d) * w for d, w in zip(region, _ID_WEIGHTS[:6], strict=True))
        self.used: dict[int, int] = {}  # ordinal * 2 + sex bit -> people issued

    @classmethod
    def _day(cls, ordinal: int) -> tuple[str, str, int]:
        ymd = datetime.date.fromordinal(ordinal).strftime("%Y%m%d")
        weighted = sum(int(d) * w for d, w in zip(ymd, _ID_WEIGHTS[6:14], strict=True))
        day = cls._days[ordinal] = (ymd, f"{ymd[:4]}-{ymd[4:6]}-{ymd[6:]}", weighted)
        return day

    def issue(self, ordinal: int, male: bool) -> tuple[str, str]:
        """(ID number, ISO birth date) for someone born on day ``ordinal``."""
        used_by_key = self.used
        key = ordinal * 2 + male
        used = used_by_key.get(key, 0)
        while used >= 500:  # 500 people of one sex born on one day in one county: take the day before
            key -= 2
            used = used_by_key.get(key, 0)
        used_by_key[key] = used + 1
        ordinal = key >> 1
        seq = 2 * ((used * 37 + ordinal) % 500) + male  # spread over 000-999 rather than counting up
        ymd, iso, day_sum = self._days.get(ordinal) or self._day(ordinal)
        check = _ID_CHECK_CHARS[(self.region_sum + day_sum + _SEQ_SUMS[seq]) % 11]
        return f"{self.region}{ymd}{_SEQ_TEXT[seq]}{check}", iso


class PeopleFactory:
    def __init__(self, seed: int, tag_ids: dict[str, int], created_at, as_of: datetime.date):
        """``as_of``: the day ages are counted back from (``governance.demo.dates``), so the same seed
        and day give the same birth dates whenever the seed runs, and every birth date lies before it."""
        self.seed = seed
        self.tag = tag_ids
        self.created_at = created_at
        # Phone numbers: counter i -> (i * step + offset) mod (prefixes x 10^8). With step
        # coprime to the modulus this is a bijection: unique without remembering what was issued.
        rng = random.Random(f"yiwang-demo-phones/{seed}")
        step = rng.randrange(_PHONE_MODULUS // 3, _PHONE_MODULUS)
        while math.gcd(step, _PHONE_MODULUS) != 1:
            step += 1
        self._phone_step = step
        self._phone_offset = rng.randrange(_PHONE_MODULUS)
        self._phone_next = 0
        self._ids: dict[str, _IdNumbers] = {}
        self._ref, self._ref_year = as_of.toordinal(), as_of.year

    # --- identifiers ------------------------------------------------------------------
    def id_numbers(self, region: str) -> _IdNumbers:
        ids = self._ids.get(region)
        if ids is None:
            ids = self._ids[region] = _IdNumbers(region)
        return ids

    def phone(self) -> str:
        value = (self._phone_next * self._phone_step + self._phone_offset) % _PHONE_MODULUS
        self._phone_next += 1
        prefix, rest = divmod(value, 10**8)
        return f"{_PHONE_PREFIXES[prefix]}{rest:08d}"

    # --- people -----------------------------------------------------------------------
    # ``rand`` is a seeded Random's bound ``random()``: integer draws are written as
    # ``lo + int(rand() * n)``, which is several times faster than randint()/choice() and
    # just as deterministic; this loop runs millions of times at city scale.
    @staticmethod
    def _family(rand) -> list[tuple[str, str, int, int]]:
        """Members as (relation, sex, age, surname line): line 0 = head's family, 1 = children's, 2 = own."""
        size = _SIZES[bisect(_SIZE_CUM, rand() * _SIZE_CUM[-1])]
        if size == 1:
            lo, hi, _ = _ALONE_AGES[bisect(_ALONE_AGE_CUM, rand() * _ALONE_AGE_CUM[-1])]
            age = lo + int(rand() * (hi - lo + 1))
            return [(HEAD, "F" if rand() < (0.6 if age >= 65 else 0.4) else "M", age, 0)]
        lo, hi, _ = _HEAD_AGES[bisect(_HEAD_AGE_CUM, rand() * _HEAD_AGE_CUM[-1])]
        age = lo + int(rand() * (hi - lo + 1))
        old = age >= 58
        values, cum = (_OLD if old else _YOUNG)[size]
        others = values[bisect(cum, rand() * cum[-1])]
        head_sex = "M" if rand() < (0.82 if SPOUSE in others else 0.55) else "F"
        members = [(HEAD, head_sex, age, 0)]
        youngest_parent = age
        child_age = None
        two_parents = others.count(PARENT) == 2
        for relation in others:
            if relation == SPOUSE:
                gap = int(rand() * 9) - 2
                spouse_age = max(20, age - gap if head_sex == "M" else age + gap)
                youngest_parent = min(age, spouse_age)
                members.append((SPOUSE, "F" if head_sex == "M" else "M", spouse_age, 2))
            elif relation == CHILD:
                if child_age is None:
                    top = youngest_parent - (24 if old else 21)
                    child_age = max(0, top - int(rand() * 13)) if top > 0 else int(rand() * 3)
                else:
                    child_age = max(0, child_age - 2 - int(rand() * 5))
                members.append((CHILD, "M" if rand() < 0.515 else "F", child_age, 1))
            elif relation == PARENT:
                # Two parents: a father then a mother; one alone is more often a widowed mother.
                female = members[-1][0] == PARENT if two_parents else rand() < 0.65
                parent_age = min(96, age + 22 + int(rand() * 11))
                members.append((PARENT, "F" if female else "M", parent_age, 2 if female else 0))
            elif relation == IN_LAW:  # the child's spouse (儿媳/女婿)
                base = child_age if child_age is not None else age - 28
                in_law_age = max(20, base - 3 + int(rand() * 7))
                members.append((IN_LAW, "F" if members[-1][1] == "M" else "M", in_law_age, 2))
            else:  # grandchild
                parent = child_age if child_age is not None else age - 24 - int(rand() * 7)
                grandchild_age = max(0, parent - 22 - int(rand() * 11))
                members.append((GRANDCHILD, "M" if rand() < 0.515 else "F", grandchild_age, 1))
        return members

    @staticmethod
    def _surname(rand) -> str:
        return _SURNAME_VALUES[bisect(_SURNAME_CUM, rand() * _SURNAME_CUM[-1])]

    @staticmethod
    def _given(rand, year: int, sex: str) -> str:
        first, second, single_share = _GIVEN[(0 if year < 1965 else 1 if year < 1990 else 2) * 2 + (sex == "F")]
        if rand() < single_share:
            return second[int(rand() * len(second))]
        return first[int(rand() * len(first))] + second[int(rand() * len(second))]

    # --- one lowest unit ----------------------------------------------------------------
    def fill(self, leaf: Unit, batch: Batch) -> None:
        """Append the rows of every household of ``leaf`` (already written: leaf.pk is set)."""
        rand = random.Random(f"yiwang-demo/{self.seed}/{leaf.code}").random
        style = leaf.address
        tag = self.tag
        party_member, veteran, disabled_person, dibao_member = (
            tag["party_member"], tag["veteran"], tag["disabled_person"], tag["dibao_member"],
        )
        created_at = self.created_at
        ref, ref_year = self._ref, self._ref_year
        hid, rid = batch.next_household_id - 1, batch.next_resident_id - 1
        region = leaf.region
        family, surname_of, given, id_number, phone_number = (
            self._family, self._surname, self._given, self.id_numbers(region).issue, self.phone,
        )
        households, residents = batch.households, batch.residents
        household_tags, resident_tags = batch.household_tags, batch.resident_tags
        urban = not style.rural
        house_no = 0
        per_unit = style.floors * 2
        bare = leaf.level != "micro_grid"
        units_per_building = 3 if bare else 10**6  # a micro-grid is one building
        spread = max(1, leaf.households // 3)
        for n in range(leaf.households):
            hid += 1
            if urban:
                building, i = divmod(n, per_unit * units_per_building)
                unit, i = divmod(i, per_unit)
                address = (
                    f"{style.prefix}{style.road}{style.road_no}号{style.estate}{style.group + building}栋"
                    f"{unit + 1}单元{i // 2 + 1}{i % 2 + 1:02d}室"
                )
            else:  # a micro-grid is one village group (组); a grid without them spans three
                group_offset, within = (min(n // spread, 2), n - min(n // spread, 2) * spread) if bare else (0, n)
                if within == 0:
                    house_no = 0
                house_no += 1 + (rand() < 0.3)
                address = f"{style.prefix}{style.group + group_offset}组{house_no}号"
            households.append((hid, f"{leaf.code}{n + 1:04d}", address, leaf.pk, True, created_at))

            members = family(rand)
            head_age = members[0][2]
            head_surname = surname_of(rand)
            line_surname = head_surname
            if members[0][1] == "F" and len(members) > 1 and members[1][0] == SPOUSE:
                line_surname = None  # the children carry the husband's surname, drawn below
            dibao = rand() < (0.02 if urban else 0.035) * (3 if len(members) == 1 and head_age >= 65 else 1)
            disabled = party_head = False
            has_child = False
            young_grandchild = False
            for relation, sex, age, line in members:
                if relation == HEAD:
                    surname = head_surname
                elif line == 2:
                    surname = surname_of(rand)
                    if relation == SPOUSE and line_surname is None:
                        line_surname = surname
                elif line == 1:
                    surname = line_surname or head_surname
                else:
                    surname = head_surname
                if relation == CHILD:
                    has_child = True
                elif relation == GRANDCHILD and age < 16:
                    young_grandchild = True
                male = sex == "M"
                id_no, birth = id_number(ref - age * 365 - age // 4 - int(rand() * 365), male)
                name = surname + given(rand, ref_year - age, sex)
                phone = phone_number() if age >= 16 and rand() < (0.92 if age < 70 else 0.55) else ""
                rid += 1
                residents.append((rid, hid, name, id_no, birth, sex, phone, relation, True, created_at))
                if age >= 18 and rand() < (0.10 if male else 0.05):
                    resident_tags.append((rid, party_member))
                    party_head = party_head or relation == HEAD
                if male and age >= 22 and rand() < 0.03:
                    resident_tags.append((rid, veteran))
                if rand() < 0.025:
                    resident_tags.append((rid, disabled_person))
                    disabled = True
                if dibao:
                    resident_tags.append((rid, dibao_member))
            if dibao:
                household_tags.append((hid, tag["dibao"]))
            if len(members) == 1 and head_age >= 65 and rand() < 0.6:
                household_tags.append((hid, tag["elderly_alone"]))
            if young_grandchild and not has_child and rand() < (0.2 if urban else 0.7):
                household_tags.append((hid, tag["left_behind_child"]))
            if disabled:
                household_tags.append((hid, tag["disabled"]))
            if party_head and rand() < 0.3:
                household_tags.append((hid, tag["party_household"]))
            if rand() < (0.08 if urban else 0.015):
                household_tags.append((hid, tag["rental"]))
        batch.next_household_id, batch.next_resident_id = hid + 1, rid + 1
