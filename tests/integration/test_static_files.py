"""Static files for phones on weak signal (issue 13): fingerprinted, cached for a year when asked for
by their fingerprint, gzip for text; Plotly fetched only where a chart is drawn."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSET_RE = re.compile(r'(?:src|href|data-plotly)="(/static/[^"]+)"')


def test_pages_link_static_files_by_their_fingerprint(client):
    html = client.get("/calculator").get_data(as_text=True)
    assets = ASSET_RE.findall(html)
    assert any("css/site.css" in a for a in assets) and any("htmx" in a for a in assets)
    for asset in assets:
        path, _, version = asset.partition("?v=")
        data = (ROOT / path.lstrip("/")).read_bytes()
        assert version == hashlib.sha256(data).hexdigest()[:12], asset


def test_a_fingerprinted_file_is_kept_for_a_year_and_an_old_address_is_revalidated(client):
    html = client.get("/").get_data(as_text=True)
    css = next(a for a in ASSET_RE.findall(html) if "css/site.css" in a)
    current = client.get(css)
    assert current.status_code == 200
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for stale in ("/static/css/site.css", "/static/css/site.css?v=000000000000"):
        response = client.get(stale)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
        again = client.get(stale, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_text_files_go_gzip_to_clients_that_accept_it(client):
    original = (ROOT / "static" / "css" / "site.css").read_bytes()
    zipped = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == original and len(zipped.data) < len(original) / 2
    plain = client.get("/static/css/site.css")
    assert "Content-Encoding" not in plain.headers and plain.data == original
    assert client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip",
                                                       "If-None-Match": zipped.headers["ETag"]}).status_code == 304
    icon = client.get("/static/icons/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in icon.headers  # PNG is compressed already


def test_a_missing_or_escaping_static_path_is_404(client):
    assert client.get("/static/css/nothing.css").status_code == 404
    assert client.get("/static/../app.py").status_code == 404


def test_plotly_is_not_loaded_by_pages_but_fetched_by_the_chart_script(client):
    for url in ("/calculator",):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r'<script[^>]+src="[^"]*plotly', html), url
        assert re.search(r'<script src="/static/js/charts\.js\?v=\w+" data-plotly="/static/vendor/plotly/'
                         r'plotly-basic-4\.1\.1\.min\.js\?v=\w+" defer>', html), url
