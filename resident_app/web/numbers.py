"""Messages for numbers people type (the parsing itself is carbon.numbers, pure and shared)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..carbon.numbers import NumberError


def number_message(error: NumberError, *, whole: bool = False):
    """The field message for a NumberError, in the page's language (lazy)."""
    if error.code == "negative":
        return _l("Enter a number that is not negative.")
    if error.code == "not_whole":
        return _l("Enter a whole number, without a decimal point.")
    if error.code == "too_long":
        return _l("This number has too many digits.")
    if whole:
        return _l("Enter a whole number in digits, for example 1,200.")
    return _l("Enter a number in digits, for example 1,200 or 3.5.")
