"""The organiser's download (exporters.ADDON_CONTRIBUTIONS): Excel-friendly, injection-safe, their own
contributions only; CSV in UTF-8 or Shift_JIS, XLSX, headers in words or as codes."""
import csv
import io
import re
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook

from resident_app.models import AddOn, ContributionStatus
from resident_app.extensions import db

from .factories import login, make_addon, make_contribution, make_user

EN = {"Accept-Language": "en"}
HEADER = ["number", "paid_at", "quantity", "amount_yen", "refunded_yen", "co2_g", "refunded_g", "status", "display_name"]


@pytest.fixture
def exported(app, client):
    """An add-on with paid, refunded and pending contributions, and another organiser's add-on."""
    owner = make_user(app, "owner@npo.example.jp")
    other = make_user(app, "other@npo.example.jp")
    addon = make_addon(app, owner, unit_price_yen=300)
    other_addon = make_addon(app, other)
    make_contribution(app, addon, quantity=2, display_name="=HYPERLINK(\"http://evil.example\",\"x\")",
                      paid_at=datetime(2026, 12, 1, 23, 30, 5, tzinfo=timezone.utc), number="OC-2026-000001")
    make_contribution(app, addon, quantity=1, display_name="山田 花子", number="OC-2026-000002",
                      paid_at=datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc))
    make_contribution(app, addon, quantity=1, display_name="@SUM(1+1)", number="OC-2026-000003",
                      status=ContributionStatus.REFUNDED, refunded_yen=300,
                      paid_at=datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc))
    make_contribution(app, addon, status=ContributionStatus.PENDING, paid_at=None, number="OC-2026-000004")
    make_contribution(app, other_addon, display_name="Someone else", number="OC-2026-000005")
    login(client, "owner@npo.example.jp")
    response = client.get(f"/organiser/addons/{addon}/contributions?variant=codes")
    return addon, response


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_has_a_bom_the_header_and_crlf_lines(exported):
    _, response = exported
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert response.is_streamed
    assert response.data.startswith(b"\xef\xbb\xbf")  # utf-8-sig, so Japanese Excel reads it as UTF-8
    assert response.data[3:].startswith(",".join(HEADER).encode() + b"\r\n")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="contributions-') and disposition.count(".csv") == 2


def test_csv_rows_are_the_owners_paid_and_refunded_contributions_only(exported):
    _, response = exported
    rows = rows_of(response)
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["OC-2026-000001", "OC-2026-000002", "OC-2026-000003"]
    first = dict(zip(HEADER, rows[1]))
    assert first["paid_at"] == "2026-12-02T08:30:05+09:00"  # Asia/Tokyo, ISO 8601
    assert (first["quantity"], first["amount_yen"], first["co2_g"], first["status"]) == ("2", "600", "60000", "paid")
    assert rows[2][8] == "山田 花子"
    assert rows[3][7] == "refunded"
    text = response.data.decode("utf-8-sig")
    assert "Someone else" not in text and "resident@example.jp" not in text and "@example" not in text


def test_csv_neutralises_formulas(exported):
    _, response = exported
    rows = rows_of(response)
    assert rows[1][8] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rows[3][8] == "'@SUM(1+1)"


def test_csv_paid_amounts_equal_the_page_totals(app, client, exported):
    addon, response = exported
    paid = [dict(zip(HEADER, r)) for r in rows_of(response)[1:] if r[7] == "paid"]
    html = client.get(f"/organiser/addons/{addon}", headers=EN).get_data(as_text=True)
    units = int(re.search(r'id="total-units">([\d,]+)<', html).group(1).replace(",", ""))
    yen = int(re.search(r'id="total-yen">¥([\d,]+)<', html).group(1).replace(",", ""))
    assert sum(int(r["quantity"]) for r in paid) == units == 3
    assert sum(int(r["amount_yen"]) for r in paid) == yen == 900
    kg = re.search(r'id="total-kg">([\d,.]+) kg-CO2<', html).group(1)
    assert f"{sum(int(r['co2_g']) for r in paid) / 1000:.1f}" == kg == "90.0"


def test_csv_of_another_organisers_add_on_is_404(app, client, exported):
    with app.app_context():
        others = [a.id for a in db.session.query(AddOn).all() if a.owner.email == "other@npo.example.jp"]
    assert client.get(f"/organiser/addons/{others[0]}/contributions").status_code == 404


def finish(response) -> None:
    """End a streamed response nobody read: its generator holds the request's app context (and
    with it the cached locale), which the test client would reuse for the next request."""
    response.close()


def test_headers_and_statuses_in_the_organisers_language(client, exported):
    addon, response = exported
    finish(response)
    ja = rows_of(client.get(f"/organiser/addons/{addon}/contributions", headers={"Accept-Language": "ja"}))
    assert ja[0] == ["参加番号", "支払日時（日本時間）", "口数", "金額（円）", "返金額（円）", "CO2（kg）", "返金で戻したCO2（kg）", "状態",
                     "参加証に表示する名前"]
    assert ja[1][1:8] == ["2026-12-02 08:30:05", "2", "600", "0", "60.000", "0.000", "支払済み"]
    assert ja[3][7] == "返金済み"
    en = rows_of(client.get(f"/organiser/addons/{addon}/contributions", headers=EN))
    assert en[0][0] == "Contribution number" and en[3][7] == "Refunded"


def test_xlsx_and_shift_jis_for_the_organiser(client, exported):
    addon, response = exported
    finish(response)
    response = client.get(f"/organiser/addons/{addon}/contributions?format=xlsx", headers=EN)
    assert response.status_code == 200 and response.headers["Content-Disposition"].endswith('.xlsx')
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:I4"
    assert sheet["B2"].value == datetime(2026, 12, 2, 8, 30, 5) and sheet["B2"].is_date
    assert sheet["I2"].value == "=HYPERLINK(\"http://evil.example\",\"x\")" and sheet["I2"].data_type == "s"
    sjis = client.get(f"/organiser/addons/{addon}/contributions?encoding=cp932", headers=EN)
    assert sjis.content_type == "text/csv; charset=Shift_JIS"
    assert list(csv.reader(io.StringIO(sjis.data.decode("cp932"))))[2][8] == "山田 花子"


def test_shift_jis_sends_the_organiser_back_to_the_page_with_a_warning(app, client, exported):
    addon, response = exported
    finish(response)
    make_contribution(app, addon, display_name="🍀 みどり", number="OC-2026-000009")
    page = client.get(f"/organiser/addons/{addon}/contributions?encoding=cp932", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "1 character in this file cannot be written in Shift_JIS." in html and 'id="total-units"' in html
    sent = client.get(f"/organiser/addons/{addon}/contributions?encoding=cp932&replace=1&variant=codes")
    assert ["OC-2026-000009", "〓 みどり"] in [[r[0], r[8]] for r in csv.reader(io.StringIO(sent.data.decode("cp932")))]
    assert client.get(f"/organiser/addons/{addon}/contributions?format=pdf", headers=EN).status_code == 422
