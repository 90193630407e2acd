"""Default data every installation starts with; safe to run again and again."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from ..carbon.reference import DATA_DIR
from ..extensions import db
from .factors import load_factor_set, read_factor_csv
from .ledger import ensure_pool_row
from .programme import current_rate, load_unit_prices, set_rate

DEFAULT_FACTOR_FILE = DATA_DIR / "factor_sets" / "default.csv"
DEFAULT_SET_NAME = "本プログラム標準係数 / Programme default factors"
DEFAULT_SET_FISCAL_YEAR = "FY2026"
DEFAULT_EFFECTIVE = date(2026, 4, 1)
DEFAULT_RATE_YEN_PER_T = 10_000
SYSTEM_ACTOR = "system"


def load_defaults(data_dir: Path = DATA_DIR) -> dict[str, object]:
    """Load the default factor set, unit prices and the opening rate if they are not there yet,
    and the pool row (a database made by create_all has none; migrations make it)."""
    ensure_pool_row()
    db.session.commit()
    factor_result = load_factor_set(
        read_factor_csv(data_dir / "factor_sets" / "default.csv"),
        name=DEFAULT_SET_NAME, fiscal_year=DEFAULT_SET_FISCAL_YEAR,
        effective_from=DEFAULT_EFFECTIVE, activate=False, actor=SYSTEM_ACTOR,
    )
    prices_added = load_unit_prices(data_dir / "unit_prices.csv", effective_from=DEFAULT_EFFECTIVE,
                                    actor=SYSTEM_ACTOR)
    rate_created = False
    if current_rate() is None:
        set_rate(DEFAULT_RATE_YEN_PER_T, actor=SYSTEM_ACTOR, reason="Opening rate",
                 effective_from=datetime(2026, 4, 1, tzinfo=timezone.utc))
        rate_created = True
    return {"factor_set_created": factor_result.created, "unit_prices_added": prices_added,
            "rate_created": rate_created}
