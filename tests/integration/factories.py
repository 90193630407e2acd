"""Plain factories for accounts, add-ons and contributions, and a log-in helper.

Each factory opens its own application context and returns ids, so no test holds ORM objects
across requests (the test client's requests must each get a fresh context and `g`)."""
from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
import stripe
from sqlalchemy import select

from resident_app.carbon.conversion import grams_for_yen
from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOn, AddOnKind, Channel, Contribution,
                                 ContributionStatus, Role, User)
from resident_app.models.addons import new_slug, new_token
from resident_app.services.programme import current_rate

from ..conftest import WEBHOOK_SECRET, csrf_token

PASSWORD = "correct-horse-battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(app, email: str = "organiser@npo.example.jp", *, role: Role = Role.ORGANISER,
              status: AccountStatus = AccountStatus.ACTIVE, organisation: str = "NPO みどりの会",
              password: str = PASSWORD) -> int:
    with app.app_context():
        user = User(email=email, role=role, status=status, organisation=organisation, contact_name="山田",
                    session_token=secrets.token_hex(16))
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


def make_addon(app, owner_id: int, **overrides) -> int:
    fields = dict(slug=new_slug(), owner_id=owner_id, kind=AddOnKind.EVENT_TICKET, title_ja="環境フェスタ",
                  title_en="Eco festa", unit_price_yen=100, is_active=True, is_public=True)
    fields.update(overrides)
    with app.app_context():
        addon = AddOn(**fields)
        db.session.add(addon)
        db.session.commit()
        return addon.id


def settle(contribution: Contribution, status: ContributionStatus | str = ContributionStatus.PAID, *,
           paid_at: datetime | None = None, refunded_yen: int | None = None) -> Contribution:
    """Bring a contribution added as pending to `status` the way the services do it: paid by the one
    mark_paid (with its ledger entry), refunded by the refund service. Commits."""
    from resident_app.services.payments import mark_paid
    from resident_app.services.refunds import refund_in_transaction

    db.session.flush()
    status = ContributionStatus(status)
    if status in (ContributionStatus.PAID, ContributionStatus.REFUNDED):
        mark_paid([contribution.id], paid_at=paid_at or datetime.now(timezone.utc), actor="test")
        db.session.refresh(contribution)
    if status == ContributionStatus.REFUNDED or refunded_yen:
        refund_in_transaction(contribution, refunded_yen if refunded_yen is not None else contribution.amount_yen,
                              actor="test")
    elif status not in (ContributionStatus.PAID, ContributionStatus.PENDING):
        contribution.status = status
    db.session.commit()
    db.session.refresh(contribution)
    return contribution


def make_contribution(app, addon_id: int, **overrides) -> int:
    """A paid contribution at the current rate, as if Stripe had confirmed it (or another status:
    paid and refunded ones go through the services, so the ledger has their entries)."""
    with app.app_context():
        addon = db.session.get(AddOn, addon_id)
        rate = current_rate()
        quantity = overrides.pop("quantity", 1)
        amount = overrides.pop("amount_yen", addon.unit_price_yen * quantity)
        fields = dict(
            number=f"OC-T-{uuid.uuid4().hex[:12]}", certificate_token=new_token(), addon_id=addon_id,
            channel=Channel.STRIPE, status=ContributionStatus.PAID, quantity=quantity,
            unit_price_yen=addon.unit_price_yen, amount_yen=amount,
            co2_g=grams_for_yen(amount, rate.yen_per_t), rate_id=rate.id, rate_yen_per_t=rate.yen_per_t,
            display_name="", receipt_email="resident@example.jp", locale="ja",
            idempotency_key=f"test-{uuid.uuid4()}", paid_at=datetime.now(timezone.utc))
        fields.update(overrides)
        status, paid_at = fields.pop("status"), fields.pop("paid_at")
        refunded_yen = fields.pop("refunded_yen", None)
        contribution = Contribution(status=ContributionStatus.PENDING, **fields)
        db.session.add(contribution)
        settle(contribution, status, paid_at=paid_at, refunded_yen=refunded_yen)
        return contribution.id


def token_from(client, url: str) -> str:
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, email: str = "organiser@npo.example.jp", password: str = PASSWORD, headers=None, **extra):
    """Log in through the form, as a browser does; `headers` go on the request, the rest in the form."""
    data = {"email": email, "password": password, "csrf_token": token_from(client, "/auth/login"), **extra}
    return client.post("/auth/login", data=data, headers=headers or {})


def addon_form(**values) -> dict[str, str]:
    """A valid add-on form as the page submits it; override any field."""
    form = {"kind": "event_ticket", "title_ja": "みどり台 環境フェスタ", "title_en": "Midoridai Eco Festa",
            "description_ja": "", "description_en": "", "unit_price_yen": "200", "event_date": "",
            "place": "", "emissions_note_ja": "", "emissions_note_en": "", "sale_starts_at": "",
            "sale_ends_at": "", "max_units": "", "is_active": "1"}
    form.update(values)
    return form


# --- paying through the local Stripe sandbox -------------------------------------------------------

def pool(client) -> dict:
    return client.get("/api/v1/pool").get_json()


def start(client, slug="demo-bus", **form) -> str:
    """POST the add-on form; returns the sandbox pay page URL."""
    data = {"quantity": "1", "csrf_token": csrf_token(client, f"/a/{slug}"), **form}
    response = client.post(f"/a/{slug}/checkout", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def pay(pay_url: str, action: str = "pay") -> str:
    """Press a button on the sandbox's hosted page; returns where it sends the browser."""
    page = requests.get(pay_url, timeout=5)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    done = requests.post(pay_url, data={"form_token": token, "action": action}, allow_redirects=False, timeout=5)
    assert done.status_code == 303
    return done.headers["Location"]


def session_id(pay_url: str) -> str:
    return urlsplit(pay_url).path.rsplit("/", 1)[1]


def events_for(stripe_sandbox, sid: str, kind: str) -> list[dict]:
    found = []
    for record in stripe_sandbox.sandbox.events(kind):
        obj = record.event["data"]["object"]
        if obj.get("id") == sid or obj.get("payment_intent") and sid == obj.get("payment_intent"):
            found.append(record.event)
    return found


def signed(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict:
    header = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp if timestamp is not None else int(time.time()))
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def deliver(client, event: dict, **kwargs):
    payload = json.dumps(event)
    return client.post("/webhooks/stripe", data=payload, headers=signed(payload, **kwargs))


def contribution(app, sid: str) -> Contribution:
    with app.app_context():
        row = db.session.scalar(select(Contribution).where(Contribution.stripe_session_id == sid))
        db.session.expunge(row)
        return row
