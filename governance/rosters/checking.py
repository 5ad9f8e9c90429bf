"""An import, all or nothing: the file read, every row parsed, resolved in bulk, checked with the model's own
rules and the spec's bulk rules, then written (``roster_import``).

Longer than the portal's ~600-line rule on purpose: ``ImportJob`` is one algorithm (steps 2-6
of the package's docstring) whose phases share the job's state row by row; split across
modules it would only trade one long read for several that must be read together.
"""

import datetime
import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from itertools import islice

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from governance.audit import Action
from governance.audit import record as audit_record
from governance.crypto import HashField, digest
from governance.rosters.cells import Bool, Choice, InFile, Ref, fold
from governance.rosters.lookups import chunked, filter_in
from governance.rosters.report import SAMPLE_ROWS, ImportReport, RowError, SampleRow
from governance.rosters.specs import Column, Related, RosterSpec, get_spec
from governance.rosters.tabular import Table, TableError, read_table
from governance.rosters.writing import (
    StreamWriter,
    analyze,
    insert_instances,
    recording_writes,
    update_instances,
)
from governance.terms import LocalNameBook

# Rows read, resolved and checked at a time by the rosters that stream their writes.
PIPELINE_CHUNK = 10_000


# --- The import ---------------------------------------------------------------------------


class Row:
    __slots__ = ("number", "cells", "values", "failed", "bad", "key", "existing", "instance", "status", "changed",
                 "related", "written")

    def __init__(self, number: int, cells: list):
        self.number = number
        self.cells = cells
        self.values: dict = {}
        self.failed = False  # any error in the row
        self.bad: set[str] = set()  # the columns (names) with an error
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
    return fold(str(text).replace("*", "").replace("＊", ""))


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
        self.sealed: dict = {}  # attname of an encrypted column the file gives → its HashField (load_existing)
        self._checked: dict[tuple, list[str]] = {}  # (field, value) → errors of a choice or yes/no field
        self._local_names: LocalNameBook | None = None
        self._column_names: dict[str, str] | None = None  # header (as reported) → column name
        self._indexes: dict[str, int] | None = None  # column name → its index in the file

    # -- errors --

    def error(self, row: Row | None, column: str, message: str) -> None:
        """Report a problem of ``row`` in ``column`` (its header). A cell gets one message, the first:
        a later check that still reads it must not contradict the first ("not found", then "not in
        that village")."""
        number = row.number if row is not None else 1
        value = label = ""
        if row is not None:
            name = self._column_name(column)
            if name is not None:
                if name in row.bad or not self.cells_ok(row, *self.spec.follows.get(name, ())):
                    return
                row.bad.add(name)
                value = self._cell_text(row, name)
            row.failed = True
            label = self._cell_text(row, self.spec.naming_column)
        self.report.errors.append(RowError(number, column, str(message), value, label))

    def _cell_text(self, row: Row, name: str | None) -> str:
        """The cell of column ``name`` in ``row`` as the file has it (empty if the file has no such column)."""
        if self._indexes is None:
            self._indexes = {column.name: index for index, column in self.mapped}
        index = self._indexes.get(name)
        if index is None or index >= len(row.cells):
            return ""
        return _sample_text(row.cells[index]).strip()

    def _column_name(self, header: str) -> str | None:
        if self._column_names is None:
            names = {str(column.header): column.name for column in self.spec.columns}
            names.update((header, name) for name, header in self.headers.items())
            self._column_names = names
        return self._column_names.get(header) if header else None

    def cells_ok(self, row: Row, *names: str) -> bool:
        """None of the columns ``names`` of ``row`` has an error: a rule reading them may run and speak."""
        return not row.bad or row.bad.isdisjoint(names)

    @property
    def local_names(self) -> LocalNameBook:
        """The local names in force in the importing user's area (``governance.terms``), read once."""
        if self._local_names is None:
            self._local_names = LocalNameBook.for_area(self.user)
        return self._local_names

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
        naming = self.spec.naming_column
        if naming in self.present:
            self.report.name_header = self.headers[naming]
        if self.report.errors:
            raise _Abort

    def parse(self, rows) -> list[Row]:
        """Parse the cells of ``rows`` ((number, cells) pairs); returns the new rows (also added to ``self.rows``)."""
        added = []
        mapped = [
            (index, column, column.parser.bind_in(self.local_names if column.parser.uses_local_names() else None),
             self.headers[column.name])
            for index, column in self.mapped
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
            if key and self.cells_ok(row, *key):
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
                # A row whose key reads well may be named, whatever else it has wrong: its own errors
                # are reported on it, not as "not found" on the rows naming it.
                for other in self.rows:
                    if other.key is not None and self.cells_ok(other, *self.spec.key):
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
        keyed = [row for row in rows if row.key is not None and self.cells_ok(row, *spec.key)]
        if not keyed:
            return
        meta = self.model._meta
        fields = meta.concrete_fields
        # An encrypted column the file gives (an ID number, a phone) is not decrypted: the row's value is
        # compared with the stored lookup hash (``changed_attnames``), and a key is found by its hash.
        written = set(self.written_attnames())
        self.sealed = {meta.get_field(f.source).attname: f for f in fields
                       if isinstance(f, HashField) and meta.get_field(f.source).attname in written}
        attnames = [f.attname for f in fields if f.attname not in self.sealed]
        local = {f.name: f.attname for f in fields}
        # Where each part of a record's key is read: its own column, its hash, or an annotation (a
        # key further away: household__number).
        sources, plain_of = [], {}
        for i, path in enumerate(spec.key_paths):
            attname = local.get(path)
            if attname in self.sealed:
                hashed = self.sealed[attname]
                sources.append(hashed.attname)
                plain_of[i] = {digest(key[i], hashed.kind): key[i] for key in (row.key for row in keyed)}
            else:
                sources.append(attname or f"_roster_key{i}")
        aliases = {source: F(path) for source, path in zip(sources, spec.key_paths, strict=True)
                   if source not in attnames}
        queryset = spec.import_queryset().annotate(**aliases)
        first, first_values = spec.key_paths[0], {row.key[0] for row in keyed}
        if 0 in plain_of:
            first, first_values = self.sealed[local[first]].name, set(plain_of[0]) - {None}
        wanted = {row.key for row in keyed}
        found: dict = {}
        for chunk in chunked(sorted(first_values, key=str)):
            for record in filter_in(queryset, first, chunk).values(*attnames, *aliases):
                key = tuple(plain_of[i].get(record[source]) if i in plain_of else record[source]
                            for i, source in enumerate(sources))
                for alias in aliases:
                    del record[alias]
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
        """Instances of ``rows``, with their references attached, then validated.

        Instances are built from positional field values (the fast path ``Model.__init__``
        takes for rows read from the database) and their foreign-key objects put in the field
        caches, so ``clean()`` reads them without a query. ``clean_fields()`` checks the fields
        the file sets; a choice or yes/no field is checked once per distinct value.

        A row with a bad cell is built too when the spec says its rules cope
        (``checks_partial_rows``): its bad cells hold their empty value, every field check of
        a good cell runs, the model's ``clean()`` runs unless it needs a bad cell
        (``clean_needs``), and the spec's rules ask ``cells_ok`` before they read a cell. So a
        dry run lists every error of a row at once, and none that only follows from another.
        """
        spec = self.spec
        partial = spec.checks_partial_rows
        meta = self.model._meta
        plan = []  # (column name, kwargs key, the other key of the same field, is a relation, empty value)
        file_fields = set()
        memo_fields = []  # (model field, column name)
        self._field_columns = {}  # model field name → column name
        for _i, column in self.mapped:
            if not column.field:
                continue
            model_field = meta.get_field(column.field)
            self._field_columns[model_field.name] = column.name
            if model_field.is_relation:
                by_id = isinstance(column.parser, Ref) and column.parser.ids_only
                first, other = (model_field.attname, model_field.name) if by_id else (
                    model_field.name, model_field.attname)
                plan.append((column.name, first, other, True, None))
                continue
            plan.append((column.name, model_field.attname, None, False, column.parser.empty))
            if isinstance(column.parser, Choice | Bool):
                memo_fields.append((model_field, column.name))
            else:
                file_fields.add(model_field.name)
        checks = [_field_check(f) for f in meta.concrete_fields if f.name in file_fields]
        self._prepare_instantiation()
        in_file: list[tuple[Row, str, Row]] = []
        for row in rows:
            if row.failed and not partial:
                continue
            values = row.values
            kwargs = dict(row.existing) if row.existing else {}
            for name, key, other, relation, empty in plan:
                if relation:
                    kwargs.pop(other, None)
                kwargs[key] = values.get(name, empty)
            spec.prepare(row, kwargs, self)
            if row.failed and not partial:
                continue
            for key, value in kwargs.items():
                if isinstance(value, InFile):  # a row of this file: attached once every row is built
                    in_file.append((row, key, value.row))
                    kwargs[key] = None
            row.instance = self.instantiate(kwargs, adding=row.existing is None)
        for row, field_name, other in in_file:
            if other.instance is None:
                self.error(row, self.header_of(_column_for_field(spec, field_name)), gettext("That row has errors."))
                if not partial:
                    row.instance = None
                continue
            setattr(row.instance, field_name, other.instance)
        stream = self.stream
        try:
            for row in rows:
                instance = row.instance
                if instance is None or (row.failed and not partial):
                    continue
                if partial:
                    self._check_row(row, instance, checks, memo_fields)
                else:
                    try:
                        _clean_fields(instance, checks)
                        spec.clean_instance(row, instance, self)
                    except ValidationError as exc:
                        self._model_errors(row, exc)
                        continue
                    self._check_choices(row, instance, memo_fields)
                    if not row.failed:
                        spec.validate(row, instance, self)
                if stream is not None and not row.failed and not self.report.errors:
                    if row.existing is None:
                        stream.add(instance)
                    else:
                        row.changed = self.changed_attnames(row, stream.attnames)
                        if row.changed:
                            stream.change(instance, row.changed)
                            row.written = True
        except BaseException:
            self.close_stream()
            raise

    def _check_row(self, row: Row, instance, checks, memo_fields) -> None:
        """Every check of a row that reads none of its bad cells (specs that check partial rows; see ``build``)."""
        spec = self.spec
        if row.bad:
            fields, follows = self._field_columns, spec.follows
            checks = [check for check in checks if fields.get(check[0]) not in row.bad
                      and self.cells_ok(row, *follows.get(fields.get(check[0]), ()))]
        try:
            _clean_fields(instance, checks)
        except ValidationError as exc:
            self._model_errors(row, exc)
        if not row.bad or (spec.clean_needs is not None and self.cells_ok(row, *spec.clean_needs)):
            try:
                spec.clean_instance(row, instance, self)
            except ValidationError as exc:
                self._model_errors(row, exc)
            except (AttributeError, TypeError, ValueError, ObjectDoesNotExist):
                if not row.bad:
                    raise
                # A rule of clean() that tripped over a bad cell's empty value reads that cell, whose
                # own error is already reported.
        self._check_choices(row, instance, memo_fields)
        spec.validate(row, instance, self)

    def _check_choices(self, row: Row, instance, memo_fields) -> None:
        """The choice and yes/no fields, each distinct value checked once per import."""
        checked = self._checked
        for model_field, name in memo_fields:
            if name in row.bad:
                continue
            value = getattr(instance, model_field.attname)
            found = checked.get((model_field.name, value))
            if found is None:
                found = checked[(model_field.name, value)] = _field_errors(model_field, value, instance)
            if found:
                self._model_errors(row, ValidationError({model_field.name: found}))

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
        """The written columns whose value in the row's instance differs from the stored row (an encrypted
        one: whose lookup hash differs; the instance derives its hash once, and the writer reuses it)."""
        existing, instance = row.existing, row.instance
        current, sealed = instance.__dict__, self.sealed
        changed = []
        for attname in written:
            hashed = sealed.get(attname)
            if hashed is not None:
                if getattr(instance, hashed.attname) != existing.get(hashed.attname):
                    changed.append(attname)
            elif current.get(attname) != existing.get(attname):
                changed.append(attname)
        return changed

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
        # An encrypted column that changed in no row is not written: it would only be encrypted again.
        touched = {name for row in unwritten for name in row.changed}
        columns = [name for name in self.written_attnames() if name not in self.sealed or name in touched]
        update_instances(self.model, [row.instance for row in unwritten], columns)
        if not self.streamed:
            insert_instances(self.model, [row.instance for row in created])
        self.write_related(created, changed)

    def write_related(self, created: list[Row], changed: list[Row]) -> None:
        for _i, column in self.mapped:
            if isinstance(column.related, Related):
                touched = [row for row in changed if column.name in row.changed]
                column.related.write(self, column, created, touched)


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
            with _phase(report, "commit"), transaction.atomic(), spec.lock(), recording_writes() as written:
                if spec.stream_writes and connection.vendor == "postgresql":
                    job.stream = StreamWriter(spec.model, user, job.written_attnames())
                _plan(job, table.rows)
                if report.errors:
                    transaction.set_rollback(True)  # rows inserted while checking go too
                elif job.created or job.updated:
                    with _phase(report, "write"):
                        spec.write(job)
                    if report.errors:  # refused while writing (a service's rule at the last step): nothing stays
                        raise _Abort
                    report.written = True
                    report.written_pks = [
                        row.instance.pk for row in job.rows
                        if row.status in ("new", "changed") and getattr(row.instance, "pk", None) is not None
                    ]
                    _record_import(spec, report, user, new=len(job.created), changed=len(job.updated))
                    with _phase(report, "analyze"):
                        # The planner's statistics of the tables just filled: without them the next
                        # rollup planned for empty tables and took a minute instead of a second.
                        analyze(written)
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
    # Row by row, and within a row in the file's column order (a row's other problems after its cells').
    order = {header: index for index, header in enumerate(report.headers)}
    report.errors.sort(key=lambda error: (error.row, order.get(error.column, len(order))))
    job.count()
    if report.errors:
        report.new = report.changed = report.unchanged = 0
        report.samples = []
    report.elapsed = time.monotonic() - started
    return report


def _record_import(spec, report: ImportReport, user, *, new: int, changed: int) -> None:
    """The import in the audit trail (one event, committed with the rows): what, how many rows, which file.
    The rows themselves are recorded by the database's triggers on PostgreSQL."""
    audit_record(Action.IMPORT, user=user, object_type=spec.model._meta.label,
                 changes={"kind": [None, spec.kind], "rows": [None, new + changed], "new": [None, new],
                    "changed": [None, changed], "file": [None, report.filename]},
           detail=f"{report.label}: {report.filename}")


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
