"""Reading the staff console's forms into the services' data: whole numbers and dates as typed
(full-width digits, commas, a yen sign), serial number ranges as rows or as "START – END" lines.

Errors here are about what could not be read; the programme's rules (ranges, required fields,
overlaps) are the service's, so both kinds of message can be shown beside their fields at once."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from ..models import CreditType, Registry
from ..services.invalidations import InvalidationData
from ..services.purchases import PurchaseData
from ..web.text import clean_text
from ..web.typed import day as read_date
from ..web.typed import whole_number

MAX_DIGITS = 14         # 10,000,000,000,000: the largest invoice total (services.fields), far below 64 bits
RANGE_ROWS = 3          # rows shown for serial ranges; "Add a range" adds one more (no JS needed)
MAX_RANGE_ROWS = 40
# Between the first and last serial of a range: a dash with spaces round it (serials contain
# hyphens themselves), an en or em dash, a tilde or wave dash, a comma, or "to".
RANGE_SEPARATOR = re.compile(r"\s*(?:[\u2013\u2014~\u301c,\u3001]|\s-\s|\sto\s)\s*", re.I)

PURCHASE_TEXT = ("provider", "project_name", "project_id", "credit_place")
PURCHASE_NUMBERS = ("tonnes", "price_per_t_yen", "total_yen")
INVALIDATION_TEXT = ("purpose", "offset_place")


@dataclass
class FormState:
    """A form's values as typed and its errors by field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def split_range(raw: str) -> tuple[str, str]:
    """One "START – END" line as a pair; a single serial is a range of one tonne."""
    text = unicodedata.normalize("NFKC", raw).strip()
    parts = [p for p in RANGE_SEPARATOR.split(text) if p]
    if len(parts) == 1:
        parts = text.split()
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) != 2:
        raise ValueError(raw)
    return parts[0], parts[1]


def range_lines(text: str | None) -> list[tuple[str, str]]:
    """Ranges typed one per line; blank lines are skipped. ValueError names the line it cannot read."""
    return [split_range(line) for line in clean_text(text).splitlines() if line.strip()]


def range_rows_from(form: Mapping[str, str]) -> tuple[list[tuple[str, str]], int]:
    """The START/END rows as typed (blank rows kept, so the page shows them back) and their count."""
    try:
        count = whole_number(form.get("range_rows")) or RANGE_ROWS
    except ValueError:
        count = RANGE_ROWS
    count = min(max(count, RANGE_ROWS), MAX_RANGE_ROWS)
    rows = [(clean_text(form.get(f"serial_start_{i}")), clean_text(form.get(f"serial_end_{i}")))
            for i in range(1, count + 1)]
    return rows, count


BAD_NUMBER = _l("Enter a whole number, for example 3 or 1,000.")
BAD_YEN = _l("Enter a whole number of yen, for example 10,000.")
BAD_DATE = _l("Enter a date such as 2026-11-27.")
BAD_RANGE = _l("Enter each range as its first and last serial number, for example JP-123-0001 – JP-123-0003.")


def read_purchase_form(form: Mapping[str, str]) -> tuple[PurchaseData, FormState]:
    values = {name: clean_text(form.get(name)) for name in
              (*PURCHASE_TEXT, *PURCHASE_NUMBERS, "credit_type", "purchased_on")}
    state = FormState(values)
    data = PurchaseData(**{name: values[name] for name in PURCHASE_TEXT})
    data.credit_type = values["credit_type"] if values["credit_type"] in {c.value for c in CreditType} else None
    for name in PURCHASE_NUMBERS:
        try:
            setattr(data, name, whole_number(values[name], yen=name != "tonnes", max_digits=MAX_DIGITS))
        except ValueError:
            state.errors[name] = BAD_NUMBER if name == "tonnes" else BAD_YEN
    try:
        data.purchased_on = read_date(values["purchased_on"])
    except ValueError:
        state.errors["purchased_on"] = BAD_DATE
    return data, state


def read_invalidation_form(form: Mapping[str, str]) -> tuple[InvalidationData, FormState]:
    rows, count = range_rows_from(form)
    values: dict[str, Any] = {name: clean_text(form.get(name)) for name in
                              (*INVALIDATION_TEXT, "registry", "invalidated_on", "tonnes")}
    values["ranges"], values["range_rows"] = rows, count
    state = FormState(values)
    data = InvalidationData(purpose=values["purpose"], offset_place=values["offset_place"])
    data.registry = values["registry"] if values["registry"] in {r.value for r in Registry} else None
    try:
        data.tonnes = whole_number(values["tonnes"], max_digits=MAX_DIGITS)
    except ValueError:
        state.errors["tonnes"] = BAD_NUMBER
    try:
        data.invalidated_on = read_date(values["invalidated_on"])
    except ValueError:
        state.errors["invalidated_on"] = BAD_DATE
    pairs: list[tuple[str, str]] = []
    try:
        for start, end in rows:
            if start and not end:  # "START – END" pasted into the first box
                pairs.append(split_range(start))
            elif start or end:
                pairs.append((start, end))
    except ValueError:
        state.errors["serial_ranges"] = BAD_RANGE
        pairs = []  # no ranges: the service refuses too, so nothing is written with half of them
    data.serial_ranges = pairs
    return data, state
