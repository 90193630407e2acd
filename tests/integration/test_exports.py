"""Staff exports: CSV and XLSX files read back, their totals against the pool's, the CLI, and streaming."""
from __future__ import annotations

import csv
import io
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import event, insert, select

from resident_app.extensions import db
from resident_app.models import (AddOn, AuditEntry, Channel, Contribution, ContributionStatus, Invalidation, Role,
                                 User)
from resident_app.models.addons import new_token
from resident_app.services.corrections import record_correction
from resident_app.services.exports import (BATCH_HEADER, CONTRIBUTION_HEADER, TOTALS_HEADER, contribution_rows,
                                           totals_rows)
from resident_app.services.pool import pool_figures, pool_totals_by_month
from resident_app.services.programme import current_rate
from resident_app.web.csv_export import encode_rows
from resident_app.web.xlsx_export import XLSX_MIMETYPE, write_xlsx

from .factories import login, make_addon, make_contribution, make_user
from .pool_data import build_pool

EN = {"Accept-Language": "en"}


@pytest.fixture
def pool(app, tmp_path):
    return build_pool(app, tmp_path)


@pytest.fixture
def staff(client, pool):
    assert login(client, pool.staff_email).status_code == 303
    return client


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.data.startswith(b"\xef\xbb\xbf")                          # utf-8-sig for Japanese Excel
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]


def as_dicts(rows: list[list]) -> list[dict]:
    return [dict(zip(rows[0], row)) for row in rows[1:]]


# --- the page --------------------------------------------------------------------------------------

def test_the_exports_page_offers_each_export(staff):
    html = staff.get("/staff/exports", headers=EN).get_data(as_text=True)
    for url in ("/staff/exports/contributions", "/staff/exports/totals", "/staff/exports/batches"):
        assert f'action="{url}"' in html
    assert 'name="format" value="xlsx"' in html and "みどり台バス" in html


def test_a_bad_period_is_shown_beside_the_field(staff):
    response = staff.get("/staff/exports/contributions?from=2026-11-10&to=2026-11-01", headers=EN)
    assert response.status_code == 422
    assert "The last day must not come before the first." in response.get_data(as_text=True)
    assert staff.get("/staff/exports/totals?from=yesterday", headers=EN).status_code == 422
    assert staff.get("/staff/exports/contributions?status=lost", headers=EN).status_code == 422
    assert staff.get("/staff/exports/contributions?addon=999999", headers=EN).status_code == 422


# --- contributions ---------------------------------------------------------------------------------

def test_contributions_csv_bom_header_guard_and_integers(app, staff):
    response = staff.get("/staff/exports/contributions")
    assert response.is_streamed and response.mimetype == "text/csv"
    assert 'filename="contributions-all-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert tuple(rows[0]) == CONTRIBUTION_HEADER
    records = as_dicts(rows)
    assert {r["status"] for r in records} == {"paid"}                           # paid by default
    bus = next(r for r in records if r["quantity"] == "120")
    assert bus["display_name"] == "'=HYPERLINK(\"http://evil\")"               # neutralised
    assert bus["amount_yen"] == "12000" and bus["co2_g"] == "1200000" and bus["rate_yen_per_t"] == "10000"
    assert bus["paid_at"].endswith("+09:00") and bus["batch_number"].startswith("PB-")
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


def test_contributions_by_status_add_on_and_organiser(app, staff, pool):
    refunded = as_dicts(read_csv(staff.get("/staff/exports/contributions?status=refunded")))
    assert [(r["status"], r["amount_yen"], r["refunded_yen"]) for r in refunded] == [("refunded", "300", "300")]
    everything = as_dicts(read_csv(staff.get("/staff/exports/contributions?status=all")))
    assert len(everything) == 5
    event = as_dicts(read_csv(staff.get(f"/staff/exports/contributions?addon={pool.event_id}")))
    assert [r["addon_title_ja"] for r in event] == ["環境フェスタ"]
    organiser = as_dicts(read_csv(staff.get(f"/staff/exports/contributions?organiser={pool.organiser_id}")))
    assert {r["organisation"] for r in organiser} == {"みどり台バス"} and len(organiser) == 3


def test_the_period_is_whole_days_in_tokyo(app, staff):
    owner = make_user(app, "edge@npo.example.jp")
    addon = make_addon(app, owner)
    # 14:59:59 UTC is 23:59:59 on the 1st in Tokyo; 15:00 UTC is already the 2nd.
    make_contribution(app, addon, number="OC-EDGE-1", paid_at=datetime(2026, 11, 1, 14, 59, 59, tzinfo=timezone.utc))
    make_contribution(app, addon, number="OC-EDGE-2", paid_at=datetime(2026, 11, 1, 15, 0, tzinfo=timezone.utc))
    first = as_dicts(read_csv(staff.get("/staff/exports/contributions?from=2026-11-01&to=2026-11-01")))
    second = as_dicts(read_csv(staff.get("/staff/exports/contributions?from=2026-11-02&to=2026-11-02")))
    assert [r["number"] for r in first] == ["OC-EDGE-1"] and [r["number"] for r in second] == ["OC-EDGE-2"]
    assert second[0]["paid_at"] == "2026-11-02T00:00:00+09:00"


# --- totals ------------------------------------------------------------------------------------------

def test_totals_equal_the_pool_and_dashboard_figures(app, staff):
    rows = read_csv(staff.get("/staff/exports/totals"))
    assert tuple(rows[0]) == TOTALS_HEADER
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
    rows = read_csv(staff.get("/staff/exports/batches"))
    assert tuple(rows[0]) == BATCH_HEADER
    [row] = as_dicts(rows)
    assert (row["batch_number"], row["status"], row["owed_g"], row["tonnes_required"]) == \
        (pool.batch_number, "invalidated", "2500000", "3")
    assert (row["project_name"], row["credit_type"], row["purchased_t"], row["purchase_total_yen"]) == \
        ("下川町森林吸収", "j_credit", "3", "30000")
    assert (row["serial_ranges"], row["invalidated_t"], row["registry"]) == \
        ("JP-123-0001 – JP-123-0003", "3", "j_credit_registry")
    assert row["corrected_fields"] == ""
    with app.app_context(), force_locale("en"):
        staff_user = db.session.scalar(select(User).where(User.email == pool.staff_email))
        item = db.session.get(Invalidation, pool.invalidation_id)
        record_correction(item, field="offset_place", new_value="東京都/日野市", reason="通知書どおり", actor=staff_user)
    [corrected] = as_dicts(read_csv(staff.get("/staff/exports/batches")))
    assert corrected["offset_place"] == "東京都/日野市" and corrected["corrected_fields"] == "offset_place"


# --- XLSX --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["contributions", "totals", "batches"])
def test_xlsx_opens_and_holds_the_same_rows_as_the_csv(staff, kind):
    csv_rows = read_csv(staff.get(f"/staff/exports/{kind}?status=all"))
    response = staff.get(f"/staff/exports/{kind}?status=all&format=xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE
    assert response.headers["Content-Disposition"].endswith(".xlsx") and int(response.headers["Content-Length"]) > 0
    xlsx_rows = read_xlsx(response.data)
    assert [[str(cell) for cell in row] for row in xlsx_rows] == csv_rows
    header = xlsx_rows[0]
    for name in ("amount_yen", "co2_g", "paid_yen", "owed_g"):                 # numbers stay numbers
        if name in header:
            assert all(isinstance(row[header.index(name)], int) for row in xlsx_rows[1:])


def test_xlsx_neutralises_formulas(app):
    buffer = io.BytesIO()
    write_xlsx([("name", "yen"), ("=1+1", 100), ("@SUM(A1)", -5), ("ok\x01", 0)], buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [c.value for c in sheet["A"]] == ["name", "'=1+1", "'@SUM(A1)", "ok"]
    assert all(c.data_type != "f" for c in sheet["A"]) and [c.value for c in sheet["B"]][1:] == [100, -5, 0]


# --- the CLI -----------------------------------------------------------------------------------------

def test_cli_export_writes_csv_and_xlsx(app, runner, pool, tmp_path):
    today = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=9))).date()
    first = (today - timedelta(days=60)).isoformat()
    out = tmp_path / "pool.csv"
    result = runner.invoke(args=["pool", "export", "--from", first, "--to", today.isoformat(), "--format", "csv",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "contributions: 4 rows" in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CONTRIBUTION_HEADER and sum(int(r[14]) for r in rows[1:]) == 26_000

    for kind in ("totals", "batches"):
        target = tmp_path / f"{kind}.xlsx"
        result = runner.invoke(args=["pool", "export", "--from", first, "--to", today.isoformat(), "--format",
                                     "xlsx", "--out", str(target), "--kind", kind])
        assert result.exit_code == 0, result.output
        sheet_rows = read_xlsx(target.read_bytes())
        assert tuple(sheet_rows[0]) == (TOTALS_HEADER if kind == "totals" else BATCH_HEADER)
    assert sum(r[8] for r in read_xlsx((tmp_path / "totals.xlsx").read_bytes())[1:]) == 26_000
    with app.app_context():
        actors = db.session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "export.download")).all()
        assert actors == ["cli", "cli", "cli"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_cli_export_refuses_a_reversed_period(runner, tmp_path):
    result = runner.invoke(args=["pool", "export", "--from", "2026-11-02", "--to", "2026-11-01", "--out",
                                 str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and not (tmp_path / "x.csv").exists()


# --- streaming -----------------------------------------------------------------------------------------

def count_queries(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_the_row_generators_are_lazy(app, pool):
    with app.app_context():
        seen = count_queries(db.engine)
        rows = contribution_rows()
        assert next(rows) == CONTRIBUTION_HEADER and seen == []              # the header costs no query
        next(rows)
        assert len(seen) == 1
        totals = totals_rows()
        assert next(totals) == TOTALS_HEADER and len(seen) == 1
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
    for chunk in encode_rows(contribution_rows()):
        size, lines = size + len(chunk), lines + chunk.count(b"\r\n")
    return size, lines


ROWS = 20_000


def test_a_large_csv_export_streams_in_constant_memory(app, client):
    make_user(app, "bulk@city.example.jp", role=Role.STAFF)
    bulk_contributions(app, 5_000)
    with app.app_context():
        csv_size()                                     # warm-up: statement compilation, imports, caches
        (_, small_lines), small = traced_peak(csv_size)
    bulk_contributions(app, ROWS - 5_000, first=5_000)
    with app.app_context():
        (size, lines), large = traced_peak(csv_size)
    assert (small_lines, lines) == (5_001, ROWS + 1) and size > 4_000_000
    # The peak is one batch of fetched rows (yield_per) and one chunk of CSV, however many rows
    # (measured: about 3 MB at 20,000 rows and at 80,000 alike). Held whole, 20,000 rows would take
    # tens of megabytes, and four times the rows would add at least 15 MB.
    assert large < small + 1_000_000 and large < 4_000_000, f"{small:,} bytes for 5,000 rows, {large:,} for {ROWS:,}"
    login(client, "bulk@city.example.jp")
    response = client.get("/staff/exports/contributions")
    assert response.is_streamed
    assert sum(chunk.count(b"\r\n") for chunk in response.response) == ROWS + 1


def synthetic_rows(count: int):
    yield CONTRIBUTION_HEADER
    for n in range(count):
        yield (f"OC-B-{n:07d}", "2026-10-01T09:00:00+09:00", "2026-10-01T09:00:00+09:00", "paid", "stripe", 1,
               "slug", "環境フェスタ", "Eco festa", "event_ticket", 2, "NPO", 1, 100, 100, 0, 10_000, 10_000,
               "PB-2026-0001", f"参加者 {n}")


def test_an_xlsx_export_is_built_in_constant_memory(tmp_path):
    def build(count: int):
        return lambda: write_xlsx(synthetic_rows(count), tmp_path / f"{count}.xlsx")
    build(10)()                                        # warm-up
    small_count, small = traced_peak(build(300))
    large_count, large = traced_peak(build(1_200))     # openpyxl is slow under tracemalloc: few rows suffice
    assert (small_count, large_count) == (300, 1_200)
    # 900 more rows held in memory would take well over a megabyte; written out, they take nothing.
    assert large < small + 300_000, f"{small:,} bytes for 300 rows, {large:,} for 1,200"
    assert sum(1 for _ in load_workbook(tmp_path / "1200.xlsx", read_only=True).active.iter_rows()) == 1_201
