"""Reading spreadsheets: .xlsx and .csv files into numbered rows.

Reading
    ``read_table(file)`` takes a path, bytes or a binary file object (an upload) and returns
    the header row and an iterator of ``(row number, cells)``, numbered as the user sees them
    in Excel (the header is row 1; empty rows are skipped but keep their numbers). The format
    is told from the bytes: a ZIP archive is an .xlsx workbook (its first sheet is read, once
    ``governance.rosters.archive`` has checked the whole archive against zip bombs), an
    old binary .xls is refused with a message, anything else is CSV text in UTF-8 (with or
    without a byte-order mark) or GB18030, comma- or tab-separated.

    xlsx cells come back as Python values: str, int, float, bool, datetime/date/time for
    cells with a date or time number format. A leading ``'`` that neutralised a formula on
    export (see below) is taken off again, so an exported file imports unchanged.

    Why not openpyxl for reading: its read-only mode costs about 20 µs per cell here
    (100,000 rows of 7 columns take 11-16 s, more than the whole import may take), nearly
    all of it Python work per cell. An .xlsx sheet is a ZIP member of simple XML, so cells
    are read with one regular expression over decompressed blocks, and the match count is
    checked against the number of ``<c`` elements in the block: a workbook written in an
    unusual way (namespace prefixes, other attribute orders) falls back to an expat parser
    for that sheet, which reads every well-formed sheet, at about half the speed.

Writing .xlsx files is ``governance.rosters.xlsx``.
"""

import codecs
import csv
import datetime
import io
import os
import pickle
import queue
import re
import signal
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.parsers import expat
from xml.sax.saxutils import unescape

from django.utils.translation import gettext
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from governance.rosters.archive import ArchiveRefused, check_archive

# Strings a spreadsheet would read as a formula (or a DDE command) when typed in a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BLOCK = 4 << 20
PARALLEL_MIN_BYTES = 1 << 20  # smaller workbooks are read in-process (a fork costs more than it saves)
_CHILD_BATCH = 2000


class TableError(Exception):
    """The file cannot be read as a table at all (the message says why, for the user)."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list]]
    format: str  # "xlsx" or "csv"


def neutralise(value: str) -> str:
    """``'=1+1`` for ``=1+1``: a cell that shows the text instead of computing it."""
    if value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo ``neutralise`` (on import)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def read_bytes(file) -> bytes:
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as handle:
            return handle.read()
    if hasattr(file, "seek"):
        try:
            file.seek(0)
        except (OSError, ValueError):
            pass  # a stream that cannot seek is read from where it stands
    data = file.read()
    return data.encode("utf-8") if isinstance(data, str) else data


def read_table(file, *, parallel: bool = False) -> Table:
    """The header and the numbered non-empty rows of an .xlsx or .csv file (see the module doc).

    ``parallel``: a big workbook is read by a forked child process while the caller works on
    the rows already read (for the command line; see ``_read_xlsx_in_child``).
    """
    data = read_bytes(file)
    if data[:4] == b"PK\x03\x04":
        try:
            check_archive(data)  # before any reader opens a part: a zip bomb stops here
        except ArchiveRefused as exc:
            raise TableError(str(exc)) from None
        if parallel and len(data) >= PARALLEL_MIN_BYTES and hasattr(os, "fork"):
            return _read_xlsx_in_child(data)
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableError(gettext("Old .xls files cannot be read: save the file as .xlsx or .csv."))
    return _read_csv(data)


def _first_row(rows: Iterator[tuple[int, list]]) -> tuple[list[str], Iterator[tuple[int, list]]]:
    for number, cells in rows:
        if number != 1:
            raise TableError(gettext("Row 1 must be the header row."))
        headers = ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in cells]
        return headers, rows
    raise TableError(gettext("The file is empty: row 1 must be the header."))


def _non_empty(rows: Iterable[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    for number, cells in rows:
        for cell in cells:
            if cell is not None and (not isinstance(cell, str) or cell.strip()):
                yield number, cells
                break


# --- CSV ----------------------------------------------------------------------------------


def decode_text(data: bytes) -> str | None:
    """Text in UTF-8 (with or without a byte-order mark) or GB18030 (what Excel on a Chinese
    Windows writes); None when it is neither."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return None


def _decode(data: bytes) -> str:
    text = decode_text(data)
    if text is None:
        raise TableError(gettext("The file is neither an Excel workbook (.xlsx) nor UTF-8 or GB18030 text."))
    return text


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows():
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise TableError(
                    gettext("Line %(line)d cannot be read as CSV: %(error)s") % {"line": reader.line_num, "error": exc}
                ) from None
            yield reader.line_num, [restore(cell) for cell in cells]

    headers, body = _first_row(_non_empty(rows()))
    return Table(headers, body, "csv")


# --- xlsx ---------------------------------------------------------------------------------

NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL_RE = re.compile(
    r'<c r="([A-Z]{1,3})(\d+)"(?: s="(\d+)")?(?: t="(\w+)")?(?: [a-z]+="[^"]*")*\s*'
    r"(?:/>|>(?:<f\b[^>]*?(?:/>|>[^<]*</f>))?(?:<v>([^<]*)</v>|<is><t>([^<]*)</t></is>|<is>(.*?)</is>)?</c>)",
    re.S,
)
_TEXT_RE = re.compile(r"<t\b[^>]*>([^<]*)</t>")
_PHONETIC_RE = re.compile(r"<rPh\b.*?</rPh>", re.S)
# A plain entry (<si><t>text</t></si>) in the first group, any other in the second.
_SI_RE = re.compile(r"<si><t(?: [^>]*)?>([^<]*)</t></si>|<si>(.*?)</si>|<si/>", re.S)
_ATTR_RE = re.compile(r'([\w:]+)="([^"]*)"')


def _column_index(letters: str, cache: dict[str, int]) -> int:
    index = cache.get(letters)
    if index is None:
        index = 0
        for char in letters:
            index = index * 26 + ord(char) - 64
        index -= 1
        cache[letters] = index
    return index


@dataclass
class _Book:
    zip: zipfile.ZipFile
    sheet: str
    strings: list[str]
    date_styles: set[int]
    time_styles: set[int]
    epoch: datetime.datetime


_UNREADABLE = (zipfile.BadZipFile, KeyError, ValueError, IndexError, expat.ExpatError)


def _read_xlsx(data: bytes) -> Table:
    return _xlsx_table(lambda: _sheet_rows(_open_book(data)))


def _xlsx_table(rows) -> Table:
    try:
        headers, body = _first_row(_non_empty(rows()))
    except _UNREADABLE:
        raise TableError(gettext("The file is not a readable Excel workbook (.xlsx).")) from None
    return Table(headers, _guarded(body), "xlsx")


def _read_xlsx_in_child(data: bytes) -> Table:
    """Read the workbook in a forked child that sends the rows back in pickled batches.

    Parsing the sheet's XML is about a third of a big import's Python work; in a child it
    runs on the other core while this process checks the rows already received. A thread
    here drains the pipe as the batches come (it only waits on the pipe, which leaves the
    interpreter to the checking), so the child never waits for the checker. The child only
    reads and pickles, and leaves with ``os._exit`` (no cleanup that could touch the
    parent's database connection). An error in the child reaches the caller as it would
    have without the child.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:

                def send(item):
                    payload = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
                    out.write(len(payload).to_bytes(8, "little"))
                    out.write(payload)

                try:
                    batch: list = []
                    for item in _sheet_rows(_open_book(data)):
                        batch.append(item)
                        if len(batch) >= _CHILD_BATCH:
                            send(batch)
                            batch = []
                    send(batch)
                    send(None)
                except Exception as exc:  # noqa: BLE001 - handed to the parent
                    try:
                        send(_Failure(exc))
                    except Exception:  # noqa: BLE001 - an exception that does not pickle
                        send(_Failure(ValueError(str(exc))))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    frames: queue.SimpleQueue = queue.SimpleQueue()
    drain = threading.Thread(target=_drain, args=(read_end, frames), name="xlsx-reader", daemon=True)
    drain.start()
    return _xlsx_table(lambda: _rows_from_child(pid, frames))


class _Failure:
    def __init__(self, exc: Exception):
        self.exc = exc


def _drain(fd: int, frames: queue.SimpleQueue) -> None:
    """Move the child's frames from the pipe into ``frames`` (None at the end of the pipe)."""
    with os.fdopen(fd, "rb") as stream:
        while len(head := stream.read(8)) == 8:
            frames.put(stream.read(int.from_bytes(head, "little")))
    frames.put(None)


def _rows_from_child(pid: int, frames: queue.SimpleQueue) -> Iterator[tuple[int, list]]:
    try:
        while (frame := frames.get()) is not None:
            batch = pickle.loads(frame)
            if batch is None:
                return
            if isinstance(batch, _Failure):
                raise batch.exc
            yield from batch
        raise ValueError("the reading process stopped")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)  # still writing if the caller stopped early; a no-op otherwise
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def _guarded(rows):
    try:
        yield from rows
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, expat.ExpatError):
        raise TableError(gettext("The file is not a readable Excel workbook (.xlsx).")) from None


def _attrs(tag_text: str) -> dict[str, str]:
    return {name.rpartition(":")[2]: value for name, value in _ATTR_RE.findall(tag_text)}


def _open_book(data: bytes) -> _Book:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    first_sheet = re.search(r"<(?:\w+:)?sheet\b([^>]*)/?>", workbook)
    if first_sheet is None:
        raise KeyError("no sheet")
    rel_id = next(
        (value for name, value in _ATTR_RE.findall(first_sheet.group(1)) if name.endswith(":id")), None
    )
    target = "worksheets/sheet1.xml"
    if rel_id and "xl/_rels/workbook.xml.rels" in names:
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        for tag in re.findall(r"<(?:\w+:)?Relationship\b([^>]*)/?>", rels):
            attrs = _attrs(tag)
            if attrs.get("Id") == rel_id:
                target = attrs["Target"]
    sheet = target.lstrip("/") if target.startswith("/") else "xl/" + target
    pr = re.search(r"<(?:\w+:)?workbookPr\b([^>]*)>", workbook)
    date1904 = pr is not None and _attrs(pr.group(1)).get("date1904") in ("1", "true")
    strings = _shared_strings(archive.read("xl/sharedStrings.xml").decode("utf-8")) if (
        "xl/sharedStrings.xml" in names
    ) else []
    date_styles, time_styles = _date_styles(archive.read("xl/styles.xml").decode("utf-8")) if (
        "xl/styles.xml" in names
    ) else (set(), set())
    return _Book(
        archive, sheet, strings, date_styles, time_styles, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    )


def _shared_strings(text: str) -> list[str]:
    found = _SI_RE.findall(text)
    if len(found) != len(re.findall(r"<(?:\w+:)?si[ >/]", text)):
        return _shared_strings_expat(text)
    strings = []
    for plain, body in found:
        if plain or not body:
            value = plain
        else:
            if "<rPh" in body:
                body = _PHONETIC_RE.sub("", body)
            parts = _TEXT_RE.findall(body)
            value = parts[0] if len(parts) == 1 else "".join(parts)
        strings.append(unescape(value) if "&" in value else value)
    return strings


def _shared_strings_expat(text: str) -> list[str]:
    strings: list[str] = []
    parts: list[str] = []
    state = {"text": False, "phonetic": 0}

    def start(name, attrs):
        local = name.rpartition(" ")[2]
        if local == "t":
            state["text"] = True
        elif local == "rPh":
            state["phonetic"] += 1

    def end(name):
        local = name.rpartition(" ")[2]
        if local == "t":
            state["text"] = False
        elif local == "rPh":
            state["phonetic"] -= 1
        elif local == "si":
            strings.append("".join(parts))
            parts.clear()

    def chars(data):
        if state["text"] and not state["phonetic"]:
            parts.append(data)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    parser.Parse(text, True)
    return strings


def _date_styles(text: str) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles (cellXfs) whose number format shows a date, and a time only."""
    formats = dict(BUILTIN_FORMATS)
    for tag in re.findall(r"<(?:\w+:)?numFmt\b([^>]*)/?>", text):
        attrs = _attrs(tag)
        if "numFmtId" in attrs:
            formats[int(attrs["numFmtId"])] = unescape(attrs.get("formatCode", ""))
    dates, times = set(), set()
    xfs = re.search(r"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", text, re.S)
    if xfs:
        for index, tag in enumerate(re.findall(r"<(?:\w+:)?xf\b([^>]*?)/?>", xfs.group(1))):
            code = formats.get(int(_attrs(tag).get("numFmtId", 0)), "")
            if code and is_date_format(code):
                dates.add(index)
                if not re.search(r"[dmy]", re.sub(r'"[^"]*"|\[[^\]]*\]', "", code.lower()).replace("mm:", "")):
                    times.add(index)
    return dates, times


def _convert(book: _Book, style: str, kind: str, value: str):
    """A cell's Python value from its type attribute, style and text."""
    if kind == "s":
        return restore(book.strings[int(value)])
    if not kind or kind == "n":
        number = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
        if style and int(style) in book.date_styles:
            converted = from_excel(number, book.epoch)
            if int(style) in book.time_styles and isinstance(converted, datetime.datetime):
                return converted.time()
            if isinstance(converted, datetime.datetime) and converted.time() == datetime.time(0):
                return converted.date()
            return converted
        return number
    if kind == "b":
        return value.strip() in ("1", "true")
    if kind == "d":
        return datetime.datetime.fromisoformat(value)
    value = unescape(value) if "&" in value else value
    return restore(value)


def _sheet_rows(book: _Book) -> Iterator[tuple[int, list]]:
    """Every row of the sheet as (number, cells); fast path with a verified fallback."""
    with book.zip.open(book.sheet) as stream:
        head = stream.read(_BLOCK)
    prefixed = re.search(rb"<\w+:worksheet\b", head[:2000]) is not None
    if prefixed:
        return _sheet_rows_expat(book)
    return _sheet_rows_regex(book)


class _Unusual(Exception):
    """The sheet's XML is not shaped as the fast reader expects."""


def _sheet_rows_regex(book: _Book) -> Iterator[tuple[int, list]]:
    produced = 0
    try:
        for item in _sheet_rows_regex_raw(book):
            produced += 1
            yield item
    except _Unusual:
        if produced:
            raise ValueError("unusual sheet after rows were read") from None
        yield from _sheet_rows_expat(book)


def _sheet_rows_regex_raw(book: _Book) -> Iterator[tuple[int, list]]:
    cache: dict[str, int] = {}
    decoder = codecs.getincrementaldecoder("utf-8")()
    current, row = None, None
    rest = ""
    strings = book.strings
    with book.zip.open(book.sheet) as stream:
        while True:
            block = stream.read(_BLOCK)
            text = rest + decoder.decode(block, final=not block)
            if block:
                cut = text.rfind("</row>")
                if cut < 0:
                    rest = text
                    continue
                cut += len("</row>")
                text, rest = text[:cut], text[cut:]
            cells = _CELL_RE.findall(text)
            if len(cells) != text.count("<c ") + text.count("<c>") + text.count("<c/>"):
                raise _Unusual
            for letters, number, style, kind, value, simple, inline in cells:
                if number != current:
                    if row is not None:
                        yield int(current), row
                    current, row = number, []
                if kind == "s":
                    value = strings[int(value)]
                    if value[:1] == "'":
                        value = restore(value)
                elif kind == "inlineStr":
                    if simple:
                        value = unescape(simple) if "&" in simple else simple
                    elif inline:
                        if "<rPh" in inline:
                            inline = _PHONETIC_RE.sub("", inline)
                        value = "".join(_TEXT_RE.findall(inline))
                        value = unescape(value) if "&" in value else value
                    else:
                        continue
                    if value[:1] == "'":
                        value = restore(value)
                elif not value:
                    continue
                else:
                    value = _convert(book, style, kind, value)
                index = cache.get(letters)
                if index is None:
                    index = _column_index(letters, cache)
                size = len(row)
                if size < index:
                    row.extend([None] * (index - size))
                    size = index
                if size == index:
                    row.append(value)
                else:
                    row[index] = value
            if not block:
                break
    if row is not None:
        yield int(current), row


def _sheet_rows_expat(book: _Book) -> Iterator[tuple[int, list]]:
    """Any well-formed sheet (prefixes, attribute orders, cells without references)."""
    cache: dict[str, int] = {}
    done: list[tuple[int, list]] = []
    state = {"row": None, "number": 0, "col": 0, "style": None, "kind": None, "collect": False, "phonetic": 0}
    text: list[str] = []

    def start(name, attrs):
        local = name.rpartition(" ")[2]
        if local == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                state["col"] = _column_index(letters, cache)
            else:
                state["col"] = len(state["row"])
            state["style"], state["kind"] = attrs.get("s"), attrs.get("t")
            text.clear()
        elif local in ("v", "t"):
            state["collect"] = not state["phonetic"]
        elif local == "rPh":
            state["phonetic"] += 1
        elif local == "row":
            state["number"] = int(attrs.get("r") or state["number"] + 1)
            state["row"] = []

    def end(name):
        local = name.rpartition(" ")[2]
        if local in ("v", "t"):
            state["collect"] = False
        elif local == "rPh":
            state["phonetic"] -= 1
        elif local == "c":
            if not text:
                return
            raw = "".join(text)
            kind = state["kind"]
            value = restore(raw) if kind in ("inlineStr", "str", "e") else _convert(book, state["style"], kind, raw)
            row, index = state["row"], state["col"]
            if len(row) < index:
                row.extend([None] * (index - len(row)))
            if len(row) == index:
                row.append(value)
            else:
                row[index] = value
        elif local == "row":
            done.append((state["number"], state["row"]))

    def chars(data):
        if state["collect"]:
            text.append(data)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    with book.zip.open(book.sheet) as stream:
        while True:
            block = stream.read(_BLOCK)
            parser.Parse(block, not block)
            yield from done
            done.clear()
            if not block:
                break
