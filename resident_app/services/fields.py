"""Checks on what staff type into the pool's forms, shared by the pool services, and the bounds
every typed number must keep.

The bounds sit far below the 64-bit columns (models.types.INT64_MAX) so that a value that passes
here always fits its column, and so do the products and sums made from it (tests check both)."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from ..models import User
from .days import tokyo_today
from .errors import DomainError

MAX_TONNES = 1_000_000_000              # 10^9 t in one purchase or invalidation
MAX_PRICE_PER_T_YEN = 10_000_000
MAX_TOTAL_YEN = 10_000_000_000_000      # ¥10 trillion on one invoice
MAX_OFFLINE_QUANTITY = 1_000_000
MAX_TEXT = 200
MAX_PROJECT_NAME = 300
MAX_PROJECT_ID = 100
MAX_NOTE = 2000


def require_staff(actor: User) -> None:
    if actor is None or not actor.is_staff:
        raise DomainError(_l("Only programme staff can do this."))


def clean(value: str | None) -> str:
    """Stripped, NFC text."""
    return unicodedata.normalize("NFC", (value or "").strip())


def purpose_key(value: str) -> str:
    """Purposes compare without spaces, width or case ("２０２６年度" is "2026年度")."""
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


def kg_text(grams: int) -> str:
    return f"{grams / 1000:,.1f}"


def required_text(errors: dict[str, str], name: str, value: str, limit: int, missing: str) -> str:
    value = clean(value)
    if not value:
        errors[name] = missing
    elif len(value) > limit:
        errors[name] = _l("Use at most %(max)d characters.", max=limit)
    return value


def int_in(errors: dict[str, str], name: str, value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = _l("Enter a whole number from %(low)s to %(high)s.", low=f"{low:,}", high=f"{high:,}")
        return None
    return value


def past_date(errors: dict[str, str], name: str, value: Any) -> date | None:
    if not isinstance(value, date) or isinstance(value, datetime):
        errors[name] = _l("Enter a date.")
        return None
    if value > tokyo_today():
        errors[name] = _l("The date cannot be in the future.")
        return None
    return value


def enum_value(errors: dict[str, str], name: str, enum: type, value: Any):
    try:
        return enum(value)
    except ValueError:
        errors[name] = _l("Choose one of the options.")
        return None
