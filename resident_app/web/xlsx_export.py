"""XLSX downloads from the same rows as the CSV ones (header first).

openpyxl's write-only workbook keeps each row on disk as it is appended, and the finished file
goes to a spooled temporary file (memory for a small one, disk beyond SPOOL_BYTES) that is then
streamed in chunks: a large export uses constant memory. Cells get the CSV's guard: numbers stay
numbers, text that a spreadsheet would read as a formula gets a leading quote."""
from __future__ import annotations

import tempfile
from typing import IO, Iterable, Iterator, Sequence

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from .csv_export import attachment, safe_cell

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


def xlsx_cell(value: object) -> object:
    """As safe_cell; also drops the control characters an XLSX file cannot hold."""
    cell = safe_cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell


def write_xlsx(rows: Iterable[Sequence[object]], target: IO[bytes] | str, *, sheet_title: str = "data") -> int:
    """Write the rows as one sheet to a path or a binary file; returns the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    count = -1  # the header is not a data row
    for count, row in enumerate(rows):
        sheet.append([xlsx_cell(value) for value in row])
    workbook.save(target)
    return max(count, 0)


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


def xlsx_response(rows: Iterable[Sequence[object]], filename: str, *, sheet_title: str = "data") -> Response:
    """Build the workbook now (the rows are read inside the request), then stream the file."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        write_xlsx(rows, spool, sheet_title=sheet_title)
        size = spool.seek(0, 2)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    response = Response(_chunks(spool), mimetype=XLSX_MIMETYPE)
    response.call_on_close(spool.close)  # a client that leaves before the first chunk
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
