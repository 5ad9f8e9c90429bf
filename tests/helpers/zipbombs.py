"""Zip bombs of each kind, small to make: an .xlsx whose one part inflates to a gigabyte, one of tens of
thousands of parts, one whose header lies about its size.

A gigabyte is not compressed here: one 16 MB block of repeated XML is deflated once with a full
flush (which makes the block independent of what precedes it), and the compressed block is
repeated, as a hostile file would be made. The parts' CRC-32 is left 0: a reader that is refused
never reaches the end of a part, and the refusal's message says which limit refused it.
"""

import struct
import zipfile
import zlib

GIB = 2**30
_BLOCK = 16 * 2**20
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _deflate(data: bytes, mode=zlib.Z_FINISH) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(mode)


def inflating(head: bytes, unit: bytes, size: int, tail: bytes) -> tuple[bytes, int]:
    """(raw deflate stream, inflated size) of ``head``, ``unit`` repeated to about ``size`` bytes, ``tail``."""
    block = (unit * (_BLOCK // len(unit) + 1))[: _BLOCK - _BLOCK % len(unit)]
    repeats = max(1, size // len(block))
    stream = _deflate(head, zlib.Z_FULL_FLUSH) + _deflate(block, zlib.Z_FULL_FLUSH) * repeats + _deflate(tail)
    return stream, len(head) + len(block) * repeats + len(tail)


def _plain(text: str) -> tuple[bytes, int, int]:
    data = text.encode("utf-8")
    return _deflate(data), len(data), zlib.crc32(data)


def workbook_parts() -> dict[str, str]:
    """The parts of a small valid workbook: a header row and one row, text in the shared strings."""
    return {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {MAIN} xmlns:r="{REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/styles.xml": f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {MAIN}><cellXfs count="1">'
        '<xf numFmtId="0"/></cellXfs></styleSheet>',
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst {MAIN}><si><t>姓名</t></si></sst>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN}><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
    }


def build_zip(parts: list[tuple[str, bytes, int, int, int]], *, encrypted: bool = False) -> bytes:
    """A ZIP archive of already deflated parts: (name, deflated bytes, declared size, CRC-32, method).

    ``encrypted``: every part marked as encrypted (as a password-protected file is).
    """
    flags = 0x801 if encrypted else 0x800
    out = bytearray()
    central = bytearray()
    for name, stream, declared, crc, method in parts:
        encoded = name.encode("utf-8")
        offset = len(out)
        out += _LOCAL.pack(b"PK\x03\x04", 20, 0, flags, method, 0, 0x21, crc, len(stream), declared, len(encoded), 0)
        out += encoded + stream
        central += _CENTRAL.pack(b"PK\x01\x02", 20, 3, 20, 0, flags, method, 0, 0x21, crc, len(stream), declared,
                                 len(encoded), 0, 0, 0, 0, 0, offset)
        central += encoded
    count = len(parts)
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def bomb(part: str, unit: str, *, size: int = GIB, declared: int | None = None) -> bytes:
    """A workbook whose ``part`` is its usual opening, then ``unit`` repeated to ``size`` bytes, then its close.

    ``declared``: the size its headers declare (the real one unless given: a header that lies).
    """
    parts = []
    for name, text in workbook_parts().items():
        if name == part:
            cut = text.index("<", text.index(">", text.index(MAIN)) + 1)  # after the root element's opening tag
            head, tail = text[:cut], text[cut:]
            stream, real = inflating(head.encode(), unit.encode(), size, tail.encode())
            parts.append((name, stream, real if declared is None else declared, 0, zipfile.ZIP_DEFLATED))
        else:
            stream, real, crc = _plain(text)
            parts.append((name, stream, real, crc, zipfile.ZIP_DEFLATED))
    return build_zip(parts)


def workbook(*, encrypted: bool = False) -> bytes:
    """The small valid workbook of ``workbook_parts``."""
    return build_zip([(name, *_plain_part(text)) for name, text in workbook_parts().items()], encrypted=encrypted)


def many_parts(count: int) -> bytes:
    """A valid workbook with ``count`` extra empty parts."""
    parts = [(name, *_plain_part(text)) for name, text in workbook_parts().items()]
    empty = _deflate(b"")
    parts += [(f"xl/media/p{index}.xml", empty, 0, 0, zipfile.ZIP_DEFLATED) for index in range(count)]
    return build_zip(parts)


def _plain_part(text: str):
    stream, real, crc = _plain(text)
    return stream, real, crc, zipfile.ZIP_DEFLATED
