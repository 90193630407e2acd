"""CSV downloads. The caller produces rows (header first); this module makes each cell safe, writes
UTF-8 with a BOM so Japanese Excel opens it, and streams it so a large export uses constant memory."""
from __future__ import annotations

import codecs
import csv
import io
from typing import Iterable, Iterator, Sequence
from urllib.parse import quote

from flask import Response, stream_with_context

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection). Tab and CR
# are on OWASP's list too: some programs strip them and then see the formula behind.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 200


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


def encode_rows(rows: Iterable[Sequence[object]], rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[bytes]:
    """The CSV as UTF-8 byte chunks, the BOM first (utf-8-sig), CRLF line ends (Excel's dialect)."""
    yield codecs.BOM_UTF8
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(cell) for cell in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def attachment(filename: str) -> str:
    """A Content-Disposition value for a download: an ASCII name plus the exact UTF-8 name."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(rows: Iterable[Sequence[object]], filename: str) -> Response:
    """Stream the rows as a CSV download. Call inside the request: the rows are read as it streams."""
    response = Response(stream_with_context(encode_rows(rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
