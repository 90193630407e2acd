"""The organiser's event offset certificate: only once contributions are retired, only their own."""
from __future__ import annotations

import pytest

from .factories import login, make_addon, make_contribution, make_user
from .pool_data import build_pool

EN = {"Accept-Language": "en"}


@pytest.fixture
def pool(app, tmp_path):
    return build_pool(app, tmp_path)


def test_the_certificate_shows_what_was_retired(client, pool):
    login(client, pool.organiser_email)
    page = client.get(f"/organiser/addons/{pool.bus_id}", headers=EN).get_data(as_text=True)
    assert f'href="/organiser/addons/{pool.bus_id}/certificate"' in page
    response = client.get(f"/organiser/addons/{pool.bus_id}/certificate", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Retired: the ¥12,000 fare (120 units, 1,200 kg); the later ¥1,000 still waits; the refund is not counted.
    assert 'id="cert-units">120<' in html and 'id="cert-yen">¥12,000<' in html
    assert 'id="cert-kg">1,200 kg-CO2<' in html
    assert "A further 10 units (100 kg-CO2) are paid and wait for the next invalidation" in html
    for text in (pool.batch_number, "みどり台バス", "<code>JP-123-0001</code> – <code>JP-123-0003</code>",
                 "下川町森林吸収", "J-Credit registry", "3 t-CO2 invalidated for the whole batch"):
        assert text in html, text
    assert "http://localhost/transparency" in html and "js/print.js" in html and "data-print" in html


def test_no_certificate_before_retirement(app, client, pool):
    login(client, pool.organiser_email)
    other = make_addon(app, pool.organiser_id, title_ja="まだ")
    make_contribution(app, other)
    assert client.get(f"/organiser/addons/{other}/certificate").status_code == 404
    page = client.get(f"/organiser/addons/{other}", headers=EN).get_data(as_text=True)
    assert "/certificate" not in page


def test_another_organisers_certificate_is_404(app, client, pool):
    make_user(app, "other@npo.example.jp")
    login(client, "other@npo.example.jp")
    assert client.get(f"/organiser/addons/{pool.bus_id}/certificate").status_code == 404


def test_staff_see_every_certificate(client, pool):
    login(client, pool.staff_email)
    assert client.get(f"/organiser/addons/{pool.event_id}/certificate").status_code == 200
