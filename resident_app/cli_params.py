"""Click parameter types that read numbers and dates the way the site's forms do (carbon.numbers,
carbon.dates): full-width digits, 2027/4/1, 1,000; anything else is a usage error, never a traceback."""
from __future__ import annotations

from typing import Any, Callable

import click

from .carbon.dates import parse_date
from .carbon.numbers import parse_int


class TypedParam(click.ParamType):
    """A value read by one of the shared readers; blank or unreadable is a usage error."""

    def __init__(self, name: str, read: Callable[[str], Any], example: str) -> None:
        self.name, self.read, self.example = name, read, example

    def convert(self, value, param, ctx):
        if not isinstance(value, str):  # a default, already of the right type
            return value
        try:
            result = self.read(value)
        except ValueError:  # NumberError, DateError
            result = None
        if result is None:
            self.fail(f"{value!r} is not {self.example}", param, ctx)
        return result


DAY = TypedParam("date", parse_date, "a date such as 2027-04-01")
WHOLE_NUMBER = TypedParam("number", parse_int, "a whole number such as 3")
