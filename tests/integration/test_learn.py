"""The learn section: every page in both languages, safe Markdown, glossary links, live pool figures."""
from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import select

from resident_app import create_app
from resident_app.carbon.conversion import grams_for_yen
from resident_app.extensions import db
from resident_app.learn.content import (POOL_SLOTS, ContentError, library, load_language)
from resident_app.learn.markdown import GlossaryTerm, Renderer, is_safe_link, mark_japanese
from resident_app.learn.views import pool_slots
from resident_app.models import (AccountStatus, AddOn, AddOnKind, Channel, Contribution,
                                 ContributionStatus, ConversionRate, Role, User)
from resident_app.web.i18n import kg, number, yen

from ..conftest import config_for
from .factories import settle

LANGS = ("ja", "en")
SLUGS = sorted(library().slugs("ja"))
EXPECTED_SLUGS = {"what-is-offset", "reduce-first", "how-the-pool-works", "credits", "for-organisers",
                  "for-operators", "glossary", "faq"}
# Site paths the content may already link to before the page exists: shown as plain text until then.
PLANNED_PATHS = {"/transparency"}


def get(client, url: str, lang: str):
    return client.get(url, headers={"Accept-Language": lang})


def html_of(client, url: str, lang: str) -> str:
    response = get(client, url, lang)
    assert response.status_code == 200, (url, lang, response.status_code)
    return response.get_data(as_text=True)


def body_of(html: str) -> str:
    """The rendered Markdown only (not the nav, the table of contents or the sources)."""
    return html.split('<div class="learn-body">', 1)[1].split('<footer class="learn-sources"', 1)[0]


class Anchors(HTMLParser):
    """Every <a href>, whether it sits inside another <a> or a heading, and every id."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, bool]] = []  # (href, class, inside a heading)
        self.ids: set[str] = set()
        self.depth = 0
        self.max_depth = 0
        self.heading = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag in ("h1", "h2", "h3", "h4"):
            self.heading += 1
        if tag == "a":
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
            self.links.append((attrs.get("href") or "", attrs.get("class") or "", self.heading > 0))

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4"):
            self.heading -= 1
        if tag == "a":
            self.depth -= 1


def anchors(html: str) -> Anchors:
    parser = Anchors()
    parser.feed(html)
    return parser


# --- the files -------------------------------------------------------------------------------


def test_both_languages_have_the_same_pages():
    assert library().slugs("ja") == library().slugs("en") == EXPECTED_SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_both_languages_run_in_parallel(slug):
    ja, en = library().get("ja", slug), library().get("en", slug)
    assert ja and en, f"{slug} is missing in one language"
    assert len(ja.sections) == len(en.sections), "the same number of ## sections in ja and en"
    assert (ja.order, ja.audience) == (en.order, en.audience)
    assert ja.body.diagrams == en.body.diagrams and ja.body.slots == en.body.slots
    assert len(ja.sources) == len(en.sources)
    assert all(s.year or s.date for s in ja.sources) == all(s.year or s.date for s in en.sources)


def test_glossary_terms_have_the_same_ids_in_both_languages():
    ids = {lang: [h.id for h in library().get(lang, "glossary").sections] for lang in LANGS}
    assert ids["ja"] == ids["en"] and len(ids["ja"]) == len(set(ids["ja"])) >= 10


def test_every_site_link_in_the_content_goes_somewhere(app):
    """A typo such as /learn/credit would silently become plain text; only planned pages may."""
    from resident_app.learn.views import site_path_exists

    with app.test_request_context(headers={"Accept-Language": "ja"}):
        for lang in LANGS:
            for page in library().ordered(lang):
                for href in page.body.site_links:
                    path = href.split("#", 1)[0]
                    assert site_path_exists(href) or path in PLANNED_PATHS, (lang, page.slug, href)


def test_the_live_figures_the_content_uses_are_the_ones_the_view_fills(app):
    with app.test_request_context():
        assert set(pool_slots()) == POOL_SLOTS
    used = set().union(*(p.body.slots for lang in LANGS for p in library().ordered(lang)))
    assert used <= POOL_SLOTS


@pytest.mark.parametrize("front_matter, body, message", [
    ("summary: s\norder: 1\naudience: all\nlast_checked: 2026-11-29\nsources: [{title: t, year: 2011}]",
     "x", "title"),
    ("title: t\nsummary: s\norder: 1\naudience: everyone\nlast_checked: 2026-11-29\nsources: [{title: t}]",
     "x", "audience"),
    ("title: t\nsummary: s\norder: 1\naudience: all\nlast_checked: soon\nsources: [{title: t}]",
     "x", "last_checked"),
    ("title: t\nsummary: s\norder: 1\naudience: all\nlast_checked: 2026-11-29\nsources: []", "x", "sources"),
    ("title: t\nsummary: s\norder: 1\naudience: all\nlast_checked: 2026-11-29\n"
     "sources: [{title: t, url: 'javascript:alert(1)'}]", "x", "url"),
    ("title: t\nsummary: s\norder: 1\naudience: all\nlast_checked: 2026-11-29\nsources: [{title: t}]",
     ":::diagram nowhere", "diagram"),
    ("title: t\nsummary: s\norder: 1\naudience: all\nlast_checked: 2026-11-29\nsources: [{title: t}]",
     "{{ pool.secret }}", "live figures"),
    ("title: t\nsummary: s\norder: 1\naudience: all\nlast_checked: 2026-11-29\nsources: [{title: t}]",
     "# A second title", "h1"),
])
def test_a_broken_content_file_is_refused_with_its_name(tmp_path, front_matter, body, message):
    (tmp_path / "broken.md").write_text(f"---\n{front_matter}\n---\n\n{body}\n", encoding="utf-8")
    with pytest.raises(ContentError, match=message) as error:
        load_language(tmp_path, "en")
    assert "broken.md" in str(error.value)


# --- the renderer ------------------------------------------------------------------------------


def test_raw_html_in_a_file_is_escaped_not_rendered():
    text = ('Hello <script>alert("x")</script> and <a href="#" onclick="steal()">click</a>.\n\n'
            '<div onmouseover="x()">block</div>\n\n'
            '[bad](javascript:alert(1)) [data](data:text/html,hi) [far](//evil.example/) '
            '[vb](VBScript:msgbox) <javascript:alert(2)> ![img](https://evil.example/x.png)\n\n'
            '[ok](https://example.org/a?b=1&c=2) [mail](mailto:office@example.org) [here](/calculator)')
    html = str(Renderer().render(text).preview())
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<a href=\"#\" onclick" not in html and "<div" not in html
    assert re.search(r"<[^>]+\son\w+=", html) is None, "no event-handler attribute on any element"
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "<img" not in html  # images are off: the picture's address stays a plain https link
    assert hrefs == ["https://evil.example/x.png", "https://example.org/a?b=1&amp;c=2",
                     "mailto:office@example.org", "/calculator"]


@pytest.mark.parametrize("url, safe", [
    ("https://example.org", True), ("http://example.org", True), ("mailto:a@example.org", True),
    ("/learn/glossary#pool", True), ("#top", True), ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False), (" javascript:alert(1)", False), ("data:text/html,x", False),
    ("//evil.example", False), ("/\\evil.example", False), ("relative/path", False), ("ftp://x", False),
])
def test_only_web_mail_and_site_links_are_allowed(url, safe):
    assert is_safe_link(url) is safe


def test_glossary_links_skip_headings_existing_links_and_repeats():
    renderer = Renderer([GlossaryTerm("pool", ("Pool",)), GlossaryTerm("batch", ("Batch",))], lang="en")
    text = ("## The pool\n\nSee [the pool](/learn/x) first. Then the pools again, the pool once more, "
            "a poolside and a carpool. [Batches](/learn/glossary#batch) and a batch.")
    html = str(renderer.render(text).preview())
    assert "<h2 id=\"section-1\">The pool</h2>" in html
    assert html.count('class="term"') == 1
    assert '<a href="/learn/x">the pool</a>' in html
    assert 'Then the <a href="/learn/glossary#pool" class="term">pools</a> again, the pool once more' in html
    assert "poolside" in html and "carpool" in html
    assert html.count("/learn/glossary#batch") == 1, "a term the author linked is not linked again"


def test_japanese_terms_prefer_the_longest_word():
    renderer = Renderer([GlossaryTerm("credit", ("クレジット",)), GlossaryTerm("j-credit", ("J-クレジット",)),
                         GlossaryTerm("contribution", ("オフセット参加",)),
                         GlossaryTerm("participation-certificate", ("オフセット参加証",))])
    html = str(renderer.render("J-クレジットとクレジット。オフセット参加証とオフセット参加。").preview())
    assert '<a href="/learn/glossary#j-credit" class="term">J-クレジット</a>' in html
    assert '<a href="/learn/glossary#credit" class="term">クレジット</a>' in html
    assert '<a href="/learn/glossary#participation-certificate" class="term">オフセット参加証</a>' in html
    assert '<a href="/learn/glossary#contribution" class="term">オフセット参加</a>' in html


def test_japanese_inside_english_pages_is_marked_as_japanese():
    html = str(Renderer(lang="en").render("## Pool (共同購入／プール)\n\nThe J-クレジット scheme.").preview())
    assert '<h2 id="section-1">Pool <span lang="ja">(共同購入／プール)</span></h2>' in html
    assert 'The J-<span lang="ja">クレジット</span> scheme.' in html
    assert "lang=" not in str(Renderer(lang="ja").render("共同購入（プール）").preview())


def test_a_link_to_a_page_that_does_not_exist_yet_is_plain_text():
    rendered = Renderer().render("See [the report](/transparency#latest) and [the calculator](/calculator).")
    pieces = rendered.segments(lambda href: not href.startswith("/transparency"))
    html = "".join(str(value) for _, value in pieces)
    assert html == '<p>See the report and <a href="/calculator">the calculator</a>.</p>\n'


def test_links_to_the_transparency_page_appear_once_the_route_exists(database_url):
    without = create_app(config_for(database_url))
    if not any(rule.rule == "/transparency" for rule in without.url_map.iter_rules()):
        html = html_of(without.test_client(), "/learn/faq", "en")
        assert 'href="/transparency"' not in html and "transparency page" in html
    with_page = create_app(config_for(database_url))
    with_page.add_url_rule("/transparency", "transparency_stub", lambda: "report")
    html = html_of(with_page.test_client(), "/learn/faq", "en")
    assert '<a href="/transparency">transparency page</a>' in html


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_renders_with_title_sources_and_date(client, lang, slug):
    page = library().get(lang, slug)
    html = html_of(client, f"/learn/{slug}", lang)
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{escape(page.title)}</h1>" in html
    assert f"<title>{escape(page.title)} | " in html
    sources = html.split('<footer class="learn-sources"', 1)[1]
    for source in page.sources:
        assert str(escape(source.title) if lang == "ja" else mark_japanese(source.title)) in sources
        if source.url:
            assert f'href="{escape(source.url)}"' in sources
        if source.year and not source.date:
            assert f"({source.year})" in sources
    assert f'<time datetime="{page.last_checked.isoformat()}">' in sources
    for leftover in (":::diagram", "{{", "}}", "\x00", "\ufffd"):
        assert leftover not in html, leftover


@pytest.mark.parametrize("lang", LANGS)
def test_long_pages_have_a_table_of_contents_of_their_sections(client, lang):
    for page in library().ordered(lang):
        html = html_of(client, f"/learn/{page.slug}", lang)
        parsed = anchors(body_of(html))
        if len(page.sections) >= 3:
            toc = html.split('<nav class="learn-toc', 1)[1].split("</nav>", 1)[0]
            assert re.findall(r'href="#([^"]+)"', toc) == [s.id for s in page.sections]
            assert {s.id for s in page.sections} <= parsed.ids
        else:
            assert "learn-toc" not in html
        assert html.count("<h2") - body_of(html).count("<h2") == 1 + (len(page.sections) >= 3)


def test_the_same_number_of_sections_is_rendered_in_both_languages(client):
    for slug in SLUGS:
        counts = {lang: body_of(html_of(client, f"/learn/{slug}", lang)).count("<h2") for lang in LANGS}
        assert counts["ja"] == counts["en"] == len(library().get("ja", slug).sections), slug


def test_index_lists_every_page_in_order_with_its_audience(client):
    html = html_of(client, "/learn", "en")
    positions = [html.index(f'href="/learn/{p.slug}"') for p in library().ordered("en")]
    assert positions == sorted(positions)
    for page in library().ordered("en"):
        assert str(escape(page.summary)) in html
    for label in ("For everyone", "For residents", "For event organisers", "For bus and tour operators"):
        assert label in html
    assert '<html lang="ja">' in html_of(client, "/learn", "ja")


@pytest.mark.parametrize("url", ["/learn/no-such-page", "/learn/GLOSSARY", "/learn/glossary.md",
                                 "/learn/..%2Fja%2Fglossary"])
def test_unknown_slug_is_404(client, url):
    assert get(client, url, "en").status_code == 404


def test_learn_is_in_the_navigation_and_current_on_its_pages(client):
    for url in ("/learn", "/learn/faq"):
        nav = re.search(r'<nav class="site-nav".*?</nav>', html_of(client, url, "en"), re.S).group(0)
        assert '<a href="/learn" aria-current="page">Learn</a>' in nav
    nav = re.search(r'<nav class="site-nav".*?</nav>', html_of(client, "/", "en"), re.S).group(0)
    assert nav.count('aria-current="page"') == 1 and '<a href="/learn">' in nav


def test_the_offset_cycle_is_a_diagram_of_five_real_text_steps(client):
    html = html_of(client, "/learn/what-is-offset", "en")
    figure = html.split('<figure class="cycle"', 1)[1].split("</figure>", 1)[0]
    steps = re.findall(r'<li class="cycle-step">(.*?)</li>', figure, re.S)
    assert len(steps) == 5
    for name in ("Recognise", "Reduce", "Work out the remainder", "Offset", "Disclose"):
        assert name in figure
    assert '<span class="cycle-term" lang="ja">見える化</span>' in figure
    assert "<img" not in figure and "<svg" not in figure
    assert html.index('<figure class="cycle"') < html.index("<ol>\n<li><strong>Know")


# --- glossary links ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_glossary_link_resolves_in_both_languages(client, lang):
    glossary_ids = {other: anchors(html_of(client, "/learn/glossary", other)).ids for other in LANGS}
    used = set()
    for slug in SLUGS:
        html = html_of(client, f"/learn/{slug}", lang)
        used |= {href.split("#", 1)[1] for href, _, _ in anchors(html).links
                 if href.startswith("/learn/glossary#")}
    assert used, "the pages link to glossary terms"
    for other in LANGS:
        assert used <= glossary_ids[other], sorted(used - glossary_ids[other])


@pytest.mark.parametrize("lang, slug, word, term", [
    ("en", "what-is-offset", "carbon offset", "carbon-offset"),
    ("ja", "what-is-offset", "カーボン・オフセット", "carbon-offset"),
    ("en", "reduce-first", "visualisation", "visualisation"),
    ("ja", "credits", "温室効果ガス", "greenhouse-gas"),
    ("ja", "for-organisers", "プール", "pool"),
])
def test_glossary_terms_are_linked_automatically(client, lang, slug, word, term):
    html = body_of(html_of(client, f"/learn/{slug}", lang))
    assert f'<a href="/learn/glossary#{term}" class="term">{word}</a>' in html


@pytest.mark.parametrize("lang", LANGS)
def test_glossary_links_are_never_nested_in_headings_or_repeated(client, lang):
    for slug in SLUGS:
        parsed = anchors(body_of(html_of(client, f"/learn/{slug}", lang)))
        assert parsed.max_depth == 1, (slug, "a link inside a link")
        terms = [href for href, css, _ in parsed.links if css == "term"]
        assert len(terms) == len(set(terms)), (slug, "each term is linked once at most")
        assert not [href for href, _, in_heading in parsed.links if in_heading], (slug, "no link in a heading")
        if slug == "glossary":
            assert terms == [], "the glossary does not link to itself"
        else:
            assert terms, slug


# --- the pool's live figures -----------------------------------------------------------------


def make_user(**overrides) -> User:
    user = User(email=f"{secrets.token_hex(4)}@example.org", password_hash="x", role=Role.ORGANISER,
                status=AccountStatus.ACTIVE, session_token=secrets.token_hex(8))
    for key, value in overrides.items():
        setattr(user, key, value)
    db.session.add(user)
    return user


def make_addon(**overrides) -> AddOn:
    addon = AddOn(slug=secrets.token_hex(6), owner=overrides.pop("owner", None) or make_user(),
                  kind=AddOnKind.COMMUNITY_BUS, title_ja="コミュニティバス", title_en="Community bus",
                  unit_price_yen=100)
    for key, value in overrides.items():
        setattr(addon, key, value)
    db.session.add(addon)
    return addon


def make_contribution(addon: AddOn, *, quantity: int = 1, status=ContributionStatus.PAID) -> Contribution:
    """A contribution at the rate in force, as the payment service records it."""
    rate = db.session.scalars(select(ConversionRate).order_by(ConversionRate.effective_from.desc())).first()
    amount = addon.unit_price_yen * quantity
    contribution = Contribution(
        number=secrets.token_hex(6), certificate_token=secrets.token_urlsafe(16), addon=addon,
        channel=Channel.CASH, status=ContributionStatus.PENDING, quantity=quantity,
        unit_price_yen=addon.unit_price_yen, amount_yen=amount, co2_g=grams_for_yen(amount, rate.yen_per_t),
        rate=rate, rate_yen_per_t=rate.yen_per_t, idempotency_key=secrets.token_hex(16))
    db.session.add(contribution)
    return settle(contribution, status)


def figures_table(html: str) -> list[str]:
    """The values column of the live-figures table (the first table in the page)."""
    table = body_of(html).split("<table>", 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>\s*<td>.*?</td>\s*<td>(.*?)</td>\s*</tr>", table, re.S)


def expected_figures(app, pool: dict, lang: str) -> list[str]:
    with app.test_request_context(headers={"Accept-Language": lang}):
        return [yen(pool["rate_yen_per_t"]), kg(grams_for_yen(100, pool["rate_yen_per_t"])),
                number(pool["contributions"]), yen(pool["paid_yen"]), kg(pool["co2_g"]),
                number(pool["retired_t"]), kg(pool["balance_g"])]


@pytest.mark.parametrize("lang", LANGS)
def test_pool_page_shows_the_same_figures_as_the_api(app, client, lang):
    before = client.get("/api/v1/pool").get_json()
    assert figures_table(html_of(client, "/learn/how-the-pool-works", lang)) == expected_figures(app, before, lang)

    with app.app_context():
        bus = make_addon()
        make_contribution(bus)
        make_contribution(make_addon(owner=bus.owner, unit_price_yen=300), quantity=2)
        make_contribution(bus, status=ContributionStatus.PENDING)  # not paid: not counted
        db.session.commit()

    after = client.get("/api/v1/pool").get_json()
    assert after["contributions"] == before["contributions"] + 2
    assert after["paid_yen"] == before["paid_yen"] + 700
    shown = figures_table(html_of(client, "/learn/how-the-pool-works", lang))
    assert shown == expected_figures(app, after, lang)
    if lang == "en" and before["contributions"] == 0:
        assert shown[2:5] == ["2", "¥700", "70.0"]
