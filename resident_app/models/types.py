"""Column types shared by the models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

# Every yen, gram and tonne column is a signed 64-bit integer: a national programme's sums
# (¥10,000,000,000, 10^13 g) overflow PostgreSQL's 32-bit INTEGER. Validation bounds in the
# services stay far below INT64_MAX, so a value that passes validation always fits its column.
INT64_MAX = 2**63 - 1
Yen = Annotated[int, mapped_column(BigInteger)]
Grams = Annotated[int, mapped_column(BigInteger)]
Tonnes = Annotated[int, mapped_column(BigInteger)]
# A 64-bit key that is still SQLite's rowid (only INTEGER PRIMARY KEY autoincrements there).
BigKey = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(timezone.utc)
