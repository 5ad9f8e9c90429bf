"""Export: a roster's rows streamed into an .xlsx file (scoped, masked unless the role allows, logged in
``ExportLog``), and the empty template of a roster for the admin's "download template"."""

import datetime
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext

from governance.audit.reveal import full_view
from governance.masking import can_view_personal_data, mask_id_number, mask_phone
from governance.rosters.cells import Choice, Parser, Ref
from governance.rosters.specs import PERSONAL_ID, PERSONAL_PHONE, Column, RosterSpec, get_spec
from governance.rosters.xlsx import XlsxWriter, xlsx_response
from governance.terms import LocalNameBook, vocabulary_for

EXPORT_CHUNK = 2000


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


def _term(column: Column):
    """(term list, {value: code} or None) of a column whose cells a county may name its own way, or None."""
    if column.term:
        return column.term, None
    source = column.display if column.display is not None else column.parser
    if isinstance(source, Choice):
        found = vocabulary_for(source.choices)
        if found is not None:
            return found[0].key, found[1]
    return None


def write_roster(spec: RosterSpec, queryset, user, target) -> int:
    """Stream the roster rows of ``queryset`` into an .xlsx file written to ``target``; returns the row count.

    A term a county names its own way is shown by the row's county's name (``Column.term``).
    """
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
    terms = {}  # column index → (term list, {value: code} or None, position of the code or None)
    book = place = None
    if spec.local_names_from:
        for i, column in enumerate(columns):
            found = _term(column) if positions[i] is not None else None
            if found is not None:
                code_at = None
                if column.term_code:
                    paths.append(column.term_code)
                    code_at = position
                    position += 1
                terms[i] = (*found, code_at)
        if terms:
            paths.append(spec.local_names_from)
            place = position
            book = LocalNameBook.for_area(user)
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
                names = book.at(record[place] or "") if book is not None else None
                for i, convert in enumerate(converters):
                    at = positions[i]
                    value = record[at] if at is not None else extra[i].get(record[0])
                    term = terms.get(i) if names else None
                    if term is not None:
                        vocabulary, codes, code_at = term
                        code = record[code_at] if code_at is not None else (
                            codes.get(value) if codes is not None else value)
                        local = names.get(vocabulary, {}).get(code)
                        if local:
                            cells.append(local)
                            continue
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


def export_filters(request) -> dict:
    """The request's filter parameters, as recorded in ExportLog."""
    return {key: values if len(values) > 1 else values[0] for key, values in request.GET.lists()}


def export_response(*, request, kind: str, queryset, filters: dict | None = None) -> HttpResponse:
    """The roster's .xlsx download for ``request.user`` (named after the roster and today's date)."""
    spec = get_spec(kind)
    if spec.has_personal_data:
        full_view(request, detail=f"export {spec.kind}")  # an unmasked export is audited (and in ExportLog)
    content = roster_export(
        kind=kind, queryset=queryset, user=request.user, filters=export_filters(request) if filters is None else filters
    )
    return xlsx_response(content, f"{spec.kind}-{timezone.localdate():%Y%m%d}.xlsx")


# --- Template -----------------------------------------------------------------------------


def roster_template(kind: str, user=None) -> bytes:
    """The import template: the header row and an example row, and a sheet "说明" explaining each column.

    A choice column lists every form it accepts, with the local names in force in ``user``'s
    area (``governance.terms``) when a user asks.
    """
    spec = get_spec(kind)
    columns = spec.import_columns
    names = LocalNameBook.for_area(user) if user is not None else None
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
                column.parser.describe_in(names),
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


def template_response(kind: str, user=None) -> HttpResponse:
    spec = get_spec(kind)
    return xlsx_response(roster_template(kind, user), spec.template_filename())
