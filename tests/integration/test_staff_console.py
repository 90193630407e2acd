"""The staff console (職員): who may open which route, and the pool's whole cycle through the pages:
pay, record a fare box, close a batch, buy, invalidate, confirm, certificate, public notice, correct."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest
from sqlalchemy import func, select
from werkzeug.routing import FloatConverter, IntegerConverter, UUIDConverter

from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOnKind, Batch, BatchStatus, Contribution, Invalidation,
                                 OfflineReceipt, Role, StoredFile)
from resident_app.services.days import tokyo_today
from resident_app.staff import admin_required
from resident_app.staff.charts import totals_bar_figure
from resident_app.staff.forms import range_lines, split_range, whole_number

from .factories import login, make_addon, make_contribution, make_user, token_from

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 60
STAFF, ADMIN, ORGANISER, PENDING = ("staff@city.example.jp", "admin@city.example.jp", "bus@npo.example.jp",
                                    "pending@city.example.jp")


# --- the role x route matrix ---------------------------------------------------------------------

def _dummy(converter) -> object:
    if isinstance(converter, IntegerConverter):
        return 999_999  # no such row: 404 for staff, still 302/403 for everyone else
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, UUIDConverter):
        return "00000000-0000-0000-0000-000000000000"
    return "x"


_ADMIN_WRAPPER = admin_required(lambda: None).__code__


def is_admin_only(view) -> bool:
    """True when @admin_required wraps the view (anywhere in its chain of decorators)."""
    while view is not None:
        if getattr(view, "__code__", None) is _ADMIN_WRAPPER:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def staff_routes(app) -> list[tuple[str, str, str, bool]]:
    """(endpoint, method, url, admin only) for every staff.* rule: a new route cannot slip through."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff."):
            continue
        values = {name: _dummy(converter) for name, converter in rule._converters.items()}
        method = "GET" if "GET" in rule.methods else "POST"
        routes.append((rule.endpoint, method, adapter.build(rule.endpoint, values, method=method),
                       is_admin_only(app.view_functions[rule.endpoint])))
    return sorted(routes)


def test_the_matrix_finds_the_console_routes(app):
    found = {endpoint for endpoint, *_ in staff_routes(app)}
    assert {"staff.dashboard", "staff.batches", "staff.batch_new", "staff.batch", "staff.batch_purchase",
            "staff.batch_invalidation_new", "staff.batch_invalidation_edit", "staff.batch_confirm",
            "staff.batch_correction", "staff.offline_new", "staff.contribution", "staff.file"} <= found


@pytest.mark.parametrize("who", ["anonymous", "organiser", "pending", "suspended", "staff", "admin"])
def test_role_by_route_matrix(app, client, who):
    make_user(app, ORGANISER)
    make_user(app, PENDING, role=Role.STAFF, status=AccountStatus.PENDING, organisation="環境政策課")
    make_user(app, STAFF, role=Role.STAFF, organisation="環境政策課")
    make_user(app, ADMIN, role=Role.ADMIN, organisation="環境政策課")
    if who == "organiser":
        assert login(client, ORGANISER).status_code == 303
    elif who == "pending":
        assert login(client, PENDING).status_code == 403  # the account-status page, not a session
    elif who in ("staff", "admin", "suspended"):
        assert login(client, ADMIN if who == "admin" else STAFF).status_code == 303
    if who == "suspended":  # suspended while signed in: the next request is signed out
        with app.app_context():
            from resident_app.models import User
            db.session.scalar(select(User).where(User.email == STAFF)).status = AccountStatus.SUSPENDED
            db.session.commit()
    token = token_from(client, "/auth/login" if who in ("anonymous", "pending", "suspended") else "/")
    answers = {}
    for endpoint, method, url, admin_only in staff_routes(app):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        response.close()  # CSV exports stream: closing ends their request context
        answers[f"{method} {endpoint}"] = (response.status_code, response.headers.get("Location", ""), admin_only)
    for key, (status, location, admin_only) in answers.items():
        if who in ("anonymous", "pending", "suspended"):
            assert status == 302 and location.startswith("/auth/login?next="), key
        elif who == "organiser":
            assert status == 403, key
        elif who == "staff" and admin_only:
            assert status == 403, key
        else:
            assert status not in (401, 403) and status < 500, (key, status)


def test_htmx_requests_signed_out_are_sent_to_the_login_page(client):
    response = client.get("/staff/batches/new?cutoff=2026-11-01",
                          headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/staff/batches/new"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login?next=")


def test_the_staff_console_link_is_for_staff_only(app, client):
    make_user(app, ORGANISER)
    make_user(app, STAFF, role=Role.STAFF)
    login(client, ORGANISER)
    assert "/staff/" not in client.get("/").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/")})
    login(client, STAFF)
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'<a href="/staff/"[^>]*>Staff console</a>', html)


# --- the whole cycle through the pages ------------------------------------------------------------

@pytest.fixture
def pool(app, client, tmp_path):
    """Staff signed in (English pages), an organiser's bus route and festival, uploads in tmp_path."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    organiser = make_user(app, ORGANISER, organisation="みどり台バス")
    make_user(app, STAFF, role=Role.STAFF, organisation="環境政策課")
    bus = make_addon(app, organiser, kind=AddOnKind.COMMUNITY_BUS, title_ja="みどり台循環バス",
                     title_en="Midoridai loop bus", unit_price_yen=100)
    festa = make_addon(app, organiser, title_en="Eco festa", unit_price_yen=500)
    client.set_cookie("lang", "en")
    assert login(client, STAFF).status_code == 303
    two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
    paid = [make_contribution(app, festa, quantity=2, paid_at=two_days_ago),           # ¥1,000 = 100 kg
            make_contribution(app, festa, quantity=16, paid_at=two_days_ago)]          # ¥8,000 = 800 kg
    return SimpleNamespace(bus=bus, festa=festa, paid=paid, cutoff=(tokyo_today() - timedelta(days=1)).isoformat())


def post(client, url: str, data: dict | None = None, **kwargs):
    form = {"csrf_token": token_from(client, "/staff/"), **(data or {})}
    return client.post(url, data=form, **kwargs)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<span id="error-{field_id}" class="field-error">(.*?)</span>', html, re.S)
    assert match, f"no error element for {field_id}"
    return match.group(1).replace("&#39;", "'").replace("&amp;", "&")


def record_fare_box(client, pool, **overrides):
    data = {"addon_id": str(pool.bus), "quantity": "37", "channel": "cash",
            "received_on": (tokyo_today() - timedelta(days=2)).isoformat(), "note": "運賃箱 集計",
            "display_name": "みどり台循環バス", "evidence": (io.BytesIO(PNG), "count-sheet.png")}
    data.update(overrides)
    return post(client, "/staff/contributions/offline", data, content_type="multipart/form-data")


def purchase_form(**overrides):
    form = {"provider": "みどり信金", "credit_type": "j_credit", "project_name": "下川町森林吸収プロジェクト",
            "project_id": "JCL-0042", "credit_place": "北海道/下川町", "tonnes": "2", "price_per_t_yen": "10,000",
            "total_yen": "20,000", "purchased_on": (tokyo_today() - timedelta(days=1)).isoformat(),
            "invoice_file": (io.BytesIO(PDF), "invoice.pdf")}
    form.update(overrides)
    return form


def invalidation_form(**overrides):
    form = {"registry": "j_credit_registry", "invalidated_on": (tokyo_today() - timedelta(days=1)).isoformat(),
            "range_rows": "3", "serial_start_1": "JP-123-0001", "serial_end_1": "JP-123-0002",
            "serial_start_2": "", "serial_end_2": "", "serial_start_3": "", "serial_end_3": "",
            "tonnes": "2", "purpose": "2026年度 コミュニティバス カーボン・オフセット", "offset_place": "東京都/八王子市",
            "notice_file": (io.BytesIO(PDF), "無効化通知.pdf")}
    form.update(overrides)
    return form


def close(client, pool) -> int:
    response = post(client, "/staff/batches/new", {"cutoff": pool.cutoff, "note": "11月分"})
    assert response.status_code == 303, html_of(response)
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def test_the_pool_cycle_through_the_staff_pages(app, client, pool):
    # A bus route's fare box: 37 rides × ¥100, received two days ago.
    response = record_fare_box(client, pool)
    assert response.status_code == 303
    page = html_of(client.get(response.headers["Location"]))
    assert "¥3,700" in page and "370 kg-CO2" in page and "count-sheet.png" in page
    with app.app_context():
        fare = db.session.scalar(select(Contribution).order_by(Contribution.id.desc()))
        assert (fare.amount_yen, fare.co2_g, fare.channel, fare.quantity) == (3_700, 370_000, "cash", 37)
        assert db.session.scalar(select(OfflineReceipt).where(OfflineReceipt.contribution_id == fare.id))
        fare_token = fare.certificate_token
        paid_token = db.session.get(Contribution, pool.paid[0]).certificate_token
    assert f"/c/{fare_token}" in page

    dashboard = html_of(client.get("/staff/"))
    assert re.search(r'id="awaiting-count">3<', dashboard) and re.search(r'id="awaiting-yen">¥12,700<', dashboard)

    # The preview, as a page and as the htmx partial; then close the batch.
    preview = html_of(client.get(f"/staff/batches/new?cutoff={pool.cutoff}"))
    assert re.search(r'id="preview-count">3<', preview) and re.search(r'id="preview-tonnes">2 t<', preview)
    partial = client.get(f"/staff/batches/new?cutoff={pool.cutoff}", headers={"HX-Request": "true"})
    assert "<html" not in html_of(partial) and 'id="preview-tonnes">2 t<' in html_of(partial)
    assert "HX-Request" in partial.headers["Vary"]
    batch_id = close(client, pool)
    page = html_of(client.get(f"/staff/batches/{batch_id}"))
    assert 'id="batch-count">3<' in page and "1,270 kg-CO2" in page
    assert len(re.findall(r'href="/staff/contributions/\d+"', page)) == 3

    # The purchase with its invoice; the invalidation with the registry's notice. A bank fee makes
    # the total differ from tonnes × price: a warning, not an error.
    response = post(client, f"/staff/batches/{batch_id}/purchase", purchase_form(total_yen="20,330"),
                    content_type="multipart/form-data")
    assert response.status_code == 303
    response = post(client, f"/staff/batches/{batch_id}/invalidations", invalidation_form(),
                    content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        assert batch.status == BatchStatus.PURCHASED and batch.purchase.invoice_file.original_name == "invoice.pdf"
        invalidation_id = batch.invalidations[0].id
        invoice_id = batch.purchase.invoice_file_id
    assert client.get(f"/evidence/notices/{invalidation_id}").status_code == 404  # not public before confirming

    page = html_of(client.get(f"/staff/batches/{batch_id}"))
    assert 'data-code="total_mismatch"' in page
    assert "The total of 20,330 yen differs from 2 t × 10,000 yen = 20,000 yen." in page
    assert "Check the invoice for fees" in page  # what the warning means
    assert "I have checked: The total of 20,330 yen" in page and "Confirmation is final" in page
    key = re.search(r'name="warnings_key" value="([0-9a-f]+)"', page).group(1)

    # Confirming without ticking the warning is refused; ticking it (and finality) confirms.
    response = post(client, f"/staff/batches/{batch_id}/confirm", {"warnings_key": key, "final": "1"})
    assert response.status_code == 422
    assert field_error(html_of(response), "acknowledged") == "Tick each warning to show that you have checked it."
    response = post(client, f"/staff/batches/{batch_id}/confirm",
                    {"warnings_key": key, "final": "1", "ack-0": "total_mismatch"})
    assert response.status_code == 303
    page = html_of(client.get(response.headers["Location"]))
    assert "Confirmed: retired" in page and 'action="/staff/batches/%d/purchase"' % batch_id not in page
    assert "Add a correcting entry" in page

    # The resident's certificate now names the batch, the serial range and the public notice.
    certificate = html_of(client.get(f"/c/{paid_token}"))
    assert "JP-123-0001 – JP-123-0002" in certificate and "Retired in batch PB-" in certificate
    assert "下川町森林吸収プロジェクト" in certificate and "created in 北海道/下川町" in certificate
    assert f'href="/evidence/notices/{invalidation_id}"' in certificate
    assert "awaiting the next invalidation" not in certificate

    # The notice downloads for anyone; the invoice only for staff.
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/")})
    notice = client.get(f"/evidence/notices/{invalidation_id}")
    assert notice.status_code == 200 and notice.data == PDF and notice.mimetype == "application/pdf"
    assert notice.headers["X-Content-Type-Options"] == "nosniff"
    assert notice.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%84%A1%E5%8A%B9%E5%8C%96%E9%80%9A%E7%9F%A5.pdf" in notice.headers["Content-Disposition"]
    assert client.get(f"/staff/files/{invoice_id}").status_code == 302
    login(client, STAFF)
    invoice = client.get(f"/staff/files/{invoice_id}")
    assert invoice.status_code == 200 and invoice.data == PDF and invoice.headers["X-Content-Type-Options"] == "nosniff"
    assert 'filename=invoice.pdf' in invoice.headers["Content-Disposition"]

    # After confirmation every edit is refused with a message, and nothing changes.
    refused = [
        post(client, f"/staff/batches/{batch_id}/purchase", purchase_form(tonnes="5"), content_type="multipart/form-data"),
        post(client, f"/staff/batches/{batch_id}/invalidations", invalidation_form(purpose="another"),
             content_type="multipart/form-data"),
        post(client, f"/staff/batches/{batch_id}/invalidations/{invalidation_id}", invalidation_form(tonnes="3"),
             content_type="multipart/form-data"),
        post(client, f"/staff/batches/{batch_id}/confirm", {"final": "1"}),
    ]
    for response in refused:
        assert response.status_code == 409
        assert "is confirmed and can no longer be changed. Record a correction instead." in html_of(response)
    with app.app_context():
        assert db.session.get(Batch, batch_id).purchase.tonnes == 2
        assert db.session.scalar(select(func.count(Invalidation.id))) == 1

    # A correcting entry: the new serial range is shown, the original stays visible, with who and why.
    response = post(client, f"/staff/batches/{batch_id}/corrections",
                    {"target": f"invalidation:{invalidation_id}:serial_ranges",
                     "new_value": "JP-123-0101 – JP-123-0102", "reason": "番号の転記ミス (notice p.1)"})
    assert response.status_code == 303
    page = html_of(client.get(f"/staff/batches/{batch_id}"))
    assert "JP-123-0101 – JP-123-0102" in page
    assert "Corrected; originally recorded: JP-123-0001 – JP-123-0002" in page
    row = re.search(r'<table class="data" id="correction-table">.*?</table>', page, re.S).group(0)
    assert "JP-123-0001 – JP-123-0002" in row and "JP-123-0101 – JP-123-0102" in row
    assert "番号の転記ミス" in row and STAFF in row
    certificate = html_of(client.get(f"/c/{fare_token}"))
    assert "JP-123-0101 – JP-123-0102" in certificate and "JP-123-0001" not in certificate

    dashboard = html_of(client.get("/staff/"))
    assert 'id="fig-retired">2 t<' in dashboard and 'id="fig-surplus">730 kg-CO2<' in dashboard
    assert re.search(r'id="awaiting-count">0<', dashboard)


def test_bad_purchase_input_is_shown_beside_its_fields_and_nothing_is_saved(app, client, pool):
    batch_id = close(client, pool)
    response = post(client, f"/staff/batches/{batch_id}/purchase",
                    purchase_form(tonnes="abc", provider="", invoice_file=(io.BytesIO(EXE), "setup.exe")),
                    content_type="multipart/form-data")
    assert response.status_code == 422
    html = html_of(response)
    assert field_error(html, "p-tonnes") == "Enter a whole number, for example 3 or 1,000."
    assert field_error(html, "p-provider") == "Enter who sold the credits."
    assert field_error(html, "p-invoice_file").startswith("Upload a PDF, PNG or JPEG file")
    assert 'value="北海道/下川町"' in html  # what was typed comes back
    with app.app_context():
        assert db.session.get(Batch, batch_id).status == BatchStatus.DRAFT
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0

    # A good file sent with a bad field is kept, so the second try needs no new upload.
    response = post(client, f"/staff/batches/{batch_id}/purchase", purchase_form(tonnes="２トン"),
                    content_type="multipart/form-data")
    assert response.status_code == 422
    kept = re.search(r'name="invoice_file_kept" value="(\d+)"', html_of(response)).group(1)
    assert "Uploaded: invoice.pdf" in html_of(response)
    response = post(client, f"/staff/batches/{batch_id}/purchase",
                    {**purchase_form(tonnes="２"), "invoice_file": (io.BytesIO(b""), ""), "invoice_file_kept": kept},
                    content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        purchase = db.session.get(Batch, batch_id).purchase
        assert purchase.tonnes == 2 and purchase.invoice_file_id == int(kept)

    # Saving again without a file keeps the recorded invoice.
    response = post(client, f"/staff/batches/{batch_id}/purchase",
                    {**purchase_form(provider="多摩信金"), "invoice_file": (io.BytesIO(b""), "")},
                    content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        purchase = db.session.get(Batch, batch_id).purchase
        assert purchase.provider == "多摩信金" and purchase.invoice_file_id == int(kept)


def test_bad_invalidation_input_and_adding_a_range_without_javascript(app, client, pool):
    batch_id = close(client, pool)
    response = post(client, f"/staff/batches/{batch_id}/invalidations", invalidation_form(),
                    content_type="multipart/form-data")
    assert response.status_code == 422  # no form for it yet, so the refusal is shown above the page
    assert re.search(r'class="flash flash-error"[^>]*>Record the credit purchase for batch PB-\d+-\d+ first.<',
                     html_of(response))
    assert post(client, f"/staff/batches/{batch_id}/purchase", purchase_form(),
                content_type="multipart/form-data").status_code == 303
    response = post(client, f"/staff/batches/{batch_id}/invalidations",
                    invalidation_form(serial_start_1="JP-123-0009", serial_end_1="JP-123-0002", tonnes="abc",
                                      invalidated_on="2026-13-45"),
                    content_type="multipart/form-data")
    assert response.status_code == 422
    html = html_of(response)
    assert field_error(html, "n-serial_ranges") == "The range JP-123-0009 to JP-123-0002 ends before it starts."
    assert field_error(html, "n-tonnes") == "Enter a whole number, for example 3 or 1,000."
    assert field_error(html, "n-invalidated_on") == "Enter a date such as 2026-11-27."
    future = (tokyo_today() + timedelta(days=3)).isoformat()
    response = post(client, f"/staff/batches/{batch_id}/invalidations", invalidation_form(invalidated_on=future),
                    content_type="multipart/form-data")
    assert field_error(html_of(response), "n-invalidated_on") == "The date cannot be in the future."
    with app.app_context():
        assert db.session.scalar(select(func.count(Invalidation.id))) == 0

    # "Add a range" re-shows the form with a fourth row and saves nothing.
    response = post(client, f"/staff/batches/{batch_id}/invalidations",
                    invalidation_form(add_range="1", serial_start_2="JP-9-1"), content_type="multipart/form-data")
    assert response.status_code == 200
    html = html_of(response)
    assert 'name="serial_start_4"' in html and 'value="JP-9-1"' in html and 'name="range_rows" value="4"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Invalidation.id))) == 0

    # Two ranges, one typed as "START – END" in a single box; then changed while still open.
    response = post(client, f"/staff/batches/{batch_id}/invalidations",
                    invalidation_form(serial_start_1="JP-123-0001 – JP-123-0001", serial_end_1="",
                                      serial_start_2="JP-123-0005", serial_end_2="JP-123-0005"),
                    content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        item = db.session.scalar(select(Invalidation))
        assert item.serial_ranges == [{"start": "JP-123-0001", "end": "JP-123-0001"},
                                      {"start": "JP-123-0005", "end": "JP-123-0005"}]
        item_id, notice_id = item.id, item.notice_file_id
    response = post(client, f"/staff/batches/{batch_id}/invalidations/{item_id}",
                    {**invalidation_form(offset_place="北海道/下川町"), "notice_file": (io.BytesIO(b""), "")},
                    content_type="multipart/form-data")
    assert response.status_code == 303
    page = html_of(client.get(f"/staff/batches/{batch_id}"))
    assert 'data-code="same_place"' in page and "counted twice" in page
    with app.app_context():
        item = db.session.get(Invalidation, item_id)
        assert item.offset_place == "北海道/下川町" and item.notice_file_id == notice_id


def test_bad_cutoffs_and_offline_input(app, client, pool):
    response = post(client, "/staff/batches/new", {"cutoff": "abc"})
    assert response.status_code == 422 and field_error_p(html_of(response)) == "Enter a date such as 2026-11-27."
    tomorrow = (tokyo_today() + timedelta(days=1)).isoformat()
    response = client.get(f"/staff/batches/new?cutoff={tomorrow}")
    assert field_error_p(html_of(response)) == "The cut-off cannot be in the future."
    assert 'name="note"' not in html_of(response)  # no close button for a future cut-off
    response = post(client, "/staff/batches/new", {"cutoff": tomorrow})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Batch.id))) == 0

    response = record_fare_box(client, pool, quantity="abc", received_on=(tokyo_today() + timedelta(days=2)).isoformat(),
                               evidence=(io.BytesIO(EXE), "virus.exe"), channel="stripe")
    assert response.status_code == 422
    html = html_of(response)
    assert field_error(html, "o-quantity") == "Enter the number of units as a whole number, for example 37."
    assert field_error(html, "o-received_on") == "The date cannot be in the future."
    assert field_error(html, "o-evidence").startswith("Upload a PDF, PNG or JPEG file")
    assert field_error(html, "o-channel") == "Choose cash or bank transfer."
    response = record_fare_box(client, pool, addon_id="999999")
    assert field_error(html_of(response), "o-addon_id") == "Choose the add-on the money was paid for."
    with app.app_context():
        assert db.session.scalar(select(func.count(OfflineReceipt.id))) == 0


def field_error_p(html: str) -> str:
    return re.search(r'<p id="error-cutoff" class="field-error" role="alert">(.*?)</p>', html, re.S).group(1)


def test_corrections_need_a_confirmed_batch_a_readable_value_and_a_reason(app, client, pool):
    batch_id = close(client, pool)                                     # 900 kg: 1 t to buy
    post(client, f"/staff/batches/{batch_id}/purchase", purchase_form(tonnes="1", total_yen="10,000"),
         content_type="multipart/form-data")
    post(client, f"/staff/batches/{batch_id}/invalidations", invalidation_form(tonnes="1", serial_end_1="JP-123-0001"),
         content_type="multipart/form-data")
    response = post(client, f"/staff/batches/{batch_id}/corrections",
                    {"target": "purchase:provider", "new_value": "x", "reason": "y"})
    assert response.status_code == 409 and "is not confirmed yet" in html_of(response)
    page = html_of(client.get(f"/staff/batches/{batch_id}"))
    key = re.search(r'name="warnings_key" value="([0-9a-f]+)"', page).group(1)
    assert "No warnings" in page
    assert post(client, f"/staff/batches/{batch_id}/confirm", {"warnings_key": key, "final": "1"}).status_code == 303

    response = post(client, f"/staff/batches/{batch_id}/corrections",
                    {"target": "purchase:total_yen", "new_value": "abc", "reason": ""})
    assert response.status_code == 422
    assert field_error(html_of(response), "c-new_value") == "Enter a whole number of yen, for example 10,000."
    assert field_error(html_of(response), "c-reason") == "Explain why the record is corrected."
    response = post(client, f"/staff/batches/{batch_id}/corrections",
                    {"target": "purchase:nonsense", "new_value": "1", "reason": "r"})
    assert field_error(html_of(response), "c-target") == "Choose what to correct."
    response = post(client, f"/staff/batches/{batch_id}/corrections",
                    {"target": "purchase:credit_type", "new_value": "J-VER", "reason": "請求書の記載を確認"})
    assert response.status_code == 303
    page = html_of(client.get(f"/staff/batches/{batch_id}"))
    assert re.search(r'data-field="credit_type">.*?J-VER.*?Corrected; originally recorded: J-Credit', page, re.S)


def test_dashboard_totals_charts_and_flagged_contributions(app, client, pool):
    make_contribution(app, pool.bus, quantity=3, flag_reason="金額が Stripe の記録と一致しません")
    html = html_of(client.get("/staff/"))
    for name in ("month", "addon", "kind", "organiser"):
        figure = re.search(rf"""data-figure='([^']*)' data-chart-name="{name}\"""", html).group(1)
        go.Figure(__import__("json").loads(figure.replace("&#34;", '"').replace("&amp;", "&")))
    assert 'id="fig-paid">¥9,300<' in html
    table = re.search(r'<table class="data" id="kind-table">.*?</table>', html, re.S).group(0)
    assert "Community bus offset fare" in table and "¥300" in table and "Event ticket surcharge" in table
    flagged = re.search(r'<table class="data" id="flagged-table">.*?</table>', html, re.S).group(0)
    assert "金額が Stripe の記録と一致しません" in flagged


def test_chart_dicts_are_valid_plotly_figures():
    for horizontal in (True, False):
        figure = totals_bar_figure(["2026-10", "2026-11"], [1_000, 12_700], [100_000, 1_270_000],
                                   yen_title="Yen paid", kg_label="kg-CO2", horizontal=horizontal)
        go.Figure(figure)
    assert figure["data"][0]["customdata"] == [100.0, 1270.0]


@pytest.mark.parametrize("raw, expected", [
    ("JP-123-0001 – JP-123-0010", ("JP-123-0001", "JP-123-0010")),
    ("JP-123-0001 - JP-123-0010", ("JP-123-0001", "JP-123-0010")),
    ("JP-123-0001～JP-123-0010", ("JP-123-0001", "JP-123-0010")),
    ("JP-123-0001 JP-123-0010", ("JP-123-0001", "JP-123-0010")),
    ("JP-123-0007", ("JP-123-0007", "JP-123-0007")),
])
def test_serial_range_lines(raw, expected):
    assert split_range(raw) == expected


def test_range_lines_and_numbers():
    assert range_lines("A-1 – A-2\n\n B-5 – B-9 ") == [("A-1", "A-2"), ("B-5", "B-9")]
    with pytest.raises(ValueError):
        range_lines("A-1 – A-2 – A-3")
    assert whole_number("１，０００") == 1_000 and whole_number("¥20,330", yen=True) == 20_330
    assert whole_number("") is None
    for bad in ("abc", "1.5", "1,00", "-3"):
        with pytest.raises(ValueError):
            whole_number(bad)
