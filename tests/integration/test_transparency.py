"""The public transparency report: the page, /transparency.json and .csv and /api/v1/pool agree."""
from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict

import plotly.graph_objects as go
import pytest

from resident_app.transparency import notice_url

from .pool_data import build_pool

EN = {"Accept-Language": "en"}


@pytest.fixture
def pool(app, tmp_path):
    return build_pool(app, tmp_path)


def values_by_id(html: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'id="(t-[a-z0-9-]+)" data-value="(-?\d+)"', html)}


def test_an_empty_pool_has_a_page_too(client):
    for lang in ("ja", "en"):
        response = client.get("/transparency", headers={"Accept-Language": lang})
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No batch has been confirmed yet" in html and 'data-figure' not in html
    assert client.get("/transparency.json").get_json()["batches"] == []


def test_the_page_figures_equal_the_api_and_the_json(client, pool):
    html = client.get("/transparency", headers=EN).get_data(as_text=True)
    api = client.get("/api/v1/pool").get_json()
    data = client.get("/transparency.json").get_json()
    shown = values_by_id(html)
    assert shown["t-paid-yen"] == api["paid_yen"] == data["pool"]["paid_yen"] == 26_000  # the refund left out
    assert shown["t-contributions"] == api["contributions"] == data["pool"]["contributions"] == 4
    assert shown["t-co2"] == api["co2_g"] == data["pool"]["co2_g"] == 2_600_000
    assert shown["t-retired"] == api["retired_t"] == data["pool"]["retired_t"] == 3
    assert shown["t-balance"] == api["balance_g"] == data["pool"]["balance_g"] == 500_000
    assert data["pool"] == api
    assert shown["t-awaiting"] == data["awaiting_g"] == 100_000
    assert shown["t-spent"] == data["credits_spent_yen"] == 30_000
    # and as people read them
    assert "¥26,000" in html and "3 t-CO2" in html and "500 kg-CO2" in html


def test_a_confirmed_batch_appears_with_its_credits_and_serial_range(client, pool):
    html = client.get("/transparency", headers=EN).get_data(as_text=True)
    assert f'id="batch-{pool.batch_number}"' in html
    batch = html[html.index(f'id="batch-{pool.batch_number}"'):]
    for text in ("下川町森林吸収", "JCL-0042", "北海道/下川町", "みどり信金", "J-Credit", "2026年度 共同購入",
                 "東京都/八王子市", "<code>JP-123-0001</code> – <code>JP-123-0003</code>", "¥10,000 per tonne"):
        assert text in batch, text
    assert f'href="http://localhost/evidence/notices/{pool.invalidation_id}"' in batch
    assert client.get(f"/evidence/notices/{pool.invalidation_id}").status_code == 200


def test_without_the_evidence_route_the_notice_is_on_file(app, client, pool):
    del app.view_functions["evidence.notice"]
    html = client.get("/transparency", headers=EN).get_data(as_text=True)
    assert "Notice on file" in html and "/evidence/notices/" not in html
    with app.test_request_context():
        assert notice_url(pool.invalidation_id) is None


def test_the_json_rebuilds_the_page(client, pool):
    data = client.get("/transparency.json").get_json()
    pool_figures = data["pool"]
    months, programmes = data["months"], data["programmes"]
    assert sum(m["paid_yen"] for m in months) == pool_figures["paid_yen"]
    assert sum(m["co2_g"] for m in months) == pool_figures["co2_g"]
    assert sum(m["contributions"] for m in months) == pool_figures["contributions"]
    assert sum(m["invalidated_t"] for m in months) == pool_figures["retired_t"]
    assert len(months) == 2                                    # 40 days ago and now
    assert [p["programme"] for p in programmes] == ["community_bus", "events", "households", "other"]
    assert {p["programme"]: p["paid_yen"] for p in programmes} == {
        "community_bus": 13_000, "events": 8_000, "households": 5_000, "other": 0}
    assert sum(p["co2_g"] for p in programmes) == pool_figures["co2_g"]
    [batch] = data["batches"]
    assert batch["number"] == pool.batch_number and batch["invalidated_t"] == 3
    assert sum(i["tonnes"] for b in data["batches"] for i in b["invalidations"]) == pool_figures["retired_t"]
    # the invariant: tonnes retired cover what they retired, the rest is the balance
    assert pool_figures["retired_t"] * 1_000_000 == data["retired_contributions_g"] + pool_figures["balance_g"]
    assert data["awaiting_g"] == pool_figures["co2_g"] - data["retired_contributions_g"]
    invalidation = batch["invalidations"][0]
    assert invalidation["serial_ranges"] == [{"start": "JP-123-0001", "end": "JP-123-0003"}]
    assert invalidation["notice_url"].endswith(f"/evidence/notices/{pool.invalidation_id}")
    assert batch["purchase"]["credit_type"] == "j_credit" and batch["purchase"]["total_yen"] == 30_000
    assert data["rates"] == [{"effective_from": "2026-04-01T09:00:00+09:00", "yen_per_t": 10_000,
                              "reason": "Opening rate"}]
    assert "receipt_email" not in json.dumps(data) and "resident@example.jp" not in json.dumps(data)


def test_the_csv_rebuilds_the_totals(client, pool):
    response = client.get("/transparency.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["section", "key", "field", "value"]
    table: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for section, key, field, value in rows[1:]:
        table[section][key][field] = value
    api = client.get("/api/v1/pool").get_json()
    assert {name: int(value) for name, value in table["pool"][""].items() if name in api} == api
    assert sum(int(m["paid_yen"]) for m in table["month"].values()) == api["paid_yen"]
    assert sum(int(m["co2_g"]) for m in table["month"].values()) == api["co2_g"]
    assert sum(int(m["invalidated_t"]) for m in table["month"].values()) == api["retired_t"]
    assert sum(int(p["paid_yen"]) for p in table["programme"].values()) == api["paid_yen"]
    assert table["batch"][pool.batch_number]["invalidated_t"] == "3"
    assert table["invalidation"][f"{pool.batch_number}/1"]["serial_ranges"] == "JP-123-0001 – JP-123-0003"
    assert table["purchase"][pool.batch_number]["project_name"] == "下川町森林吸収"


def test_the_chart_is_a_valid_figure_with_a_table_beside_it(client, pool):
    html = client.get("/transparency", headers=EN).get_data(as_text=True)
    attribute = re.search(r"data-figure='([^']+)'", html).group(1)
    figure = json.loads(attribute.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))
    go.Figure(figure)
    assert figure["data"][1]["y"][-1] == 3                     # 3 t invalidated this month
    assert 'id="month-table"' in html and "plotly-basic-4.1.1.min.js" in html and "js/charts.js" in html


def test_corrections_show_on_the_page_and_in_the_data(app, client, pool):
    from flask_babel import force_locale

    from resident_app.extensions import db
    from resident_app.models import Invalidation, User
    from resident_app.services.corrections import record_correction

    with app.app_context(), force_locale("en"):
        staff = db.session.query(User).filter_by(email=pool.staff_email).one()
        item = db.session.get(Invalidation, pool.invalidation_id)
        record_correction(item, field="purpose", new_value="2026年度 共同購入 (訂正)", reason="通知書どおり", actor=staff)
    html = client.get("/transparency", headers=EN).get_data(as_text=True)
    assert "2026年度 共同購入 (訂正)" in html and "Corrected after confirmation: purpose." in html
    assert "Reason: 通知書どおり" in html
    data = client.get("/transparency.json").get_json()
    assert data["batches"][0]["invalidations"][0]["purpose"] == "2026年度 共同購入 (訂正)"
    assert data["batches"][0]["corrections"][0]["reason"] == "通知書どおり"


def test_the_nav_links_to_the_report_and_the_learn_pages_link_to_it(client):
    home = client.get("/", headers=EN).get_data(as_text=True)
    assert '<a href="/transparency">Transparency</a>' in home
    faq = client.get("/learn/faq", headers=EN).get_data(as_text=True)
    assert '<a href="/transparency">transparency page</a>' in faq


def test_the_report_works_at_phone_width_without_javascript(client, pool):
    html = client.get("/transparency", headers=EN).get_data(as_text=True)
    assert "<script>" not in html                              # no inline script: the CSP holds
    assert 'id="month-table"' in html and 'id="programme-table"' in html   # the figures without the chart


def test_the_rate_history_is_public_with_its_reasons(app, client):
    from resident_app.services.programme import set_rate

    with app.app_context():
        set_rate(12_000, actor="staff@city.example.jp", reason="J-クレジット価格の上昇")
    html = client.get("/transparency", headers=EN).get_data(as_text=True)
    table = html[html.index('id="rate-history"'):html.index("</table>", html.index('id="rate-history"'))]
    assert "¥12,000" in table and "J-クレジット価格の上昇" in table and "¥10,000" in table
    assert "staff@city.example.jp" not in html                 # who set it stays in the staff console
    assert client.get("/transparency.json").get_json()["pool"]["rate_yen_per_t"] == 12_000
