"""The XLSX writer on its own (web/xlsx_export.py), read back with openpyxl. No app, no database."""
import io
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from resident_app.web import xlsx_export as xlsx
from resident_app.web.xlsx_export import SheetColumn, column_letter, display_width, sheet_name, write_xlsx

UTC = timezone.utc
COLUMNS = [SheetColumn("番号"), SheetColumn("支払日時（日本時間）", xlsx.DATETIME), SheetColumn("Day", xlsx.DATE),
           SheetColumn("Month", xlsx.MONTH), SheetColumn("金額（円）", xlsx.YEN), SheetColumn("CO2 (kg)", xlsx.KG),
           SheetColumn("g", xlsx.GRAMS), SheetColumn("n", xlsx.NUMBER), SheetColumn("name", width=20)]


def written(rows, columns=COLUMNS, **options):
    buffer = io.BytesIO()
    count = write_xlsx(columns, rows, buffer, **options)
    return count, buffer.getvalue()


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_typed_cells_read_back_as_their_types():
    row = ("OC-1", datetime(2026, 12, 1, 5, 22, 7, tzinfo=UTC), date(2026, 12, 1), date(2026, 11, 1), 1500,
           Decimal(1200500).scaleb(-3), 1200500, 3, "山田 花子")
    count, data = written([row], locale="ja")
    sheet = sheet_of(data)
    assert count == 1 and [c.value for c in sheet[1]][:2] == ["番号", "支払日時（日本時間）"]
    cells = sheet[2]
    assert cells[1].value == datetime(2026, 12, 1, 14, 22, 7)        # Tokyo's wall clock, to the second
    assert cells[1].is_date and cells[1].number_format == "yyyy-mm-dd hh:mm:ss"
    assert (cells[2].value, cells[2].number_format) == (datetime(2026, 12, 1), "yyyy-mm-dd")
    assert (cells[3].value, cells[3].number_format) == (datetime(2026, 11, 1), "yyyy-mm")
    assert (cells[4].value, cells[4].number_format) == (1500, '#,##0"円"')
    assert (cells[5].value, cells[5].number_format) == (1200.5, "#,##0.000")
    assert (cells[6].value, cells[6].number_format) == (1200500, "#,##0")
    assert (cells[7].value, cells[7].number_format) == (3, "General")
    assert cells[8].value == "山田 花子" and cells[8].data_type == "s"


@pytest.mark.parametrize("moment", [
    datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), datetime(2026, 6, 30, 14, 59, 59, tzinfo=UTC),
    datetime(2027, 3, 31, 15, 0, 1, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 12, 1, 5, 22, 7, 999_999, tzinfo=UTC),
])
def test_every_second_survives_the_round_trip(moment):
    _, data = written([(None, moment)], columns=COLUMNS[:2])
    expected = moment.astimezone(timezone(timedelta(hours=9))).replace(tzinfo=None, microsecond=0)  # as the CSV
    assert sheet_of(data)["B2"].value == expected


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        written([(None, datetime(2026, 1, 1))], columns=COLUMNS[:2])


def test_english_yen_format():
    _, data = written([(None, None, None, None, 100)], columns=COLUMNS[:5], locale="en")
    assert sheet_of(data)["E2"].number_format == '"¥"#,##0'


@pytest.mark.parametrize("text", ["=1+1", "+81 3 1234", "-5", "@SUM(A1)", "0123", "1e5", "TRUE", "2026-12-01"])
def test_text_stays_text_without_an_apostrophe(text):
    _, data = written([(text,)], columns=[SheetColumn("t")])
    cell = sheet_of(data)["A2"]
    assert cell.value == text and cell.data_type == "s"


def test_missing_values_are_blank_cells_not_empty_strings():
    _, data = written([("a", None, None, None, None, None, None, None, "")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    row = xml[xml.index('<row r="2">'):xml.index("</row>", xml.index('<row r="2">'))]
    assert row.count("<c ") == 1                                     # only A2 exists
    assert [c.value for c in sheet_of(data)[2]] == ["a"] + [None] * 8


def test_markup_control_characters_spaces_and_excel_escapes():
    values = ["<b>&amp;</b>", "tab\there", "bell\x07gone", "  padded  ", "_x0041_", "line\nbreak"]
    _, data = written([(v,) for v in values], columns=[SheetColumn("t")])
    assert [c.value for c in sheet_of(data)["A"]][1:] == ["<b>&amp;</b>", "tab\there", "bellgone", "  padded  ",
                                                          "_x005F_x0041_", "line\nbreak"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert '<t xml:space="preserve">  padded  </t>' in xml and "_x005F_x0041_" in xml   # Excel reads _x0041_ as "A"


def test_header_frozen_filtered_bold_and_columns_wide_enough():
    _, data = written([("a",) + (None,) * 8] * 3)
    sheet = sheet_of(data)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:I4"
    assert all(c.font.b for c in sheet[1]) and not sheet["A2"].font.b
    assert sheet.column_dimensions["B"].width >= display_width("支払日時（日本時間）") + 2   # the header fits
    assert sheet.column_dimensions["B"].width >= 19                   # so does "2026-12-01 14:22:07"
    assert sheet.column_dimensions["I"].width >= 20
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">'data'!$A$1:$I$4<" in workbook


def test_an_empty_export_is_a_header_alone():
    count, data = written([])
    sheet = sheet_of(data)
    assert count == 0 and sheet.max_row == 1 and sheet.auto_filter.ref == "A1:I1"


def test_more_rows_than_a_sheet_holds_is_refused(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 5)
    assert written([("a",)] * 4, columns=[SheetColumn("t")])[0] == 4
    with pytest.raises(xlsx.XlsxTooLarge):
        written([("a",)] * 5, columns=[SheetColumn("t")])


def test_rows_are_read_as_they_are_written():
    read = []

    def rows():
        for n in range(1200):
            read.append(n)
            yield (f"row {n}",)
    buffer = io.BytesIO()
    assert write_xlsx([SheetColumn("t")], rows(), buffer) == 1200 and len(read) == 1200


@pytest.mark.parametrize("index, letters", [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"),
                                            (702, "AAA")])
def test_column_letters(index, letters):
    assert column_letter(index) == letters


@pytest.mark.parametrize("title, name", [("オフセット参加", "オフセット参加"), ("a/b: [c]?*\\", "a b   c"),
                                         ("", "data"), ("x" * 40, "x" * 31)])
def test_sheet_names(title, name):
    assert sheet_name(title) == name
