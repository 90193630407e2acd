"""Click parameter types that read numbers and dates the way the site's forms do (carbon.numbers,
carbon.dates): full-width digits, 2027/4/1, 1,000; anything else is a usage error, never a traceback."""
from __future__ import annotations

from datetime import date

import click

from .carbon.dates import DateError, parse_date
from .carbon.numbers import NumberError, parse_int


class DayType(click.ParamType):
    """A day such as 2027-04-01 (also 2027/4/1 or 2027年4月1日)."""

    name = "date"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            day = parse_date(value)
        except DateError:
            day = None
        if day is None:
            self.fail(f"{value!r} is not a date such as 2027-04-01", param, ctx)
        return day


class WholeNumberType(click.ParamType):
    """A whole number that is not negative, such as 3 or 1,000."""

    name = "number"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        try:
            number = parse_int(value)
        except NumberError:
            number = None
        if number is None:
            self.fail(f"{value!r} is not a whole number such as 3", param, ctx)
        return number


DAY = DayType()
WHOLE_NUMBER = WholeNumberType()
