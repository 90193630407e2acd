"""Locale choice and the number, yen and CO2 formats every page uses."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_time, get_locale
from jinja2 import pass_context

LOCALE_COOKIE = "lang"


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


def locale_code() -> str:
    return str(get_locale() or "ja")


def number(value: int | Decimal, places: int = 0) -> str:
    """A number with the locale's grouping, half up to `places` decimals."""
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(rounded, format=pattern, locale=locale_code())


def yen(amount: int) -> str:
    """1,500円 in Japanese, ¥1,500 in English."""
    if locale_code() == "ja":
        return f"{format_decimal(amount, format='#,##0', locale='ja')}円"
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
    return text


def local_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return format_date(value, format="long")
    return format_date(value, format="long")


def local_datetime(value: datetime) -> str:
    return format_datetime(value, format="medium")


def local_time(value: datetime) -> str:
    """The time of day in Japan, to the second (15:04:05)."""
    return format_time(value, format="medium")


def init_app(app: Flask) -> None:
    """Register the formats as Jinja filters and the locale in every template."""
    # pass_context stops Jinja from folding `100|yen` into a constant at compile time, which would
    # freeze it in the language of whoever happened to load the template first.
    def per_request(function):
        return pass_context(lambda _context, *args, **kwargs: function(*args, **kwargs))

    app.jinja_env.filters.update({name: per_request(function) for name, function in {
        "yen": yen, "kg": kg, "tonnes": tonnes, "number": number, "percent": percent, "share": share,
        "local_date": local_date, "local_datetime": local_datetime, "local_time": local_time,
        "fiscal_year": fiscal_year}.items()})

    @app.context_processor
    def locale_context() -> dict[str, object]:
        return {"locale": locale_code(), "languages": app.config["LANGUAGES"],
                "payments_sandbox": not app.config.get("STRIPE_SECRET_KEY")}

    @app.after_request
    def vary_on_locale(response):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response
