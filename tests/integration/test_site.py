"""The frame every page shares: language choice, health, security headers, error pages."""
import re

import pytest

from resident_app import create_app

from ..conftest import config_for, csrf_token

PAGES = ["/", "/calculator", "/methodology"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_answer_in_japanese_by_default(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert '<html lang="ja">' in response.get_data(as_text=True)


@pytest.mark.parametrize("header, lang", [
    ("en-US,en;q=0.9", "en"), ("ja-JP,ja;q=0.9,en;q=0.5", "ja"), ("fr-FR,fr", "ja"), ("", "ja"),
    ("de, en;q=0.4", "en"),
])
def test_accept_language_picks_ja_or_en(client, header, lang):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html


def test_switcher_keeps_you_on_the_same_page_and_wins_over_the_browser(client):
    token = csrf_token(client, "/methodology")
    response = client.post("/language", data={"lang": "en", "next": "/methodology?x=1",
                                              "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/methodology?x=1"
    assert "lang=en" in response.headers["Set-Cookie"]
    html = client.get("/methodology", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert 'name="lang" value="ja"' in html  # the switcher now offers Japanese


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil", "javascript:x", ""])
def test_switcher_never_redirects_off_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/"


def test_switcher_ignores_unknown_languages_and_needs_csrf(client):
    response = client.post("/language", data={"lang": "xx", "next": "/", "csrf_token": csrf_token(client)})
    assert "lang=" not in response.headers.get("Set-Cookie", "")
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 400


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_the_switcher_pointing_back_to_itself(client, url):
    html = client.get(url).get_data(as_text=True)
    assert f'name="next" value="{url}"' in html


def test_navigation_shows_only_pages_that_exist(client, app):
    html = client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)
    for href in re.findall(r'href="([^"]+)"', nav):
        assert client.get(href).status_code == 200, href


def test_home_says_what_the_site_is_and_who_runs_it(client, app):
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Joint Carbon Offset Programme" in html
    assert "¥10,000 per tonne" in html and "10.0 kg" in html
    assert 'href="/calculator"' in html and 'href="/methodology"' in html


def test_methodology_lists_every_factor_with_source_year_and_confidence(client):
    html = client.get("/methodology", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for text in ["0.423", "2.21", "6", "2.49", "2.32", "2.58", "0.239", "FY2024", "FY2022", "施行令",
                 "FAQ No. 2197", "https://www.waterworks.metro.tokyo.jp/kurashi/co2.html", "P*"]:
        assert text in html, text
    assert "143 yen per L" in html and "127 yen per L" in html  # gasoline, kerosene: yen saved on fuels
    assert "Juryo Dento B" in html and "29.80" in html and "935.25" in html  # bills read through the tariff
    assert "verify" not in html.lower() and "[secondary]" not in html      # working notes stay with staff


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "ok"


def test_healthz_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(config_for(f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_no_inline_scripts_anywhere(client):
    for url in PAGES:
        html = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="' in tag or 'type="application/json"' in tag, (url, tag)


def test_404_page_in_the_visitors_language(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_405_is_a_page_not_a_crash(client):
    assert client.delete("/calculator").status_code == 405


def test_session_cookie_is_lax_and_httponly(client):
    client.get("/calculator")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_constant_amounts_follow_each_requests_language(client):
    """Jinja must not fold `100|yen` at compile time: the first visitor's language would stick."""
    assert "100円" in client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "¥100" in english and "100円" not in english


@pytest.mark.parametrize("url, target", [
    ("/learn/", "/learn"), ("/learn/faq/", "/learn/faq"), ("/transparency/", "/transparency"),
    ("/calculator/?period=year", "/calculator?period=year"),
])
def test_a_trailing_slash_leads_to_the_page(client, url, target):
    response = client.get(url)
    assert response.status_code == 301 and response.headers["Location"] == target
    assert client.get(target).status_code == 200


@pytest.mark.parametrize("url", ["/no-such-page/", "//evil.example/", "/learn/no/such/"])
def test_a_trailing_slash_on_nothing_is_still_404(client, url):
    response = client.get(url)
    assert response.status_code in (404, 200) and "Location" not in response.headers


def test_text_the_system_stored_reads_in_the_pages_language(client):
    ja = client.get("/methodology", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    en = client.get("/methodology", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "「本プログラム標準係数」" in ja and "Programme default factors" not in ja
    assert "&#34;Programme default factors&#34;" in en or '"Programme default factors"' in en
    assert "本プログラム標準係数" not in en
    rates_ja = client.get("/transparency", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "事業開始時のレート" in rates_ja and "Opening rate" not in rates_ja
    assert "Opening rate" in client.get("/transparency", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_the_site_name_keeps_its_terms_whole(client):
    html = client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<span class="brand-name">東京 くらしのCO2と<span class="keep">カーボン・オフセット</span></span>' in html
