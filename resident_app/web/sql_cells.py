"""CSV cells formatted by the database: what exporters' Python converters do to each value
(Japan time, kg with three decimals, labels for codes, the formula guard), as SQL expressions on
SQLite and PostgreSQL, so a large export's rows go from the cursor to the CSV writer untouched.

Each function returns an expression whose text equals the Python converter's output for every
value of its column (tests/integration/test_csv_speed.py compares the two byte for byte)."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import ColumnElement, String, case, func, literal, type_coerce

from .csv_export import FORMULA_PREFIXES


def guarded(expr: Any) -> ColumnElement[Any]:
    """csv_export.guard_text: a leading quote before text that could start a formula."""
    text = type_coerce(expr, String)
    return case((func.substr(text, 1, 1).in_(FORMULA_PREFIXES), literal("'", String) + text), else_=text)


def code(expr: Any) -> ColumnElement[Any]:
    """The stored code as it is (no Enum conversion on the way out)."""
    return type_coerce(expr, String)


def labelled(expr: Any, labels: Mapping[Any, Any]) -> ColumnElement[Any]:
    """The code's label (translated now); an unknown code as it is."""
    text = type_coerce(expr, String)
    table = {str(k): str(v) for k, v in labels.items()}
    return case(table, value=text, else_=text) if table else text


def kilograms(expr: Any, dialect: str) -> ColumnElement[Any]:
    """exporters.kg_of: 1200500 g -> "1200.500" (sign first, three decimals)."""
    sign = case((expr < 0, literal("-", String)), else_=literal("", String))
    if dialect == "sqlite":
        return sign + func.printf("%d.%03d", func.abs(expr) // 1000, func.abs(expr) % 1000)
    whole = func.cast(func.abs(expr) // 1000, String)
    return sign + whole + literal(".", String) + func.lpad(func.cast(func.abs(expr) % 1000, String), 3, "0")


def _tokyo(expr: Any, sqlite_format: str, postgres_format: str, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":  # stored as UTC text; whole seconds first (its arithmetic rounds fractions up)
        return func.strftime(sqlite_format, func.substr(type_coerce(expr, String), 1, 19), "+9 hours")
    return func.to_char(func.timezone("Asia/Tokyo", expr), postgres_format)


def local_time(expr: Any, dialect: str) -> ColumnElement[Any]:
    """exporters._local_time: "2026-12-01 14:22:07", Japan time."""
    return _tokyo(expr, "%Y-%m-%d %H:%M:%S", "YYYY-MM-DD HH24:MI:SS", dialect)


def iso_time(expr: Any, dialect: str) -> ColumnElement[Any]:
    """exporters._iso_time: "2026-12-01T14:22:07+09:00"."""
    return _tokyo(expr, "%Y-%m-%dT%H:%M:%S+09:00", 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"', dialect)


def iso_date(expr: Any, dialect: str) -> ColumnElement[Any]:
    """date.isoformat: "2026-12-01"."""
    if dialect == "sqlite":
        return type_coerce(expr, String)
    return func.to_char(expr, "YYYY-MM-DD")


def month(expr: Any, dialect: str) -> ColumnElement[Any]:
    """A day's month: "2026-12"."""
    if dialect == "sqlite":
        return func.substr(type_coerce(expr, String), 1, 7)
    return func.to_char(expr, "YYYY-MM")

