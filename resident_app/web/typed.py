"""Reading what people type into form fields and query strings: the web face of carbon.numbers
and carbon.dates, so every form reads numbers and dates the same way.

Each reader takes the raw value (None when the field is missing), drops control characters, and
returns the value, None when blank, or raises NumberError / DateError (both ValueError), whose
message the view puts beside the field."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ..services.days import TOKYO
from ..carbon.dates import parse_date, parse_local_datetime
from ..carbon.numbers import NumberError, parse_decimal, parse_int
from .text import clean_text

MAX_ID_DIGITS = 18  # a database id fits in 64 bits; longer "ids" are someone typing, not a choice
MAX_PAGE = 100_000  # 50 rows a page: five million rows, and an OFFSET every database can take


def whole_number(raw: object, *, yen: bool = False, max_digits: int = 12) -> int | None:
    """'３', '1,000', '¥1,000' and '1000円' (yen=True) are whole numbers; at most `max_digits` digits."""
    number = parse_int(clean_text(raw) if isinstance(raw, str) else raw, yen=yen)
    if number is not None and len(str(number)) > max_digits:
        raise NumberError("too_long")
    return number


def decimal_number(raw: object, *, yen: bool = False) -> Decimal | None:
    """'31', '162.5', '１，２３４．５' or '31円' (yen=True) as a Decimal."""
    return parse_decimal(clean_text(raw) if isinstance(raw, str) else raw, yen=yen)


def day(raw: object) -> date | None:
    """2027-04-29, 2027/4/29 or 2027年4月29日 (full-width digits too)."""
    return parse_date(clean_text(raw) if isinstance(raw, str) else raw)


def japan_datetime(raw: object) -> datetime | None:
    """A date and time as typed in Japan time, as an aware UTC datetime."""
    return parse_local_datetime(clean_text(raw) if isinstance(raw, str) else raw, TOKYO)


def chosen_id(raw: object) -> int | None:
    """The id a form's <select> or hidden field sent; None for anything that cannot be one (blank,
    text, a Unicode digit, a number beyond 64 bits), so a lookup simply finds nothing."""
    try:
        number = whole_number(raw, max_digits=MAX_ID_DIGITS)
    except ValueError:
        return None
    return number if number is not None and number > 0 else None


def page_number(raw: object, pages: int | None = None) -> int:
    """?page= as typed: 1 for anything unreadable, never past the last page (or MAX_PAGE)."""
    return min(chosen_id(raw) or 1, pages or MAX_PAGE, MAX_PAGE)
