"""Cell parsers of the roster engine: text, ID numbers, dates, times, yes/no, choices, numbers, lists, references."""

import datetime
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext
from openpyxl.utils.datetime import from_excel

from governance.rosters.lookups import chunked, filter_in
from governance.terms import fold, vocabulary_for

# --- Cell parsers -------------------------------------------------------------------------


def _cell_text(value) -> str:
    if type(value) is str:
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class Parser:
    """Turns one non-empty cell into a Python value, or raises ValidationError (the message is for the user)."""

    empty = None  # the value of an empty cell

    def __call__(self, value):
        raise NotImplementedError

    def describe(self) -> str:
        """Allowed values or format, for the template's instructions sheet."""
        return ""

    def display(self, value):
        """A stored value as an export cell."""
        return value

    def bind(self):
        """The callable that parses the cells of one import (may precompute what the active language needs)."""
        return self

    def bind_in(self, names=None):
        """``bind()`` for an import whose area has the local names ``names`` (a ``LocalNameBook`` or None):
        choices take them; other parsers have no use for them."""
        return self.bind()

    def describe_in(self, names=None) -> str:
        """``describe()`` for a template read where ``names`` are in force (the accepted local names too)."""
        return self.describe()

    def uses_local_names(self) -> bool:
        """Whether ``bind_in`` reads local names (then the import loads them, once)."""
        return False


class Text(Parser):
    empty = ""

    def __init__(self, upper: bool = False, description=""):
        self.upper = upper
        self.description = description

    def __call__(self, value):
        text = _cell_text(value)
        return text.upper() if self.upper else text

    def bind(self):
        # A plain function: most cells of a big file are text, and this runs for each of them.
        if self.upper:
            return lambda value: (value.strip() if type(value) is str else _cell_text(value)).upper()
        return lambda value: value.strip() if type(value) is str else _cell_text(value)

    def describe(self):
        return str(self.description) if self.description else gettext("Text")


class IdNumber(Text):
    def __init__(self):
        super().__init__(upper=True)

    def describe(self):
        return gettext("18 characters (GB 11643); type it as text, not as a number")


_DATE_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)


class Date(Parser):
    def __call__(self, value):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
            converted = from_excel(value)
            if isinstance(converted, datetime.datetime):
                return converted.date()
        text = _cell_text(value)
        match = _DATE_RE.fullmatch(text)
        if match is None and re.fullmatch(r"\d{8}", text):
            match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        if match:
            try:
                return datetime.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
        raise ValidationError(gettext('"%(value)s" is not a date: use YYYY-MM-DD.') % {"value": text})

    def describe(self):
        return gettext("Date: YYYY-MM-DD, 2026/1/5 or an Excel date")


class Time(Parser):
    def __call__(self, value):
        if isinstance(value, datetime.datetime):
            return value.time().replace(microsecond=0)
        if isinstance(value, datetime.time):
            return value.replace(microsecond=0)
        if isinstance(value, float | int) and not isinstance(value, bool) and 0 <= value < 1:
            converted = from_excel(value)
            if isinstance(converted, datetime.time):
                return converted.replace(microsecond=0)
        text = _cell_text(value).replace("：", ":")
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
        if match:
            try:
                return datetime.time(int(match[1]), int(match[2]), int(match[3] or 0))
            except ValueError:
                pass
        raise ValidationError(gettext('"%(value)s" is not a time: use HH:MM.') % {"value": text})

    def describe(self):
        return gettext("Time: HH:MM, e.g. 09:30")


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "对", "有"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "不是", "无"}


class Bool(Parser):
    def __init__(self, default: bool = False):
        self.empty = default

    def __call__(self, value):
        if isinstance(value, bool):
            return value
        text = _cell_text(value).lower()
        if text in _TRUE or text == gettext("Yes").lower():
            return True
        if text in _FALSE or text == gettext("No").lower():
            return False
        raise ValidationError(gettext('"%(value)s" is not yes or no (是/否).') % {"value": text})

    def describe(self):
        return gettext("是/否 (also Y/N, 1/0)")

    def display(self, value):
        if value is None:
            return None
        return gettext("Yes") if value else gettext("No")


def _bare(label: str) -> str:
    """A label without its bracketed note at the end: 大事 for 大事（乡镇）."""
    return _NOTE.sub("", label).strip()


_NOTE = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")


def _derived_short_forms(labels: dict[str, str]) -> dict[str, set[str]]:
    """The short forms read off a choice's labels (in one language): a label without its bracketed
    note (大事 for 大事（乡镇）); or, when no label has a note, each label without the word every
    label ends with (绿 for 绿色 beside 红色 and 黄色; 单位型 for 单位型网格), when that leaves
    something of every label and does not cut a word in two."""
    forms: dict[str, set[str]] = {value: set() for value in labels}
    bare = {value: _bare(label) for value, label in labels.items()}
    for value, text in bare.items():
        if text and text != labels[value]:
            forms[value].add(text)
    if any(forms.values()):
        return forms
    texts = list(labels.values())
    suffix = os.path.commonprefix([text[::-1] for text in texts])[::-1] if len(texts) > 1 else ""
    if suffix and all(len(text) > len(suffix) for text in texts):
        stems = {value: text[: -len(suffix)] for value, text in labels.items()}
        # "Satisfied"/"Dissatisfied" share "atisfied": a Latin word is not cut in two.
        if not any(stem[-1].isascii() and stem[-1].isalnum() and suffix[0].isascii() and suffix[0].isalnum()
                   for stem in stems.values()):
            for value, stem in stems.items():
                stem = stem.strip(" -")
                if stem:
                    forms[value].add(stem)
    return forms


class Choice(Parser):
    """A value of a TextChoices class. A cell may give its label (in any language the portal speaks), a
    short form of the label, the local name the county gives it (``governance.terms``) or its value.

    Short forms are read off the labels once per language (``_derived_short_forms``); a column
    declares others in ``short_forms`` ({value: forms}). A label or a value always means itself;
    a local name comes next; a short form that could mean two values means neither. The
    template's instructions list every accepted form (``describe_in``).
    """

    def __init__(self, choices, allowed: Iterable | None = None, default=None, short_forms: dict | None = None):
        self.choices = choices
        self.allowed = list(allowed) if allowed is not None else [value for value, _label in choices.choices]
        self.empty = default if default is not None else ""
        self.short_forms = short_forms or {}
        self._maps: dict[str, tuple[dict[str, str], dict[str, str]]] = {}

    def _labels(self) -> dict[str, str]:
        labels = dict(self.choices.choices)
        return {value: str(labels[value]) for value in self.allowed}

    def _short_forms(self) -> dict[str, list[str]]:
        """Value → its short forms in the active language (derived, then declared)."""
        found = {value: sorted(forms) for value, forms in _derived_short_forms(self._labels()).items()}
        for value, forms in self.short_forms.items():
            if value in found:
                found[value] += [str(form) for form in forms if str(form) not in found[value]]
        return found

    def _map(self) -> tuple[dict[str, str], dict[str, str]]:
        """(labels and values, short forms): folded text → value, in every language the portal speaks."""
        language = translation.get_language() or settings.LANGUAGE_CODE
        found = self._maps.get(language)
        if found is None:
            exact: dict[str, str] = {}
            shorts: dict[str, str | None] = {}
            for lang in ("en", settings.LANGUAGE_CODE, language):
                with translation.override(lang):
                    for value, label in self._labels().items():
                        exact.setdefault(fold(label), value)
                    for value, forms in self._short_forms().items():
                        for form in forms:
                            key = fold(form)
                            shorts[key] = value if shorts.get(key, value) == value else None
            for value in self.allowed:
                exact.setdefault(fold(value), value)
            found = self._maps[language] = (exact, {k: v for k, v in shorts.items() if v is not None})
        return found

    def _local(self, names) -> dict[str, str]:
        """Folded local name → value, for the names in ``names`` (a LocalNameBook) that stand for a value."""
        if names is None:
            return {}
        found = vocabulary_for(self.choices)
        if found is None:
            return {}
        vocabulary, codes = found
        values = {code: value for value, code in codes.items() if value in self.allowed}
        return {name: values[code] for name, code in names.accepted(vocabulary.key).items() if code in values}

    def __call__(self, value):
        return self.bind()(value)

    def uses_local_names(self):
        return vocabulary_for(self.choices) is not None

    def bind(self):
        return self.bind_in(None)

    def bind_in(self, names=None):
        exact, shorts = self._map()
        mapping = {**shorts, **self._local(names), **exact}

        def parse(value):
            text = _cell_text(value)
            found = mapping.get(text)  # most cells are written exactly as the label
            if found is None:
                found = mapping.get(fold(text))
            if found is None:
                raise ValidationError(
                    gettext('"%(value)s" is not one of: %(choices)s.') % {"value": text, "choices": self.describe()}
                )
            return found

        return parse

    def describe(self):
        return "、".join(self._labels().values())

    def describe_in(self, names=None):
        """Each value's label, then its other accepted forms in brackets: 绿色（绿、green）."""
        exact, shorts = self._map()
        local = self._local(names)
        taken = {**shorts, **local, **exact}
        by_value: dict[str, list[str]] = {value: [] for value in self.allowed}
        for value, forms in self._short_forms().items():
            by_value[value] += [form for form in forms if taken.get(fold(form)) == value]
        if names is not None and local:
            for name, value in local.items():
                if taken.get(name) == value:
                    by_value[value].append(names.spelling(name))
        parts = []
        for value, label in self._labels().items():
            forms = [form for form in dict.fromkeys(by_value[value]) if fold(form) != fold(label)]
            if fold(value) != fold(label):
                forms.append(value)
            parts.append(f"{label}（{'、'.join(forms)}）" if forms else label)
        return "、".join(parts)

    def display(self, value):
        if not value:
            return None
        return str(dict(self.choices.choices).get(value, value))


class Number(Parser):
    def __init__(self, integer: bool = False, decimal_places: int | None = None, description=""):
        self.integer = integer
        self.decimal_places = decimal_places
        self.description = description

    def __call__(self, value):
        if isinstance(value, bool):
            raise ValidationError(gettext('"%(value)s" is not a number.') % {"value": value})
        text = _cell_text(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(gettext('"%(value)s" is not a number.') % {"value": text}) from None
        if not number.is_finite():
            raise ValidationError(gettext('"%(value)s" is not a number.') % {"value": text})
        if self.integer:
            if number != number.to_integral_value():
                raise ValidationError(gettext('"%(value)s" is not a whole number.') % {"value": text})
            return int(number)
        if self.decimal_places is not None:
            number = number.quantize(Decimal(1).scaleb(-self.decimal_places), rounding=ROUND_HALF_UP)
        return number

    def describe(self):
        if self.description:
            return str(self.description)
        return gettext("Whole number") if self.integer else gettext("Number")


LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")


class ListOf(Parser):
    """Several entries in one cell, separated by 、 , ; or ； (``item`` parses each)."""

    empty = ()

    def __init__(self, item: Parser | None = None, separators: re.Pattern = LIST_SEPARATORS, joiner: str = "、"):
        self.item = item
        self.separators = separators
        self.joiner = joiner

    def __call__(self, value):
        return self.bind()(value)

    def uses_local_names(self):
        return self.item is not None and self.item.uses_local_names()

    def bind(self):
        return self.bind_in(None)

    def bind_in(self, names=None):
        item = self.item.bind_in(names) if self.item else None
        separators = self.separators

        def parse(value):
            entries = []
            for part in separators.split(_cell_text(value)):
                part = part.strip()
                if not part:
                    continue
                entry = item(part) if item else part
                if entry not in entries:
                    entries.append(entry)
            return tuple(entries)

        return parse

    def describe(self):
        return self.describe_in(None)

    def describe_in(self, names=None):
        inner = self.item.describe_in(names) if self.item else gettext("Text")
        return gettext("Several entries separated by %(sep)s: %(item)s") % {"sep": self.joiner, "item": inner}

    def display(self, value):
        if not value:
            return None
        item = self.item.display if self.item else str
        return self.joiner.join(str(item(entry)) for entry in value)


class Ref(Parser):
    """A reference to another model by a natural key (a code, a number, an ID number).

    The cell is parsed to its key text; the engine then resolves every key of the column
    with one query per chunk, among the rows ``visible_to`` the importing user. ``field``
    is the lookup path of the key (``code``, ``resident__id_number``); ``filter`` narrows
    the candidates (not found otherwise); ``accept(obj)`` returns a message when a found
    row does not fit. ``in_file``: the key may also name a new row of the same file (its
    key column), which the spec then writes first. ``qualifier`` = (column name, lookup
    path): when several rows share the key, the row's value in that column picks one.
    """

    empty = None

    def __init__(
        self,
        model,
        field: str,
        what,
        *,
        filter: dict | None = None,
        accept: Callable | None = None,
        select_related: tuple = (),
        upper: bool = False,
        in_file: bool = False,
        qualifier: tuple[str, str] | None = None,
        description="",
        scoped: bool = True,
        integer: bool = False,
        ids_only: bool = False,
    ):
        self.integer = integer
        self.ids_only = ids_only
        self.model = model
        self.field = field
        self.what = what
        self.filter = filter or {}
        self.accept = accept
        self.select_related = select_related
        self.upper = upper
        self.in_file = in_file
        self.qualifier = qualifier
        self.description = description
        self.scoped = scoped

    def __call__(self, value):
        if self.integer:
            return Number(integer=True)(value)
        text = _cell_text(value)
        return text.upper() if self.upper else text

    def describe(self):
        return str(self.description) if self.description else ""

    def resolve(self, keys: set, user) -> dict:
        """key → list of matching rows (visible to ``user``); their ids only with ``ids_only``."""
        queryset = self.model._default_manager.all()
        if user is not None and self.scoped and hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(user)
        queryset = queryset.filter(**self.filter)
        found: dict[str, list] = defaultdict(list)
        if self.ids_only:
            for chunk in chunked(sorted(keys)):
                for pk, key in filter_in(queryset, self.field, chunk).order_by("pk").values_list("pk", self.field):
                    found[key].append(pk)
            return found
        queryset = queryset.annotate(_roster_key=F(self.field))
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        for chunk in chunked(sorted(keys)):
            for obj in filter_in(queryset, self.field, chunk).order_by("pk"):
                found[obj._roster_key].append(obj)
        return found


class InFile:
    """A reference to another row of the same file (resolved to its instance when building)."""

    __slots__ = ("row",)

    def __init__(self, row):
        self.row = row
