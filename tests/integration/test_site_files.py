"""Files browsers and crawlers ask for at fixed addresses (public/site_files.py), and each page's
description and robots meta (web/meta.py)."""
import io
import re
from html import unescape

import pytest
from PIL import Image

from resident_app.extensions import db
from resident_app.models import AddOn

from .factories import make_addon, make_user

JA, EN = {"Accept-Language": "ja"}, {"Accept-Language": "en"}


def test_favicon_is_an_icon_with_the_usual_sizes(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert Image.open(io.BytesIO(response.data)).info["sizes"] >= {(16, 16), (32, 32), (48, 48)}
    assert response.cache_control.max_age and response.cache_control.max_age >= 24 * 3600


def test_apple_touch_icon_is_an_opaque_180px_square(client):
    image = Image.open(io.BytesIO(client.get("/apple-touch-icon.png").data))
    assert image.size == (180, 180) and image.mode == "RGB"


@pytest.mark.parametrize("headers, name", [(JA, "東京 くらしのCO2とカーボン・オフセット"), (EN, "Tokyo Household CO2 and Offsets")])
def test_manifest_names_colours_and_icons_in_the_visitors_language(client, headers, name):
    response = client.get("/manifest.webmanifest", headers=headers)
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == name and manifest["short_name"] and len(manifest["short_name"]) <= 15
    assert manifest["lang"] == headers["Accept-Language"] and manifest["start_url"] == "/"
    assert manifest["theme_color"] == "#1b6e53" and manifest["background_color"] == "#f5f7f6"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable"), ("any", "any")} <= sizes
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == icon["type"], icon
        if icon["type"] == "image/png":
            assert Image.open(io.BytesIO(image.data)).size == tuple(int(n) for n in icon["sizes"].split("x"))


def test_every_page_links_the_icons_and_the_manifest(client):
    html = client.get("/").get_data(as_text=True)
    for link in ('rel="icon" href="/favicon.ico"', 'rel="icon" href="/static/icons/icon.svg?v=',
                 'rel="apple-touch-icon" href="/apple-touch-icon.png"', 'rel="manifest" href="/manifest.webmanifest"',
                 '<meta name="theme-color" content="#1b6e53">'):
        assert link in html


def test_robots_txt_keeps_private_pages_out_of_search(client):
    text = client.get("/robots.txt").get_data(as_text=True)
    assert text.startswith("User-agent: *\n")
    for prefix in ("/auth/", "/staff/", "/organiser/", "/c/", "/r/"):
        assert f"Disallow: {prefix}\n" in text
    assert "Disallow: /\n" not in text and "Disallow: /a/" not in text


def description(client, url: str, headers) -> str:
    html = client.get(url, headers=headers).get_data(as_text=True)
    found = re.findall(r'<meta name="description" content="([^"]*)">', html)
    assert len(found) == 1, url
    return unescape(found[0])


def test_each_public_page_describes_itself_in_both_languages(client):
    pages = ["/", "/calculator", "/methodology", "/learn", "/learn/what-is-offset", "/transparency"]
    for headers in (JA, EN):
        texts = [description(client, url, headers) for url in pages]
        assert len(set(texts)) == len(pages), texts                   # each page its own
        assert all(20 <= len(text) <= 220 for text in texts), [len(text) for text in texts]
    assert "オフセット" in description(client, "/transparency", JA)
    assert "offset" in description(client, "/transparency", EN)


def test_an_add_on_page_is_described_by_the_add_on(app, client):
    owner = make_user(app, "owner@npo.example.jp")
    slug_id = make_addon(app, owner, description_ja="商店街のイベントで出るCO2をオフセットします。",
                         description_en="Offsets the CO2 of the shopping street's event.")
    with app.app_context():
        slug = db.session.get(AddOn, slug_id).slug
    assert description(client, f"/a/{slug}", JA) == "商店街のイベントで出るCO2をオフセットします。"
    assert description(client, f"/a/{slug}", EN) == "Offsets the CO2 of the shopping street's event."


def test_private_pages_are_not_indexed_and_public_ones_are(client):
    for url in ("/auth/login", "/auth/signup"):
        assert '<meta name="robots" content="noindex">' in client.get(url).get_data(as_text=True), url
    for url in ("/", "/calculator", "/learn", "/transparency", "/methodology"):
        assert 'name="robots"' not in client.get(url).get_data(as_text=True), url
