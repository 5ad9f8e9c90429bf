"""Declaring a roster: its columns (with the tables some of them are kept in) and the ``RosterSpec``, and the
registry the apps declare theirs into (each app's ``rosters.py``, found on first use)."""

from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, gettext_lazy

from governance.registry import Registry
from governance.rosters.cells import Parser, Ref, fold
from governance.rosters.lookups import chunked, filter_in
from governance.rosters.writing import insert_instances, insert_rows

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
    # A term a county may name its own way (``governance.terms``): the export shows the row's
    # county's name for it. ``term`` is the term list; ``term_code`` the values() path of the
    # term's code (default: the exported value). A choice column finds its list by itself.
    term: str | None = None
    term_code: str | None = None

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
        by_name = {fold(tag.name): tag.pk for tag in tags}
        by_name.update({fold(tag.code): tag.pk for tag in tags})
        header = job.header_of(column)
        for row in rows:
            names = row.values.get(column.name)
            if not names:
                continue
            ids = [by_name.get(fold(name)) for name in names]
            missing = [name for name, pk in zip(names, ids, strict=True) if pk is None]
            if missing:  # one message for the cell, naming every unknown tag
                job.error(row, header, gettext('There is no tag "%(name)s".') % {"name": "、".join(missing)})
            row.values[column.name] = tuple(pk for pk in ids if pk is not None)

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
    # The column whose cell names a row in an import's error report (None: see ``naming_column``).
    name_column: str | None = None
    existing_filter: dict = {}
    importable = True
    # The template's sentence on rows whose key is already in the system (%(key)s: the key columns).
    matching_note = gettext_lazy(
        "Rows are matched by %(key)s: a row already in the system is updated, never duplicated."
    )
    export_order: tuple[str, ...] = ()
    # Rows may be written while later rows are still being checked (StreamWriter): only for
    # specs with the default write, whose one unique key is the import key, and whose check()
    # neither reads the roster's own table nor adjusts instances.
    stream_writes = False
    # A row with a bad cell is still built and checked, so that one dry run lists all its errors
    # (``ImportJob.build``). A spec that sets this makes prepare(), validate() and check() ask
    # ``job.cells_ok(row, *columns)`` before a rule reads a column, and names in ``clean_needs``
    # the columns a bad value of which would make the model's clean() speak wrongly (None: it
    # runs only when every cell is good).
    checks_partial_rows = False
    clean_needs: tuple[str, ...] | None = None
    # Columns whose value, when the cell is empty, follows from other columns ({column: its sources}):
    # nothing is said of them while a source is bad (a case's description is its title by default).
    follows: dict[str, tuple[str, ...]] = {}
    # The values() path of the code of the unit whose county's local names a row's cells use
    # (the export shows them; see Column.term).
    local_names_from: str | None = None

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

    def clean_instance(self, row, instance, job) -> None:
        """The model's own rules (``clean()``), as the import applies them."""
        instance.clean()

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
    def naming_column(self) -> str | None:
        """The column that names a row for a person reading an error report: ``name_column``, else a
        name or title column, else the first key column."""
        names = [column.name for column in self.columns]
        if self.name_column:
            return self.name_column
        for name in ("name", "title", "unit_name", "member_name"):
            if name in names:
                return name
        return self.key[0] if self.key else (names[0] if names else None)

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


_registry = Registry("rosters", core="governance.rosters.org")  # the org chain's rosters, then each app's rosters.py


def register(spec: RosterSpec) -> RosterSpec:
    return _registry.add(spec.kind, spec)


def get_spec(kind: str) -> RosterSpec:
    try:
        return _registry.get(kind)
    except KeyError:
        raise ValidationError(gettext('There is no roster "%(kind)s".') % {"kind": kind}) from None


def all_specs() -> list[RosterSpec]:
    return _registry.all()
