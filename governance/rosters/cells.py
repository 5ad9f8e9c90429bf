"""Cell parsers of the roster engine: text, ID numbers, dates, times, yes/no, choices, numbers, lists, references."""

import datetime
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


def fold(text: str) -> str:
    return "".join(str(text).split()).casefold()


class Choice(Parser):
    """A value of a TextChoices class, given by its label (any language the portal speaks) or its value."""

    def __init__(self, choices, allowed: Iterable | None = None, default=None):
        self.choices = choices
        self.allowed = list(allowed) if allowed is not None else [value for value, _label in choices.choices]
        self.empty = default if default is not None else ""
        self._maps: dict[str, dict[str, str]] = {}

    def _map(self) -> dict[str, str]:
        language = translation.get_language() or settings.LANGUAGE_CODE
        found = self._maps.get(language)
        if found is None:
            found = {}
            labels = dict(self.choices.choices)
            for lang in ("en", settings.LANGUAGE_CODE, language):
                with translation.override(lang):
                    for value in self.allowed:
                        found.setdefault(fold(labels[value]), value)
            for value in self.allowed:
                found.setdefault(fold(value), value)
            self._maps[language] = found
        return found

    def __call__(self, value):
        return self.bind()(value)

    def bind(self):
        mapping = self._map()

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
        labels = dict(self.choices.choices)
        return "、".join(str(labels[value]) for value in self.allowed)

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

    def bind(self):
        item = self.item.bind() if self.item else None
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
        inner = self.item.describe() if self.item else gettext("Text")
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
