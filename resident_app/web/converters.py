"""URL parts the database can take, so that a hostile path is the 404 of an unknown one.

`<int:...>`: Werkzeug's converter takes any run of digits, so /staff/batches/99999999999999999999
reached the database driver as an id no INTEGER column can hold: an OverflowError on SQLite, a
numeric-range error on PostgreSQL, a 500 either way. Past 2**31 - 1 (PostgreSQL's integer) the URL
does not match.

`<slug>`, `<token>` and every other plain argument: PostgreSQL refuses a NUL in text, so /r/%00,
/c/%00, /a/%00, /e/%00 and /s/%00 were 500s there (SQLite simply found nothing). No slug or token
holds a control character, so a segment with one does not match."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """An integer URL part from 0 to MAX_ID unless the rule says otherwise."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class PathSegment(UnicodeConverter):
    """One path segment without control characters (NUL above all); lengths as Werkzeug's."""

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]", 1)
