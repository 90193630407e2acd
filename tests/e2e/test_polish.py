"""What real clients showed (issue 12), in a real browser at phone size in Japanese: the site name and
table headers wrap between phrases, the A4 poster fills its page without a lone last syllable, the
icons load, and a member of staff downloads an Excel file and a Shift_JIS CSV from the console."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AddOn
from resident_app.services.programme_content import DEMO_ORGANISER_EMAIL, DEMO_STAFF_EMAIL
from tests.integration.factories import make_contribution

A4_PAGES = re.compile(rb"/Type\s*/Page[^s]")
# The lines a text box takes, and how many characters its last line holds.
LAST_LINE = """e => {
  const text = e.firstChild && e.firstChild.nodeType === 3 ? e.firstChild : null;
  if (!text) return null;
  const range = document.createRange(), n = text.length, tops = new Set();
  let last = 0, lastTop = null;
  for (let i = n - 1; i >= 0; i--) {
    range.setStart(text, i); range.setEnd(text, i + 1);
    const r = range.getClientRects()[0];
    if (!r) continue;
    if (lastTop === null) lastTop = Math.round(r.top);
    if (Math.round(r.top) !== lastTop) break;
    last++;
  }
  for (let i = 0; i < n; i++) {
    range.setStart(text, i); range.setEnd(text, i + 1);
    const r = range.getClientRects()[0];
    if (r) tops.add(Math.round(r.top));
  }
  return {lines: tops.size, last: last};
}"""


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/auth/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()


def test_names_and_headers_wrap_between_phrases(page: Page) -> None:
    for width in (360, 390):
        page.set_viewport_size({"width": width, "height": 740})
        page.goto("/methodology")
        term = page.locator(".brand-name .keep")
        expect(term).to_have_text("カーボン・オフセット")
        assert term.evaluate("e => e.getClientRects().length") == 1, f"カーボン・オフセット breaks at {width} px"
        brand = page.locator(".brand-name").bounding_box()
        assert brand and brand["x"] + brand["width"] <= width
        # Count the text's own lines (a cell is as tall as the tallest heading in its row).
        lines = page.locator("main table.data thead th").evaluate_all(
            "cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c);"
            " return [c.textContent.trim(), new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; })")
        broken = [text for text, count in lines if len(text) <= 4 and count > 1]
        assert not broken, f"short headers broken over two lines at {width} px: {broken}"


def test_the_icons_load_and_nothing_asks_for_a_missing_file(page: Page) -> None:
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto("/")
    for url in ("/favicon.ico", "/apple-touch-icon.png", "/manifest.webmanifest", "/static/icons/icon.svg"):
        assert page.request.get(url).ok, url
    page.goto("/learn/")
    expect(page).to_have_url(re.compile(r"/learn$"))
    assert not missing, missing


def test_the_poster_fills_its_a4_page(page: Page, demo_content, tmp_path) -> None:
    log_in(page, DEMO_ORGANISER_EMAIL, demo_content[DEMO_ORGANISER_EMAIL])
    page.goto("/organiser/")
    page.locator("#addon-table tbody tr", has_text="環境フェスタ").locator("th a").click()
    page.locator('a[href$="/poster"]').click()
    expect(page.locator(".poster-kicker")).to_have_text("イベントチケットのオフセット上乗せ")   # said once
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 703, "height": 1032})   # A4 less 12 mm margins, at 96 dpi
    expect(page.locator(".poster-tools")).to_be_hidden()
    poster = page.locator(".poster").bounding_box()
    operator = page.locator(".poster-operator").bounding_box()
    assert poster and operator and poster["height"] > 0.95 * 1032, poster
    assert operator["y"] + operator["height"] > 0.9 * 1032, "the poster leaves the bottom of the page empty"
    qr = page.locator(".poster-qr svg").bounding_box()
    assert qr and qr["width"] > 350, qr                       # about 11 cm, scannable across a room
    for paragraph in page.locator(".poster-explain p").all():
        shape = paragraph.evaluate(LAST_LINE)
        assert shape and (shape["lines"] == 1 or shape["last"] >= 4), (paragraph.text_content(), shape)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (tmp_path / "poster.pdf").write_bytes(pdf)
    assert len(A4_PAGES.findall(pdf)) == 1


def test_staff_download_excel_and_shift_jis_from_the_console(page: Page, demo_content, live_app, tmp_path) -> None:
    with live_app.app_context():
        bus = db.session.scalar(select(AddOn.id).where(AddOn.slug == "demo-bus"))
    make_contribution(live_app, bus, quantity=3, display_name="髙橋 🍀")
    log_in(page, DEMO_STAFF_EMAIL, demo_content[DEMO_STAFF_EMAIL])
    page.goto("/staff/exports")
    form = page.locator("#contributions form")
    form.locator("input[name=format][value=xlsx]").check()
    with page.expect_download() as download:
        form.locator("button[type=submit]").click()
    assert download.value.suggested_filename.startswith("contributions-all-")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].value == "参加番号"
    assert isinstance(sheet["B2"].value, datetime) and sheet["L2"].value == "みどり台商店街振興組合 (demo)"
    assert sheet["U2"].value == "髙橋 🍀"

    # Shift_JIS cannot hold 🍀: the page says so first, then sends the file with 〓 when asked.
    form.locator("input[name=format][value=csv]").check()
    form.locator("input[name=encoding][value=cp932]").check()
    form.locator("button[type=submit]").click()
    warning = page.locator("#contributions-replaced")
    expect(warning).to_contain_text("Shift_JISで書けない文字が1文字あります")
    page.locator("#contributions-replace").check()
    with page.expect_download() as download:
        page.locator("#contributions form button[type=submit]").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_bytes().decode("cp932"))))
    assert rows[0][0] == "参加番号" and rows[1][-1] == "髙橋 〓"
