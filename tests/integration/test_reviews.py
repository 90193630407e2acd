"""The staff screen for contributions waiting for a person: flags resolved with a reason, disputes."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AddOnKind, AuditEntry, Contribution, DisputeStatus, Role
from resident_app.services.refunds import record_refund

from .factories import login, make_addon, make_contribution, make_user, token_from

STAFF = "staff@city.example.jp"


@pytest.fixture
def flagged(app, client):
    make_user(app, STAFF, role=Role.STAFF, organisation="環境政策課")
    organiser = make_user(app, "bus@npo.example.jp")
    fare = make_addon(app, organiser, kind=AddOnKind.COMMUNITY_BUS, title_en="Loop bus", unit_price_yen=100)
    partial = make_contribution(app, fare, quantity=10, stripe_payment_intent_id="pi_partial")
    disputed = make_contribution(app, fare, quantity=3, dispute_status=DisputeStatus.OPEN)
    with app.app_context():
        record_refund({"payment_intent": "pi_partial", "refunded": False, "amount_refunded": 400})
    client.set_cookie("lang", "en")
    assert login(client, STAFF).status_code == 303
    return {"partial": partial, "disputed": disputed}


def test_the_review_page_lists_flags_with_what_they_mean_and_disputes(client, flagged):
    html = client.get("/staff/reviews").get_data(as_text=True)
    review = re.search(rf'<article class="review" id="review-{flagged["partial"]}".*?</article>', html, re.S).group(0)
    assert "Partly refunded: the refunded share is already taken out of the pool" in review
    assert "¥400 refunded of ¥1,000 so far: 40.0 kg-CO2 less owed." in review and "¥400 refunded" in review
    table = re.search(r'<table class="data" id="disputed-table">.*?</table>', html, re.S).group(0)
    assert "Held out of batches" in table
    dashboard = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/reviews"' in dashboard


def test_resolving_a_flag_needs_a_reason_and_is_audited(app, client, flagged):
    url = f"/staff/contributions/{flagged['partial']}/resolve"
    refused = client.post(url, data={"csrf_token": token_from(client, "/staff/reviews"), "reason": "  "})
    assert refused.status_code == 422
    assert re.search(rf'id="error-r{flagged["partial"]}-reason" class="field-error">Say what was done about this flag.<',
                     refused.get_data(as_text=True))
    done = client.post(url, data={"csrf_token": token_from(client, "/staff/reviews"),
                                  "reason": "Stripe ダッシュボードで 400 円を返金済み"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/staff/reviews")
    with app.app_context():
        row = db.session.get(Contribution, flagged["partial"])
        assert (row.flag_kind, row.flag_reason, row.net_yen) == ("", "", 600)   # the money side stays
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contribution.flag_resolved"))
        assert entry.actor.startswith("user:") and entry.before["kind"] == "partial_refund"
        assert entry.after == {"resolution": "Stripe ダッシュボードで 400 円を返金済み"}
    page = client.get("/staff/reviews").get_data(as_text=True)
    assert f'id="review-{flagged["partial"]}"' not in page and 'id="no-flags"' in page
    again = client.post(url, data={"csrf_token": token_from(client, "/staff/reviews"), "reason": "again"})
    assert again.status_code == 422 and "no flag to resolve" in again.get_data(as_text=True)


def test_the_contribution_page_shows_refunds_disputes_and_resolves_there(app, client, flagged):
    html = client.get(f"/staff/contributions/{flagged['partial']}").get_data(as_text=True)
    assert re.search(r'id="contribution-refunded">¥400 and 40\.0 kg-CO2<', html)
    assert re.search(r'id="contribution-net">¥600 and 60\.0 kg-CO2<', html)
    response = client.post(f"/staff/contributions/{flagged['partial']}/resolve", data={
        "csrf_token": token_from(client, f"/staff/contributions/{flagged['partial']}"), "from": "contribution",
        "reason": "checked"})
    assert response.headers["Location"].endswith(f"/staff/contributions/{flagged['partial']}")
    disputed = client.get(f"/staff/contributions/{flagged['disputed']}").get_data(as_text=True)
    assert re.search(r'id="contribution-dispute">Under dispute: .*?held out of batches<', disputed)


def test_organisers_cannot_resolve_flags(app, client, flagged):
    client.get("/auth/logout")
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/")})
    assert login(client, "bus@npo.example.jp").status_code == 303
    response = client.post(f"/staff/contributions/{flagged['partial']}/resolve",
                           data={"csrf_token": token_from(client, "/"), "reason": "x"})
    assert response.status_code == 403
