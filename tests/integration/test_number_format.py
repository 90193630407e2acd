"""Numbers on pages: the quick path (Python's "," grouping, used where the locale writes numbers
that way) gives exactly what Babel's pattern gives, in each language, for every kind of value."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resident_app.web.i18n import _number_format, kg, locale_code, number, yen

VALUES = st.one_of(st.integers(min_value=-10**15, max_value=10**15),
                   st.decimals(min_value=-10**12, max_value=10**12, places=4, allow_nan=False, allow_infinity=False))


def babel_number(value, places: int, code: str) -> str:
    locale, pattern = _number_format(code, places)
    return pattern.apply(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), locale)


@pytest.mark.parametrize("code", ["ja", "en"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUES, places=st.integers(min_value=0, max_value=3))
def test_the_quick_path_writes_what_babel_writes(app, code, value, places):
    with app.test_request_context("/"), force_locale(code):
        assert locale_code() == code
        assert number(value, places) == babel_number(value, places, code)


def test_edges_and_the_page_formats(app):
    with app.test_request_context("/"):
        with force_locale("ja"):
            assert [number(v, 1) for v in (Decimal("-0.04"), Decimal("0.05"), Decimal("999.95"))] == \
                ["-0.0", "0.1", "1,000.0"]
            assert (kg(1_523_456), kg(43_020), yen(37_715)) == ("1,523", "43.0", "37,715円")
        with force_locale("en"):
            assert (kg(1_523_456), yen(37_715)) == ("1,523", "¥37,715")
