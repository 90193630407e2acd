"""The exports opened in LibreOffice Calc (headless, through UNO), as a member of staff would open
them: XLSX with date cells, widths, a frozen header and a filter; CSV in UTF-8 and in Shift_JIS with
the same Japanese. Skipped where LibreOffice or its Python bridge is not installed (Debian:
`apt-get install libreoffice-calc python3-uno`)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from flask_babel import force_locale

from resident_app.exporters import CONTRIBUTIONS, FileOptions, write_export

from .factories import make_contribution
from .pool_data import build_pool

SYSTEM_PYTHON = "/usr/bin/python3"
INSPECT = Path(__file__).with_name("libreoffice_inspect.py")
# What Calc's text import dialog is set to: comma, double quote, the file's character set
# (76 UTF-8, 60 Windows-932), from line 1, Japanese, "detect special numbers" on (dates).
CSV_OPTIONS = {"utf-8": "44,34,76,1,,1041,false,true", "cp932": "44,34,60,1,,1041,false,true"}


def libreoffice_available() -> bool:
    if not shutil.which("soffice") or not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice with python3-uno is not installed")


def test_exports_open_in_libreoffice_with_dates_widths_frozen_header_and_japanese(app, tmp_path):
    pool = build_pool(app, tmp_path)
    make_contribution(app, pool.event_id, display_name="髙橋 ①", number="OC-LO-1")
    files = {}
    with app.app_context(), force_locale("ja"):
        for name, options in (("book.xlsx", FileOptions("xlsx")), ("utf8.csv", FileOptions("csv", "utf-8")),
                              ("sjis.csv", FileOptions("csv", "cp932"))):
            with open(tmp_path / name, "wb") as target:
                files[name] = write_export(CONTRIBUTIONS, {"status": "all"}, options, target, locale="ja")
    assert files["book.xlsx"].rows == files["utf8.csv"].rows == files["sjis.csv"].rows == 6
    request = [{"path": str(tmp_path / "book.xlsx")},
               {"path": str(tmp_path / "utf8.csv"), "options": CSV_OPTIONS["utf-8"]},
               {"path": str(tmp_path / "sjis.csv"), "options": CSV_OPTIONS["cp932"]}]
    run = subprocess.run([SYSTEM_PYTHON, str(INSPECT), json.dumps(request)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    book, utf8, sjis = json.loads(run.stdout)

    header = [c["text"] for c in book["cells"][0]]
    assert header[:3] == ["参加番号", "支払日時（日本時間）", "受付日時（日本時間）"] and len(header) == 21
    assert book["frozen"] is True and book["autofilter"] == [1, 7, 21]
    column = {name: i for i, name in enumerate(header)}
    rows = [{name: row[i] for name, i in column.items()} for row in book["cells"][1:]]
    bus = next(r for r in rows if r["口数"]["text"] == "120")
    assert bus["支払日時（日本時間）"]["date"] and bus["支払日時（日本時間）"]["type"] == "VALUE"
    assert len(bus["支払日時（日本時間）"]["text"]) == len("2026-12-01 14:22:07")     # shown whole, not ###
    assert bus["金額（円）"]["type"] == "VALUE" and bus["金額（円）"]["text"] == "12,000円"
    assert bus["CO2（kg）"]["text"] == "1,200.000" and bus["状態"]["text"] == "支払済み"
    name = bus["参加証に表示する名前"]
    assert (name["text"], name["type"]) == ('=HYPERLINK("http://evil")', "TEXT")   # no apostrophe, no formula
    waiting = next(r for r in rows if r["口数"]["text"] == "10")
    assert waiting["購入バッチ"]["type"] == "EMPTY"                               # blank, not an empty string
    widths = dict(zip(header, book["widths_mm"]))
    assert widths["支払日時（日本時間）"] >= 40 and widths["名称（日本語）"] >= 50      # mm: wide enough to read

    for sheet in (utf8, sjis):
        assert [c["text"] for c in sheet["cells"][0]] == header
        csv_rows = {row[0]["text"]: row for row in sheet["cells"][1:]}
        assert csv_rows["OC-LO-1"][column["参加証に表示する名前"]]["text"] == "髙橋 ①"
        paid_at = csv_rows[bus["参加番号"]["text"]][column["支払日時（日本時間）"]]
        assert paid_at["date"] and paid_at["text"] == bus["支払日時（日本時間）"]["text"]
    assert [[c["text"] for c in row] for row in utf8["cells"]] == [[c["text"] for c in row] for row in sjis["cells"]]
