"""Reading what organisers type: full-width digits, commas, yen signs, Japan-time date-times."""
from datetime import date, datetime, timezone

import pytest

from resident_app.organiser.forms import local_input, parse_date, parse_local_datetime, parse_whole_number


@pytest.mark.parametrize("typed, number", [
    ("100", 100), ("１００", 100), ("1,000", 1000), ("１，０００", 1000), ("¥1,000", 1000), ("￥1,000", 1000),
    ("1000円", 1000), (" 300,000 ", 300_000), ("", None), ("  ", None),
    ("100\x00", 100),  # control characters are dropped before parsing
])
def test_whole_yen(typed, number):
    assert parse_whole_number(typed, yen=True) == number


@pytest.mark.parametrize("typed", ["abc", "100.5", "-100", "1,00", "10,00,000", "1e3", "１２３４５６７８９０", "٣٠٠"])
def test_not_whole_yen(typed):
    with pytest.raises(ValueError):
        parse_whole_number(typed, yen=True)


@pytest.mark.parametrize("typed, moment", [
    ("2027-04-29T09:00", datetime(2027, 4, 29, 0, 0, tzinfo=timezone.utc)),
    ("2027-04-29 09:00", datetime(2027, 4, 29, 0, 0, tzinfo=timezone.utc)),
    ("２０２７－０４－２９　０９：００", datetime(2027, 4, 29, 0, 0, tzinfo=timezone.utc)),
    ("2027/01/01 08:59", datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc)),
    ("", None),
])
def test_japan_time_becomes_aware_utc(typed, moment):
    assert parse_local_datetime(typed) == moment


@pytest.mark.parametrize("typed", ["tomorrow", "2027-02-30T10:00", "2027-04-29", "9999-01-01T00:00"])
def test_bad_date_times(typed):
    with pytest.raises(ValueError):
        parse_local_datetime(typed)


def test_dates_and_the_round_trip_to_the_input():
    assert parse_date("2027/04/29") == parse_date("2027-04-29") == date(2027, 4, 29)
    assert local_input(datetime(2027, 4, 29, 0, 0, tzinfo=timezone.utc)) == "2027-04-29T09:00"
