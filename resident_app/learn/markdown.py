"""Safe Markdown for the learn pages: no raw HTML, checked links, glossary links, live slots.

Rendering happens once per file (at start-up) and knows nothing of the request. What depends on
the request is left in the HTML as NUL-delimited markers, which markdown-it can never produce
from a file (it turns NUL into U+FFFD): internal links (kept only if the path exists on the
site), live figures and diagrams. `Rendered.segments()` resolves them for one request.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup, escape

MARK = "\x00"
GLOSSARY_PATH = "/learn/glossary"
DIAGRAMS = frozenset({"offset-cycle"})
SLOT_RE = re.compile(r"(?P<slot>\{\{\s*pool\.(?P<slotname>[a-z0-9_]+)\s*\}\})")  # {{ pool.paid_yen }}
HEADING_ID_RE = re.compile(r"\s*\{#([A-Za-z][A-Za-z0-9_-]*)\}\s*$")
DIAGRAM_RE = re.compile(r":::diagram\s+([a-z0-9-]+)\s*")
SAFE_SCHEME_RE = re.compile(r"^(?:https?:|mailto:)", re.IGNORECASE)
# Kana, kanji and full-width forms: Japanese inside an English page is marked lang="ja", so screen
# readers switch voice and browsers pick a Japanese font.
_JA = r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+"
# "(無効化)" and "(J-クレジット)" keep their brackets with them.
JAPANESE_RE = re.compile(rf"\([^()]*?{_JA}[^()]*\)|{_JA}")


class MarkdownError(ValueError):
    """A content file uses something the renderer does not allow (an unknown diagram, say)."""


def is_safe_link(url: str) -> bool:
    """http(s), mailto, a path on this site or a fragment; nothing else (no javascript:, data:, //host)."""
    url = url.strip()
    if "\\" in url or any(ord(c) < 0x20 for c in url):
        return False
    if url.startswith("#"):
        return True
    if url.startswith("/"):
        return not url.startswith("//")
    return bool(SAFE_SCHEME_RE.match(url))


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class GlossaryTerm:
    """Words that, in body text, link to /learn/glossary#<id>."""

    id: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Rendered:
    """HTML with markers, plus what the page needs to know about itself."""

    html: str
    headings: tuple[Heading, ...]
    slots: frozenset[str] = frozenset()
    diagrams: tuple[str, ...] = ()
    site_links: tuple[str, ...] = ()  # every internal href, written or added

    @property
    def sections(self) -> tuple[Heading, ...]:
        return tuple(h for h in self.headings if h.level == 2)

    def segments(self, path_exists: Callable[[str], bool] = lambda _: True,
                 slots: Mapping[str, str] | None = None) -> list[tuple[str, Markup | str]]:
        """("html", Markup) and ("diagram", name) pieces for one request.

        An internal link whose path does not exist (yet) becomes its plain text; slots get the
        given (escaped) values.
        """
        slots = slots or {}
        pieces: list[tuple[str, Markup | str]] = []
        out: list[str] = []
        open_links: list[bool] = []
        for i, part in enumerate(self.html.split(MARK)):
            if i % 2 == 0:
                out.append(part)
                continue
            kind, _, value = part.partition(" ")
            if kind in ("a", "term"):
                keep = path_exists(value)
                open_links.append(keep)
                if keep:
                    css = ' class="term"' if kind == "term" else ""
                    out.append(f'<a href="{escape(value)}"{css}>')
            elif kind == "/a":
                if open_links.pop():
                    out.append("</a>")
            elif kind == "slot":
                out.append(str(escape(slots.get(value, "–"))))
            elif kind == "diagram":
                # Every piece of `out` was escaped as it was added (bandit B704).
                pieces.append(("html", Markup("".join(out))))  # nosec B704
                pieces.append(("diagram", value))
                out = []
        # The same: escaped as it was added (bandit B704).
        pieces.append(("html", Markup("".join(out))))  # nosec B704
        return [(kind, value) for kind, value in pieces if kind != "html" or value]

    def preview(self) -> Markup:
        """The HTML with every link kept and diagrams as [diagram name] (tests, content checks)."""
        # Segments are escaped HTML; a diagram name is one of ours (bandit B704).
        return Markup("".join(str(v) if k == "html" else f"[diagram {v}]" for k, v in self.segments()))  # nosec B704


def mark_japanese(text: str) -> Markup:
    """Escaped text with each run of Japanese wrapped in <span lang="ja">."""
    # The text is escaped first (bandit B704).
    return Markup(JAPANESE_RE.sub(lambda m: f'<span lang="ja">{m.group(0)}</span>', str(escape(text))))  # nosec B704


# --- markdown-it rules ---------------------------------------------------------------------


def _diagram_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """`:::diagram <name>` alone on a line."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    line = state.src[state.bMarks[start] + state.tShift[start]:state.eMarks[start]]
    match = DIAGRAM_RE.fullmatch(line)
    if not match:
        return False
    if silent:
        return True
    token = state.push("learn_diagram", "", 0)
    token.info = match.group(1)
    token.map = [start, start + 1]
    token.block = True
    state.line = start + 1
    return True


def _heading_ids(state: StateCore) -> None:
    """`## Text {#id}` sets the id; other headings get section-N (N counts h2 and deeper)."""
    number = 0
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        number += 1
        inline = tokens[i + 1]
        match = HEADING_ID_RE.search(inline.content)
        if match:
            inline.content = inline.content[:match.start()]
            token.attrSet("id", match.group(1))
        else:
            token.attrSet("id", f"section-{number}")


def _text_of(inline: Token) -> str:
    return "".join(c.content for c in (inline.children or []) if c.type in ("text", "code_inline"))


@dataclass
class _Env:
    terms: Sequence[GlossaryTerm] = ()
    pattern: re.Pattern[str] | None = None
    headings: list[Heading] = field(default_factory=list)
    slots: set[str] = field(default_factory=set)
    diagrams: list[str] = field(default_factory=list)
    site_links: list[str] = field(default_factory=list)
    link_stack: list[bool] = field(default_factory=list)
    mark_japanese: bool = False


def _split_text(token: Token, env: _Env, linked: set[str]) -> list[Token]:
    """A text token cut into text, slot and glossary-link tokens."""
    text = token.content
    result: list[Token] = []
    pos = 0

    def add_text(chunk: str) -> None:
        if chunk:
            piece = Token("text", "", 0)
            piece.content = chunk
            result.append(piece)

    for match in (env.pattern or SLOT_RE).finditer(text):
        add_text(text[pos:match.start()])
        pos = match.end()
        if match.lastgroup == "slot":
            slot = Token("learn_slot", "", 0)
            slot.info = match.group("slotname")
            env.slots.add(slot.info)
            result.append(slot)
            continue
        term_id = env.terms[int(match.lastgroup[1:])].id
        if term_id in linked:
            add_text(match.group(0))
            continue
        linked.add(term_id)
        opener = Token("link_open", "a", 1)
        opener.attrSet("href", f"{GLOSSARY_PATH}#{term_id}")
        opener.meta = {"term": True}
        word = Token("text", "", 0)
        word.content = match.group(0)
        result += [opener, word, Token("link_close", "a", -1)]
    add_text(text[pos:])
    return result


def _term_pattern(terms: Sequence[GlossaryTerm], latin: bool) -> re.Pattern[str] | None:
    """One alternation, longest words first; group tN is terms[N]. Latin words match whole words."""
    if not terms:
        return None
    alternatives = []
    for index, term in enumerate(terms):
        words = sorted(term.words, key=len, reverse=True)
        body = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
        if latin:
            body = rf"(?<![\w-])(?:{body})(?:s|es)?(?![\w-])"
        alternatives.append((max(map(len, words)), f"(?P<t{index}>{body})"))
    alternatives.sort(key=lambda a: a[0], reverse=True)
    return re.compile("|".join([SLOT_RE.pattern] + [a[1] for a in alternatives]),
                      re.IGNORECASE if latin else 0)


def _post_inline(state: StateCore) -> None:
    """Collect headings; add slots and glossary links to body text (never in headings or links)."""
    env: _Env = state.env["learn"]
    tokens = state.tokens
    written = {t.attrGet("href") for inline in tokens if inline.type == "inline"
               for t in inline.children or [] if t.type == "link_open"}
    # A term the author already linked is not linked a second time.
    linked = {str(href).split("#", 1)[1] for href in written
              if href and str(href).startswith(GLOSSARY_PATH + "#")}
    in_heading = False
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            in_heading = True
            env.headings.append(Heading(int(token.tag[1]), str(token.attrGet("id")), _text_of(tokens[i + 1])))
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline" and not in_heading:
            children: list[Token] = []
            depth = 0
            for child in token.children or []:
                if child.type == "link_open":
                    depth += 1
                elif child.type == "link_close":
                    depth -= 1
                if child.type == "text" and depth == 0:
                    children += _split_text(child, env, linked)
                else:
                    children.append(child)
            token.children = children
    if env.mark_japanese:
        for token in tokens:
            if token.type == "inline":
                token.children = [piece for child in token.children or [] for piece in _japanese_runs(child)]


def _japanese_runs(token: Token) -> list[Token]:
    """A text token split so that each run of Japanese sits between learn_ja_open and learn_ja_close."""
    if token.type != "text" or not JAPANESE_RE.search(token.content):
        return [token]
    pieces: list[Token] = []
    pos = 0
    for match in JAPANESE_RE.finditer(token.content):
        for kind, content in (("text", token.content[pos:match.start()]), ("learn_ja_open", ""),
                              ("text", match.group(0)), ("learn_ja_close", "")):
            if kind != "text" or content:
                piece = Token(kind, "", 0)
                piece.content = content
                pieces.append(piece)
        pos = match.end()
    if token.content[pos:]:
        rest = Token("text", "", 0)
        rest.content = token.content[pos:]
        pieces.append(rest)
    return pieces


def _render_link_open(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    internal = href.startswith("/")
    env["learn"].link_stack.append(internal)
    if internal:
        env["learn"].site_links.append(href)
        kind = "term" if (token.meta or {}).get("term") else "a"
        return f"{MARK}{kind} {href}{MARK}"
    return self.renderToken(tokens, idx, options, env)


def _render_link_close(self, tokens, idx, options, env) -> str:
    if env["learn"].link_stack.pop():
        return f"{MARK}/a{MARK}"
    return self.renderToken(tokens, idx, options, env)


def _render_slot(self, tokens, idx, options, env) -> str:
    return f"{MARK}slot {tokens[idx].info}{MARK}"


def _render_ja_open(self, tokens, idx, options, env) -> str:
    return '<span lang="ja">'


def _render_ja_close(self, tokens, idx, options, env) -> str:
    return "</span>"


def _render_diagram(self, tokens, idx, options, env) -> str:
    name = tokens[idx].info
    if name not in DIAGRAMS:
        raise MarkdownError(f"unknown diagram {name!r}; known: {sorted(DIAGRAMS)}")
    env["learn"].diagrams.append(name)
    return f"{MARK}diagram {name}{MARK}\n"


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.disable("image")  # pictures would bypass the page's own, translated figures
    md.validateLink = is_safe_link
    md.block.ruler.before("paragraph", "learn_diagram", _diagram_block, {"alt": ["paragraph"]})
    md.core.ruler.after("block", "learn_heading_ids", _heading_ids)
    md.core.ruler.push("learn_post_inline", _post_inline)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("link_close", _render_link_close)
    md.add_render_rule("learn_slot", _render_slot)
    md.add_render_rule("learn_diagram", _render_diagram)
    md.add_render_rule("learn_ja_open", _render_ja_open)
    md.add_render_rule("learn_ja_close", _render_ja_close)
    return md


class Renderer:
    """Renders one language's pages, linking that language's glossary terms."""

    def __init__(self, terms: Iterable[GlossaryTerm] = (), *, lang: str = "ja"):
        self.terms = tuple(terms)
        self.latin = lang != "ja"  # words between spaces; Japanese runs get lang="ja"
        self.pattern = _term_pattern(self.terms, self.latin)
        self.md = _make_parser()

    def render(self, text: str, *, link_terms: bool = True) -> Rendered:
        env = _Env(terms=self.terms, pattern=self.pattern if link_terms else None,
                   mark_japanese=self.latin)
        html = self.md.render(text, {"learn": env})
        return Rendered(html=html, headings=tuple(env.headings), slots=frozenset(env.slots),
                        diagrams=tuple(env.diagrams), site_links=tuple(env.site_links))


def glossary_terms(headings: Iterable[Heading], *, lang: str) -> list[GlossaryTerm]:
    """Terms from the glossary's h2 headings.

    English "Invalidation (無効化)" gives "Invalidation". Japanese "共同購入（プール）" gives the
    whole heading, "共同購入" and "プール".
    """
    terms = []
    for heading in headings:
        if heading.level != 2:
            continue
        text = heading.text.strip()
        if lang == "ja":
            words = [text]
            match = re.fullmatch(r"(.+?)\s*[（(](.+?)[）)]", text)
            if match:
                words += [match.group(1), match.group(2)]
        else:
            words = [re.sub(r"\s*[（(].*$", "", text)]
        terms.append(GlossaryTerm(heading.id, tuple(w for w in words if w)))
    return terms
