"""Onboarding a county from the official statistical division code list (统计用区划代码).

The National Bureau of Statistics publishes the list every year, and open mirrors pass it on
as CSV. ``divisions_import`` reads such a file and creates or updates the county, township
and village/community units of the OrgUnit tree. The rules, in the order they apply:

Reading the file
    UTF-8, UTF-8 with a byte-order mark, or GB18030 (what Excel on a Chinese Windows
    writes), detected from the bytes. Comma-separated (tab-separated when the header has
    tabs and no commas). Row 1 is the header; it must name a code column (``code``,
    ``统计用区划代码``, ``区划代码`` or ``代码``) and a name column (``name`` or ``名称``); other
    columns (城乡分类代码 ...) are ignored. Row numbers in the report are the file's line
    numbers, the header being row 1.

Codes
    2 (province), 4 (city), 6 (county), 9 (township) or 12 digits; short codes are padded
    to 12 digits with zeros, so ``513424`` and ``513424000000`` are the same county. The
    level follows from the padded code: ``PP0000000000`` province, ``PPCC00000000`` city,
    ``PPCCDD000000`` county, ``PPCCDDTTT000`` township, anything else a village. Province
    and city rows, and the placeholder county rows named 市辖区, are counted as ignored:
    Yiwang does not create them. The parent of a unit is found from the code prefix (a
    township hangs under ``PPCCDD000000``, a village under ``PPCCDDTTT000``), in the file or
    in the database. A new county is a top-level unit unless a city unit with its 4-digit
    prefix already exists, then it hangs under that city. Existing units are never moved.

Kinds, from the name as published
    county: …区 → district, …市 → county-level city, anything else (县, 旗, 自治县 …) county.
    township: …街道 / …街道办事处 → subdistrict, …镇 → town, …乡 / …苏木 → township.
    village: …村民委员会 / …村委会 / …村 / …嘎查 → village,
    …居民委员会 / …居委会 / …社区 → community.
    A township or village name that fits none of these is rejected (development zones,
    farms and the like must be added by hand or renamed in the file).

Names
    ``name`` keeps the name exactly as published (trimmed of surrounding spaces).
    ``short_name`` is the everyday display name without the committee suffix:
    村民委员会 / 村委会 become 村 (``红星村民委员会`` → ``红星村``, ``城关村村民委员会`` →
    ``城关村``, ``老熊沟村委会`` → ``老熊沟村``); 居民委员会 / 居委会 become 社区 unless the name
    already says 社区 (``南街社区居民委员会`` → ``南街社区``, ``角半居委会`` → ``角半社区``);
    街道办事处 becomes 街道. A name without such a suffix needs no short name: ``short_name``
    stays empty and the unit displays its ``name``.

Validation and writing
    Every row is checked and every rejected row is reported with its row number, column
    and code: malformed code, level or prefix rules (the same functions as
    ``OrgUnit.clean()``), a parent neither in the file nor in the database, an empty name,
    a code that appears twice in the file, a kind that cannot be inferred, a code already
    used in the database by a unit of another level. If any row is rejected nothing is
    written. A second import of the same file changes nothing; a changed name or kind
    updates the existing unit (matched by code), never duplicates it.

    ``county`` (6 or 12 digits) limits the import to the rows whose code starts with that
    county's six digits; the other rows are counted and skipped unread.

    Writing happens inside ``tree_write_lock()`` and one transaction: updates with
    ``bulk_update``, new units with ``bulk_create`` level by level (django-mptt cannot
    insert in bulk, so their lft/rght/tree_id/mptt_level are written as 0) and a single
    renumbering of the tree at the end (``tree_renumber``: the numbering of
    ``OrgUnit.objects.rebuild()``, written faster). No query per row of the file (the audit
    trail's triggers record the rows on PostgreSQL; the import is one audit event).
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext

from governance.audit import Action, record
from governance.models import Kind, Level, OrgUnit, division_code_error, level_error
from governance.rosters.tabular import decode_text, read_bytes
from governance.tree import tree_renumber, tree_write_lock

CODE_HEADERS = ("code", "统计用区划代码", "区划代码", "代码")
NAME_HEADERS = ("name", "名称")
IMPORT_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
CODE_LENGTHS = (2, 4, 6, 9, 12)
NAME_MAX_LENGTH = OrgUnit._meta.get_field("name").max_length
# Placeholder county-level rows of old lists ("municipal districts" of a city, no townships).
PLACEHOLDER_COUNTY_NAMES = {"市辖区"}
# Keeps every IN (...) list under SQLite's oldest limit of 999 parameters.
QUERY_CHUNK = 900
BATCH_SIZE = 1000

# (suffix, kind, display suffix that replaces it in short_name or None to keep the name)
_TOWNSHIP_SUFFIXES = (
    ("街道办事处", Kind.SUBDISTRICT, "街道"),
    ("街道", Kind.SUBDISTRICT, None),
    ("镇", Kind.TOWN, None),
    ("乡", Kind.TOWNSHIP, None),
    ("苏木", Kind.TOWNSHIP, None),
)
_VILLAGE_SUFFIXES = (
    ("村民委员会", Kind.VILLAGE, "村"),
    ("村委会", Kind.VILLAGE, "村"),
    ("居民委员会", Kind.COMMUNITY, "社区"),
    ("居委会", Kind.COMMUNITY, "社区"),
    ("社区", Kind.COMMUNITY, None),
    ("村", Kind.VILLAGE, None),
    ("嘎查", Kind.VILLAGE, None),
)


# --- The report ---------------------------------------------------------------------------


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class RejectedRow:
    """One reason a row was refused. ``row`` is the file's line number (0: the file itself)."""

    row: int
    column: str
    code: str
    message: str


@dataclass
class DivisionImportReport:
    dry_run: bool = False
    county: str | None = None
    rows_read: int = 0
    ignored: int = 0
    outside: int = 0
    written: bool = False
    counts: dict[str, LevelCounts] = field(default_factory=lambda: {level: LevelCounts() for level in IMPORT_LEVELS})
    rejected: list[RejectedRow] = field(default_factory=list)

    def reject(self, row: int, column: str, code: str, message: str) -> None:
        self.rejected.append(RejectedRow(row, column, code, message))

    @property
    def rejected_row_count(self) -> int:
        return len({item.row for item in self.rejected})

    def table(self) -> list[tuple[str, LevelCounts]]:
        """Counts per level, with the level's translated label, county first."""
        return [(str(Level(level).label), self.counts[level]) for level in IMPORT_LEVELS]

    def status(self) -> str:
        if self.rejected:
            return ngettext(
                "%(count)d row was rejected: nothing was written.",
                "%(count)d rows were rejected: nothing was written.",
                self.rejected_row_count,
            ) % {"count": self.rejected_row_count}
        if self.dry_run:
            return gettext("Preview only: nothing was written.")
        return gettext("Import finished.")

    def lines(self) -> list[str]:
        out = [self.status()]
        if self.county:
            out.append(gettext("County: %(code)s") % {"code": self.county})
        out.append(gettext("Rows read: %(count)d") % {"count": self.rows_read})
        header = (gettext("Level"), gettext("Created"), gettext("Updated"), gettext("Unchanged"))
        rows = [(label, str(c.created), str(c.updated), str(c.unchanged)) for label, c in self.table()]
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(4)]
        for r in [header, *rows]:
            out.append("  ".join(_pad(text, widths[i]) for i, text in enumerate(r)).rstrip())
        out.append(gettext("Ignored rows (province, city): %(count)d") % {"count": self.ignored})
        if self.county:
            out.append(gettext("Rows of other counties skipped: %(count)d") % {"count": self.outside})
        if self.rejected:
            out.append(gettext("Rejected rows:"))
            for item in self.rejected:
                where = (
                    gettext("Row %(row)d") % {"row": item.row} if item.row else gettext("File")
                )
                details = ", ".join(part for part in (item.column, item.code) if part)
                out.append(f"  {where}" + (f" [{details}]" if details else "") + f": {item.message}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# --- Reading the file ---------------------------------------------------------------------


@dataclass
class _Row:
    row: int
    code: str  # 12 digits
    level: str
    name: str
    kind: str | None
    short_name: str
    parent_code: str | None  # derived from the prefix; for a county, its city's code
    raw_code: str  # as written in the file, for the report
    rejected: bool = False  # already refused while reading; still a parent for the rows below it


class _FileError(Exception):
    """The file as a whole cannot be read; ``row`` is 0 for the bytes, 1 for the header."""

    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row = row


def county_code_or_error(value: str) -> str:
    """The 12-digit form of a county code given as 6 or 12 digits, or a ValidationError."""
    value = (value or "").strip()
    if not value.isdigit() or len(value) not in (6, 12) or not value.isascii():
        raise ValidationError(
            gettext("County code must be 6 or 12 digits, such as 513424 or 513424000000.")
        )
    code = value.ljust(12, "0")
    if _level_of(code) != Level.COUNTY:
        raise ValidationError(gettext("%(code)s is not a county code.") % {"code": value})
    return code


def _level_of(code12: str) -> str | None:
    """The level of a padded 12-digit code; None for a province."""
    if code12[2:] == "0" * 10:
        return None
    if code12[4:] == "0" * 8:
        return Level.CITY
    if code12[6:] == "0" * 6:
        return Level.COUNTY
    if code12[9:] == "000":
        return Level.TOWNSHIP
    return Level.VILLAGE


def _parent_code(code12: str, level: str) -> str | None:
    if level == Level.COUNTY:
        return code12[:4] + "0" * 8
    if level == Level.TOWNSHIP:
        return code12[:6] + "0" * 6
    if level == Level.VILLAGE:
        return code12[:9] + "000"
    return None


def infer_kind(level: str, name: str) -> tuple[str | None, str]:
    """(kind, short_name) for a unit of ``level`` published as ``name``; kind None if unknown."""
    if level == Level.COUNTY:
        if name.endswith("区"):
            return Kind.DISTRICT, ""
        if name.endswith("市"):
            return Kind.COUNTY_CITY, ""
        return Kind.COUNTY, ""
    suffixes = _TOWNSHIP_SUFFIXES if level == Level.TOWNSHIP else _VILLAGE_SUFFIXES
    for suffix, kind, display in suffixes:
        if name.endswith(suffix):
            if display is None:
                return kind, ""
            base = name[: -len(suffix)]
            if not base:
                return kind, ""
            return kind, base if base.endswith(display) else base + display
    return None, ""


def _decode(data: bytes) -> str:
    text = decode_text(data)
    if text is None:
        raise _FileError(0, gettext("The file is neither UTF-8 nor GB18030 text."))
    return text


def _find_column(header: list[str], names: Iterable[str]) -> int | None:
    cleaned = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    for name in names:
        if name in cleaned:
            return cleaned.index(name)
    return None


def _parse(text: str, county: str | None, report: DivisionImportReport) -> tuple[list[_Row], str]:
    """(rows of the import's levels, the code column's header); format errors, ignored and
    skipped rows go to the report."""
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _FileError(1, gettext("The header cannot be read as CSV: %(error)s") % {"error": exc}) from None
    if not header or not any(cell.strip() for cell in header):
        raise _FileError(1, gettext("The file is empty: row 1 must be the header."))
    code_col = _find_column(header, CODE_HEADERS)
    name_col = _find_column(header, NAME_HEADERS)
    if code_col is None:
        raise _FileError(
            1,
            gettext("The header has no code column (one of: %(names)s).") % {"names": ", ".join(CODE_HEADERS)}
        )
    if name_col is None:
        raise _FileError(
            1,
            gettext("The header has no name column (one of: %(names)s).") % {"names": ", ".join(NAME_HEADERS)}
        )
    code_label, name_label = header[code_col].strip().lstrip("\ufeff"), header[name_col].strip()
    county6 = county[:6] if county else None

    rows: list[_Row] = []
    first_row_of: dict[str, int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.rows_read += 1
            report.reject(
                reader.line_num, "", "", gettext("The line cannot be read as CSV: %(error)s") % {"error": exc}
            )
            continue
        row_number = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        report.rows_read += 1
        raw_code = cells[code_col].strip().lstrip("'") if code_col < len(cells) else ""
        name = cells[name_col].strip() if name_col < len(cells) else ""

        valid_shape = raw_code.isascii() and raw_code.isdigit() and len(raw_code) in CODE_LENGTHS
        code = raw_code.ljust(12, "0") if valid_shape else ""
        level = _level_of(code) if valid_shape else None
        if valid_shape and level in (None, Level.CITY):
            report.ignored += 1
            continue
        if county6 and not raw_code.startswith(county6):
            report.outside += 1
            continue
        if not raw_code:
            report.reject(row_number, code_label, "", gettext("Code is empty."))
            continue
        if not (raw_code.isascii() and raw_code.isdigit()):
            report.reject(row_number, code_label, raw_code, gettext("Code must contain digits only."))
            continue
        if not valid_shape:
            report.reject(
                row_number, code_label, raw_code, gettext("Code must have 2, 4, 6, 9 or 12 digits.")
            )
            continue
        if level == Level.COUNTY and name in PLACEHOLDER_COUNTY_NAMES:
            report.ignored += 1
            continue

        message = division_code_error(level, code, None)
        if message:
            report.reject(row_number, code_label, raw_code, message)
            continue
        if code in first_row_of:
            report.reject(
                row_number,
                code_label,
                raw_code,
                gettext("Code %(code)s already appears on row %(row)d.") % {"code": code, "row": first_row_of[code]},
            )
            continue
        first_row_of[code] = row_number

        kind, short_name = infer_kind(level, name) if name else (None, "")
        rejected_before = len(report.rejected)
        if not name:
            report.reject(row_number, name_label, raw_code, gettext("Name is empty."))
        elif len(name) > NAME_MAX_LENGTH:
            report.reject(
                row_number,
                name_label,
                raw_code,
                gettext("Name is longer than %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            )
        elif kind is None:
            if level == Level.TOWNSHIP:
                msg = gettext("Cannot tell the kind of township: the name should end with 街道, 镇 or 乡.")
            else:
                msg = gettext(
                    "Cannot tell village from community: the name should end with "
                    "村民委员会, 村委会, 村, 居民委员会, 居委会 or 社区."
                )
            report.reject(row_number, name_label, raw_code, msg)
        rows.append(
            _Row(
                row=row_number,
                code=code,
                level=level,
                name=name,
                kind=kind,
                short_name=short_name,
                parent_code=_parent_code(code, level),
                raw_code=raw_code,
                rejected=len(report.rejected) > rejected_before,
            )
        )
    return rows, code_label


# --- Planning against the database and writing --------------------------------------------


def _existing_units(codes: set[str]) -> dict[str, OrgUnit]:
    found: dict[str, OrgUnit] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), QUERY_CHUNK):
        chunk = ordered[start : start + QUERY_CHUNK]
        for unit in OrgUnit.objects.filter(code__in=chunk):
            found[unit.code] = unit
    return found


@dataclass
class _Plan:
    updates: list[OrgUnit] = field(default_factory=list)
    creates: dict[str, list[_Row]] = field(default_factory=lambda: {level: [] for level in IMPORT_LEVELS})
    known: dict[str, OrgUnit] = field(default_factory=dict)


def _plan(rows: list[_Row], report: DivisionImportReport, code_label: str) -> _Plan:
    plan = _Plan()
    codes = {row.code for row in rows} | {row.parent_code for row in rows if row.parent_code}
    plan.known = existing = _existing_units(codes)
    in_file = {row.code: row for row in rows}
    for row in rows:
        unit = existing.get(row.code)
        counts = report.counts[row.level]
        if unit is not None:
            if unit.level != row.level:
                report.reject(
                    row.row,
                    code_label,
                    row.raw_code,
                    gettext("Code %(code)s is already used by a unit of level %(level)s.")
                    % {"code": row.code, "level": Level(unit.level).label},
                )
                continue
            if row.rejected:
                continue
            if (unit.name, unit.short_name, unit.kind) == (row.name, row.short_name, row.kind):
                counts.unchanged += 1
            else:
                unit.name, unit.short_name, unit.kind = row.name, row.short_name, row.kind
                plan.updates.append(unit)
                counts.updated += 1
            continue

        parent_level = None
        parent = existing.get(row.parent_code)
        if row.level == Level.COUNTY:
            # A county hangs under its city only when that city is already in the tree.
            if parent is not None and parent.level == Level.CITY:
                parent_level = parent.level
            else:
                row.parent_code = None
        elif parent is not None:
            parent_level = parent.level
        elif row.parent_code in in_file:
            parent_level = in_file[row.parent_code].level
        else:
            report.reject(
                row.row,
                code_label,
                row.raw_code,
                gettext("Parent unit %(parent)s is neither in the file nor in the database.")
                % {"parent": row.parent_code},
            )
            continue
        message = level_error(row.level, parent_level) or division_code_error(
            row.level, row.code, row.parent_code
        )
        if message:
            report.reject(row.row, code_label, row.raw_code, message)
            continue
        if row.rejected:
            continue
        plan.creates[row.level].append(row)
        counts.created += 1
    return plan


def _created_count(plan: _Plan) -> int:
    return sum(len(rows) for rows in plan.creates.values())


def _apply(plan: _Plan, user) -> None:
    if plan.updates:
        OrgUnit.objects.bulk_update(plan.updates, ["name", "short_name", "kind"], batch_size=BATCH_SIZE)
    ids = {code: unit.pk for code, unit in plan.known.items()}
    created_any = False
    for level in IMPORT_LEVELS:
        rows = plan.creates[level]
        if not rows:
            continue
        units = [
            OrgUnit(
                code=row.code,
                name=row.name,
                short_name=row.short_name,
                level=row.level,
                kind=row.kind,
                parent_id=ids.get(row.parent_code),
                is_active=True,
                # django-mptt cannot insert in bulk: tree_renumber(OrgUnit) below numbers the tree once.
                lft=0,
                rght=0,
                tree_id=0,
                mptt_level=0,
            )
            for row in rows
        ]
        created = OrgUnit.objects.bulk_create(units, batch_size=BATCH_SIZE)
        if any(unit.pk is None for unit in created):
            # A backend that cannot return ids from a bulk insert: read them back by code.
            fetched = _existing_units({unit.code for unit in created})
            for unit in created:
                unit.pk = fetched[unit.code].pk
        ids.update({unit.code: unit.pk for unit in created})
        created_any = True
    if created_any:
        tree_renumber(OrgUnit)


def divisions_import(
    *, file, county: str | None = None, dry_run: bool = False, user=None
) -> DivisionImportReport:
    """Import a division code list; see the module docstring for every rule.

    ``file``: a path, bytes, or a binary file object (an upload). ``county``: 6 or 12 digits,
    limits the import to that county (raises ValidationError if it is not a county code).
    ``dry_run``: compute the same report, write nothing. ``user``: recorded in the audit trail.
    All or nothing: if the report has rejected rows, nothing was written.
    """
    county12 = county_code_or_error(county) if county else None
    report = DivisionImportReport(dry_run=dry_run, county=county12)
    try:
        rows, code_label = _parse(_decode(read_bytes(file)), county12, report)
    except _FileError as exc:
        report.reject(exc.row, "", "", str(exc))
        return report

    if dry_run:
        _plan(rows, report, code_label)
    else:
        with tree_write_lock():
            plan = _plan(rows, report, code_label)
            if not report.rejected:
                _apply(plan, user)
                report.written = True
                record(Action.IMPORT, user=user, object_type=OrgUnit._meta.label,
                       changes={"kind": [None, "divisions"], "rows": [None, len(plan.updates) + _created_count(plan)]},
                       detail=f"divisions: {getattr(file, 'name', '') or (file if isinstance(file, str) else '')}")
    report.rejected.sort(key=lambda item: item.row)
    return report
