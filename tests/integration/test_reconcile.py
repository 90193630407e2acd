"""`flask payments reconcile`: every paid session is counted once, even when no webhook came."""
from __future__ import annotations

import re
from datetime import date, timedelta

import requests
from sqlalchemy import func, select

from resident_app.extensions import db
from resident_app.models import AuditEntry, Contribution
from resident_app.payments.gateway import get_gateway

from ..conftest import csrf_token


def paid_at_the_sandbox(client, slug: str = "demo-bus", quantity: str = "1") -> str:
    """Check out and press Pay; the resident never comes back, and (in these tests) no webhook is sent."""
    response = client.post(f"/a/{slug}/checkout",
                           data={"quantity": quantity, "csrf_token": csrf_token(client, f"/a/{slug}")})
    pay_url = response.headers["Location"]
    page = requests.get(pay_url, timeout=5)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    assert requests.post(pay_url, data={"form_token": token, "action": "pay"}, allow_redirects=False,
                         timeout=5).status_code == 303
    return pay_url.rsplit("/", 1)[1]


def statuses(app, sessions: list[str]) -> list[str]:
    with app.app_context():
        return [db.session.scalar(select(Contribution.status).where(Contribution.stripe_session_id == s))
                for s in sessions]


def test_reconcile_fulfils_paid_sessions_missing_here_and_is_safe_to_repeat(client, demo, runner):
    sessions = [paid_at_the_sandbox(client), paid_at_the_sandbox(client, quantity="3")]
    unpaid = client.post("/a/demo-bus/checkout",
                         data={"quantity": "1", "csrf_token": csrf_token(client, "/a/demo-bus")})
    assert unpaid.status_code == 303  # a resident who left the pay page: nothing to fulfil
    assert statuses(demo, sessions) == ["pending", "pending"]

    first = runner.invoke(args=["payments", "reconcile", "--since", date.today().isoformat()])
    assert first.exit_code == 0, first.output
    assert "2 fulfilled now" in first.output
    lines = [line for line in first.output.splitlines() if line.startswith("fulfilled ")]
    assert sorted(line.split()[1] for line in lines) == sorted(sessions)
    assert any(line.endswith("(300 yen)") for line in lines)
    assert statuses(demo, sessions) == ["paid", "paid"]
    assert client.get("/api/v1/pool").get_json()["paid_yen"] == 400

    again = runner.invoke(args=["payments", "reconcile", "--since", date.today().isoformat()])
    assert "0 fulfilled now" in again.output and "fulfilled cs_" not in again.output
    with demo.app_context():
        paid_rows = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                      .where(AuditEntry.action == "contribution.paid"))
    assert paid_rows == 2


def test_sessions_before_the_day_are_left_alone(client, demo, runner):
    session = paid_at_the_sandbox(client)
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    result = runner.invoke(args=["payments", "reconcile", "--since", tomorrow])
    assert "0 sessions" in result.output
    assert statuses(demo, [session]) == ["pending"]


def test_a_paid_session_unknown_here_is_reported_not_invented(client, demo, runner):
    with demo.app_context():
        foreign = get_gateway().create_checkout_session({
            "mode": "payment", "success_url": "https://elsewhere.example/ok",
            "line_items": [{"price_data": {"currency": "jpy", "unit_amount": 500,
                                           "product_data": {"name": "another shop"}}, "quantity": 1}],
        }, "foreign-1")
    page = requests.get(foreign.url, timeout=5)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    requests.post(foreign.url, data={"form_token": token, "action": "pay"}, allow_redirects=False, timeout=5)
    result = runner.invoke(args=["payments", "reconcile", "--since", date.today().isoformat()])
    assert f"unknown   {foreign.id}: 500 yen paid at Stripe but no contribution here" in result.output
    assert client.get("/api/v1/pool").get_json()["paid_yen"] == 0
