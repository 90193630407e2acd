"""CSV cells formatted by the database: what exporters' Python converters do to each value
(Japan time, kg with three decimals, labels for codes, the formula guard), as SQL expressions on
SQLite and PostgreSQL, so a large export's rows go from the cursor to the CSV writer untouched.

Each function returns an expression whose text equals the Python converter's output for every
value of its column (tests/integration/test_csv_speed.py compares the two byte for byte)."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import ColumnElement, String, case, func, literal, type_coerce
from sqlalchemy.sql.expression import Grouping

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
    if dialect == "sqlite":  # integer arithmetic and concatenation: a third of printf's time
        def unsigned(grams: Any) -> ColumnElement[Any]:  # in brackets: SQLite's || binds tighter than /
            return type_coerce(Grouping(grams // 1000), String) + literal(".", String) \
                + func.substr(Grouping(literal(1000) + grams % 1000), 2)
        return case((expr < 0, literal("-", String) + unsigned(-expr)), else_=unsigned(expr))
    sign = case((expr < 0, literal("-", String)), else_=literal("", String))
    whole = func.cast(func.abs(expr) // 1000, String)
    return sign + whole + literal(".", String) + func.lpad(func.cast(func.abs(expr) % 1000, String), 3, "0")


def _tokyo_sqlite(expr: Any) -> ColumnElement[Any]:
    # Stored as UTC text; whole seconds first (its arithmetic rounds fractions up). datetime() is
    # strftime('%Y-%m-%d %H:%M:%S', …) without parsing a format for every value.
    return func.datetime(func.substr(type_coerce(expr, String), 1, 19), "+9 hours")


def local_time(expr: Any, dialect: str) -> ColumnElement[Any]:
    """exporters._local_time: "2026-12-01 14:22:07", Japan time."""
    if dialect == "sqlite":
        return _tokyo_sqlite(expr)
    return func.to_char(func.timezone("Asia/Tokyo", expr), "YYYY-MM-DD HH24:MI:SS")


def iso_time(expr: Any, dialect: str) -> ColumnElement[Any]:
    """exporters._iso_time: "2026-12-01T14:22:07+09:00"."""
    if dialect == "sqlite":
        return func.replace(_tokyo_sqlite(expr), " ", "T") + literal("+09:00", String)
    return func.to_char(func.timezone("Asia/Tokyo", expr), 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')


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



# --- whole CSV lines (SQLite) and COPY cells (PostgreSQL) -------------------------------------------
# The csv module (excel dialect, QUOTE_MINIMAL) quotes a cell that holds a comma, a double quote,
# CR or LF, doubling the quotes inside, and writes None as nothing. SQLite has no CSV writer of its
# own, so it writes the whole line; PostgreSQL's COPY … (FORMAT csv) quotes by the same rule.
_NEEDS_QUOTES = '*[,"\r\n]*'


def csv_text(expr: Any, *, guard: bool) -> ColumnElement[Any]:
    """SQLite: a text cell as csv.writer writes it, with the formula guard when `guard` (a
    leading quote before = + - @ …, inside the double quotes when the cell needs them)."""
    text = type_coerce(expr, String)
    guard_mark = (case((func.substr(text, 1, 1).in_(FORMULA_PREFIXES), literal("'", String)), else_=literal("", String))
                  if guard else literal("", String))
    quoted = literal('"', String) + guard_mark + func.replace(text, literal('"', String), literal('""', String)) \
        + literal('"', String)
    plain = (case((func.substr(text, 1, 1).in_(FORMULA_PREFIXES), literal("'", String) + text),
                  else_=func.coalesce(text, literal("", String))) if guard else func.coalesce(text, literal("", String)))
    return case((text.op("GLOB")(literal(_NEEDS_QUOTES, String)), quoted), else_=plain)


def csv_plain(expr: Any) -> ColumnElement[Any]:
    """SQLite: a cell that never needs quotes (a number, a formatted time): its text, '' for NULL."""
    return func.coalesce(type_coerce(expr, String), literal("", String))


def csv_line(cells: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    """SQLite: the cells joined by commas, one text value per row (without the line end)."""
    line = cells[0]
    for cell in cells[1:]:
        line = line + literal(",", String) + cell
    return line


def copy_text(expr: Any) -> ColumnElement[Any]:
    """PostgreSQL: a text cell for COPY … (FORMAT csv), which quotes an empty string (to tell it
    from NULL) where csv.writer writes nothing: an empty cell goes as NULL."""
    return func.nullif(type_coerce(expr, String), literal("", String))
