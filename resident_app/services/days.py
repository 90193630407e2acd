"""Days in Tokyo: the programme's calendar (cut-offs, days cash was received, invalidation dates)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ..models import utcnow

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo_today() -> date:
    return utcnow().astimezone(TOKYO).date()


def start_of_day(day: date) -> datetime:
    """The first instant of `day` in Asia/Tokyo, as aware UTC."""
    return datetime.combine(day, time.min, TOKYO).astimezone(timezone.utc)


def end_of_day(day: date) -> datetime:
    """The last microsecond of `day` in Asia/Tokyo, as aware UTC."""
    return start_of_day(day + timedelta(days=1)) - timedelta(microseconds=1)


def cutoff_instant(cutoff: date | datetime) -> datetime:
    """A date means "paid on or before that day in Tokyo"; a datetime must be aware."""
    if isinstance(cutoff, datetime):
        if cutoff.tzinfo is None:
            raise ValueError("naive datetime; use an aware datetime")
        return cutoff.astimezone(timezone.utc)
    return end_of_day(cutoff)
