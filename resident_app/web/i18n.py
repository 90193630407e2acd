"""Locale choice and the number, yen and CO2 formats every page uses."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, format_currency, parse_pattern
from flask import Flask, current_app, has_request_context, request
from flask.globals import _cv_app
from flask_babel import format_date, format_datetime, format_time, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup, escape

from ..services.defaults import DEFAULT_EVENT_SET_NAME, DEFAULT_SET_NAME, OPENING_RATE_REASON

LOCALE_COOKIE = "lang"
# Text the system itself stored (the default factor set's name, the opening rate's reason): shown
# in the page's language. Text staff typed is shown as they typed it.
STORED_TEXTS = {
    DEFAULT_SET_NAME: _l("Programme default factors"),
    DEFAULT_EVENT_SET_NAME: _l("Programme default event factors"),
    OPENING_RATE_REASON: _l("Opening rate"),
}


def select_locale() -> str:
    """The switcher's cookie, else the browser's Accept-Language (ja or en), else Japanese."""
    if not has_request_context():  # CLI and background work speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return "Asia/Tokyo"


def _babel_context():
    """Flask-Babel's per-request namespace (where it keeps the locale, and force_locale changes it).
    Read through the app context's ContextVar: `g` is a proxy, and a page asks this ~200 times."""
    app_context = _cv_app.get(None)
    return None if app_context is None else app_context.g.__dict__.get("_flask_babel")


def locale_code() -> str:
    """The page's language code ("ja", "en"). A page asks this a hundred times: read Flask-Babel's
    remembered locale directly, and ask Flask-Babel only the first time in a request."""
    context = _babel_context()
    locale = getattr(context, "babel_locale", None) if context is not None else None
    if locale is None:
        locale = get_locale()
        if locale is None:
            return "ja"
    return _code(locale)


@lru_cache(maxsize=32)
def _code(locale: Locale) -> str:
    return str(locale)


def translations():
    """This request's catalogue, as Flask-Babel's get_translations() finds it, remembered beside the
    locale it was found for (so force_locale still switches it)."""
    context = _babel_context()
    locale = getattr(context, "babel_locale", None) if context is not None else None
    if locale is not None:
        held = getattr(context, "resident_translations", None)
        if held is not None and held[0] is locale and held[1] is getattr(context, "babel_domain", None):
            return held[2]
    found = get_translations()
    context = _babel_context()
    if context is not None and getattr(context, "babel_locale", None) is not None:
        context.resident_translations = (context.babel_locale, getattr(context, "babel_domain", None), found)
    return found


@lru_cache(maxsize=32)
def _number_format(code: str, places: int) -> tuple[Locale, NumberPattern]:
    """Babel's locale and pattern, parsed once (format_decimal parses both on every call: ~9x slower)."""
    return Locale.parse(code), parse_pattern("#,##0" + ("." + "0" * places if places else ""))


@lru_cache(maxsize=32)
def _plain_grouping(code: str) -> bool:
    """True when the locale writes numbers as Python's "," format does: "." for the decimal point,
    "," between groups of three, "-" before a negative number (Japanese and English do)."""
    locale, pattern = _number_format(code, 1)
    symbols = locale.number_symbols.get("latn", locale.number_symbols)
    return (symbols.get("decimal"), symbols.get("group"), symbols.get("minusSign")) == (".", ",", "-") \
        and pattern.grouping == (3, 3)


def number(value: int | Decimal, places: int = 0) -> str:
    """A number with the locale's grouping, half up to `places` decimals."""
    code = locale_code()
    if places == 0 and isinstance(value, int) and _plain_grouping(code):
        return f"{value:,}"
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    if _plain_grouping(code):
        return f"{rounded:,.{places}f}"
    locale, pattern = _number_format(code, places)
    return pattern.apply(rounded, locale)


def yen(amount: int) -> str:
    """1,500円 in Japanese, ¥1,500 in English."""
    if locale_code() == "ja":
        return f"{number(amount)}円"
    return format_currency(amount, "JPY", locale="en")


def kg(grams: int) -> str:
    """Grams shown as kilograms: whole kg from 100 kg up, one decimal below."""
    places = 0 if abs(grams) >= 100_000 else 1
    return number(Decimal(grams) / 1000, places)


def tonnes(grams: int, places: int = 2) -> str:
    return number(Decimal(grams) / 1_000_000, places)


def percent(value: int) -> str:
    return f"{number(value)}%"


def share(part: int, total: int) -> str:
    """part as a whole percentage of total, half up; "–" when there is no total."""
    if total <= 0:
        return "–"
    return percent(int((Decimal(part) * 100 / total).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def fiscal_year(value: str) -> str:
    """'FY2022' reads 2022年度 in Japanese; anything else is shown as written in the source."""
    text = str(value)
    if locale_code() == "ja" and text.startswith("FY") and text[2:].isdigit():
        return f"{text[2:]}年度"
    if locale_code() == "ja" and text.endswith(" guideline") and text[:4].isdigit():
        return f"{text[:4]}年 ガイドライン"  # e.g. the LPG association's 2009 guideline
    return text


def iso_date(value: str) -> str:
    """An ISO date kept as text (a saved estimate's tariff date) in the page's long format."""
    try:
        return local_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def note_lang(value: str) -> str:
    """"en" for a working note with no Japanese in it (most of the research data's notes), else "ja"."""
    return "ja" if any("\u3040" <= ch <= "\u9fff" for ch in str(value)) else "en"


def cite_year(value: str) -> str:
    """A citation's year: 'FY2022' as a fiscal year, '2024' as 2024年 in Japanese, others as written."""
    text = str(value)
    if text.startswith("FY"):
        return fiscal_year(text)
    if locale_code() == "ja" and text.isdigit() and len(text) == 4:
        return f"{text}年"
    return text


def local_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return format_date(value, format="long")
    return format_date(value, format="long")


def local_datetime(value: datetime) -> str:
    return format_datetime(value, format="medium")


# Terms that must not break across lines even at their inner punctuation (phrase breaking splits
# カーボン・オフセット at the dot).
KEEP_TOGETHER = ("カーボン・オフセット",)


def keep_terms(text: str) -> Markup:
    """The text, escaped, with each KEEP_TOGETHER term in a span that does not wrap."""
    html = str(escape(text))
    for term in KEEP_TOGETHER:
        html = html.replace(term, f'<span class="keep">{term}</span>')
    return Markup(html)  # nosec B704 - html is escape(text) plus our own fixed spans


def stored_text(text: str) -> str:
    """A stored text in the page's language: the system's own texts through the catalogue, a name
    staff stored as "日本語 / English" split by language, anything else as typed."""
    known = STORED_TEXTS.get(text)
    if known is not None:
        return str(known)
    value = str(text)
    if " / " not in value:
        return value
    ja, en = value.split(" / ", 1)
    return ja if locale_code() == "ja" else en


def local_time(value: datetime) -> str:
    """The time of day in Japan, to the second (15:04:05)."""
    return format_time(value, format="medium")


def init_app(app: Flask) -> None:
    """Register the formats as Jinja filters and the locale in every template."""
    # pass_context stops Jinja from folding `100|yen` into a constant at compile time, which would
    # freeze it in the language of whoever happened to load the template first.
    def per_request(function):
        return pass_context(lambda _context, *args, **kwargs: function(*args, **kwargs))

    # Flask-Babel's template gettext asks for the request's catalogue through four lookups on every
    # string; these ask once per request (translations()), with the same catalogue and the same
    # behaviour under force_locale.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters.update({name: per_request(function) for name, function in {
        "yen": yen, "kg": kg, "tonnes": tonnes, "number": number, "percent": percent, "share": share,
        "local_date": local_date, "local_datetime": local_datetime, "local_time": local_time,
        "fiscal_year": fiscal_year, "stored_text": stored_text, "keep_terms": keep_terms,
        "cite_year": cite_year, "iso_date": iso_date, "note_lang": note_lang}.items()})

    @app.context_processor
    def locale_context() -> dict[str, object]:
        return {"locale": locale_code(), "languages": app.config["LANGUAGES"],
                "payments_sandbox": not app.config.get("STRIPE_SECRET_KEY")}

    @app.after_request
    def vary_on_locale(response):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response
