"""carbon.dates: the one reader of typed dates and Japan-time date-times; and the CLI's parameter types."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import click
import pytest
from hypothesis import given, strategies as st

from resident_app.carbon.dates import DateError, parse_date, parse_local_datetime
from resident_app.cli_params import DAY, WHOLE_NUMBER

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("typed, day", [
    ("2027-04-29", date(2027, 4, 29)),
    ("2027/4/9", date(2027, 4, 9)),
    ("2027.04.29", date(2027, 4, 29)),
    ("２０２７－０４－２９", date(2027, 4, 29)),   # full-width digits and hyphen
    ("２０２７／４／２９", date(2027, 4, 29)),
    ("2027年4月29日", date(2027, 4, 29)),
    ("2027−04−29", date(2027, 4, 29)),           # a minus sign from a word processor
    ("2027ー04ー29", date(2027, 4, 29)),          # the long-vowel mark an IME types for "-"
    (" 2027-04-29\u3000", date(2027, 4, 29)),
    ("", None), ("   ", None), (None, None),
])
def test_reads_days_people_type(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize("typed", [
    "2027-02-30", "2027-13-01", "2027-4", "27-04-29", "1999-12-31", "2101-01-01", "2027-04/29", "tomorrow",
    "٢٠٢٧-٠٤-٢٩", "2027-04-29T09:00", "2027-04-29" + " " * 40 + "x", "²⁰²⁷-04-29x", "20270429",
])
def test_refuses_what_is_not_a_day(typed):
    with pytest.raises(DateError):
        parse_date(typed)


@pytest.mark.parametrize("raw", [20270429, 2027.0, ["2027-04-29"], {"day": 1}, True])
def test_a_day_is_text(raw):
    with pytest.raises(DateError) as refused:
        parse_date(raw)
    assert refused.value.code == "type"


@pytest.mark.parametrize("typed, moment", [
    ("2027-04-29T09:00", datetime(2027, 4, 29, 0, 0, tzinfo=timezone.utc)),
    ("2027-04-29 09:00:30", datetime(2027, 4, 29, 0, 0, 30, tzinfo=timezone.utc)),
    ("2027/4/29 9:05", datetime(2027, 4, 29, 0, 5, tzinfo=timezone.utc)),
    ("２０２７－０４－２９　０９：００", datetime(2027, 4, 29, 0, 0, tzinfo=timezone.utc)),
    ("", None),
])
def test_reads_japan_time(typed, moment):
    assert parse_local_datetime(typed, TOKYO) == moment


@pytest.mark.parametrize("typed", ["2027-04-29", "2027-04-29T24:00", "2027-04-29T09:60", "2027-04-29T9", "09:00"])
def test_refuses_what_is_not_a_date_and_time(typed):
    with pytest.raises(DateError):
        parse_local_datetime(typed, TOKYO)


@given(st.text(max_size=40))
def test_any_text_is_a_day_none_or_a_date_error(text):
    try:
        result = parse_date(text)
    except DateError:
        return
    assert result is None or isinstance(result, date)


@pytest.mark.parametrize("param, typed, value", [
    (DAY, "2027/4/1", date(2027, 4, 1)), (DAY, "２０２７－０４－０１", date(2027, 4, 1)),
    (WHOLE_NUMBER, "３", 3), (WHOLE_NUMBER, "1,000", 1000),
])
def test_command_line_reads_like_the_forms(param, typed, value):
    assert param.convert(typed, None, None) == value


@pytest.mark.parametrize("param, typed", [(DAY, "2027-02-30"), (DAY, ""), (WHOLE_NUMBER, "፩"), (WHOLE_NUMBER, "-1"),
                                          (WHOLE_NUMBER, "")])
def test_command_line_refuses_with_a_usage_error(param, typed):
    with pytest.raises(click.BadParameter):
        param.convert(typed, None, None)
