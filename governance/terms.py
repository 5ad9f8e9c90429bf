"""Local names (本地称谓): what a county calls the portal's terms, and the term lists they belong to.

Counties name things their own way: Dechang calls its micro-grids 优网格 and their workers
优网格员. An administrator sets such names per county (``LocalName``; a township may differ
from its county within its own area). Where a level, a grid-worker type or a case category is
shown to the county, its pages and exports show the local name; its imports accept it.

- ``local_names(unit)`` is the lookup for one place: the names in force at ``unit`` (its
  county's, then its township's), one query, kept on the unit object for the rest of the
  request. ``LocalNames.label(vocabulary, code, default)`` gives the name to show.
- ``LocalNameBook`` holds the names of many places from one query, for lists and exports
  (a row's names are those of its own county) and for imports (``accepted``: the names in
  force anywhere in the importing user's area that mean one term only).

A unit's county and township are read from its code: division codes nest (a township's code
starts with its county's first 6 digits, a village's with its township's first 9) and a grid's
code is its parent's code plus a suffix, rules ``OrgUnit.clean()`` keeps. So a list of cases
finds each case's county without walking the tree.

Term lists (``Vocabulary``) are registered by the app that owns the terms: the levels here,
grid-worker types and case categories in ``grid.rosters.terms``. A roster's choice column
takes the local names of the list registered for its choices (``vocabulary_for``).
"""

from collections.abc import Callable, Iterable, Mapping

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.models import KINDS_BY_LEVEL, Kind, Level, LocalName, OrgUnit
from governance.registry import Registry
from governance.scope import scope_filter, unit_field

LEVELS = "level"


# --- Term lists -------------------------------------------------------------------------------


class Vocabulary:
    """A list of terms a county may name its own way.

    ``choices``: the TextChoices whose values are the codes; or ``labels``, a callable giving
    {code: label} for a list kept in a table (case categories). ``also``: other TextChoices
    whose values stand for codes of this list ({choices: {value: code}}), e.g. the kind
    "micro-grid" is the level "micro-grid".
    """

    def __init__(self, key: str, label, *, choices=None, labels: Callable[[], dict] | None = None,
                 also: dict | None = None):
        self.key = key
        self.label = label
        self.choices = choices
        self._labels = labels
        self.also = also or {}

    def labels(self) -> dict[str, str]:
        """Code → the portal's own label, in the active language."""
        if self.choices is not None:
            return {value: str(label) for value, label in self.choices.choices}
        return {code: str(label) for code, label in self._labels().items()}

    def codes_of(self, choices) -> dict[str, str] | None:
        """{value of ``choices``: code} when this list names the values of ``choices``, else None."""
        if choices is self.choices:
            return {value: value for value in choices.values}
        return self.also.get(choices)


_vocabularies = Registry("rosters")  # apps register their lists next to their rosters (grid.rosters.terms)


def register_vocabulary(vocabulary: Vocabulary) -> Vocabulary:
    return _vocabularies.add(vocabulary.key, vocabulary)


def all_vocabularies() -> list[Vocabulary]:
    return _vocabularies.all()


def get_vocabulary(key: str) -> Vocabulary | None:
    try:
        return _vocabularies.get(key)
    except KeyError:
        return None


def vocabulary_for(choices) -> tuple[Vocabulary, dict[str, str]] | None:
    """The list whose local names a choice column of ``choices`` takes, with {value: code}."""
    for vocabulary in all_vocabularies():
        codes = vocabulary.codes_of(choices)
        if codes:
            return vocabulary, codes
    return None


# A level with one kind only: that kind is the level (the kind "micro-grid" is named as the level is).
_KIND_IS_LEVEL = {kind: level for level, kinds in KINDS_BY_LEVEL.items() if len(kinds) == 1 for kind in kinds}

register_vocabulary(Vocabulary(LEVELS, _("Org levels"), choices=Level, also={Kind: _KIND_IS_LEVEL}))


# --- The names in force at a place --------------------------------------------------------------


def places(code: str) -> tuple[str, ...]:
    """The codes of the county and the township a unit with ``code`` lies in (itself included), from its code."""
    if len(code) < 12 or not code[:12].isdigit() or code[4:6] == "00":
        return ()  # a city or above: no county
    county = code[:6] + "000000"
    if code[6:9] == "000":
        return (county,)
    return (county, code[:9] + "000")


class LocalNames(Mapping):
    """The local names in force at one place: vocabulary → {code: name}."""

    def __init__(self, terms: dict[str, dict[str, str]] | None = None):
        self._terms = terms or {}

    def __getitem__(self, vocabulary: str) -> dict[str, str]:
        return self._terms[vocabulary]

    def __iter__(self):
        return iter(self._terms)

    def __len__(self):
        return len(self._terms)

    def label(self, vocabulary: str, code, default=None) -> str:
        """The local name of ``code``, or ``default`` (the portal's label) when the place has none."""
        found = self._terms.get(vocabulary, {}).get(code)
        if found:
            return found
        return str(default) if default is not None else str(code or "")

    def level(self, level: str) -> str:
        """A level's name here (e.g. 优网格 for the micro-grid)."""
        return self.label(LEVELS, level, Level(level).label if level in Level.values else level)

    def kind(self, kind: str) -> str:
        """A unit kind's name here: the level's local name when the kind is its level's only kind."""
        level = _KIND_IS_LEVEL.get(kind)
        default = Kind(kind).label if kind in Kind.values else kind
        return self.label(LEVELS, level, default) if level else str(default)


class LocalNameBook:
    """The local names of several places, loaded in one query (see the module docstring)."""

    def __init__(self, rows: Iterable[tuple[str, str, str, str]] = ()):
        self._by_place: dict[str, dict[str, dict[str, str]]] = {}
        for place, vocabulary, code, name in rows:
            self._by_place.setdefault(place, {}).setdefault(vocabulary, {})[code] = name
        self._memo: dict[tuple, LocalNames] = {}

    @classmethod
    def _load(cls, condition: Q | None) -> "LocalNameBook":
        queryset = LocalName.objects.all() if condition is None else LocalName.objects.filter(condition)
        return cls(queryset.order_by().values_list("unit__code", "vocabulary", "code", "name"))

    @classmethod
    def for_area(cls, user) -> "LocalNameBook":
        """The names in force anywhere in ``user``'s area: in his subtree, and those of his county and
        township above him (None: everywhere, for the command line)."""
        if user is None:
            return cls._load(None)
        inside = scope_filter(user, "unit")
        if inside is None:
            return cls._load(None)
        unit_id = getattr(user, "home_unit_id", None)
        if unit_id is None:
            return cls()
        above = Q(unit__tree_id=unit_field(OrgUnit, unit_id, "tree_id"),
                  unit__lft__lte=unit_field(OrgUnit, unit_id, "lft"),
                  unit__rght__gte=unit_field(OrgUnit, unit_id, "rght"))
        return cls._load(inside | above)

    @classmethod
    def for_places(cls, codes: Iterable[str]) -> "LocalNameBook":
        """The names in force at the units with ``codes``."""
        wanted = sorted({place for code in codes for place in places(code)})
        return cls._load(Q(unit__code__in=wanted)) if wanted else cls()

    def at(self, unit_or_code) -> LocalNames:
        """The names in force at a unit (or a unit's code): its county's, then its township's."""
        code = unit_or_code if isinstance(unit_or_code, str) else getattr(unit_or_code, "code", "")
        key = places(code or "")
        found = self._memo.get(key)
        if found is None:
            merged: dict[str, dict[str, str]] = {}
            for place in key:  # the county first: a township's own name wins within it
                for vocabulary, names in self._by_place.get(place, {}).items():
                    merged.setdefault(vocabulary, {}).update(names)
            found = self._memo[key] = LocalNames(merged)
        return found

    def spelling(self, folded: str) -> str:
        """A local name as the administrator wrote it, for its folded form."""
        for terms in self._by_place.values():
            for names in terms.values():
                for name in names.values():
                    if fold(name) == folded:
                        return name
        return folded

    def accepted(self, vocabulary: str) -> dict[str, str]:
        """Folded name → code, for every name of ``vocabulary`` in the book that means one code only."""
        found: dict[str, str | None] = {}
        for terms in self._by_place.values():
            for code, name in terms.get(vocabulary, {}).items():
                key = fold(name)
                found[key] = code if found.get(key, code) == code else None
        return {name: code for name, code in found.items() if code is not None}


def local_names(unit) -> LocalNames:
    """The local names in force at ``unit`` (an OrgUnit): its county's, then its township's.

    One query, and none again for the same unit object: the names stay on it for the rest of
    the request (a changed name shows on the next page).
    """
    found = getattr(unit, "_local_names", None)
    if found is None:
        found = LocalNameBook.for_places([unit.code]).at(unit.code) if unit is not None else LocalNames()
        if unit is not None:
            unit._local_names = found
    return found


def fold(text) -> str:
    """A name as compared: without spaces, case-folded."""
    return "".join(str(text).split()).casefold()
