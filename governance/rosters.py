"""The roster engine: Excel import and export of every roster, shared by the admin, the
``import_roster``/``export_roster`` commands and the web pages.

A roster (households, residents, grids, grid workers, party members ...) is declared once as
a ``RosterSpec``: its model, its ordered columns and the column(s) that say "the same row".
Apps declare theirs in a ``rosters`` module (``grid/rosters.py``, ``partybuild/rosters.py``);
the registry imports those modules the first time it is asked for a spec, so governance
never imports an app above it.

Import (``roster_import``), all or nothing, no query per row:

1. the file is read (``governance.tabular``: .xlsx or .csv) and its header row matched to
   the columns, by the header in the active language, in the portal's language or as the
   English msgid; a required column missing is one error and nothing else is checked;
2. every cell is parsed (dates as YYYY-MM-DD, 2026/1/5 or Excel date cells; 是/否/Y/N/1/0;
   choices by label or value; lists separated by 、 , ; or ；) and the key of each row
   computed: a key seen twice in the file is an error on the second row;
3. references are resolved in bulk, one query per referenced model for the whole file,
   among the rows the user may see (``visible_to``): a code outside his scope is "not
   found", exactly like a code that does not exist;
4. the rows already in the database are loaded by key in bulk; one outside the user's
   scope is refused;
5. every row is built as a model instance with its foreign keys already attached and
   checked as the model's own ``clean_fields()`` would (each field's ``clean()``, foreign
   keys excluded: step 3 checked them; see ``_field_check``) and ``clean()``; then the
   spec's bulk rules run over the file and the database (limits, overlaps, one active
   registration ...);
6. rows are classified new / changed / unchanged / error. If any error was found nothing
   is written. Otherwise, in one transaction: new rows with bulk inserts (PostgreSQL:
   ids drawn from the sequence in one query, then ``COPY``), changed rows with one
   set-based UPDATE (PostgreSQL: ``COPY`` into a temporary table and ``UPDATE ... FROM``;
   elsewhere ``executemany``), tags and list entries through their tables in bulk, and
   the history records of models that keep history, also in bulk. A second import of the
   same file finds every row unchanged and writes nothing. On PostgreSQL the big rosters
   (``stream_writes``) write checked rows in batches from a second thread while later
   rows are still being checked (``StreamWriter``); an error rolls those back too.

Export (``roster_export``) streams ``values_list`` rows of the queryset (restricted again
to the user's scope) into an .xlsx file; ID numbers and phones are masked unless the user
may see personal data, and every export is recorded in ``ExportLog``.
"""

import datetime
import io
import queue
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy, ngettext
from openpyxl.utils.datetime import from_excel

from governance.masking import can_view_personal_data, mask_id_number, mask_phone
from governance.registry import Registry
from governance.tabular import Table, TableError, XlsxWriter, read_table

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HISTORY_REASON = "roster import"
SAMPLE_ROWS = 50
EXPORT_CHUNK = 2000
WRITE_BATCH = 2000
# Rows read, resolved and checked at a time by the rosters that stream their writes.
PIPELINE_CHUNK = 10_000


def _query_chunk() -> int:
    # SQLite allows 999 parameters per statement in old builds; PostgreSQL takes long IN lists.
    return 50_000 if connection.vendor == "postgresql" else 900


def chunked(items: list, size: int | None = None):
    size = size or _query_chunk()
    for start in range(0, len(items), size):
        yield items[start : start + size]


@models.Field.register_lookup
class _AnyOf(models.Lookup):
    """``path__roster_any=[...]``: ``= ANY(array)`` on PostgreSQL, one parameter however many values.

    Django's ``__in`` binds and prepares every value separately (about 10 µs each here), which
    alone would cost a second for the 100,000 keys of a large file.
    """

    lookup_name = "roster_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # One array literal ('{...}'::type[]): PostgreSQL parses it far faster than the
        # ARRAY[...] expression psycopg2 would build from a list of 50,000 values.
        db_type = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, _array_literal(self.rhs.values)]


class _Keys:
    """The values of a ``roster_any`` lookup, wrapped so that Django does not walk the list value by value."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


_PLAIN_ELEMENT = re.compile(r"[0-9A-Za-z_.:+-]+")


def _array_literal(values) -> str:
    parts = []
    plain = _PLAIN_ELEMENT.fullmatch
    for value in values:
        if type(value) is int:
            parts.append(str(value))
            continue
        text = value.isoformat() if isinstance(value, datetime.date | datetime.time) else str(value)
        if plain(text) is None or text.upper() == "NULL":
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(text)
    return "{" + ",".join(parts) + "}"


# Related fields look lookups up in their own class hierarchy only.
models.ForeignObject.register_lookup(_AnyOf)


def filter_in(queryset, path: str, values: list):
    """``queryset`` limited to rows whose ``path`` is one of ``values`` (one chunk of keys)."""
    if connection.vendor == "postgresql":
        return queryset.filter(**{f"{path}__roster_any": _Keys(list(values))})
    return queryset.filter(**{f"{path}__in": values})


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


def _fold(text: str) -> str:
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
                        found.setdefault(_fold(labels[value]), value)
            for value in self.allowed:
                found.setdefault(_fold(value), value)
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
                found = mapping.get(_fold(text))
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


# --- Columns ------------------------------------------------------------------------------

PERSONAL_ID, PERSONAL_PHONE, PERSONAL_DATE = "id_number", "phone", "date"


@dataclass(eq=False)
class Column:
    """One column of a roster.

    ``header`` is an English msgid (the catalogue makes it Chinese); ``parser`` None makes an
    export-only column. ``field`` is the model field the column fills (default: ``name``;
    None for columns that fill none, such as lists kept in another table). ``export`` is the
    ``values()`` path read for the export (default: the field, or ``<field>__<key>`` for a
    reference). ``related`` handles a column kept in another table (tags, list entries).
    ``personal`` marks personal data: masked in exports for users who may not see it.
    """

    name: str
    header: object
    parser: Parser | None = None
    required: bool = False
    field: str | None = ""
    export: str | None = ""
    personal: str | None = None
    related: object = None
    display: object = None  # a Parser (e.g. Choice) or a callable giving the export cell
    example: object = ""
    note: object = ""
    width: int = 16

    def __post_init__(self):
        if self.field == "":
            self.field = self.name if (self.parser is not None and self.related is None) else None
        if self.export == "":
            if self.related is not None:
                self.export = None
            elif isinstance(self.parser, Ref):
                self.export = f"{self.field or self.name}__{self.parser.field}"
            else:
                self.export = self.field or self.name

    @property
    def importable(self) -> bool:
        return self.parser is not None

    @property
    def exported(self) -> bool:
        return self.export is not None or self.related is not None


# --- Columns kept in other tables ---------------------------------------------------------


class Related:
    """A column whose values live in another table (tags, list entries): loaded, compared and written in bulk."""

    def resolve(self, job, column, rows) -> None:
        """Turn the parsed entries of ``rows`` into what ``desired`` compares (may add errors)."""

    def current(self, pks: list[int]) -> dict[int, object]:
        raise NotImplementedError

    def desired(self, row, column):
        return frozenset(row.values.get(column.name) or ())

    def write(self, job, column, created: list, changed: list) -> None:
        raise NotImplementedError

    def export(self, pks: list[int]) -> dict[int, str]:
        raise NotImplementedError


class TagsColumn(Related):
    """A many-to-many to ``Tag`` (names or codes separated by 、 or ,) through its auto-created table."""

    def __init__(self, model, field_name: str, applies_to: str):
        self.model = model
        self.field_name = field_name
        self.applies_to = applies_to

    @property
    def through(self):
        return self.model._meta.get_field(self.field_name).remote_field.through

    def _columns(self):
        m2m = self.model._meta.get_field(self.field_name)
        return m2m.m2m_column_name(), m2m.m2m_reverse_name()

    def resolve(self, job, column, rows):
        from governance.models import Tag

        tags = list(Tag.objects.filter(applies_to=self.applies_to))
        by_name = {_fold(tag.name): tag.pk for tag in tags}
        by_name.update({_fold(tag.code): tag.pk for tag in tags})
        header = job.header_of(column)
        for row in rows:
            names = row.values.get(column.name)
            if not names:
                continue
            ids = []
            for name in names:
                pk = by_name.get(_fold(name))
                if pk is None:
                    job.error(row, header, gettext('There is no tag "%(name)s".') % {"name": name})
                else:
                    ids.append(pk)
            row.values[column.name] = tuple(ids)

    def current(self, pks):
        source, target = self._columns()
        found: dict[int, set] = defaultdict(set)
        for chunk in chunked(pks):
            for owner, tag in filter_in(self.through.objects.all(), source, chunk).values_list(source, target):
                found[owner].add(tag)
        return {pk: frozenset(tags) for pk, tags in found.items()}

    def write(self, job, column, created, changed):
        source, target = self._columns()
        through = self.through
        if changed:
            for chunk in chunked([row.instance.pk for row in changed]):
                through.objects.filter(**{f"{source}__in": chunk}).delete()
        links = [
            (row.instance.pk, tag)
            for row in (*created, *changed)
            for tag in sorted(job.related_value(row, column))
        ]
        insert_rows(through, (source, target), links)

    def export(self, pks):
        from governance.models import Tag

        source, target = self._columns()
        names = dict(Tag.objects.values_list("pk", "name"))
        found: dict[int, list] = defaultdict(list)
        rows = filter_in(self.through.objects.all(), source, pks).order_by(target).values_list(source, target)
        for owner, tag in rows:
            found[owner].append(names.get(tag, ""))
        return {pk: "、".join(tags) for pk, tags in found.items()}


class ChildEntries(Related):
    """Entries of a child table (``model`` with a foreign key ``parent`` to the roster row),
    one value field, optionally restricted to ``where`` (e.g. one kind of list), with
    ``defaults(row)`` filling the other fields of a new entry."""

    def __init__(
        self, model, parent: str, value_field: str, where: dict | None = None, defaults=None, joiner: str = "、"
    ):
        self.joiner = joiner
        self.model = model
        self.parent = parent
        self.value_field = value_field
        self.where = where or {}
        self.defaults = defaults

    def _parent_attname(self):
        return self.model._meta.get_field(self.parent).attname

    def current(self, pks):
        attname = self._parent_attname()
        found: dict[int, set] = defaultdict(set)
        for chunk in chunked(pks):
            rows = filter_in(self.model.objects.filter(**self.where), attname, chunk).values_list(
                attname, self.value_field
            )
            for owner, value in rows:
                found[owner].add(value)
        return {pk: frozenset(values) for pk, values in found.items()}

    def write(self, job, column, created, changed):
        attname = self._parent_attname()
        keep: dict[int, frozenset] = {}
        if changed:
            current = self.current([row.instance.pk for row in changed])
            remove = []
            for row in changed:
                wanted = job.related_value(row, column)
                had = current.get(row.instance.pk, frozenset())
                keep[row.instance.pk] = had & wanted
                remove.extend((row.instance.pk, value) for value in had - wanted)
            by_owner = defaultdict(list)
            for owner, value in remove:
                by_owner[owner].append(value)
            for owner, values in by_owner.items():
                self.model.objects.filter(**self.where, **{attname: owner, f"{self.value_field}__in": values}).delete()
        entries = []
        for row in (*created, *changed):
            have = keep.get(row.instance.pk, frozenset())
            for value in row.values.get(column.name) or ():
                if value in have:
                    continue
                extra = self.defaults(row) if self.defaults else {}
                entries.append(self.model(**{attname: row.instance.pk, self.value_field: value, **self.where, **extra}))
        insert_instances(self.model, entries)

    def export(self, pks):
        attname = self._parent_attname()
        field = self.model._meta.get_field(self.value_field)
        labels = dict(field.choices) if field.choices else None
        found: dict[int, list] = defaultdict(list)
        rows = filter_in(self.model.objects.filter(**self.where), attname, pks).order_by("pk")
        for owner, value in rows.values_list(attname, self.value_field):
            found[owner].append(str(labels.get(value, value)) if labels else value)
        return {pk: self.joiner.join(values) for pk, values in found.items()}


# --- Specs and the registry ---------------------------------------------------------------


class RosterSpec:
    """A roster: model, columns, key. Subclasses add the rules a file needs beyond the model's own."""

    kind: str = ""
    label = ""
    model: type[models.Model]
    columns: list[Column] = []
    key: tuple[str, ...] = ()  # column names
    key_paths: tuple[str, ...] = ()  # the key columns' lookup paths in the database
    existing_filter: dict = {}
    importable = True
    # The template's sentence on rows whose key is already in the system (%(key)s: the key columns).
    matching_note = gettext_lazy(
        "Rows are matched by %(key)s: a row already in the system is updated, never duplicated."
    )
    export_order: tuple[str, ...] = ()
    history = None  # None: record history when the model keeps it
    # Rows may be written while later rows are still being checked (StreamWriter): only for
    # specs with the default write, whose one unique key is the import key, and whose check()
    # neither reads the roster's own table nor adjusts instances.
    stream_writes = False

    # -- hooks --

    def lock(self):
        """Held around validation and writing (a tree's writer lock for tree rosters)."""
        return nullcontext()

    def export_queryset(self, queryset):
        return queryset.order_by(*self.export_order) if self.export_order else queryset

    def import_queryset(self):
        """The rows an import may match (by key) and update."""
        return self.model._default_manager.filter(**self.existing_filter)

    def prepare(self, row, kwargs: dict, job) -> None:
        """Fill ``kwargs`` (model field → value) of a row before its instance is built."""

    def validate(self, row, instance, job) -> None:
        """Rules of one row the model's clean() does not cover (no queries here)."""

    def check(self, job) -> None:
        """Rules across rows and the database, in bulk (limits, overlaps, ...); may still adjust
        the rows' instances (e.g. the other half of a pair) before they are compared."""

    def write(self, job) -> None:
        job.write_default()

    # -- derived --

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def import_columns(self) -> list[Column]:
        return [column for column in self.columns if column.importable]

    @property
    def export_columns(self) -> list[Column]:
        return [column for column in self.columns if column.exported]

    @property
    def has_personal_data(self) -> bool:
        return any(column.personal for column in self.export_columns)

    def template_filename(self) -> str:
        return f"{self.kind}-template.xlsx"


_registry = Registry("rosters", core="governance.roster_specs")  # the core rosters, then each app's rosters.py


def register(spec: RosterSpec) -> RosterSpec:
    return _registry.add(spec.kind, spec)


def get_spec(kind: str) -> RosterSpec:
    try:
        return _registry.get(kind)
    except KeyError:
        raise ValidationError(gettext('There is no roster "%(kind)s".') % {"kind": kind}) from None


def all_specs() -> list[RosterSpec]:
    return _registry.all()


def specs_for_model(model) -> list[RosterSpec]:
    return [spec for spec in all_specs() if spec.model is model]


# --- The report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` as numbered in the file (the header is row 1), the column's header, the message."""

    row: int
    column: str
    message: str


@dataclass
class SampleRow:
    row: int
    status: str  # "new" or "changed"
    cells: list[str]
    changed: set[str]  # headers of the changed columns


@dataclass
class ImportReport:
    kind: str
    label: str = ""
    filename: str = ""
    dry_run: bool = False
    written: bool = False
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    samples: list[SampleRow] = field(default_factory=list)
    elapsed: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step (for benchmarks)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    def status(self) -> str:
        if self.errors:
            if not self.error_rows:
                return gettext("The file cannot be imported: nothing was written.")
            return ngettext(
                "%(count)d row has errors: nothing was written.",
                "%(count)d rows have errors: nothing was written.",
                self.error_rows,
            ) % {"count": self.error_rows}
        if self.dry_run:
            return gettext("Preview only: nothing was written.")
        if not self.new and not self.changed:
            return gettext("Nothing to change: every row is already up to date.")
        return gettext("Import finished.")

    def counts_line(self) -> str:
        return gettext(
            "%(rows)d rows: %(new)d new, %(changed)d changed, %(unchanged)d unchanged, %(errors)d with errors."
        ) % {
            "rows": self.rows,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "errors": self.error_rows,
        }

    def lines(self) -> list[str]:
        out = [f"{self.label}: {self.status()}", self.counts_line()]
        out.append(
            gettext("%(seconds).1f s, %(rate)s rows/s.")
            % {"seconds": self.elapsed, "rate": f"{self.rows_per_second:,.0f}"}
        )
        if self.ignored_columns:
            out.append(gettext("Columns ignored: %(columns)s") % {"columns": "、".join(self.ignored_columns)})
        for error in self.errors:
            where = gettext("Row %(row)d") % {"row": error.row} if error.row else gettext("File")
            column = f" [{error.column}]" if error.column else ""
            out.append(f"  {where}{column}: {error.message}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


# --- The import ---------------------------------------------------------------------------


class Row:
    __slots__ = ("number", "cells", "values", "failed", "key", "existing", "instance", "status", "changed", "related",
                 "written")

    def __init__(self, number: int, cells: list):
        self.number = number
        self.cells = cells
        self.values: dict = {}
        self.failed = False
        self.key = None
        self.existing: dict | None = None
        self.instance = None
        self.status = ""
        self.changed: list[str] = []
        self.related: dict = {}
        self.written = False  # already updated by the stream writer


class _Abort(Exception):
    """Stop checking: the report already says why (e.g. a required column is missing)."""


def _header_key(text) -> str:
    return _fold(str(text).replace("*", "").replace("＊", ""))


class ImportJob:
    """One file being imported: its rows, their references and instances (used by specs' hooks)."""

    def __init__(self, spec: RosterSpec, user, report: ImportReport):
        self.spec = spec
        self.user = user
        self.report = report
        self.model = spec.model
        self.rows: list[Row] = []
        self.mapped: list[tuple[int, Column]] = []  # (index in the file, column)
        self.present: set[str] = set()  # names of the columns the file has
        self.headers: dict[str, str] = {}  # column name → header as written in the file
        self.by_key: dict = {}
        self.context: dict = {}  # scratch space for specs' hooks
        self.stream: StreamWriter | None = None
        self.streamed = False
        self._checked: dict[tuple, list[str]] = {}  # (field, value) → errors of a choice or yes/no field

    # -- errors --

    def error(self, row: Row | None, column: str, message: str) -> None:
        number = row.number if row is not None else 1
        if row is not None and not row.failed:
            row.failed = True
        self.report.errors.append(RowError(number, column, str(message)))

    def header_of(self, column: Column | str) -> str:
        name = column if isinstance(column, str) else column.name
        if name in self.headers:
            return self.headers[name]
        column = self.spec.column(name) if isinstance(column, str) else column
        return str(column.header)

    def has(self, name: str) -> bool:
        return name in self.present

    # -- steps --

    def map_headers(self, headers: list[str]) -> None:
        names: dict[str, Column] = {}
        for column in self.spec.import_columns:
            for language in ("en", settings.LANGUAGE_CODE, translation.get_language() or settings.LANGUAGE_CODE):
                with translation.override(language):
                    names.setdefault(_header_key(column.header), column)
        seen: dict[str, str] = {}
        for index, header in enumerate(headers):
            if not header:
                continue
            column = names.get(_header_key(header))
            if column is None:
                self.report.ignored_columns.append(header)
                continue
            if column.name in seen:
                self.error(None, header, gettext('The column "%(column)s" appears twice.') % {"column": header})
                continue
            seen[column.name] = header
            self.mapped.append((index, column))
            self.headers[column.name] = header
            self.present.add(column.name)
        for column in self.spec.import_columns:
            if column.required and column.name not in self.present:
                self.error(
                    None,
                    str(column.header),
                    gettext('The required column "%(column)s" is missing.') % {"column": column.header},
                )
        self.report.headers = [header for _index, header in sorted((i, self.headers[c.name]) for i, c in self.mapped)]
        if self.report.errors:
            raise _Abort

    def parse(self, rows) -> list[Row]:
        """Parse the cells of ``rows`` ((number, cells) pairs); returns the new rows (also added to ``self.rows``)."""
        added = []
        mapped = [
            (index, column, column.parser.bind(), self.headers[column.name]) for index, column in self.mapped
        ]
        key = self.spec.key
        by_key = self.by_key
        for number, cells in rows:
            row = Row(number, cells)
            values = row.values
            size = len(cells)
            for index, column, parser, header in mapped:
                raw = cells[index] if index < size else None
                if raw is None or (type(raw) is str and not raw.strip()):
                    if column.required:
                        self.error(row, header, gettext("This value is required."))
                    values[column.name] = column.parser.empty
                    continue
                try:
                    values[column.name] = parser(raw)
                except ValidationError as exc:
                    self.error(row, header, " ".join(exc.messages))
            if key and not row.failed:
                row.key = tuple(values.get(name) for name in key)
                first = by_key.get(row.key)
                if first is not None:
                    self.error(
                        row,
                        self.header_of(key[0]),
                        gettext("Repeats row %(row)d (same %(column)s).")
                        % {"row": first.number, "column": "、".join(self.header_of(name) for name in key)},
                    )
                else:
                    by_key[row.key] = row
            added.append(row)
        self.rows += added
        self.report.rows = len(self.rows)
        return added

    def resolve_references(self, rows: list[Row]) -> None:
        for _index, column in self.mapped:
            parser = column.parser
            if isinstance(column.related, Related):
                column.related.resolve(self, column, rows)
            if not isinstance(parser, Ref):
                continue
            name = column.name
            keys = {row.values[name] for row in rows if row.values.get(name)}
            if not keys:
                continue
            found = parser.resolve(keys, self.user)
            header = self.header_of(column)
            in_file = defaultdict(list)
            if parser.in_file:
                for other in self.rows:
                    if other.key is not None and not other.failed:
                        in_file[other.key[0]].append(other)
            for row in rows:
                key = row.values.get(name)
                if not key:
                    continue
                candidates = found.get(key)
                if not candidates and parser.in_file:
                    others = [other for other in in_file.get(key, ()) if other is not row]
                    if len(others) > 1 and parser.qualifier:
                        wanted = row.values.get(parser.qualifier[0])
                        others = [other for other in others if len(other.key) > 1 and other.key[1] == wanted]
                    if len(others) == 1:
                        row.values[name] = InFile(others[0])
                        continue
                if not candidates:
                    self.error(row, header, _not_found(parser.what, key))
                    row.values[name] = None
                    continue
                if len(candidates) > 1 and parser.qualifier:
                    qualifier_name, path = parser.qualifier
                    wanted = row.values.get(qualifier_name)
                    if wanted:
                        candidates = [obj for obj in candidates if _path_value(obj, path) == wanted]
                if len(candidates) != 1:
                    if not candidates:
                        message = _not_found(parser.what, key)
                    else:
                        message = gettext(
                            '"%(value)s" names more than one %(what)s: fill in %(column)s to tell them apart.'
                        ) % {
                            "what": parser.what,
                            "value": key,
                            "column": self.header_of(parser.qualifier[0]) if parser.qualifier else "",
                        }
                    self.error(row, header, message)
                    row.values[name] = None
                    continue
                obj = candidates[0]
                message = parser.accept(obj) if parser.accept else None
                if message:
                    self.error(row, header, message)
                    row.values[name] = None
                    continue
                row.values[name] = obj

    def load_existing(self, rows: list[Row]) -> None:
        spec = self.spec
        if not spec.key:
            return
        keyed = [row for row in rows if row.key is not None and not row.failed]
        if not keyed:
            return
        attnames = [f.attname for f in self.model._meta.concrete_fields]
        aliases = {f"_roster_key{i}": F(path) for i, path in enumerate(spec.key_paths)}
        queryset = spec.import_queryset().annotate(**aliases)
        first = spec.key_paths[0]
        wanted = {row.key for row in keyed}
        found: dict = {}
        for chunk in chunked(sorted({key[0] for key in wanted}, key=str)):
            for record in filter_in(queryset, first, chunk).values(*attnames, *aliases):
                key = tuple(record.pop(alias) for alias in aliases)
                if key in wanted:
                    found[key] = record
        if not found:
            return
        pk_name = self.model._meta.pk.attname
        visible = None
        if self.user is not None and hasattr(self.model._default_manager.all(), "visible_to"):
            visible = set()
            pks = [record[pk_name] for record in found.values()]
            scoped = self.model._default_manager.all().visible_to(self.user)
            for chunk in chunked(pks):
                visible.update(filter_in(scoped, "pk", chunk).values_list("pk", flat=True))
        for row in keyed:
            record = found.get(row.key)
            if record is None:
                continue
            if visible is not None and record[pk_name] not in visible:
                self.error(
                    row,
                    self.header_of(spec.key[0]),
                    gettext("This record belongs to a unit outside your area: you cannot change it."),
                )
                continue
            row.existing = record
        related_columns = [column for _i, column in self.mapped if isinstance(column.related, Related)]
        if related_columns:
            pks = [row.existing[pk_name] for row in keyed if row.existing]
            for column in related_columns:
                current = column.related.current(pks)
                for row in keyed:
                    if row.existing:
                        row.related[column.name] = current.get(row.existing[pk_name], frozenset())

    def build(self, rows: list[Row]) -> None:
        """Instances of ``rows`` without errors, with their references attached, then validated.

        Instances are built from positional field values (the fast path ``Model.__init__``
        takes for rows read from the database) and their foreign-key objects put in the field
        caches, so ``clean()`` reads them without a query. ``clean_fields()`` checks the fields
        the file sets; a choice or yes/no field is checked once per distinct value.
        """
        spec = self.spec
        meta = self.model._meta
        plan = []  # (column name, kwargs key, the other key of the same field, is a relation)
        file_fields = set()
        memo_fields = []
        for _i, column in self.mapped:
            if not column.field:
                continue
            model_field = meta.get_field(column.field)
            if model_field.is_relation:
                by_id = isinstance(column.parser, Ref) and column.parser.ids_only
                first, other = (model_field.attname, model_field.name) if by_id else (
                    model_field.name, model_field.attname)
                plan.append((column.name, first, other, True))
                continue
            plan.append((column.name, model_field.attname, None, False))
            if isinstance(column.parser, Choice | Bool):
                memo_fields.append(model_field)
            else:
                file_fields.add(model_field.name)
        checks = [_field_check(f) for f in meta.concrete_fields if f.name in file_fields]
        self._prepare_instantiation()
        in_file: list[tuple[Row, str, Row]] = []
        for row in rows:
            if row.failed:
                continue
            values = row.values
            kwargs = dict(row.existing) if row.existing else {}
            for name, key, other, relation in plan:
                if relation:
                    kwargs.pop(other, None)
                kwargs[key] = values.get(name)
            spec.prepare(row, kwargs, self)
            if row.failed:
                continue
            for key, value in kwargs.items():
                if isinstance(value, InFile):  # a row of this file: attached once every row is built
                    in_file.append((row, key, value.row))
                    kwargs[key] = None
            row.instance = self.instantiate(kwargs, adding=row.existing is None)
        for row, field_name, other in in_file:
            if other.instance is None:
                self.error(row, self.header_of(_column_for_field(spec, field_name)), gettext("That row has errors."))
                row.instance = None
                continue
            setattr(row.instance, field_name, other.instance)
        checked = self._checked
        stream = self.stream
        try:
            for row in rows:
                instance = row.instance
                if instance is None or row.failed:
                    continue
                try:
                    _clean_fields(instance, checks)
                    instance.clean()
                except ValidationError as exc:
                    self._model_errors(row, exc)
                    continue
                for model_field in memo_fields:
                    value = getattr(instance, model_field.attname)
                    found = checked.get((model_field.name, value))
                    if found is None:
                        found = checked[(model_field.name, value)] = _field_errors(model_field, value, instance)
                    if found:
                        self._model_errors(row, ValidationError({model_field.name: found}))
                if not row.failed:
                    spec.validate(row, instance, self)
                if stream is not None and not row.failed and not self.report.errors:
                    if row.existing is None:
                        stream.add(instance)
                    else:
                        row.changed = self.changed_attnames(row, stream.attnames)
                        if row.changed:
                            stream.change(instance)
                            row.written = True
        except BaseException:
            self.close_stream()
            raise

    def close_stream(self) -> None:
        """Wait for the stream writer to write what it was given (raises its error, if any)."""
        stream = self.stream
        if stream is not None:
            self.stream = None
            self.streamed = True
            stream.close()

    def _prepare_instantiation(self) -> None:
        plan = []
        for model_field in self.model._meta.concrete_fields:
            dynamic = model_field.has_default() and callable(model_field.default)
            plan.append((model_field, model_field.attname, model_field.name, model_field.is_relation,
                         None if dynamic else model_field.get_default(), dynamic))
        self._fields_plan = plan
        self._attnames = [model_field.attname for model_field in self.model._meta.concrete_fields]
        # Without pre_init/post_init receivers, Model.__init__ only sets the attributes: do
        # that directly (a third of the cost of building 100,000 instances).
        self._plain_init = not (pre_init.has_listeners(self.model) or post_init.has_listeners(self.model))

    def instantiate(self, kwargs: dict, adding: bool = True):
        """A model instance from ``kwargs`` (field names with objects, or attnames); defaults for the rest."""
        values = []
        caches = []
        for model_field, attname, name, relation, default, dynamic in self._fields_plan:
            if attname in kwargs:
                values.append(kwargs[attname])
            elif relation and name in kwargs:
                obj = kwargs[name]
                values.append(obj.pk if obj is not None else None)
                caches.append((model_field, obj))
            else:
                values.append(model_field.get_default() if dynamic else default)
        if self._plain_init:
            instance = self.model.__new__(self.model)
            instance._state = ModelState()
            instance.__dict__.update(zip(self._attnames, values, strict=True))
        else:
            instance = self.model(*values)
        for model_field, obj in caches:
            model_field.set_cached_value(instance, obj)
        if not adding:
            instance._state.adding = False
        return instance

    def _model_errors(self, row: Row, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field_name, errors in exc.message_dict.items():
                column = None if field_name == NON_FIELD_ERRORS else _column_for_field(self.spec, field_name)
                header = self.header_of(column) if column else ""
                for message in errors:
                    self.error(row, header, message)
        else:
            for message in exc.messages:
                self.error(row, "", message)

    def related_value(self, row: Row, column: Column):
        return column.related.desired(row, column)

    def classify(self) -> None:
        written = self.written_attnames()
        related = [column for _i, column in self.mapped if isinstance(column.related, Related)]
        headers_by_attname = {}
        for _i, column in self.mapped:
            if column.field:
                headers_by_attname[self.model._meta.get_field(column.field).attname] = self.headers[column.name]
        report = self.report
        samples = report.samples
        for row in self.rows:
            if row.failed or row.instance is None:
                row.status = "error"
                continue
            if row.existing is None:
                row.status = "new"
            else:
                # Rows the stream writer saw were compared then (its specs' check() adjusts nothing).
                changed = list(row.changed) if self.streamed else self.changed_attnames(row, written)
                for column in related:
                    if self.related_value(row, column) != row.related.get(column.name, frozenset()):
                        changed.append(column.name)
                        headers_by_attname[column.name] = self.headers[column.name]
                row.changed = changed
                row.status = "changed" if changed else "unchanged"
            if row.status != "unchanged" and len(samples) < SAMPLE_ROWS:
                samples.append(
                    SampleRow(
                        row.number,
                        row.status,
                        [_sample_text(row.cells[index]) if index < len(row.cells) else "" for index, _c in
                         sorted(self.mapped, key=lambda item: item[0])],
                        {headers_by_attname.get(name, name) for name in row.changed},
                    )
                )

    def changed_attnames(self, row: Row, written: list[str]) -> list[str]:
        """The written columns whose value in the row's instance differs from the stored row."""
        existing, current = row.existing, row.instance.__dict__
        return [attname for attname in written if current.get(attname) != existing.get(attname)]

    def written_attnames(self) -> list[str]:
        """The model columns an import sets: those of the file's columns and the spec's derived fields."""
        names = []
        for _i, column in self.mapped:
            if column.field:
                attname = self.model._meta.get_field(column.field).attname
                if attname not in names:
                    names.append(attname)
        for field_name in getattr(self.spec, "derived_fields", ()):
            attname = self.model._meta.get_field(field_name).attname
            if attname not in names:
                names.append(attname)
        return names

    def count(self) -> None:
        report = self.report
        report.error_rows = sum(1 for row in self.rows if row.failed)
        for row in self.rows:
            if row.failed:
                continue
            if row.status == "new":
                report.new += 1
            elif row.status == "changed":
                report.changed += 1
            elif row.status == "unchanged":
                report.unchanged += 1

    @property
    def created(self) -> list[Row]:
        return [row for row in self.rows if row.status == "new"]

    @property
    def updated(self) -> list[Row]:
        return [row for row in self.rows if row.status == "changed"]

    def write_default(self, created: list[Row] | None = None, changed: list[Row] | None = None) -> None:
        created = self.created if created is None else created
        changed = self.updated if changed is None else changed
        # Updates first: a row that ends (say, a registration) may free the key a new row takes.
        # Rows the stream writer wrote while the file was checked are not written again.
        unwritten = [row for row in changed if not row.written]
        update_instances(self.model, [row.instance for row in unwritten], self.written_attnames())
        if not self.streamed:
            insert_instances(self.model, [row.instance for row in created])
        self.write_related(created, changed)
        self.write_history([] if self.streamed else created, unwritten)

    def write_related(self, created: list[Row], changed: list[Row]) -> None:
        for _i, column in self.mapped:
            if isinstance(column.related, Related):
                touched = [row for row in changed if column.name in row.changed]
                column.related.write(self, column, created, touched)

    def keeps_history(self) -> bool:
        keeps = self.spec.history
        if keeps is None:
            keeps = hasattr(self.model, "history") and hasattr(self.model.history, "bulk_history_create")
        return bool(keeps)

    def write_history(self, created: list[Row], changed: list[Row]) -> None:
        if not self.keeps_history():
            return
        write_history(self.model, [row.instance for row in created], "+", self.user)
        write_history(self.model, [row.instance for row in changed], "~", self.user)


def _field_check(model_field):
    """(name, attname, blank, check) where ``check(value, instance)`` is ``model_field.clean``.

    A text field without choices takes a shortcut for a valid value (a string within
    ``max_length`` that passes the field's other validators): about half the cost of
    ``Field.clean()`` over 100,000 rows. Anything else, and every invalid value, goes
    through ``Field.clean()`` itself, so the messages are Django's.
    """
    clean = model_field.clean
    if isinstance(model_field, models.CharField) and not model_field.choices and type(model_field).to_python in (
        models.CharField.to_python, models.TextField.to_python
    ):
        limit = model_field.max_length
        others = [v for v in model_field.validators if not isinstance(v, MaxLengthValidator)]
        empty = model_field.empty_values

        def check(value, instance):
            if type(value) is not str or value in empty or (limit is not None and len(value) > limit):
                return clean(value, instance)
            try:
                for validator in others:
                    validator(value)
            except ValidationError:
                return clean(value, instance)
            return value

    else:
        check = clean
    return model_field.name, model_field.attname, model_field.blank, model_field.empty_values, check


def _clean_fields(instance, checks) -> None:
    """``Model.clean_fields()`` for the fields in ``checks`` (see ``_field_check``)."""
    errors = {}
    values = instance.__dict__
    for name, attname, blank, empty, check in checks:
        value = values[attname]
        if blank and value in empty:
            continue
        try:
            values[attname] = check(value, instance)
        except ValidationError as exc:
            errors[name] = exc.error_list
    if errors:
        raise ValidationError(errors)


def _field_errors(model_field, value, instance) -> list[str]:
    """What ``clean_fields()`` would say about ``value`` in ``model_field`` (nothing: an empty list)."""
    if model_field.blank and value in model_field.empty_values:
        return []
    try:
        model_field.clean(value, instance)
    except ValidationError as exc:
        return exc.messages
    return []


def _path_value(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _not_found(what, key) -> str:
    return gettext('%(what)s "%(value)s" was not found.') % {"what": capfirst(str(what)), "value": key}


def _column_for_field(spec: RosterSpec, field_name: str) -> Column | None:
    for column in spec.columns:
        if column.importable and (column.field == field_name or column.name == field_name):
            return column
    return None


def _sample_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def roster_import(
    *, kind: str, file, user=None, dry_run: bool = False, filename: str | None = None, parallel_read: bool = False
) -> ImportReport:
    """Import one roster file, all or nothing; see the module docstring for every step.

    ``file``: a path, bytes or a binary file object (an upload). ``user``: whose scope
    limits what the file may name and change (None: no limit, for the system operator's
    command line). ``dry_run``: the full report, nothing written. ``parallel_read``: a big
    workbook is read by a child process (``read_table``); for the command line, not for
    a web request's threads.
    """
    started = time.monotonic()
    spec = get_spec(kind)
    report = ImportReport(
        kind=spec.kind,
        label=str(spec.label),
        filename=filename or str(getattr(file, "name", "") or (file if isinstance(file, str) else "")),
        dry_run=dry_run,
    )
    if not spec.importable:
        report.errors.append(RowError(0, "", gettext("This roster can only be exported.")))
        return report
    job = ImportJob(spec, user, report)
    try:
        with _phase(report, "read"):
            table: Table = read_table(file, parallel=parallel_read)
            job.map_headers(table.headers)
            if not spec.stream_writes:
                job.parse(table.rows)
        if dry_run:
            _plan(job, table.rows)
        else:
            with _phase(report, "commit"), transaction.atomic(), spec.lock():
                if spec.stream_writes and connection.vendor == "postgresql":
                    job.stream = StreamWriter(spec.model, user, job.keeps_history(), job.written_attnames())
                _plan(job, table.rows)
                if report.errors:
                    transaction.set_rollback(True)  # rows inserted while checking go too
                elif job.created or job.updated:
                    with _phase(report, "write"):
                        spec.write(job)
                    report.written = True
    except TableError as exc:
        report.errors.append(RowError(0, "", str(exc)))
    except _Abort:
        pass
    except IntegrityError:
        report.errors.append(
            RowError(0, "", gettext("The data changed while the file was being imported: nothing was written. "
                                    "Import the file again."))
        )
        report.written = False
    report.errors.sort(key=lambda error: error.row)
    job.count()
    if report.errors:
        report.new = report.changed = report.unchanged = 0
        report.samples = []
    report.elapsed = time.monotonic() - started
    return report


def _plan(job: ImportJob, table_rows) -> None:
    """Check every row (and, with a stream writer, write them meanwhile); then the bulk rules.

    Rosters that stream their writes are read, resolved and checked in chunks, so that the
    writer starts on the first chunk while the next is still being read. The others need
    every row first (a row may refer to another row of the file).
    """
    report = job.report
    if job.spec.stream_writes:
        rows = iter(table_rows)
        while True:
            with _phase(report, "read"):
                chunk = job.parse(islice(rows, PIPELINE_CHUNK))
            if not chunk:
                break
            with _phase(report, "resolve"), job.stream.turn() if job.stream else nullcontext():
                job.resolve_references(chunk)
                job.load_existing(chunk)
            with _phase(report, "check"):
                job.build(chunk)
    else:
        with _phase(report, "resolve"):
            job.resolve_references(job.rows)
            job.load_existing(job.rows)
        with _phase(report, "check"):
            job.build(job.rows)
    with _phase(report, "check"):
        job.close_stream()
        job.spec.check(job)
        job.classify()


@contextmanager
def _phase(report: ImportReport, name: str):
    """Adds the seconds spent inside to ``report.phases[name]`` ("commit" gets what the phases inside it leave)."""
    started = time.monotonic()
    inside = sum(report.phases.values())
    try:
        yield
    finally:
        spent = time.monotonic() - started
        if name == "commit":
            spent -= sum(report.phases.values()) - inside
        report.phases[name] = round(report.phases.get(name, 0.0) + spent, 3)


# --- Bulk writing -------------------------------------------------------------------------


def _copy_text(value) -> str:
    """A value in COPY's text format (the generic path; ``_copy_converter`` has faster ones per field)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _copy_escape(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _copy_escape(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_converter(model_field):
    kind = model_field.get_internal_type()
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        return lambda value: "\\N" if value is None else _copy_escape(value)
    if kind in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
                "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey", "OneToOneField", "TreeForeignKey"):
        return lambda value: "\\N" if value is None else str(int(value))
    if kind == "BooleanField":
        return lambda value: "\\N" if value is None else ("t" if value else "f")
    return _copy_text


@contextmanager
def _cursor(raw=None):
    """``raw`` (a DB-API cursor of the import's connection, used from the stream writer's thread) or a new one."""
    if raw is not None:
        yield raw
    else:
        with connection.cursor() as cursor:
            yield cursor


def _copy(table: str, columns: list[str], rows: Iterable, converters: list | None = None, cursor=None) -> None:
    quote = connection.ops.quote_name
    buffer = io.StringIO()
    write = buffer.write
    if converters:
        pairs = list(enumerate(converters))
        for row in rows:
            write("\t".join([convert(row[i]) for i, convert in pairs]))
            write("\n")
    else:
        for row in rows:
            write("\t".join([_copy_text(value) for value in row]))
            write("\n")
    buffer.seek(0)
    with _cursor(cursor) as out:
        out.copy_expert(f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN", buffer)


def insert_rows(model, attnames: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain value tuples (ids left to the database): COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    meta = model._meta
    columns = [_column(meta, name) for name in attnames]
    if connection.vendor == "postgresql":
        for batch in chunked(rows, 50_000):
            _copy(meta.db_table, columns, batch)
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        for batch in chunked(rows, WRITE_BATCH):
            cursor.executemany(sql, batch)


def _column(meta, attname: str) -> str:
    for f in meta.concrete_fields:
        if f.attname == attname:
            return f.column
    raise KeyError(attname)


def insert_instances(model, instances: list, cursor=None) -> None:
    """Insert new instances in bulk and set their primary keys.

    PostgreSQL: the ids are drawn from the table's sequence in one query and the rows go in
    with COPY (about ten times faster than INSERT batches for 100,000 rows); elsewhere
    ``bulk_create`` in batches.
    """
    if not instances:
        return
    meta = model._meta
    for obj in instances:
        if obj._state.fields_cache:  # a related object saved since it was attached: take its id
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=WRITE_BATCH)
        return
    pk = meta.pk
    missing = [obj for obj in instances if obj.pk is None]
    if missing:
        with _cursor(cursor) as out:
            out.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(missing)],
            )
            for obj, (new_id,) in zip(missing, out.fetchall(), strict=True):
                obj.pk = new_id
    fields = list(meta.concrete_fields)
    auto_now = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for f in auto_now:
        for obj in instances:
            f.pre_save(obj, add=True)
    attnames = [f.attname for f in fields]
    converters = [_copy_converter(f) for f in fields]
    for batch in chunked(instances, 50_000):
        _copy(
            meta.db_table, [f.column for f in fields], ([getattr(obj, a) for a in attnames] for obj in batch),
            converters, cursor,
        )
    for obj in instances:
        obj._state.adding = False


def update_instances(model, instances: list, attnames: list[str], cursor=None) -> None:
    """Write ``attnames`` of existing instances, set-based (no query per row on PostgreSQL)."""
    if not instances or not attnames:
        return
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f.attname in attnames and not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        columns = [pk.column] + [f.column for f in fields]
        temp = quote("roster_update")
        with _cursor(cursor) as out:
            out.execute(
                f"CREATE TEMPORARY TABLE {temp} AS SELECT {', '.join(quote(c) for c in columns)} "
                f"FROM {table} WITH NO DATA"
            )
            try:
                for batch in chunked(instances, 50_000):
                    _copy(
                        "roster_update",
                        columns,
                        ([obj.pk] + [getattr(obj, f.attname) for f in fields] for obj in batch),
                        [_copy_converter(pk)] + [_copy_converter(f) for f in fields],
                        out,
                    )
                sets = ", ".join(f"{quote(f.column)} = u.{quote(f.column)}" for f in fields)
                out.execute(f"UPDATE {table} SET {sets} FROM {temp} AS u WHERE {table}.{quote(pk.column)} = "
                            f"u.{quote(pk.column)}")
            finally:
                out.execute(f"DROP TABLE IF EXISTS {temp}")
        return
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {sets} WHERE {quote(pk.column)} = %s"
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in instances
    ]
    with connection.cursor() as cursor:
        for batch in chunked(params, WRITE_BATCH):
            cursor.executemany(sql, batch)


def write_history(model, instances: list, history_type: str, user, cursor=None) -> None:
    """simple-history records of rows written in bulk (the save() signals that usually write them do not fire).

    Each record is a copy of the row as now stored, made by the database itself
    (``INSERT INTO history ... SELECT ... FROM table``): no row travels through Python.
    """
    if not instances:
        return
    historical = model.history.model
    meta, hmeta = model._meta, historical._meta
    tracked = historical.tracked_fields
    quote = connection.ops.quote_name
    source = ", ".join(quote(f.column) for f in tracked)
    target = [quote(_column(hmeta, f.attname)) for f in tracked] + [
        quote(hmeta.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    extra = [stamp, HISTORY_REASON, history_type, getattr(user, "pk", None)]
    pk = quote(meta.pk.column)
    with _cursor(cursor) as out:
        for chunk in chunked([obj.pk for obj in instances]):
            if connection.vendor == "postgresql":
                where, params = f"{pk} = ANY(%s::{meta.pk.cast_db_type(connection)}[])", [_array_literal(chunk)]
            else:
                where, params = f"{pk} IN ({', '.join(['%s'] * len(chunk))})", chunk
            out.execute(
                f"INSERT INTO {quote(hmeta.db_table)} ({', '.join(target)}) "
                f"SELECT {source}, %s, %s, %s, %s FROM {quote(meta.db_table)} WHERE {where}",
                [*extra, *params],
            )


class StreamWriter:
    """Writes checked rows from a second thread while the main thread checks the next ones.

    PostgreSQL only, inside the import's transaction: the thread uses the same database
    connection (so the same transaction). The two threads take turns on it: the writer
    holds ``lock`` for each statement it sends (a COPY's data must not be interleaved with
    another query), and the main thread holds it while it queries (``turn()``), until
    ``close()`` has joined the writer. If a later row or a bulk rule fails, the whole
    transaction is rolled back, so the import stays all or nothing. The server ingests one
    batch (COPY or UPDATE, indexes, foreign-key checks, history records) while Python builds
    and checks the next: on two cores, most of the writing is hidden behind the checking.
    Foreign keys are checked as each batch goes in (not all at the commit, which would keep
    the checker waiting) and are deferred again when the writer closes.
    """

    BATCH = 10_000

    def __init__(self, model, user, history: bool, attnames: list[str]):
        connection.ensure_connection()
        self.model = model
        self.user = user
        self.history = history
        self.attnames = attnames  # the columns the import writes to changed rows
        self.pending: list = []
        self.pending_changes: list = []
        self._raw = connection.connection
        self.lock = threading.Lock()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self._queue: queue.Queue = queue.Queue(maxsize=2)  # bounded: the checker waits rather than piles up
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="roster-import-writer", daemon=True)
        self._thread.start()

    def add(self, instance) -> None:
        """A new row."""
        self.pending.append(instance)
        if len(self.pending) >= self.BATCH:
            self._queue.put(("+", self.pending))
            self.pending = []

    def change(self, instance) -> None:
        """An existing row whose columns changed."""
        self.pending_changes.append(instance)
        if len(self.pending_changes) >= self.BATCH:
            self._queue.put(("~", self.pending_changes))
            self.pending_changes = []

    def turn(self):
        """Held by the main thread while it sends queries over the shared connection."""
        return self.lock

    def _run(self) -> None:
        with self._raw.cursor() as raw:
            cursor = _TurnTakingCursor(raw, self.lock)
            while (item := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # keep draining so the main thread never blocks
                operation, batch = item
                try:
                    with connection.wrap_database_errors:
                        if operation == "+":
                            insert_instances(self.model, batch, cursor=cursor)
                        else:
                            update_instances(self.model, batch, self.attnames, cursor=cursor)
                        if self.history:
                            write_history(self.model, batch, operation, self.user, cursor=cursor)
                except BaseException as exc:  # re-raised in the main thread by close()
                    self._error = exc

    def close(self) -> None:
        for operation, pending in (("~", self.pending_changes), ("+", self.pending)):
            if pending:
                self._queue.put((operation, pending))
        self.pending, self.pending_changes = [], []
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class _TurnTakingCursor:
    """A DB-API cursor whose statements each run while holding ``lock`` (see ``StreamWriter``)."""

    def __init__(self, cursor, lock: threading.Lock):
        self._cursor = cursor
        self._lock = lock

    def execute(self, sql, params=None):
        with self._lock:
            return self._cursor.execute(sql, params)

    def copy_expert(self, sql, file):
        with self._lock:
            return self._cursor.copy_expert(sql, file)

    def fetchall(self):  # the rows of the last execute(), already received
        return self._cursor.fetchall()


# --- Export -------------------------------------------------------------------------------


def _masker(column: Column, unmasked: bool):
    if unmasked or not column.personal:
        return None
    if column.personal == PERSONAL_ID:
        return lambda value: mask_id_number(value or "")
    if column.personal == PERSONAL_PHONE:
        return lambda value: mask_phone(value or "")
    return lambda value: None


def _converter(column: Column, unmasked: bool):
    mask = _masker(column, unmasked)
    source = column.display
    if source is None and not isinstance(column.parser, Ref) and column.related is None:
        source = column.parser
    if isinstance(source, Choice):
        labels = {value: str(label) for value, label in source.choices.choices}
        display = labels.get
    elif isinstance(source, Parser):
        display = source.display
    else:
        display = source
    if mask and display:
        return lambda value: mask(display(value))
    return mask or display


def write_roster(spec: RosterSpec, queryset, user, target) -> int:
    """Stream the roster rows of ``queryset`` into an .xlsx file written to ``target``; returns the row count."""
    unmasked = user is None or can_view_personal_data(user)
    columns = spec.export_columns
    paths = [column.export for column in columns if column.export]
    converters = [_converter(column, unmasked) for column in columns]
    related = [(i, column) for i, column in enumerate(columns) if column.related is not None]
    positions = []
    position = 1
    for column in columns:
        if column.export:
            positions.append(position)
            position += 1
        else:
            positions.append(None)
    rows = queryset.values_list("pk", *paths)
    writer = XlsxWriter(target)
    count = 0
    with writer.sheet(str(spec.label), [str(column.header) for column in columns],
                      [column.width for column in columns]) as sheet:
        chunk: list[tuple] = []

        def flush():
            extra = {}
            if related:
                pks = [record[0] for record in chunk]
                extra = {i: column.related.export(pks) for i, column in related}
            for record in chunk:
                cells = []
                for i, convert in enumerate(converters):
                    at = positions[i]
                    value = record[at] if at is not None else extra[i].get(record[0])
                    cells.append(convert(value) if convert else value)
                sheet.append(cells)
            chunk.clear()

        for record in rows.iterator(chunk_size=EXPORT_CHUNK):
            chunk.append(record)
            count += 1
            if len(chunk) >= EXPORT_CHUNK:
                flush()
        flush()
    writer.close()
    return count


def roster_export(*, kind: str, queryset, user, filters: dict | None = None) -> bytes:
    """The .xlsx file of ``queryset`` (limited to ``user``'s scope) as roster ``kind``; logged in ExportLog.

    ID numbers, phones and birth dates are masked unless the user may see personal data.
    """
    from governance.models import ExportLog

    spec = get_spec(kind)
    queryset = spec.export_queryset(queryset)
    if user is not None and hasattr(queryset, "visible_to"):
        queryset = queryset.visible_to(user)
    buffer = io.BytesIO()
    count = write_roster(spec, queryset, user, buffer)
    if user is not None and getattr(user, "pk", None):
        ExportLog.objects.create(
            user=user,
            kind=spec.kind,
            rows=count,
            with_personal_data=spec.has_personal_data,
            unmasked=spec.has_personal_data and can_view_personal_data(user),
            filters=filters or {},
        )
    return buffer.getvalue()


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """An .xlsx file as a download."""
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_filters(request) -> dict:
    """The request's filter parameters, as recorded in ExportLog."""
    return {key: values if len(values) > 1 else values[0] for key, values in request.GET.lists()}


def export_response(*, request, kind: str, queryset, filters: dict | None = None) -> HttpResponse:
    """The roster's .xlsx download for ``request.user`` (named after the roster and today's date)."""
    spec = get_spec(kind)
    content = roster_export(
        kind=kind, queryset=queryset, user=request.user, filters=export_filters(request) if filters is None else filters
    )
    return xlsx_response(content, f"{spec.kind}-{timezone.localdate():%Y%m%d}.xlsx")


# --- Template -----------------------------------------------------------------------------


def roster_template(kind: str) -> bytes:
    """The import template: the header row and an example row, and a sheet "说明" explaining each column."""
    spec = get_spec(kind)
    columns = spec.import_columns
    buffer = io.BytesIO()
    writer = XlsxWriter(buffer)
    with writer.sheet(str(spec.label), [str(column.header) for column in columns],
                      [column.width for column in columns]) as sheet:
        sheet.append([_example(column) for column in columns])
    headers = [gettext("Column"), gettext("Required"), gettext("Format or allowed values"), gettext("Notes")]
    with writer.sheet(gettext("Instructions"), headers, [18, 8, 60, 60]) as sheet:
        for column in columns:
            sheet.append([
                str(column.header),
                gettext("Yes") if column.required else gettext("No"),
                column.parser.describe(),
                str(column.note) if column.note else "",
            ])
        sheet.append([])
        for line in (
            gettext("Row 1 is the header: keep the column names; columns may be in any order, "
                    "optional columns may be left out. Replace the example row with your data."),
            str(spec.matching_note) % {"key": "、".join(str(spec.column(name).header) for name in spec.key)},
            gettext("If any row has an error, nothing is imported: the preview lists every error "
                    "with its row and column."),
        ):
            sheet.append([line])
    writer.close()
    return buffer.getvalue()


def _example(column: Column):
    example = column.example
    if callable(example):
        example = example()
    if isinstance(example, str | int | float | bool | datetime.date | datetime.time | Decimal) or example is None:
        return example
    return str(example)


def template_response(kind: str) -> HttpResponse:
    spec = get_spec(kind)
    return xlsx_response(roster_template(kind), spec.template_filename())
