"""The one reader of dates and Japan-time date-times that people type: forms, the CLI and uploads.

Pure (no Flask), like carbon.numbers beside it. NFKC first, so full-width digits, slashes, colons
and the ideographic space are welcome; then only ASCII digits: 2027-04-29, 2027/4/29 or
2027年4月29日, with a time of 9:00 or 09:00:30 after a space or a "T". Anything else raises
DateError. The dashes an IME or a word processor produces (ー, −, –) count as hyphens."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timezone, tzinfo

MAX_CHARS = 32
YEARS = range(2000, 2101)  # the programme's dates; a typo such as 20277 or 0207 is refused

_DAY = r"(?P<year>[0-9]{4})(?:(?P<sep>[-/.])(?P<m1>[0-9]{1,2})(?P=sep)(?P<d1>[0-9]{1,2})" \
       r"|年(?P<m3>[0-9]{1,2})月(?P<d3>[0-9]{1,2})日)"
_TIME = r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
_DATE = re.compile(rf"^{_DAY}$")
_DATETIME = re.compile(rf"^{_DAY}(?:T| +){_TIME}$")
_DASHES = str.maketrans({dash: "-" for dash in "\u2010\u2011\u2012\u2013\u2014\u2212\u30fc"})


class DateError(ValueError):
    """A typed value is not a date (or date-time) this field accepts. code: "invalid" or "type"."""

    def __init__(self, code: str = "invalid") -> None:
        super().__init__(code)
        self.code = code


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DateError("type")
    text = unicodedata.normalize("NFKC", value).translate(_DASHES).strip()
    if len(text) > MAX_CHARS:
        raise DateError("invalid")
    return text or None


def _day(match: re.Match[str]) -> date:
    month = match.group("m1") or match.group("m3")
    day = match.group("d1") or match.group("d3")
    year = int(match.group("year"))
    if year not in YEARS:
        raise DateError("invalid")
    try:
        return date(year, int(month), int(day))
    except ValueError:  # 2027-02-30, month 13
        raise DateError("invalid") from None


def _matched(value: object, pattern: re.Pattern[str]) -> re.Match[str] | None:
    text = _text(value)
    if text is None:
        return None
    match = pattern.match(text)
    if match is None:
        raise DateError("invalid")
    return match


def parse_date(value: object) -> date | None:
    """A typed day; None when blank (the caller decides whether blank is allowed)."""
    match = _matched(value, _DATE)
    return None if match is None else _day(match)


def parse_local_datetime(value: object, zone: tzinfo) -> datetime | None:
    """A typed date and time in `zone` (Asia/Tokyo for people), as an aware UTC datetime; None when blank."""
    match = _matched(value, _DATETIME)
    if match is None:
        return None
    try:
        moment = time(int(match.group("hour")), int(match.group("minute")), int(match.group("second") or 0))
    except ValueError:  # 24:00, 09:60
        raise DateError("invalid") from None
    return datetime.combine(_day(match), moment, zone).astimezone(timezone.utc)
