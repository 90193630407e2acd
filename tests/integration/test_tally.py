"""The organiser's live tally: figures and the last ten minutes, polled by htmx from a cache so
hundreds of screens cost one query per add-on and worker every few seconds; a plain page without JS."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from resident_app.extensions import db

from .factories import login, make_addon, make_contribution, make_user

OWNER = "owner@npo.example.jp"
HTMX = {"HX-Request": "true", "Accept-Language": "en"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def festival(app):
    owner = make_user(app, OWNER)
    addon = make_addon(app, owner, title_en="Bus fare", unit_price_yen=100)
    return addon


def test_the_page_shows_the_tally_with_a_refresh_link_and_polls_with_htmx(app, client, festival):
    make_contribution(app, festival, quantity=3)
    make_contribution(app, festival, paid_at=datetime.now(timezone.utc) - timedelta(minutes=25))
    login(client, OWNER)
    html = client.get(f"/organiser/addons/{festival}", headers=EN).get_data(as_text=True)
    assert re.search(r'id="total-units">4<', html) and re.search(r'id="total-yen">¥400<', html)
    assert 'id="total-kg">40.0 kg-CO2<' in html
    assert "In the last 10 minutes: 3 units, ¥300." in html  # the payment 25 minutes ago is not recent
    assert re.search(r"Last payment at \d{1,2}:\d\d:\d\d", html)
    # Without JavaScript: the tally's own address sends the browser to a freshly loaded page.
    assert f'href="/organiser/addons/{festival}/tally">Refresh</a>' in html
    assert f'hx-get="/organiser/addons/{festival}/tally" hx-trigger="every 10s" hx-swap="outerHTML"' in html


def test_the_poll_answers_the_fragment_and_a_browser_the_page(app, client, festival):
    login(client, OWNER)
    fragment = client.get(f"/organiser/addons/{festival}/tally", headers=HTMX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="live"') and "<html" not in body
    assert "In the last 10 minutes: 0 units, ¥0." in body and "Last payment" not in body
    plain = client.get(f"/organiser/addons/{festival}/tally")
    assert plain.status_code == 303 and plain.headers["Location"] == f"/organiser/addons/{festival}#live"


def test_someone_elses_tally_is_a_404_and_signed_out_goes_to_log_in(app, client, festival):
    make_user(app, "other@npo.example.jp")
    login(client, "other@npo.example.jp")
    assert client.get(f"/organiser/addons/{festival}/tally", headers=HTMX).status_code == 404
    client.post("/auth/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)})
    assert client.get(f"/organiser/addons/{festival}/tally", headers=HTMX).status_code == 401


def test_an_inactive_add_on_is_not_polled(app, client):
    owner = make_user(app, OWNER)
    closed = make_addon(app, owner, is_active=False)
    login(client, OWNER)
    html = client.get(f"/organiser/addons/{closed}").get_data(as_text=True)
    assert 'id="live"' in html and "hx-trigger" not in html.split('id="live"')[1].split(">")[0]


def test_hundreds_of_polls_cost_one_query_of_the_contributions(build_app, festival):
    cached = build_app(TALLY_CACHE_SECONDS=60)
    client = cached.test_client()
    login(client, OWNER)
    statements: list[str] = []
    with cached.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        first = client.get(f"/organiser/addons/{festival}/tally", headers=HTMX).get_data(as_text=True)
        make_contribution(cached, festival, quantity=2)  # paid while the screens are watching
        polls = [client.get(f"/organiser/addons/{festival}/tally", headers=HTMX).get_data(as_text=True)
                 for _ in range(300)]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    tallies = [s for s in statements if "sum(contributions.quantity)" in s.lower()]
    assert len(tallies) == 1  # the first poll; the other 300 read the cache
    assert all(p == first for p in polls)  # as of the cached moment ("Figures as of ...")
    page = client.get(f"/organiser/addons/{festival}", headers=EN).get_data(as_text=True)
    assert re.search(r'id="total-units">2<', page)  # the full page is always fresh
