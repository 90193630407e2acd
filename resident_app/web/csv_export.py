"""CSV downloads. The caller produces rows (header first); this module makes each cell safe, encodes
the text and streams it, so a large export uses constant memory.

Two encodings: UTF-8 with a BOM (the default; Excel 2016 and later and LibreOffice read Japanese
from it) and Shift_JIS as Windows writes it (CP932), which older Excel and many municipal systems
expect. CP932 cannot hold every character (emoji, 𠮷, some accented letters): those become 〓, the
sign Japanese print uses for a missing character, and are counted so the caller can warn."""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence
from urllib.parse import quote

from flask import Response, stream_with_context

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection). Tab and CR
# are on OWASP's list too: some programs strip them and then see the formula behind. The
# full-width forms too: Japanese Excel may read ＝ as =, and Shift_JIS turns − (minus) into －.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "\u2212")
ROWS_PER_CHUNK = 200
UTF8, CP932 = "utf-8", "cp932"
ENCODINGS = (UTF8, CP932)
GETA = "〓"
# Characters that Unicode spells differently from Windows' Shift_JIS but that mean the same: the
# JIS X 0208 mapping gives WAVE DASH, Windows uses FULLWIDTH TILDE, and so on. These are written
# as their CP932 twin and not counted as lost.
CP932_TWINS = str.maketrans({
    "\u301c": "\uff5e",   # 〜 WAVE DASH -> ～
    "\u2016": "\u2225",   # ‖ DOUBLE VERTICAL LINE -> ∥
    "\u2212": "\uff0d",   # − MINUS SIGN -> －
    "\u00a2": "\uffe0",   # ¢
    "\u00a3": "\uffe1",   # £
    "\u00ac": "\uffe2",   # ¬
    "\u2014": "\u2015",   # — EM DASH -> ― HORIZONTAL BAR
    "\u2013": "-",        # – EN DASH (serial ranges) -> hyphen
    "\u00a5": "\uffe5",   # ¥ -> ￥ (0x5C would read as a backslash outside Japanese Windows)
    "\u00a0": " ",        # no-break space
})

_HAS_TWIN = re.compile("[" + "".join(chr(c) for c in CP932_TWINS) + "]")


def safe_cell(value: object) -> object:
    """Integers as they are (yen and grams stay numbers); text that could start a formula gets a
    leading single quote; None becomes an empty cell."""
    if value is None:
        return ""
    if isinstance(value, int):  # bool too: 1/0
        return int(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def guard_text(text: str) -> str:
    """Text from a person (a name, a title) with the formula guard: a leading quote if needed."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@dataclass
class Replacements:
    """How many characters an encoding could not hold (written as 〓)."""

    count: int = 0


def text_encoder(encoding: str, replaced: Replacements):
    """str -> bytes in the encoding; CP932 writes 〓 for what it lacks, counted in `replaced`."""
    if encoding == UTF8:
        return lambda text: text.encode("utf-8")
    if encoding != CP932:
        raise ValueError(f"unknown encoding {encoding!r}")

    def cp932(text: str) -> bytes:
        if _HAS_TWIN.search(text):  # a C scan; translate() itself is slow on Japanese text
            text = text.translate(CP932_TWINS)
        try:
            return text.encode(CP932)
        except UnicodeEncodeError:
            pass
        out = bytearray()  # only for a chunk holding something CP932 lacks: character by character
        for character in text:
            try:
                out += character.encode(CP932)
            except UnicodeEncodeError:
                out += GETA.encode(CP932)
                replaced.count += 1
        return bytes(out)
    return cp932


def encode_rows(rows: Iterable[Sequence[object]], rows_per_chunk: int = ROWS_PER_CHUNK, *,
                encoding: str = UTF8, replaced: Replacements | None = None, guard: bool = True) -> Iterator[bytes]:
    """The CSV as byte chunks with CRLF line ends (Excel's dialect): UTF-8 starts with its BOM.
    guard=False writes cells as given (the caller has guarded its text columns already)."""
    encode = text_encoder(encoding, replaced if replaced is not None else Replacements())
    if encoding == UTF8:
        yield codecs.BOM_UTF8
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(cell) for cell in row] if guard else row)
        if count % rows_per_chunk == 0:
            yield encode(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield encode(buffer.getvalue())


def csv_content_type(encoding: str = UTF8) -> str:
    return "text/csv; charset=" + ("Shift_JIS" if encoding == CP932 else "utf-8")


def attachment(filename: str) -> str:
    """A Content-Disposition value for a download: an ASCII name plus the exact UTF-8 name."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(rows: Iterable[Sequence[object]], filename: str, *, encoding: str = UTF8,
                 guard: bool = True) -> Response:
    """Stream the rows as a CSV download. Call inside the request: the rows are read as it streams."""
    return csv_stream_response(encode_rows(rows, encoding=encoding, guard=guard), filename, encoding=encoding)


def csv_stream_response(chunks: Iterable[bytes], filename: str, *, encoding: str = UTF8) -> Response:
    """Stream CSV bytes as a download (read as the response is sent, inside the request)."""
    response = Response(stream_with_context(chunks), content_type=csv_content_type(encoding))
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
