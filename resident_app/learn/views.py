"""GET /learn (the cards) and GET /learn/<slug> (one page)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..services.pool import pool_figures
from ..web.i18n import kg, locale_code, number, yen
from . import bp
from .content import library
from .markdown import mark_japanese

AUDIENCE_LABELS = {
    "all": _l("For everyone"),
    "residents": _l("For residents"),
    "organisers": _l("For event organisers"),
    "operators": _l("For bus and tour operators"),
}
TOC_MIN_SECTIONS = 3


@bp.record_once
def _load_at_start_up(state) -> None:
    library()  # a broken content file stops the app from starting, not a reader's request


@bp.app_template_filter("ja_parts")
def ja_parts(text: str):
    """On an English page, Japanese words in front-matter text are marked lang="ja"."""
    return text if locale_code() == "ja" else mark_japanese(text)


def site_path_exists(href: str) -> bool:
    """True when a link to this path would answer: a route in the URL map (and a page we have)."""
    parts = urlsplit(href)
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(parts.path, method="GET")
    except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect
        return False
    if endpoint == "learn.page":
        return library().get(locale_code(), args["slug"]) is not None
    return True


def pool_slots() -> dict[str, str]:
    """The pool's live figures, formatted for the page's language."""
    figures = pool_figures()
    rate = figures.rate_yen_per_t
    return {
        "rate_yen_per_t": yen(rate) if rate else "–",
        "kg_per_100_yen": kg(figures.grams_per_100_yen) if rate else "–",
        "contributions": number(figures.contributions),
        "paid_yen": yen(figures.paid_yen),
        "co2_kg": kg(figures.co2_g),
        "retired_t": number(figures.retired_t),
        "balance_kg": kg(figures.balance_g),
    }


@bp.get("")
def index():
    return render_template("learn/index.html", pages=library().ordered(locale_code()),
                           audiences=AUDIENCE_LABELS)


@bp.get("/<slug>")
def page(slug: str):
    lang = locale_code()
    found = library().get(lang, slug)
    if found is None:
        abort(404)
    slots = pool_slots() if found.body.slots else {}
    ordered = library().ordered(lang)
    position = next(i for i, p in enumerate(ordered) if p.slug == slug)
    return render_template(
        "learn/page.html", page=found, body=found.body.segments(site_path_exists, slots),
        show_toc=len(found.sections) >= TOC_MIN_SECTIONS, audiences=AUDIENCE_LABELS,
        previous_page=ordered[position - 1] if position > 0 else None,
        next_page=ordered[position + 1] if position + 1 < len(ordered) else None,
    )
