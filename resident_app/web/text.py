"""Cleaning text typed into forms before it is validated or stored, and reading typed dates."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

# C0 controls (NUL above all: PostgreSQL refuses it in text) except tab and line breaks, and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(raw: str | None) -> str:
    """Trimmed, with Windows line ends made plain and control characters removed."""
    return CONTROL_CHARACTERS.sub("", (raw or "").replace("\r\n", "\n")).strip()


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
YEARS = range(2000, 2101)


def normalise(raw: str | None) -> str:
    """NFKC: full-width digits, commas, colons and the yen sign become their ASCII forms."""
    return unicodedata.normalize("NFKC", clean_text(raw))


def parse_date(raw: str | None) -> date | None:
    """A day typed as 2027-04-01 or 2027/04/01 (full-width digits too); blank is None; else ValueError."""
    text = normalise(raw)
    if not text:
        return None
    for pattern in DATE_FORMATS:
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if day.year in YEARS:
            return day
    raise ValueError(raw)
