"""Organisers' pages: who may see what, the add-on form, the live preview, QR codes, poster, snippet."""
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AccountStatus, AddOn, AddOnKind, AuditEntry, Contribution, ContributionStatus, Role
from resident_app.services.addons import daily_totals
from resident_app.web import charts

from ..conftest import ROOT
from .factories import addon_form, login, make_addon, make_contribution, make_user, token_from

EN = {"Accept-Language": "en"}
OWNER, OTHER, STAFF, PENDING = ("owner@npo.example.jp", "other@npo.example.jp", "staff@city.example.jp",
                                "pending@npo.example.jp")


@pytest.fixture
def world(app):
    """Two organisers with an add-on each, a staff member and a pending organiser."""
    owner = make_user(app, OWNER, organisation="Owner NPO")
    other = make_user(app, OTHER, organisation="Other NPO")
    make_user(app, STAFF, role=Role.STAFF, organisation="環境政策課")
    make_user(app, PENDING, status=AccountStatus.PENDING)
    addon = make_addon(app, owner, title_en="Owner's festa", unit_price_yen=200)
    other_addon = make_addon(app, other, title_en="Other's bus fare", kind=AddOnKind.COMMUNITY_BUS)
    with app.app_context():
        slug = db.session.get(AddOn, addon).slug
    return SimpleNamespace(owner=owner, other=other, addon=addon, other_addon=other_addon, slug=slug)


def addon_pages(addon_id: int) -> list[str]:
    base = f"/organiser/addons/{addon_id}"
    return [base, f"{base}/edit", f"{base}/qr.png", f"{base}/qr.svg", f"{base}/poster",
            f"{base}/contributions", f"{base}/preview?unit_price_yen=100"]


def post_form(client, url: str, **values):
    form = addon_form(**values)
    form["csrf_token"] = token_from(client, "/")
    return client.post(url, data=form, headers=EN)


def load(app, addon_id: int) -> AddOn:
    with app.app_context():
        addon = db.session.get(AddOn, addon_id)
        db.session.expunge(addon)
        return addon


@pytest.mark.parametrize("who, expected", [
    ("owner", 200), ("staff", 200), ("other", 404), ("anonymous", 302), ("pending", 302),
])
def test_access_matrix(app, client, world, who, expected):
    if who in ("owner", "staff", "other", "pending"):
        login(client, {"owner": OWNER, "staff": STAFF, "other": OTHER, "pending": PENDING}[who])
    for url in addon_pages(world.addon):
        response = client.get(url)
        response.close()  # the CSV streams: closing ends its request context and frees its connection
        assert response.status_code == expected, url
        if expected == 302:
            assert response.headers["Location"].startswith("/auth/login?next="), url
    edit = post_form(client, f"/organiser/addons/{world.addon}/edit", title_ja="乗っ取り")
    assert edit.status_code == (303 if expected == 200 else expected)
    assert (load(app, world.addon).title_ja == "乗っ取り") == (expected == 200)


def test_a_missing_add_on_and_someone_elses_answer_alike(app, client, world):
    login(client, OWNER)
    for url in addon_pages(world.other_addon) + addon_pages(999_999):
        assert client.get(url).status_code == 404, url


def test_an_account_suspended_while_signed_in_is_refused(app, client, runner, world):
    login(client, OWNER)
    assert client.get(f"/organiser/addons/{world.addon}").status_code == 200
    runner.invoke(args=["users", "suspend", OWNER])
    assert client.get(f"/organiser/addons/{world.addon}").status_code == 302


def test_dashboard_lists_own_add_ons_with_paid_figures_only(app, client, world):
    make_contribution(app, world.addon, quantity=3)                               # 600 yen
    make_contribution(app, world.addon, quantity=1)                               # 200 yen
    make_contribution(app, world.addon, status=ContributionStatus.PENDING, paid_at=None)
    make_contribution(app, world.addon, status=ContributionStatus.REFUNDED, refunded_yen=200)
    make_contribution(app, world.other_addon, quantity=5)
    login(client, OWNER)
    html = client.get("/organiser/", headers=EN).get_data(as_text=True)
    assert "Owner&#39;s festa" in html and "Other&#39;s bus fare" not in html
    row = re.search(rf'<tr data-addon-id="{world.addon}">.*?</tr>', html, re.S).group(0)
    assert re.search(r'data-col="units">4<', row)
    assert re.search(r'data-col="yen">¥800<', row)
    assert re.search(r'data-col="kg">80.0<', row)  # ¥800 at ¥10,000/t


def test_staff_see_every_add_on(app, client, world):
    login(client, STAFF)
    html = client.get("/organiser/", headers=EN).get_data(as_text=True)
    assert "Owner&#39;s festa" in html and "Other&#39;s bus fare" in html and "Other NPO" in html


def test_create_an_add_on_and_find_its_link_qr_poster_and_snippet(app, client, world):
    login(client, OWNER)
    response = post_form(client, "/organiser/addons/new", unit_price_yen="１，０００", place="みどり台公園",
                         event_date="2027-04-29", sale_starts_at="2027-04-01T09:00",
                         sale_ends_at="2027-04-29T17:30", max_units="500",
                         emissions_note_ja="来場者1人あたり約2 kg-CO2")
    assert response.status_code == 303
    with app.app_context():
        addon = db.session.scalar(select(AddOn).order_by(AddOn.id.desc()))
        assert addon.owner_id == world.owner and addon.unit_price_yen == 1000
        assert addon.event_date == date(2027, 4, 29) and addon.max_units == 500
        # Typed in Japan time, stored as aware UTC.
        assert addon.sale_starts_at == datetime(2027, 4, 1, 0, 0, tzinfo=timezone.utc)
        assert addon.sale_ends_at == datetime(2027, 4, 29, 8, 30, tzinfo=timezone.utc)
        assert re.fullmatch(r"[a-km-z2-9]{10}", addon.slug)
        addon_id, slug = addon.id, addon.slug
    assert response.headers["Location"] == f"/organiser/addons/{addon_id}"
    html = client.get(f"/organiser/addons/{addon_id}", headers=EN).get_data(as_text=True)
    link = f"http://localhost/a/{slug}"
    assert f'value="{link}"' in html
    assert f"/organiser/addons/{addon_id}/qr.png" in html and f"/organiser/addons/{addon_id}/qr.svg" in html
    assert f"/organiser/addons/{addon_id}/poster" in html and f'action="/organiser/addons/{addon_id}/contributions"' in html
    assert f"/organiser/addons/{addon_id}/edit" in html
    snippet = re.search(r'<textarea id="snippet"[^>]*readonly[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert snippet.startswith(f'&lt;a href=&#34;{link}&#34; style=&#34;display:inline-block;')
    assert "Add a carbon offset (¥1,000 = 100 kg-CO2)" in snippet
    assert "<svg" in html  # the QR code, inline
    edit = client.get(f"/organiser/addons/{addon_id}/edit").get_data(as_text=True)
    assert 'value="2027-04-01T09:00"' in edit and 'value="2027-04-29T17:30"' in edit
    assert client.get(link).status_code == 200  # the link residents get really opens the add-on


@pytest.mark.parametrize("values, field, message", [
    ({"unit_price_yen": "49"}, "unit_price_yen", "Enter a price from 50 to 300,000 yen."),
    ({"unit_price_yen": "300,001"}, "unit_price_yen", "Enter a price from 50 to 300,000 yen."),
    ({"unit_price_yen": ""}, "unit_price_yen", "Enter the price in yen."),
    ({"unit_price_yen": "100.5"}, "unit_price_yen", "Enter a whole number of yen, for example 100 or 1,000."),
    ({"unit_price_yen": "abc"}, "unit_price_yen", "Enter a whole number of yen, for example 100 or 1,000."),
    ({"sale_starts_at": "2027-05-01T10:00", "sale_ends_at": "2027-04-01T10:00"}, "sale_ends_at",
     "The end of sales must come after the start."),
    ({"sale_starts_at": "2027-05-01T10:00", "sale_ends_at": "2027-05-01T10:00"}, "sale_ends_at",
     "The end of sales must come after the start."),
    ({"sale_starts_at": "tomorrow"}, "sale_starts_at", "Enter a date and time such as 2027-04-29 09:00 (Japan time)."),
    ({"max_units": "0"}, "max_units", "Enter a cap of 1 or more, or leave it empty for no cap."),
    ({"kind": "household"}, "kind", "Household offsets are run by the programme itself. Choose another kind."),
    ({"kind": "lottery"}, "kind", "Choose what kind of add-on this is."),
    ({"title_ja": " "}, "title_ja", "Enter a title in Japanese."),
    ({"title_en": "x" * 201}, "title_en", "Use at most 200 characters."),
    ({"event_date": "29/04/2027"}, "event_date", "Enter a date such as 2027-04-29."),
])
def test_the_form_refuses_with_a_message_beside_the_field(app, client, world, values, field, message):
    login(client, OWNER)
    before = len(client.get("/organiser/").get_data(as_text=True))
    response = post_form(client, "/organiser/addons/new", **values)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="error-{field}" class="field-error">{re.escape(message)}<', html), html[:0]
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', html)
    assert len(client.get("/organiser/").get_data(as_text=True)) == before  # nothing was created


def test_several_errors_show_at_once_and_typed_values_come_back(app, client, world):
    login(client, OWNER)
    html = post_form(client, "/organiser/addons/new", unit_price_yen="abc", title_ja="", max_units="0",
                     place="みどり台公園").get_data(as_text=True)
    for field in ("unit_price_yen", "title_ja", "max_units"):
        assert re.search(rf'id="error-{field}" class="field-error">[^<]+<', html), field
    assert 'value="abc"' in html and 'value="みどり台公園"' in html


@pytest.mark.parametrize("typed, stored", [("50", 50), ("300,000", 300_000), ("１００", 100), ("１，０００円", 1000),
                                           ("¥2,500", 2500)])
def test_prices_at_the_limits_and_in_full_width_digits_are_accepted(app, client, world, typed, stored):
    login(client, OWNER)
    assert post_form(client, "/organiser/addons/new", unit_price_yen=typed).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(AddOn).order_by(AddOn.id.desc())).unit_price_yen == stored


def test_staff_may_create_a_household_offset_with_bounds(app, client, world):
    login(client, STAFF)
    page = client.get("/organiser/addons/new").get_data(as_text=True)
    assert 'value="household"' in page and 'id="f-min_amount_yen"' in page
    missing = post_form(client, "/organiser/addons/new", kind="household", unit_price_yen="1000")
    assert missing.status_code == 422 and 'id="error-min_amount_yen" class="field-error">Enter an amount' in \
        missing.get_data(as_text=True)
    outside = post_form(client, "/organiser/addons/new", kind="household", unit_price_yen="1000",
                        min_amount_yen="2000", max_amount_yen="5000")
    assert outside.status_code == 422
    created = post_form(client, "/organiser/addons/new", kind="household", unit_price_yen="1000",
                        min_amount_yen="100", max_amount_yen="300,000")
    assert created.status_code == 303
    with app.app_context():
        addon = db.session.scalar(select(AddOn).order_by(AddOn.id.desc()))
        assert addon.kind == AddOnKind.HOUSEHOLD and addon.variable_amount
        assert (addon.min_amount_yen, addon.max_amount_yen) == (100, 300_000)


def test_organisers_are_not_offered_household(app, client, world):
    login(client, OWNER)
    page = client.get("/organiser/addons/new").get_data(as_text=True)
    assert 'value="household"' not in page and 'id="f-min_amount_yen"' not in page


def test_editing_keeps_the_link_and_past_contributions(app, client, world):
    paid = make_contribution(app, world.addon, quantity=2)
    login(client, OWNER)
    response = post_form(client, f"/organiser/addons/{world.addon}/edit", unit_price_yen="300", is_active="")
    assert response.status_code == 303
    addon = load(app, world.addon)
    assert addon.unit_price_yen == 300 and not addon.is_active and addon.slug == world.slug
    with app.app_context():
        contribution = db.session.get(Contribution, paid)
        assert (contribution.unit_price_yen, contribution.amount_yen) == (200, 400)
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "addon.update"))
        assert audit.before["unit_price_yen"] == 200 and audit.after["unit_price_yen"] == 300


def test_the_cap_cannot_go_below_units_already_paid(app, client, world):
    make_contribution(app, world.addon, quantity=5)
    login(client, OWNER)
    response = post_form(client, f"/organiser/addons/{world.addon}/edit", max_units="4")
    assert response.status_code == 422
    assert "5 units are already paid for, so the cap cannot be lower." in response.get_data(as_text=True)


def test_the_form_shows_the_preview_and_updates_it_with_htmx(app, client, world):
    login(client, OWNER)
    page = client.get("/organiser/addons/new", headers=EN).get_data(as_text=True)
    price = re.search(r'<input id="f-unit_price_yen"[^>]*>', page).group(0)
    assert 'hx-get="/organiser/addons/preview"' in price
    assert 'hx-trigger="input changed delay:300ms"' in price and 'hx-target="#price-preview"' in price
    assert "¥100 = 10.0 kg-CO2 at the current rate" in page  # static, before any typing

    partial = client.get("/organiser/addons/preview?unit_price_yen=１，５００", headers={**EN, "HX-Request": "true"})
    html = partial.get_data(as_text=True)
    assert "<html" not in html and html.strip().startswith('<div id="price-preview"')
    assert "¥1,500 = 150 kg-CO2 at the current rate" in html
    bad = client.get("/organiser/addons/preview?unit_price_yen=30", headers=EN).get_data(as_text=True)
    assert "Enter a price from 50 to 300,000 yen to see the CO2 it offsets." in bad

    # Without JavaScript the preview follows the price on submit.
    refused = post_form(client, "/organiser/addons/new", unit_price_yen="500", title_ja="")
    assert "¥500 = 50.0 kg-CO2 at the current rate" in refused.get_data(as_text=True)

    edit = client.get(f"/organiser/addons/{world.addon}/edit").get_data(as_text=True)
    assert f'hx-get="/organiser/addons/{world.addon}/preview"' in edit
    changed = client.get(f"/organiser/addons/{world.addon}/preview?unit_price_yen=300", headers=EN)
    assert "Payments already made keep the price they were paid at." in changed.get_data(as_text=True)


def test_qr_png_decodes_to_exactly_the_add_on_link(app, client, world):
    login(client, OWNER)
    response = client.get(f"/organiser/addons/{world.addon}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == f"attachment; filename=offset-qr-{world.slug}.png"
    image = Image.open(io.BytesIO(response.data))
    assert image.width >= 250  # scale 10 with a 4-module quiet zone: big enough for a poster
    results = zxingcpp.read_barcodes(image)
    assert [(r.format, r.text) for r in results] == [(zxingcpp.BarcodeFormat.QRCode, f"http://localhost/a/{world.slug}")]


def test_qr_svg_is_an_svg_download(app, client, world):
    login(client, OWNER)
    response = client.get(f"/organiser/addons/{world.addon}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == f"attachment; filename=offset-qr-{world.slug}.svg"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_poster_is_printable_a4_with_the_qr_code_title_price_and_explanation(app, client, world):
    login(client, OWNER)
    html = client.get(f"/organiser/addons/{world.addon}/poster", headers=EN).get_data(as_text=True)
    poster = re.search(r'<article class="poster".*?</article>', html, re.S).group(0)
    assert "Owner&#39;s festa" in poster
    assert "¥200 = 20.0 kg-CO2" in poster
    assert "Your ¥200 offsets 20.0 kg of CO2" in poster and "pools everyone's payments" in poster
    assert "<svg" in poster and f"http://localhost/a/{world.slug}" in poster
    assert "css/organiser.css" in html
    css = (ROOT / "static" / "css" / "organiser.css").read_text(encoding="utf-8")
    assert "@page { size: A4;" in css and "@media print" in css


def test_chart_and_table_by_tokyo_day(app, client, world):
    # 23:30 UTC on 1 December is 08:30 on 2 December in Tokyo.
    make_contribution(app, world.addon, quantity=1, paid_at=datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc))
    make_contribution(app, world.addon, quantity=2, paid_at=datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc))
    make_contribution(app, world.addon, quantity=1, paid_at=datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc))
    with app.app_context():
        days = daily_totals(db.session.get(AddOn, world.addon))
    assert [(d.day, d.units, d.yen) for d in days] == [(date(2026, 12, 1), 1, 200), (date(2026, 12, 2), 3, 600)]
    login(client, OWNER)
    html = client.get(f"/organiser/addons/{world.addon}", headers=EN).get_data(as_text=True)
    figure = json.loads(re.search(r'<script type="application/json" data-chart-for="daily">(.*?)</script>',
                                  html, re.S).group(1))
    go.Figure(figure)  # a valid plotly figure
    assert figure["data"][0]["x"] == ["2026-12-01", "2026-12-02"] and figure["data"][0]["y"] == [200, 600]
    assert figure["data"][1]["y"] == [1, 3]
    table = re.search(r'<table class="data" id="daily-table">.*?</table>', html, re.S).group(0)
    assert "December 2, 2026" in table and "¥600" in table
    assert re.search(r'id="total-units">4<', html) and re.search(r'id="total-yen">¥800<', html)
    assert 'data-chart="daily"' in html and "plotly-basic" in html


def test_daily_figure_is_valid_plotly():
    go.Figure(charts.daily_figure(["2026-12-01"], [100], [1], "Yen", "Units"))


def test_htmx_requests_after_the_session_ended_send_the_window_to_log_in(client, world):
    response = client.get("/organiser/addons/preview?unit_price_yen=100",
                          headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/organiser/addons/new"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login?next=/organiser/addons/new"


def test_control_characters_are_dropped_not_a_server_error(app, client, world):
    login(client, OWNER)
    response = post_form(client, "/organiser/addons/new", title_ja="祭\x00り\x07", place="公園\r\n東口")
    assert response.status_code == 303
    with app.app_context():
        addon = db.session.scalar(select(AddOn).order_by(AddOn.id.desc()))
        assert addon.title_ja == "祭り" and addon.place == "公園\n東口"
    assert login(app.test_client(), "own\x00er@npo.example.jp").status_code == 303
