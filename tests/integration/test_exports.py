"""Staff exports (resident_app/exporters.py through /staff/exports and `flask pool export`): the
files read back with the csv module in each encoding and with openpyxl, their totals against the
pool's, the two variants, the Shift_JIS warning, the audit row, and streaming."""
from __future__ import annotations

import csv
import io
import tracemalloc
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import event, insert, select

from resident_app.exporters import CONTRIBUTIONS, REGISTRY, TOTALS, csv_rows
from resident_app.extensions import db
from resident_app.models import (AddOn, AuditEntry, Channel, Contribution, ContributionStatus, Invalidation, Role,
                                 User)
from resident_app.models.addons import new_token
from resident_app.services.corrections import record_correction
from resident_app.services.exports import contribution_rows, totals_rows
from resident_app.services.pool import pool_figures, pool_totals_by_month
from resident_app.services.programme import current_rate
from resident_app.services.programme_content import HOUSEHOLD_SLUG
from resident_app.web.csv_export import encode_rows
from resident_app.web.xlsx_export import XLSX_MIMETYPE

from .factories import login, make_addon, make_contribution, make_user, token_from
from .pool_data import build_pool

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}
CODES_HEADER = [c.code for c in CONTRIBUTIONS.columns]


@pytest.fixture
def pool(app, tmp_path):
    return build_pool(app, tmp_path)


@pytest.fixture
def staff(client, pool):
    assert login(client, pool.staff_email).status_code == 303
    return client


def download(client, kind: str, headers=None, **form):
    """Submit an export's form on the staff page, as a browser does (a POST with the page's token)."""
    data = {"csrf_token": token_from(client, "/staff/exports"), **form}
    return client.post(f"/staff/exports/{kind}", data=data, headers=headers or {})


def read_csv(response, encoding: str = "utf-8") -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if encoding == "utf-8":
        assert response.data.startswith(b"\xef\xbb\xbf")                      # utf-8-sig for Japanese Excel
        return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert not response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode(encoding), newline="")))


def read_xlsx(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def as_dicts(rows: list[list]) -> list[dict]:
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def codes(client, kind: str, **form) -> list[dict]:
    return as_dicts(read_csv(download(client, kind, variant="codes", **form)))


# --- the page ----------------------------------------------------------------------------------------

def test_the_exports_page_offers_each_registered_export_as_a_post_form(staff):
    html = staff.get("/staff/exports", headers=EN).get_data(as_text=True)
    for kind in ("contributions", "totals", "batches"):
        assert f'action="/staff/exports/{kind}"' in html
    assert 'action="/staff/exports/audit"' not in html                        # admins only
    assert html.count('method="post"') >= 3 and 'name="csrf_token"' in html
    assert 'name="format" value="xlsx"' in html and 'name="encoding" value="cp932"' in html
    assert 'name="variant" value="codes"' in html and "みどり台バス" in html


def test_a_download_is_not_a_get_and_needs_the_token(staff):
    assert staff.get("/staff/exports/contributions").status_code == 405
    assert staff.post("/staff/exports/contributions", data={}).status_code == 400
    assert download(staff, "no-such-export").status_code == 404
    assert download(staff, "audit").status_code == 403                        # staff, not admin


def test_a_bad_period_is_shown_beside_the_field(staff):
    response = download(staff, "contributions", headers=EN, **{"from": "2026-11-10", "to": "2026-11-01"})
    assert response.status_code == 422
    assert "The last day must not come before the first." in response.get_data(as_text=True)
    assert download(staff, "totals", **{"from": "yesterday"}).status_code == 422
    assert download(staff, "contributions", status="lost").status_code == 422
    assert download(staff, "contributions", addon="999999").status_code == 422
    assert download(staff, "contributions", encoding="latin-1").status_code == 422
    with staff.application.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.download")) is None


# --- contributions ---------------------------------------------------------------------------------

def test_contributions_for_programs_codes_guard_and_integers(app, staff):
    response = download(staff, "contributions", variant="codes")
    assert response.is_streamed and response.content_type == "text/csv; charset=utf-8"
    assert 'filename="contributions-all-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == CODES_HEADER
    records = as_dicts(rows)
    assert {r["status"] for r in records} == {"paid"}                           # paid by default
    bus = next(r for r in records if r["quantity"] == "120")
    assert bus["display_name"] == "'=HYPERLINK(\"http://evil\")"               # neutralised
    assert bus["amount_yen"] == "12000" and bus["co2_g"] == "1200000" and bus["rate_yen_per_t"] == "10000"
    assert bus["paid_at"].endswith("+09:00") and bus["batch_number"].startswith("PB-")
    assert bus["channel"] == "stripe" and bus["addon_kind"] == "community_bus"
    waiting = next(r for r in records if r["quantity"] == "10")
    assert waiting["batch_number"] == "" and waiting["refunded_yen"] == "0"
    assert any(r["display_name"] == "山田 花子" for r in records)
    text = response.data.decode("utf-8-sig")
    assert "resident@example.jp" not in text and "pi_" not in text
    with app.app_context():
        figures = pool_figures()
    assert len(records) == figures.contributions
    assert sum(int(r["amount_yen"]) for r in records) == figures.paid_yen
    assert sum(int(r["co2_g"]) for r in records) == figures.co2_g
    with app.app_context():
        logged = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.download")
                                   .order_by(AuditEntry.id.desc()))
        assert logged.object_id == "contributions" and logged.actor == "staff@city.example.jp"
        assert logged.after["variant"] == "codes" and logged.after["encoding"] == "utf-8"


def test_contributions_for_people_in_japanese_and_in_english(staff):
    ja = read_csv(download(staff, "contributions", headers=JA))
    assert ja[0][:4] == ["参加番号", "支払日時（日本時間）", "受付日時（日本時間）", "状態"]
    assert "CO2（kg）" in ja[0] and "参加証に表示する名前" in ja[0]
    bus = next(dict(zip(ja[0], r)) for r in ja[1:] if r[ja[0].index("口数")] == "120")
    assert bus["状態"] == "支払済み" and bus["支払方法"] == "カード・オンライン決済（Stripe）"
    assert bus["種類"] == "コミュニティバスのオフセット乗車賃"
    assert bus["CO2（kg）"] == "1200.000"                                       # kg, exact, three places
    assert bus["金額（円）"] == "12000"                                          # yen stay plain integers
    # A time Excel and LibreOffice read as a date and time, in Japan time.
    assert datetime.strptime(bus["支払日時（日本時間）"], "%Y-%m-%d %H:%M:%S")
    en = read_csv(download(staff, "contributions", headers=EN))
    assert en[0][:4] == ["Contribution number", "Paid at (Japan time)", "Created at (Japan time)", "Status"]
    assert {r[3] for r in en[1:]} == {"Paid"}


def test_contributions_by_status_add_on_and_organiser(app, staff, pool):
    refunded = codes(staff, "contributions", status="refunded")
    assert [(r["status"], r["amount_yen"], r["refunded_yen"]) for r in refunded] == [("refunded", "300", "300")]
    assert len(codes(staff, "contributions", status="all")) == 5
    event_rows = codes(staff, "contributions", addon=str(pool.event_id))
    assert [r["addon_title_ja"] for r in event_rows] == ["環境フェスタ"]
    organiser = codes(staff, "contributions", organiser=str(pool.organiser_id))
    assert {r["organisation"] for r in organiser} == {"みどり台バス"} and len(organiser) == 3


def test_the_period_is_whole_days_in_tokyo(app, staff):
    owner = make_user(app, "edge@npo.example.jp")
    addon = make_addon(app, owner)
    # 14:59:59 UTC is 23:59:59 on the 1st in Tokyo; 15:00 UTC is already the 2nd.
    make_contribution(app, addon, number="OC-EDGE-1", paid_at=datetime(2026, 11, 1, 14, 59, 59, tzinfo=timezone.utc))
    make_contribution(app, addon, number="OC-EDGE-2", paid_at=datetime(2026, 11, 1, 15, 0, tzinfo=timezone.utc))
    first = codes(staff, "contributions", **{"from": "2026-11-01", "to": "2026-11-01"})
    second = codes(staff, "contributions", **{"from": "2026-11-02", "to": "2026-11-02"})
    assert [r["number"] for r in first] == ["OC-EDGE-1"] and [r["number"] for r in second] == ["OC-EDGE-2"]
    assert second[0]["paid_at"] == "2026-11-02T00:00:00+09:00"


def test_the_programmes_own_add_on_shows_the_programmes_name(app, staff):
    with app.app_context():
        household = db.session.scalar(select(AddOn.id).where(AddOn.slug == HOUSEHOLD_SLUG))
    make_contribution(app, household, amount_yen=1000)
    ja = as_dicts(read_csv(download(staff, "contributions", headers=JA)))
    assert {r["主催者"] for r in ja if r["種類"] == "家庭のCO2のオフセット"} \
        == {"環境政策課", app.config["PROGRAMME_OPERATOR_JA"]}
    en = as_dicts(read_csv(download(staff, "totals", headers=EN)))
    assert app.config["PROGRAMME_OPERATOR_EN"] in {r["Organiser"] for r in en}
    assert "Programme" not in {r["Organiser"] for r in en}
    page = staff.get("/staff/exports", headers=JA).get_data(as_text=True)
    assert f">{app.config['PROGRAMME_OPERATOR_JA']}</option>" in page


# --- totals ------------------------------------------------------------------------------------------

def test_totals_equal_the_pool_and_dashboard_figures(app, staff):
    rows = read_csv(download(staff, "totals", variant="codes"))
    assert rows[0] == [c.code for c in TOTALS.columns]
    records = as_dicts(rows)
    api = staff.get("/api/v1/pool").get_json()
    assert sum(int(r["paid_yen"]) for r in records) == api["paid_yen"] == 26_000
    assert sum(int(r["co2_g"]) for r in records) == api["co2_g"]
    assert sum(int(r["contributions"]) for r in records) == api["contributions"]
    by_month: dict[str, int] = {}
    for r in records:
        by_month[r["month"]] = by_month.get(r["month"], 0) + int(r["paid_yen"])
    with app.app_context():
        assert by_month == {m.month: m.paid_yen for m in pool_totals_by_month()}
    assert {r["addon_kind"] for r in records} == {"community_bus", "event_ticket", "household"}


# --- batches -----------------------------------------------------------------------------------------

def test_batches_with_purchase_invalidation_and_corrections(app, staff, pool):
    rows = read_csv(download(staff, "batches", variant="codes"))
    assert rows[0] == [c.code for c in REGISTRY["batches"].columns]
    [row] = as_dicts(rows)
    assert (row["batch_number"], row["status"], row["owed_g"], row["tonnes_required"]) == \
        (pool.batch_number, "invalidated", "2500000", "3")
    assert (row["project_name"], row["credit_type"], row["purchased_t"], row["purchase_total_yen"]) == \
        ("下川町森林吸収", "j_credit", "3", "30000")
    assert (row["serial_ranges"], row["invalidated_t"], row["registry"]) == \
        ("JP-123-0001 – JP-123-0003", "3", "j_credit_registry")
    assert row["corrected_fields"] == "" and row["purchased_on"] == row["invalidated_on"]
    assert date.fromisoformat(row["purchased_on"])
    with app.app_context(), force_locale("en"):
        staff_user = db.session.scalar(select(User).where(User.email == pool.staff_email))
        item = db.session.get(Invalidation, pool.invalidation_id)
        record_correction(item, field="offset_place", new_value="東京都/日野市", reason="通知書どおり", actor=staff_user)
    [corrected] = codes(staff, "batches")
    assert corrected["offset_place"] == "東京都/日野市" and corrected["corrected_fields"] == "offset_place"
    [ja] = as_dicts(read_csv(download(staff, "batches", headers=JA)))
    assert ja["状態"] == "確定済み：無効化完了" and ja["登録簿"] == "J-クレジット登録簿"


# --- XLSX --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["contributions", "totals", "batches"])
def test_xlsx_holds_the_same_rows_as_the_csv_with_typed_cells(staff, kind):
    csv_records = as_dicts(read_csv(download(staff, kind, status="all", variant="codes")))
    response = download(staff, kind, status="all", variant="codes", format="xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE
    assert response.headers["Content-Disposition"].endswith(".xlsx") and int(response.headers["Content-Length"]) > 0
    records = as_dicts(read_xlsx(response.data))
    assert len(records) == len(csv_records)
    for xlsx_row, csv_row in zip(records, csv_records):
        for name, value in xlsx_row.items():
            expected = csv_row[name]
            if isinstance(value, datetime):          # a real date and time, Tokyo's wall clock
                shown = value.strftime("%Y-%m" if name == "month" else "%Y-%m-%d" if name.endswith("_on")
                                       else "%Y-%m-%dT%H:%M:%S+09:00")
                assert shown == expected, name
            elif value is None:                      # a blank cell, never an empty string
                assert expected == "", name
            elif isinstance(value, int):
                assert str(value) == expected, name
            else:
                assert value == expected.removeprefix("'"), name     # no apostrophe in a typed text cell


def test_xlsx_for_people_has_formats_widths_a_frozen_filtered_header(staff):
    response = download(staff, "contributions", format="xlsx", headers=JA)
    assert 'filename="contributions-all-' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "オフセット参加"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:U{sheet.max_row}"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["参加番号", "支払日時（日本時間）", "受付日時（日本時間）"] and all(c.font.b for c in sheet[1])
    column = {name: index + 1 for index, name in enumerate(header)}
    row = next(r for r in sheet.iter_rows(min_row=2) if r[column["口数"] - 1].value == 120)
    paid_at = row[column["支払日時（日本時間）"] - 1]
    assert paid_at.is_date and paid_at.number_format == "yyyy-mm-dd hh:mm:ss"
    assert row[column["金額（円）"] - 1].value == 12000 and row[column["金額（円）"] - 1].number_format == '#,##0"円"'
    assert row[column["CO2（kg）"] - 1].value == 1200 and row[column["CO2（kg）"] - 1].number_format == "#,##0.000"
    assert row[column["状態"] - 1].value == "支払済み"
    name = row[column["参加証に表示する名前"] - 1]
    assert name.value == "=HYPERLINK(\"http://evil\")" and name.data_type == "s"   # text, not a formula
    assert row[column["購入バッチ"] - 1].value.startswith("PB-")
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDT"}
    assert widths["B"] >= 20 and widths["D"] >= 8 and all(w > 8 for w in widths.values())


def test_sheet_names_fit_excels_31_characters(staff):
    for kind, en in (("contributions", "Contributions"), ("totals", "Totals by month and add-on"),
                     ("batches", "Batches")):
        sheet = load_workbook(io.BytesIO(download(staff, kind, format="xlsx", headers=EN).data)).active
        assert sheet.title == en


def test_more_rows_than_excel_holds_is_a_message_not_a_broken_file(staff, monkeypatch):
    from resident_app.web import xlsx_export
    monkeypatch.setattr(xlsx_export, "MAX_ROWS", 3)
    response = download(staff, "contributions", format="xlsx", headers=EN)
    assert response.status_code == 422
    assert "more rows than one Excel sheet holds" in response.get_data(as_text=True)
    assert download(staff, "contributions", format="csv").status_code == 200


# --- Shift_JIS -------------------------------------------------------------------------------------------

def test_shift_jis_csv_opens_with_japanese_intact(staff):
    response = download(staff, "contributions", encoding="cp932", headers=JA)
    assert response.content_type == "text/csv; charset=Shift_JIS" and int(response.headers["Content-Length"]) > 0
    rows = read_csv(response, "cp932")
    assert rows[0][0] == "参加番号" and any("山田 花子" in row for row in rows)
    assert rows == read_csv(download(staff, "contributions", headers=JA))


def test_shift_jis_warns_before_replacing_characters_it_cannot_hold(app, staff, pool):
    make_contribution(app, pool.event_id, display_name="𠮷野 🍀", number="OC-SJIS-1")
    response = download(staff, "contributions", encoding="cp932", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "2 characters in this file cannot be written in Shift_JIS." in html
    assert 'name="replace" value="1"' in html and 'value="cp932" checked' in html
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.download")) is None
    confirmed = download(staff, "contributions", encoding="cp932", replace="1", variant="codes")
    records = as_dicts(read_csv(confirmed, "cp932"))
    assert next(r for r in records if r["number"] == "OC-SJIS-1")["display_name"] == "〓野 〓"
    with app.app_context():
        logged = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.download"))
        assert logged.after["replaced"] == 2 and logged.after["encoding"] == "cp932"
    assert "〓" not in download(staff, "batches", encoding="cp932").data.decode("cp932")   # the en dash has a twin


# --- the CLI -----------------------------------------------------------------------------------------

def test_cli_export_writes_csv_and_xlsx(app, runner, pool, tmp_path):
    today = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=9))).date()
    first = (today - timedelta(days=60)).isoformat()
    out = tmp_path / "pool.csv"
    result = runner.invoke(args=["pool", "export", "--from", first, "--to", today.isoformat(), "--format", "csv",
                                 "--variant", "codes", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "contributions: 4 rows" in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == CODES_HEADER and sum(int(r[14]) for r in rows[1:]) == 26_000

    for kind in ("totals", "batches"):
        target = tmp_path / f"{kind}.xlsx"
        result = runner.invoke(args=["pool", "export", "--from", first, "--to", today.isoformat(), "--format",
                                     "xlsx", "--out", str(target), "--kind", kind, "--lang", "en"])
        assert result.exit_code == 0, result.output
        sheet_rows = read_xlsx(target.read_bytes())
        assert sheet_rows[0] == [str(c.label) for c in REGISTRY[kind].columns]
    totals = as_dicts(read_xlsx((tmp_path / "totals.xlsx").read_bytes()))
    assert sum(r["Paid (yen)"] for r in totals) == 26_000 and isinstance(totals[0]["Month (Japan time)"], datetime)
    with app.app_context():
        actors = db.session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "export.download")).all()
        assert actors == ["cli", "cli", "cli"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_cli_export_in_shift_jis_counts_what_it_replaced(app, runner, pool, tmp_path):
    make_contribution(app, pool.bus_id, display_name="髙橋 𠮷子 ①", number="OC-SJIS-2")   # 髙 and ① are in CP932
    out = tmp_path / "sjis.csv"
    result = runner.invoke(args=["pool", "export", "--encoding", "cp932", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: 1 characters that Shift_JIS (CP932) cannot hold were written as 〓" in result.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("cp932"))))
    assert rows[0][0] == "参加番号"                                             # Japanese, the default language
    assert any("髙橋 〓子 ①" in row for row in rows)


def test_cli_export_refuses_a_reversed_period_and_a_bad_choice(runner, tmp_path):
    result = runner.invoke(args=["pool", "export", "--from", "2026-11-02", "--to", "2026-11-01", "--out",
                                 str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and not (tmp_path / "x.csv").exists()
    result = runner.invoke(args=["pool", "export", "--status", "lost", "--out", str(tmp_path / "y.csv")])
    assert result.exit_code != 0 and "--status" in result.output and not (tmp_path / "y.csv").exists()


# --- streaming -----------------------------------------------------------------------------------------

def count_queries(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_the_row_generators_are_lazy(app, pool):
    with app.app_context():
        seen = count_queries(db.engine)
        rows = csv_rows(CONTRIBUTIONS, {})
        assert next(rows) == [str(c.label) for c in CONTRIBUTIONS.columns] and seen == []   # the header: no query
        next(rows)
        assert len(seen) == 1
        totals = totals_rows()
        assert seen and len(seen) == 1
        rows.close()                                                          # an abandoned download
        totals.close()


def bulk_contributions(app, count: int, *, first: int = 0) -> None:
    """`count` paid contributions in one executemany (the ORM would be far slower)."""
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.role == Role.STAFF))
        addon = db.session.scalar(select(AddOn)) or db.session.get(AddOn, make_addon(app, owner.id))
        rate = current_rate()
        start = datetime(2026, 10, 1, tzinfo=timezone.utc)
        db.session.execute(insert(Contribution), [dict(
            number=f"OC-B-{n:07d}", certificate_token=new_token(), addon_id=addon.id, channel=Channel.STRIPE,
            status=ContributionStatus.PAID, quantity=1, unit_price_yen=100, amount_yen=100, co2_g=10_000,
            rate_id=rate.id, rate_yen_per_t=rate.yen_per_t, display_name=f"参加者 {n}", receipt_email="",
            locale="ja", idempotency_key=f"bulk-{uuid.uuid4()}", refunded_yen=0, flag_reason="", note="",
            created_at=start, paid_at=start + timedelta(seconds=n)) for n in range(first, first + count)])
        db.session.commit()


def traced_peak(work) -> tuple[object, int]:
    """Run work() under tracemalloc; its result and the peak of traced memory in bytes."""
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def csv_size() -> tuple[int, int]:
    size = lines = 0
    for chunk in encode_rows(csv_rows(CONTRIBUTIONS, {}), guard=False):
        size, lines = size + len(chunk), lines + chunk.count(b"\r\n")
    return size, lines


ROWS = 20_000


def test_a_large_csv_export_streams_in_constant_memory(app, client):
    make_user(app, "bulk@city.example.jp", role=Role.STAFF)
    bulk_contributions(app, 5_000)
    with app.app_context(), force_locale("ja"):
        csv_size()                                     # warm-up: statement compilation, imports, caches
        (_, small_lines), small = traced_peak(csv_size)
    bulk_contributions(app, ROWS - 5_000, first=5_000)
    with app.app_context(), force_locale("ja"):
        (size, lines), large = traced_peak(csv_size)
    assert (small_lines, lines) == (5_001, ROWS + 1) and size > 4_000_000
    # The peak is one batch of fetched rows (yield_per) and one chunk of CSV, however many rows
    # (measured: about 3 MB at 20,000 rows and at 80,000 alike). Held whole, 20,000 rows would take
    # tens of megabytes, and four times the rows would add at least 15 MB.
    assert large < small + 1_000_000 and large < 4_000_000, f"{small:,} bytes for 5,000 rows, {large:,} for {ROWS:,}"
    login(client, "bulk@city.example.jp")
    response = download(client, "contributions")
    assert response.is_streamed
    assert sum(chunk.count(b"\r\n") for chunk in response.response) == ROWS + 1


def test_a_large_xlsx_export_is_built_in_constant_memory(app, client, tmp_path):
    make_user(app, "bulk@city.example.jp", role=Role.STAFF)
    bulk_contributions(app, 2_000)
    from resident_app.exporters import FileOptions, write_export

    def build(name: str):
        def work():
            with open(tmp_path / name, "wb") as target:
                return write_export(CONTRIBUTIONS, {}, FileOptions("xlsx"), target, locale="ja").rows
        return work
    with app.app_context(), force_locale("ja"):
        build("warm.xlsx")()
        small_count, small = traced_peak(build("small.xlsx"))
    bulk_contributions(app, 8_000, first=2_000)
    with app.app_context(), force_locale("ja"):
        large_count, large = traced_peak(build("large.xlsx"))
    assert (small_count, large_count) == (2_000, 10_000)
    # 8,000 more rows held in memory would take several megabytes; written out, they take nothing.
    assert large < small + 500_000, f"{small:,} bytes for 2,000 rows, {large:,} for 10,000"
    assert sum(1 for _ in load_workbook(tmp_path / "large.xlsx", read_only=True).active.iter_rows()) == 10_001
