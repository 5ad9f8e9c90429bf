"""Checking an uploaded archive before anything parses it: a zip bomb is refused in a fraction of a second.

An .xlsx workbook is a ZIP archive of XML parts. A hostile one inflates a megabyte into
gigabytes (one part of repeated text: the shared strings, the styles or the sheet; or tens of
thousands of parts); a reader that reads a whole part into memory then holds a worker at
gigabytes until it is killed. ``check_archive`` walks the whole archive once, before any
reader opens a part, and refuses it at the first limit crossed:

- the number of parts (``XLSX_MAX_MEMBERS``), counted by their signature in the bytes before
  ``zipfile`` parses the central directory (it would build an object per part first);
- every part is inflated here in chunks of at most ``_OUT_CHUNK`` bytes, thrown away as they
  come, from the compressed bytes that its local header points at: the count is the part's
  real size, whatever its headers declare. A part that inflates past what its header
  declares, or to less, is refused (a reader trusting the header would be misled);
- the expanded bytes of all parts together (``XLSX_MAX_EXPANDED_BYTES``), and of one part;
- the compression ratio (``XLSX_MAX_RATIO``), of each part and of the archive, once either
  has inflated past ``_RATIO_GRACE`` (small XML parts compress far better than data).

Measured (docs/benchmarks.md, bench/import_roster.py's files): a 100,000-resident roster as
Excel saves it is 4.1 MB and inflates to 31 MB, ratio 7.6 (its parts 6-12); a bomb of
ratio 1000 is refused after inflating ``_RATIO_GRACE``, in milliseconds; one kept just under
the ratio limit is refused once the expanded limit is reached (256 MB inflate in about 0.3 s).

Only stored and deflated parts are read (the methods Excel, WPS and openpyxl write); an
encrypted part, a truncated archive or anything that is no ZIP archive is refused too.
"""

import io
import struct
import zipfile
import zlib

from django.conf import settings
from django.utils.translation import gettext

# Defaults of the settings of the same name (governance/settings.py reads them from the environment).
MAX_MEMBERS = 1000
MAX_EXPANDED_BYTES = 256 * 2**20
MAX_RATIO = 100

_RATIO_GRACE = 2**20  # a part (or the archive) is held to the ratio once it has inflated this far
_IN_CHUNK = 64 * 2**10
_OUT_CHUNK = 2**20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"


class ArchiveRefused(Exception):
    """The archive is refused before any reader opens it (the message says why, for the user)."""


def _limits() -> tuple[int, int, int]:
    return (
        getattr(settings, "XLSX_MAX_MEMBERS", MAX_MEMBERS),
        getattr(settings, "XLSX_MAX_EXPANDED_BYTES", MAX_EXPANDED_BYTES),
        getattr(settings, "XLSX_MAX_RATIO", MAX_RATIO),
    )


def _unreadable() -> ArchiveRefused:
    return ArchiveRefused(gettext("The file is not a readable Excel workbook (.xlsx)."))


def _bomb(reason: str) -> ArchiveRefused:
    return ArchiveRefused(
        gettext("The workbook was refused before it was read: %(reason)s. Save it again from Excel or WPS, "
                "or split it into smaller files.") % {"reason": reason}
    )


def check_archive(data: bytes) -> None:
    """Refuse (``ArchiveRefused``) an archive that crosses a limit of the module doc; None when it passes."""
    max_members, max_bytes, max_ratio = _limits()
    if data.count(_CENTRAL_SIGNATURE) > max_members:
        raise _bomb(gettext("it has more than %(count)d parts") % {"count": max_members})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise _unreadable() from None
    members = archive.infolist()
    if len(members) > max_members:
        raise _bomb(gettext("it has more than %(count)d parts") % {"count": max_members})
    view = memoryview(data)
    total = 0
    compressed = 0
    for member in members:
        if member.file_size > max_bytes:  # declared: refused without inflating a byte
            raise _expanded_too_big(max_bytes)
        start = _data_start(data, member)
        end = start + member.compress_size
        if end > len(data):
            raise _unreadable()
        if member.compress_type == zipfile.ZIP_STORED:
            size = member.compress_size
            total += size
            if total > max_bytes:
                raise _expanded_too_big(max_bytes)
        elif member.compress_type == zipfile.ZIP_DEFLATED:
            size = _inflated_size(view[start:end], member, total, compressed, max_bytes, max_ratio)
            total += size
        else:
            raise _unreadable()
        compressed += member.compress_size
        if size != member.file_size:
            raise _lying_header(member)


def _data_start(data: bytes, member: zipfile.ZipInfo) -> int:
    """Where a part's compressed bytes begin: after its local header, whose name and extra lengths may
    differ from the central directory's."""
    if member.flag_bits & 0x1:
        raise ArchiveRefused(gettext("The workbook is protected by a password: save it without one."))
    offset = member.header_offset
    header = data[offset : offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size:
        raise _unreadable()
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != _LOCAL_SIGNATURE:
        raise _unreadable()
    name_length, extra_length = fields[-2], fields[-1]
    return offset + _LOCAL_HEADER.size + name_length + extra_length


def _inflated_size(stream: memoryview, member, total_before: int, compressed_before: int, max_bytes: int,
                   max_ratio: int) -> int:
    """A deflated part's real expanded size, counted in chunks and checked against the limits as it grows."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    position = 0
    pending = b""
    try:
        while True:
            if not pending:
                if position >= len(stream) or inflater.eof:
                    break
                pending = stream[position : position + _IN_CHUNK]
                position += len(pending)
            out = inflater.decompress(pending, _OUT_CHUNK)
            pending = inflater.unconsumed_tail
            size += len(out)
            if size > member.file_size:
                raise _lying_header(member)
            if total_before + size > max_bytes:
                raise _expanded_too_big(max_bytes)
            read = position - len(pending)
            if size > _RATIO_GRACE and size > max_ratio * read:
                raise _ratio_too_high(max_ratio)
            everything = total_before + size
            if everything > _RATIO_GRACE and everything > max_ratio * (compressed_before + read):
                raise _ratio_too_high(max_ratio)
    except zlib.error:
        raise _unreadable() from None
    if not inflater.eof:
        raise _unreadable()
    return size


def _expanded_too_big(max_bytes: int) -> ArchiveRefused:
    return _bomb(gettext("its contents expand to more than %(size)d MB") % {"size": max_bytes // 2**20})


def _ratio_too_high(max_ratio: int) -> ArchiveRefused:
    return _bomb(gettext("its contents are compressed more than %(ratio)d times") % {"ratio": max_ratio})


def _lying_header(member: zipfile.ZipInfo) -> ArchiveRefused:
    return _bomb(gettext("the part %(name)s is not the size its header declares") % {"name": member.filename})
