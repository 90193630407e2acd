"""Crawl the public site from / in each language: every link answers 200, every #fragment exists.

It follows every same-site <a href> in the HTML it receives, so it keeps checking new pages as the
site grows. Assets under /static/ are requested (they must answer 200) but not parsed.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

LIMIT = 300
ORIGIN = "http://localhost"


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []
        self.ids: set[str] = set()
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "a" and attrs.get("href") is not None:
            self.links.append(attrs["href"])
        elif tag in ("link", "script", "img", "source") and (attrs.get("href") or attrs.get("src")):
            self.assets.append(attrs.get("href") or attrs.get("src"))


@dataclass
class Crawl:
    statuses: dict[str, int] = field(default_factory=dict)
    ids: dict[str, set[str]] = field(default_factory=dict)
    found_on: dict[str, str] = field(default_factory=dict)
    fragments: list[tuple[str, str, str]] = field(default_factory=list)  # (on page, target, fragment)
    wrong_lang: list[str] = field(default_factory=list)
    bad_links: list[tuple[str, str]] = field(default_factory=list)


def same_site(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc == "localhost"


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client, lang: str, start: str = "/") -> Crawl:
    result = Crawl()
    queue = deque([start])
    seen = {start}
    headers = {"Accept-Language": lang}
    while queue and len(result.statuses) < LIMIT:
        path = queue.popleft()
        response = client.get(path, headers=headers)
        result.statuses[path] = response.status_code
        is_html = response.mimetype == "text/html"
        if path.startswith("/static/") or not is_html or response.status_code != 200:
            response.close()
            continue
        parser = PageParser()
        parser.feed(response.get_data(as_text=True))
        result.ids[path] = parser.ids
        if parser.lang != lang:
            result.wrong_lang.append(path)
        for href in parser.links + parser.assets:
            if href.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                result.bad_links.append((path, href))
                continue
            absolute, fragment = urldefrag(urljoin(ORIGIN + path, href))
            if not same_site(absolute):
                continue  # mailto:, tel:, other sites
            target = local(absolute)
            if fragment:
                result.fragments.append((path, target, fragment))
            if target not in seen:
                seen.add(target)
                result.found_on[target] = path
                queue.append(target)
    return result


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_link_on_the_site_answers_200(client, lang):
    result = crawl(client, lang)
    assert len(result.statuses) > 10, "the crawl found the site's pages"
    assert any(p.startswith("/static/") for p in result.statuses), "assets were checked too"
    broken = {path: (status, result.found_on.get(path)) for path, status in result.statuses.items()
              if status != 200}
    assert not broken, f"links that do not answer 200 (status, found on): {broken}"
    assert not result.bad_links, result.bad_links
    assert not result.wrong_lang, f"pages not in {lang}: {result.wrong_lang}"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_fragment_link_points_to_an_element_on_its_page(client, lang):
    result = crawl(client, lang)
    assert result.fragments, "the site has #fragment links (skip link, tables of contents, glossary)"
    missing = []
    for on_page, target, fragment in result.fragments:
        if target.startswith("/static/"):
            continue
        if target not in result.ids:  # beyond the crawl's bound: fetch it for its ids
            parser = PageParser()
            parser.feed(client.get(target, headers={"Accept-Language": lang}).get_data(as_text=True))
            result.ids[target] = parser.ids
        if fragment not in result.ids[target]:
            missing.append(f"{on_page} -> {target}#{fragment}")
    assert not missing, "fragment links with no matching id:\n" + "\n".join(sorted(set(missing)))


def test_the_crawler_notices_a_dead_link_and_a_missing_fragment(database_url):
    from resident_app import create_app

    from ..conftest import config_for

    app = create_app(config_for(database_url))
    app.add_url_rule("/crawler-check", "crawler_check", lambda: (
        '<html lang="en"><a href="/no-such-page">x</a> <a href="/learn#no-such-id">y</a></html>'))
    result = crawl(app.test_client(), "en", start="/crawler-check")
    assert result.statuses["/no-such-page"] == 404
    assert ("/crawler-check", "/learn", "no-such-id") in result.fragments
    assert "no-such-id" not in result.ids["/learn"]
