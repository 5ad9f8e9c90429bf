"""Roster files as a county's clerk fills them in, and exports read back.

Files are built from the spec's own headers in the active language, as the template has them.
"""

import datetime
import io

import openpyxl
from django.utils import translation

from governance.rosters import get_spec, roster_export, roster_template
from tests.helpers.people import make_id_number


def headers(kind: str, names=None) -> list[str]:
    """The header of roster ``kind``'s columns ``names`` (every import column by default)."""
    spec = get_spec(kind)
    columns = spec.import_columns if names is None else [spec.column(name) for name in names]
    return [str(column.header) for column in columns]


def xlsx(header, rows) -> bytes:
    """A workbook of one sheet: ``header``, then ``rows``."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_export(content: bytes):
    """The cells of an exported workbook's first sheet, row by row."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    return [[cell for cell in row] for row in sheet.iter_rows()]


def cell_values(content: bytes):
    """The values of an exported workbook's first sheet, row by row (the header first)."""
    return [[cell.value for cell in row] for row in read_export(content)]


def template_rows(kind: str):
    """The rows of roster ``kind``'s downloaded template (the header, then the example)."""
    content = roster_template(kind)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames[1] == str(translation.gettext("Instructions"))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


def fill_template(kind: str, rows: list[dict]) -> bytes:
    """The downloaded template with its example row replaced by ``rows`` (column name → value)."""
    header = list(template_rows(kind)[0])
    names = {str(column.header): column.name for column in get_spec(kind).import_columns}
    return xlsx(header, [[row.get(names[title]) for title in header] for row in rows])


def exported(kind: str, queryset, user) -> list[dict]:
    """Roster ``kind``'s export of ``queryset`` for ``user``, a dict (header → value) a row."""
    rows = cell_values(roster_export(kind=kind, queryset=queryset, user=user))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


# --- Residents --------------------------------------------------------------------------------

RESIDENT_COLUMNS = ["name", "id_number", "household", "phone", "relation"]


def nth_id_number(i: int) -> str:
    """The ``i``-th of 1,000 distinct valid ID numbers of the cast's county."""
    # A birth date per block of 500 sequence numbers.
    birth = datetime.date(1990, 1, 1) + datetime.timedelta(days=i // 500)
    return make_id_number("513424", birth.strftime("%Y%m%d"), i % 500 + 1)


def resident_rows(county, count: int, start: int = 0) -> list[list]:
    """``count`` new residents of the cast's two first households, in RESIDENT_COLUMNS."""
    households = county.households
    return [
        [f"居民{i}", nth_id_number(i), households[i % 2].number,
         f"139{i:08d}", "head" if i % 3 == 0 else "child"]
        for i in range(start, start + count)
    ]
