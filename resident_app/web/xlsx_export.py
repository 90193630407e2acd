"""XLSX downloads, written directly as SpreadsheetML one row at a time.

Why our own writer: at 20 columns, openpyxl's write-only workbook managed about 2,000 rows/s on
our machines and xlsxwriter's constant_memory mode about 5,500; the exports need 15,000 or more.
An XLSX file is a zip of a few small XML parts and one sheet; writing the sheet's rows as strings
straight into the zip runs at about 30,000 rows/s (the whole export from the database: 20,000 to
28,000, bench/exports.py) and holds one chunk of rows at a time.

What the file holds: a bold header row, frozen and with a filter; real date and time cells
(Asia/Tokyo, as Excel has no time zones) with a visible format; yen and kg with number formats;
column widths from the column's kind and its header; text as text (an inline string is never a
formula, so it needs no apostrophe); nothing at all for a missing value. A page writes the file
to a spooled temporary file (memory for a small one, disk beyond SPOOL_BYTES) and then streams it
(file_response): constant memory, and a failure can still answer with an error page."""
from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Callable, Iterable, Iterator, Sequence
from xml.sax.saxutils import escape, quoteattr  # nosec B406 - escapes XML we write; nothing is parsed

from flask import Response

from .csv_export import attachment

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
ROWS_PER_WRITE = 500
MAX_ROWS = 1_048_576          # Excel's limit, header included
MAX_TEXT = 32_767             # characters in one cell

# Cell kinds, and what each expects: TEXT anything (written as text); NUMBER an int or Decimal;
# YEN an int; KG a Decimal of kilograms; GRAMS an int; DATETIME an aware datetime; DATE a date;
# MONTH a date (its day is ignored).
TEXT, NUMBER, YEN, KG, GRAMS, DATETIME, DATE, MONTH = "text", "number", "yen", "kg", "grams", "datetime", "date", "month"
KINDS = (TEXT, NUMBER, YEN, KG, GRAMS, DATETIME, DATE, MONTH)
# Style index in styles.xml (cellXfs) for each kind; 1 is the header.
_STYLE = {TEXT: 0, NUMBER: 0, DATETIME: 2, DATE: 3, MONTH: 4, YEN: 5, KG: 6, GRAMS: 7}
_WIDTH = {TEXT: 14, NUMBER: 8, YEN: 11, KG: 12, GRAMS: 12, DATETIME: 19, DATE: 11, MONTH: 8}
YEN_FORMAT = {"ja": '#,##0"円"', "en": '"¥"#,##0'}
FONT = {"ja": "游ゴシック", "en": "Calibri"}
_EXCEL_EPOCH = datetime(1899, 12, 30)
_UNIX_EPOCH_SERIAL = 25_569           # 1970-01-01 as an Excel day number
_TOKYO_OFFSET_S = 9 * 3600
# Text nodes: escape the markup characters and drop what XML 1.0 cannot hold (C0 controls but
# tab and line breaks, U+FFFE, U+FFFF) in one pass.
_TEXT_TABLE = str.maketrans({**{c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                                                    0xFFFE, 0xFFFF]},
                             "&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Excel reads "_x0041_" in a string as an escaped character; a literal one is escaped in turn.
_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_SPACE = " \t\r\n"
_UNUSUAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x")


class XlsxTooLarge(ValueError):
    """More rows than one sheet can hold."""


@dataclass(frozen=True)
class SheetColumn:
    header: str
    kind: str = TEXT
    width: int | None = None   # characters; None: from the kind and the header


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def column_width(column: SheetColumn) -> float:
    """Wide enough for the header and its filter button, and for the kind's usual values."""
    wanted = max(column.width or _WIDTH[column.kind], display_width(column.header) + 3)
    return min(wanted, 60) + 0.7


def _text_xml(value: object) -> str:
    """An inline string: markup escaped, what XML cannot hold dropped, spaces kept, Excel's own
    _xHHHH_ escapes escaped in turn, cut at the cell limit."""
    text = (value if isinstance(value, str) else str(value))[:MAX_TEXT].translate(_TEXT_TABLE)
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F_\1", text)
    if text and (text[0] in _SPACE or text[-1] in _SPACE):
        return '<is><t xml:space="preserve">' + text + "</t></is>"
    return "<is><t>" + text + "</t></is>"


def _serial(moment: datetime) -> str:
    """Days since Excel's epoch in Tokyo's wall-clock time, to the whole second like the CSV (UTC+9:
    Japan has kept no summer time since 1951, so a fixed offset is exact and much faster than a
    time-zone conversion)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime in an export; store aware UTC times")
    return repr((int(moment.timestamp()) + _TOKYO_OFFSET_S) / 86400 + _UNIX_EPOCH_SERIAL)


def _day_serial(day: date) -> str:
    return str((day - _EXCEL_EPOCH.date()).days)


def _cell_writer(kind: str, letter: str) -> Callable[[object, str], str]:
    """A function that writes one cell of this kind in this column, given the value and row number."""
    style = _STYLE[kind]
    attrs = f' s="{style}"' if style else ""
    if kind == TEXT:
        start, search = '<c r="' + letter, _UNUSUAL.search

        def text(value: object, row: str) -> str:
            if value.__class__ is not str:
                value = str(value)
            if search(value) is None and value[0] not in _SPACE and value[-1] not in _SPACE \
                    and len(value) <= MAX_TEXT:  # nearly every cell: nothing to escape
                return start + row + '" t="inlineStr"><is><t>' + value + "</t></is></c>"
            return start + row + '" t="inlineStr">' + _text_xml(value) + "</c>"
        return text
    if kind == DATETIME:
        return lambda value, row: '<c r="' + letter + row + '"' + attrs + "><v>" + _serial(value) + "</v></c>"
    if kind in (DATE, MONTH):
        return lambda value, row: '<c r="' + letter + row + '"' + attrs + "><v>" + _day_serial(value) + "</v></c>"
    return lambda value, row: '<c r="' + letter + row + '"' + attrs + "><v>" + str(value) + "</v></c>"


def _header_xml(columns: Sequence[SheetColumn]) -> str:
    cells = "".join(f'<c r="{column_letter(i)}1" s="1" t="inlineStr">{_text_xml(c.header)}</c>'
                    for i, c in enumerate(columns))
    return f'<row r="1">{cells}</row>'


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _sheet_start(columns: Sequence[SheetColumn]) -> str:
    cols = "".join(f'<col min="{i}" max="{i}" width="{column_width(c):.2f}" customWidth="1"/>'
                   for i, c in enumerate(columns, start=1))
    return (f"{_XML}<worksheet {_NS} {_NS_R}>"
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')


def _styles(locale: str) -> str:
    formats = {164: "yyyy-mm-dd hh:mm:ss", 165: "yyyy-mm-dd", 166: "yyyy-mm",
               167: YEN_FORMAT.get(locale, YEN_FORMAT["en"]), 168: "#,##0.000"}
    num_fmts = "".join(f'<numFmt numFmtId="{i}" formatCode={quoteattr(code)}/>' for i, code in formats.items())
    font = escape(FONT.get(locale, FONT["en"]))
    # cellXfs: 0 general, 1 header, 2 datetime, 3 date, 4 month, 5 yen, 6 kg, 7 grams (#,##0 is built in: 3)
    xfs = [(0, 0, 0, 0), (0, 1, 2, 1), (164, 0, 0, 0), (165, 0, 0, 0), (166, 0, 0, 0), (167, 0, 0, 0),
           (168, 0, 0, 0), (3, 0, 0, 0)]
    applied = ' applyFont="1" applyFill="1" applyBorder="1"'
    cell_xfs = "".join(
        f'<xf numFmtId="{n}" fontId="{f}" fillId="{fill}" borderId="{b}" xfId="0"'
        + (' applyNumberFormat="1"' if n else "") + (applied if f else "") + "/>"
        for n, f, fill, b in xfs)
    return (f"{_XML}<styleSheet {_NS}>"
            f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>'
            f'<fonts count="2"><font><sz val="11"/><name val="{font}"/></font>'
            f'<font><b/><sz val="11"/><name val="{font}"/></font></fonts>'
            '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
            '<fill><patternFill patternType="solid"><fgColor rgb="FFE4EFE8"/><bgColor indexed="64"/></patternFill></fill></fills>'
            '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '<border><left/><right/><top/><bottom style="thin"><color rgb="FF6B8F7A"/></bottom><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{cell_xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>")


def sheet_name(title: str) -> str:
    """A valid sheet name: none of []:*?/\\, at most 31 characters, never empty."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip().strip("'")[:31]
    return cleaned or "data"


def _workbook(name: str, last_cell: str) -> str:
    quoted = "'" + name.replace("'", "''") + "'"
    return (f"{_XML}<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews>"
            f'<sheets><sheet name={quoteattr(name)} sheetId="1" r:id="rId1"/></sheets>'
            f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"{escape(quoted)}!$A$1:{last_cell}</definedName></definedNames></workbook>")


_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_PACKAGE_RELS = (
    f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>')


def write_xlsx(columns: Sequence[SheetColumn], rows: Iterable[Sequence[object]], target: IO[bytes] | str, *,
               sheet_title: str = "data", locale: str = "ja") -> int:
    """Write a header row from the columns, then the rows (one value per column, None for a blank
    cell), as one sheet to a path or a binary file. Returns the number of data rows."""
    writers = [_cell_writer(c.kind, column_letter(i)) for i, c in enumerate(columns)]
    name = sheet_name(sheet_title)
    count = 0
    # Level 1: the sheet's XML repeats itself so much that more effort buys little (about 5 %).
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _PACKAGE_RELS)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _styles(locale))
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write((_sheet_start(columns) + _header_xml(columns)).encode())
            parts: list[str] = []
            for count, values in enumerate(rows, start=1):
                if count == MAX_ROWS:  # the header takes one of Excel's rows
                    raise XlsxTooLarge(f"an XLSX sheet holds at most {MAX_ROWS - 1:,} rows")
                number = str(count + 1)
                parts.append('<row r="' + number + '">'
                             + "".join([write(value, number) for write, value in zip(writers, values)
                                        if value is not None and value != ""])
                             + "</row>")
                if len(parts) == ROWS_PER_WRITE:
                    sheet.write("".join(parts).encode())
                    parts.clear()
            last_cell = f"${column_letter(max(len(columns) - 1, 0))}${count + 1}"
            sheet.write(("".join(parts) + "</sheetData>"
                         f'<autoFilter ref="A1:{last_cell.replace("$", "")}"/>'
                         '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                         "</worksheet>").encode())
        archive.writestr("xl/workbook.xml", _workbook(name, last_cell))
    return count


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


def file_response(spool: IO[bytes], filename: str, content_type: str) -> Response:
    """Stream a spooled file (an XLSX, or a CSV counted before it is offered) as a download,
    closing it at the end."""
    size = spool.seek(0, 2)
    spool.seek(0)
    response = Response(_chunks(spool), content_type=content_type)
    response.call_on_close(spool.close)  # a client that leaves before the first chunk
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response

