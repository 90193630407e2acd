"""The one reader of numbers that people type: forms, the JSON API, the CLI and CSV uploads.

Pure (no Flask). NFKC first, so full-width digits, commas and points are welcome; then only ASCII
digits, with optional thousands separators in groups of three, and one decimal point where the
field allows decimals. Anything else raises NumberError with a code; web.numbers turns the code
into a message in the page's language. Types are checked before values (JSON true, a list or an
object where a number belongs is "type", never a crash)."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

MAX_CHARS = 24  # after normalisation; far more than any quantity or amount the site accepts

# [0-9], not \d: Python's \d also matches Ethiopic, Devanagari and other digits int() may refuse.
_PLAIN = r"[0-9]+"
_GROUPED = r"[0-9]{1,3}(?:,[0-9]{3})+"
_NUMBER = re.compile(rf"^(?P<whole>{_GROUPED}|{_PLAIN})?(?:\.(?P<fraction>[0-9]+))?$")
# Minus signs an IME or a spreadsheet may produce (NFKC turns the full-width one into "-").
_MINUS = ("-", "\u2212", "\u2010", "\u2013", "\u30fc", "\uff70")


class NumberError(ValueError):
    """A typed value is not a number this field accepts.

    code: "type" (not text or a number at all), "invalid", "too_long", "negative", "not_whole"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _from_text(raw: str, *, yen: bool, max_chars: int) -> Decimal | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    if yen:
        text = text.removeprefix("¥").removesuffix("円").strip()
    if not text:
        return None
    if len(text) > max_chars:
        raise NumberError("too_long")
    negative = text.startswith(_MINUS)
    if negative:
        text = text[1:]
    match = _NUMBER.match(text)
    if match is None or (match.group("whole") is None and match.group("fraction") is None):
        raise NumberError("invalid")
    number = Decimal(text.replace(",", ""))
    return -number if negative else number


def parse_decimal(value: object, *, decimals: bool = True, yen: bool = False, negative: bool = False,
                  max_chars: int = MAX_CHARS) -> Decimal | None:
    """A typed number as a Decimal; None when blank (the caller decides whether blank is allowed).

    `decimals=False` refuses a decimal point ("not_whole"); `yen=True` allows a leading ¥ and a
    trailing 円; `negative=True` allows a minus sign (otherwise "negative")."""
    if value is None:
        return None
    if isinstance(value, bool):  # JSON true/false are ints in Python; they are not quantities
        raise NumberError("type")
    if isinstance(value, int):
        number = Decimal(value)
        if len(str(abs(value))) > max_chars:
            raise NumberError("too_long")
    elif isinstance(value, float):
        try:
            number = Decimal(repr(value))
        except InvalidOperation:  # pragma: no cover - repr of a float is always a decimal literal
            raise NumberError("invalid") from None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        number = _from_text(value, yen=yen, max_chars=max_chars)
        if number is None:
            return None
    else:
        raise NumberError("type")
    if not number.is_finite():
        raise NumberError("invalid")
    if number < 0 and not negative:
        raise NumberError("negative")
    if not decimals and number != number.to_integral_value():
        raise NumberError("not_whole")
    if not decimals and isinstance(value, str) and "." in unicodedata.normalize("NFKC", value):
        raise NumberError("not_whole")
    return number


def parse_int(value: object, *, yen: bool = False, negative: bool = False,
              max_chars: int = MAX_CHARS) -> int | None:
    """A typed whole number as an int; None when blank. A float from JSON counts only if whole."""
    number = parse_decimal(value, decimals=False, yen=yen, negative=negative, max_chars=max_chars)
    return None if number is None else int(number)
