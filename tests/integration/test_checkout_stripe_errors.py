"""Stripe saying no, or not answering, while a resident starts or finishes a checkout: a clear
message on the add-on page, the contribution failed, never a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bench.stack import free_port
from resident_app.extensions import db
from resident_app.models import AuditEntry, Contribution

from ..conftest import csrf_token

EN = {"Accept-Language": "en"}


@pytest.fixture
def stripe_down(build_app):
    """An app whose Stripe (the sandbox) does not answer."""
    return build_app(STRIPE_SANDBOX_URL=f"http://127.0.0.1:{free_port()}", STRIPE_SANDBOX_API_KEY="sk_test_nobody")


def post_checkout(client, **form):
    data = {"quantity": "1", "csrf_token": csrf_token(client, "/a/demo-bus"), **form}
    return client.post("/a/demo-bus/checkout", data=data, headers=EN)


def last_contribution(app) -> tuple[str, list[str]]:
    with app.app_context():
        row = db.session.scalar(select(Contribution).order_by(Contribution.id.desc()))
        actions = db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "contribution", AuditEntry.object_id == str(row.id))).all()
        return str(row.status), sorted(actions)


def test_an_address_stripe_would_refuse_is_explained_beside_the_field_before_stripe_is_asked(client, demo):
    response = post_checkout(client, receipt_email="hanako@home@example.jp")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-receipt_email"' in html
    assert "Enter an e-mail address such as name@example.jp, or leave it blank." in html
    with demo.app_context():
        assert db.session.scalar(select(Contribution.id)) is None  # nothing pending is left behind


def test_stripe_unreachable_leaves_the_resident_on_the_add_on_page(demo, stripe_down):
    client = stripe_down.test_client()
    response = post_checkout(client)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The payment could not be started. Nothing was charged; please try again in a moment." in html
    assert 'name="quantity"' in html  # the form is there to try again
    assert last_contribution(demo) == ("failed", ["contribution.checkout_failed", "contribution.create"])
    assert client.get("/api/v1/pool").get_json()["paid_yen"] == 0


def test_the_thanks_page_waits_when_stripe_cannot_be_asked(client, demo, stripe_down):
    pay_url = post_checkout(client).headers["Location"]
    session_id = pay_url.rsplit("/", 1)[1]
    response = stripe_down.test_client().get(f"/a/demo-bus/thanks?session_id={session_id}", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We have not received confirmation of your payment yet." in html and "Check again" in html
