"""Every absolute link comes from PUBLIC_BASE_URL, never from the request's Host header."""
from __future__ import annotations

import io

import pytest
import zxingcpp
from flask import url_for
from PIL import Image

from resident_app.extensions import db
from resident_app.models import Contribution
from resident_app.payments.gateway import get_gateway
from resident_app.services.mail import send_receipt

from ..conftest import CSRF_RE
from .factories import login, make_addon, make_contribution, make_user

BASE = "https://co2.city.example.jp"
EVIL = {"Host": "evil.example"}


@pytest.fixture
def site(build_app, demo):
    """The test app's data with the demo add-ons, served by an app whose PUBLIC_BASE_URL is set."""
    return build_app(PUBLIC_BASE_URL=BASE)


def test_stripe_return_pages_ignore_a_forged_host(site):
    client = site.test_client()
    page = client.get("/a/demo-bus", headers=EVIL).get_data(as_text=True)  # the cookie is evil.example's
    token = CSRF_RE.search(page).group(1)
    response = client.post("/a/demo-bus/checkout", headers=EVIL, data={"quantity": "1", "csrf_token": token})
    assert response.status_code == 303
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    with site.app_context():
        session = get_gateway().retrieve_session(session_id)
    assert session["success_url"] == f"{BASE}/a/demo-bus/thanks?session_id={{CHECKOUT_SESSION_ID}}"
    assert session["cancel_url"] == f"{BASE}/a/demo-bus?cancelled=1"


def test_the_add_on_api_prints_the_public_address(site):
    listing = site.test_client().get("/api/v1/addons", headers=EVIL).get_json()
    assert {item["url"] for item in listing} >= {f"{BASE}/a/demo-bus", f"{BASE}/a/household"}


def test_qr_codes_posters_and_snippets_carry_the_public_address(site):
    owner = make_user(site, "owner@npo.example.jp")
    addon_id = make_addon(site, owner, slug="festa")
    client = site.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"  # every request, the log-in included
    login(client, "owner@npo.example.jp")
    png = client.get(f"/organiser/addons/{addon_id}/qr.png")
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert code.text == f"{BASE}/a/festa"
    for page in (f"/organiser/addons/{addon_id}", f"/organiser/addons/{addon_id}/poster"):
        html = client.get(page).get_data(as_text=True)
        assert f"{BASE}/a/festa" in html and "evil.example" not in html


class CapturingSMTP:
    """Stands in for smtplib.SMTP: keeps what would have been sent."""

    sent: list = []

    def __init__(self, host, port, timeout):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        CapturingSMTP.sent.append(message)


def test_the_certificate_and_the_receipt_e_mail_link_to_the_public_address(site, monkeypatch):
    owner = make_user(site, "owner@npo.example.jp")
    addon_id = make_addon(site, owner)
    contribution_id = make_contribution(site, addon_id, receipt_email="hanako@example.jp")
    monkeypatch.setattr("resident_app.services.mail.smtplib.SMTP", CapturingSMTP)
    CapturingSMTP.sent = []
    site.config["MAIL_SERVER"] = "smtp.city.example.jp"
    with site.app_context():
        contribution = db.session.get(Contribution, contribution_id)
        token = contribution.certificate_token
        send_receipt(contribution)  # outside any request, as from the webhook's after-commit work
    [message] = CapturingSMTP.sent
    assert f"{BASE}/c/{token}" in message.get_content()
    html = site.test_client().get(f"/c/{token}", headers=EVIL).get_data(as_text=True)
    assert f"{BASE}/c/{token}" in html and "evil.example" not in html


def test_a_base_with_a_path_anchors_and_relative_endpoints(site):
    site.config["PUBLIC_BASE_URL"] = "https://www.city.example.jp/co2/"
    with site.test_request_context("/a/demo-bus", headers=EVIL):
        assert url_for("checkout.addon", slug="x", _external=True, _anchor="pay") == \
            "https://www.city.example.jp/co2/a/x#pay"
        assert url_for("checkout.addon", slug="x") == "/a/x"  # relative links stay relative
    with site.app_context():
        assert url_for("public.home") == "https://www.city.example.jp/co2/"  # outside a request


def test_without_a_public_address_development_uses_the_request(client):
    listing = client.get("/api/v1/addons").get_json()
    assert {item["url"] for item in listing} == {"http://localhost/a/household"}
