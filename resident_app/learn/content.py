"""The learn pages: one Markdown file per page per language, read and rendered once."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import frontmatter

from .markdown import Heading, MarkdownError, Rendered, Renderer, glossary_terms, is_safe_link

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content" / "learn"
LANGUAGES = ("ja", "en")
AUDIENCES = ("all", "residents", "organisers", "operators")
GLOSSARY = "glossary"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The live figures a page may show as {{ pool.<name> }}; views.pool_slots() fills them in.
POOL_SLOTS = frozenset({"rate_yen_per_t", "kg_per_100_yen", "contributions", "paid_yen", "co2_kg",
                        "retired_t", "balance_kg"})


class ContentError(ValueError):
    """A content file is missing a field or has one that cannot be used."""


@dataclass(frozen=True)
class Source:
    title: str
    year: int | None = None
    url: str | None = None
    date: str | None = None  # more precise than the year, as published ("2023-05")


@dataclass(frozen=True)
class Page:
    slug: str
    lang: str
    title: str
    summary: str
    order: int
    audience: str
    last_checked: date
    sources: tuple[Source, ...]
    body: Rendered

    @property
    def sections(self) -> tuple[Heading, ...]:
        """The h2 headings: the table of contents."""
        return self.body.sections


@dataclass(frozen=True)
class Library:
    """Every page in every language, by language then slug."""

    pages: dict[str, dict[str, Page]]

    def get(self, lang: str, slug: str) -> Page | None:
        return self.pages.get(lang, {}).get(slug)

    def ordered(self, lang: str) -> list[Page]:
        return sorted(self.pages.get(lang, {}).values(), key=lambda p: (p.order, p.slug))

    def slugs(self, lang: str) -> set[str]:
        return set(self.pages.get(lang, {}))


def _source(raw: object, where: str) -> Source:
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str) or not raw["title"].strip():
        raise ContentError(f"{where}: each source needs a title")
    unknown = set(raw) - {"title", "year", "url", "date"}
    if unknown:
        raise ContentError(f"{where}: unknown source fields {sorted(unknown)}")
    year = raw.get("year")
    if year is not None and (not isinstance(year, int) or not 1900 <= year <= 2100):
        raise ContentError(f"{where}: year must be a number such as 2011")
    url = raw.get("url")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://", url)
                            or not is_safe_link(url)):
        raise ContentError(f"{where}: url must start with http:// or https://")
    when = raw.get("date")
    return Source(raw["title"].strip(), year, url, None if when is None else str(when).replace("..", "–"))


def parse_page(path: Path, lang: str, renderer: Renderer, *, link_terms: bool = True) -> Page:
    """Read one file: check its front matter and render its body."""
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    meta, where = post.metadata, str(path)
    for key in ("title", "summary"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise ContentError(f"{where}: {key} is missing")
    if not isinstance(meta.get("order"), int):
        raise ContentError(f"{where}: order must be a whole number")
    if meta.get("audience") not in AUDIENCES:
        raise ContentError(f"{where}: audience must be one of {AUDIENCES}")
    if not isinstance(meta.get("last_checked"), date):
        raise ContentError(f"{where}: last_checked must be a date (YYYY-MM-DD)")
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources:
        raise ContentError(f"{where}: sources must be a non-empty list")
    try:
        body = renderer.render(post.content, link_terms=link_terms)
    except MarkdownError as error:
        raise ContentError(f"{where}: {error}") from error
    if body.slots - POOL_SLOTS:
        raise ContentError(f"{where}: unknown live figures {sorted(body.slots - POOL_SLOTS)}")
    if any(h.level == 1 for h in body.headings):
        raise ContentError(f"{where}: the title is the page's only h1; start sections at ##")
    return Page(slug=path.stem, lang=lang, title=meta["title"].strip(), summary=meta["summary"].strip(),
                order=meta["order"], audience=meta["audience"], last_checked=meta["last_checked"],
                sources=tuple(_source(s, where) for s in sources), body=body)


def load_language(directory: Path, lang: str) -> dict[str, Page]:
    """All pages of one language; the glossary first, since its headings are the terms to link."""
    paths = sorted(directory.glob("*.md"))
    for path in paths:
        if not SLUG_RE.match(path.stem):
            raise ContentError(f"{path}: file names are slugs: lower-case letters, digits, hyphens")
    pages: dict[str, Page] = {}
    terms = []
    glossary_path = directory / f"{GLOSSARY}.md"
    if glossary_path.exists():
        glossary = parse_page(glossary_path, lang, Renderer(lang=lang), link_terms=False)
        pages[GLOSSARY] = glossary
        terms = glossary_terms(glossary.body.headings, lang=lang)
    renderer = Renderer(terms, lang=lang)
    for path in paths:
        if path.stem != GLOSSARY:
            pages[path.stem] = parse_page(path, lang, renderer)
    return pages


@lru_cache(maxsize=4)
def library(root: Path = CONTENT_DIR) -> Library:
    """Every page, read once per process. A page missing in one language is a test failure
    (tests/integration/test_learn.py), never a silent fallback to the other language."""
    return Library({lang: load_language(root / lang, lang) for lang in LANGUAGES})
