"""Every yen, gram and tonne column is 64-bit, and every bound the services check on typed numbers
fits it with room for the sums made from it."""
from __future__ import annotations

import pytest
from sqlalchemy import BigInteger

from resident_app.carbon.conversion import GRAMS_PER_TONNE, grams_for_yen
from resident_app.extensions import db
from resident_app.models.types import INT64_MAX
from resident_app.services import fields, payments
from resident_app.services.addons import MAX_PRICE_YEN
from resident_app.services.programme import MIN_RATE_YEN_PER_T

MEASURE_SUFFIXES = ("_yen", "_g", "tonnes", "_t", "yen_per_t")


def measure_columns():
    import resident_app.models  # noqa: F401 (registers every table)

    return [(table.name, column) for table in db.metadata.sorted_tables for column in table.columns
            if column.name.endswith(MEASURE_SUFFIXES) or column.name in ("yen", "tonnes")]


def test_every_yen_gram_and_tonne_column_is_64_bit():
    columns = measure_columns()
    assert len(columns) >= 30
    narrow = [f"{table}.{column.name}" for table, column in columns
              if not isinstance(column.type, BigInteger) or column.type.__class__ is not BigInteger]
    assert narrow == []


@pytest.mark.parametrize("largest", [
    fields.MAX_TOTAL_YEN,
    fields.MAX_TONNES * GRAMS_PER_TONNE,                                        # one invalidation in grams
    fields.MAX_OFFLINE_QUANTITY * MAX_PRICE_YEN,                                # one cash entry in yen
    grams_for_yen(fields.MAX_OFFLINE_QUANTITY * MAX_PRICE_YEN, MIN_RATE_YEN_PER_T),   # ... in grams
    grams_for_yen(payments.MAX_CHARGE_YEN, MIN_RATE_YEN_PER_T),                 # one card payment in grams
])
def test_each_bound_fits_with_room_for_the_sums_made_from_it(largest):
    assert largest * 1_000 < INT64_MAX             # a thousand of the largest still sum within 64 bits
