"""The `<int:...>` in every URL, bounded by the database's integer.

Werkzeug's converter takes any run of digits, so /staff/batches/99999999999999999999 reached the
database driver as an id no INTEGER column can hold: an OverflowError on SQLite, a numeric-range
error on PostgreSQL, a 500 either way. Past 2**31 - 1 (PostgreSQL's integer) the URL does not match,
which is the 404 any unknown id gets."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """An integer URL part from 0 to MAX_ID unless the rule says otherwise."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
