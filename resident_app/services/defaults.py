"""Default data every installation starts with; safe to run again and again."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from ..carbon.reference import DATA_DIR
from ..extensions import db
from .factors import load_factor_set, read_factor_csv
from .ledger import ensure_pool_row
from .menus import seed_menus
from .programme import current_rate, load_unit_prices, set_rate
from .tariffs import seed_tariffs

DEFAULT_FACTOR_FILE = DATA_DIR / "factor_sets" / "default.csv"
# Stored as written (a later `flask seed` finds the set by this name); pages show it in their own
# language through web/i18n.stored_text.
DEFAULT_SET_NAME = "本プログラム標準係数 / Programme default factors"
DEFAULT_EVENT_SET_NAME = "本プログラム標準イベント係数 / Programme default event factors"
OPENING_RATE_REASON = "Opening rate"
DEFAULT_SET_FISCAL_YEAR = "FY2026"
DEFAULT_EFFECTIVE = date(2026, 4, 1)
DEFAULT_RATE_YEN_PER_T = 10_000
SYSTEM_ACTOR = "system"


def load_defaults(data_dir: Path = DATA_DIR) -> dict[str, object]:
    """Load the default factor sets, unit prices, tariffs, electricity menus and the opening rate if
    they are not there yet, and the pool row (a database made by create_all has none; migrations make it)."""
    ensure_pool_row()
    db.session.commit()
    factor_result = load_factor_set(
        read_factor_csv(data_dir / "factor_sets" / "default.csv"),
        name=DEFAULT_SET_NAME, fiscal_year=DEFAULT_SET_FISCAL_YEAR,
        effective_from=DEFAULT_EFFECTIVE, activate=False, actor=SYSTEM_ACTOR,
    )
    event_result = load_factor_set(
        read_factor_csv(data_dir / "factor_sets" / "event_default.csv"),
        name=DEFAULT_EVENT_SET_NAME, fiscal_year=DEFAULT_SET_FISCAL_YEAR,
        effective_from=DEFAULT_EFFECTIVE, activate=False, actor=SYSTEM_ACTOR, kind="event",
    )
    prices_added = load_unit_prices(data_dir / "unit_prices.csv", effective_from=DEFAULT_EFFECTIVE,
                                    actor=SYSTEM_ACTOR)
    tariff_rows = seed_tariffs(data_dir, actor=SYSTEM_ACTOR)
    menus_added = seed_menus(data_dir, actor=SYSTEM_ACTOR)
    rate_created = False
    if current_rate() is None:
        set_rate(DEFAULT_RATE_YEN_PER_T, actor=SYSTEM_ACTOR, reason=OPENING_RATE_REASON,
                 effective_from=datetime(2026, 4, 1, tzinfo=timezone.utc))
        rate_created = True
    return {"factor_set_created": factor_result.created, "event_factor_set_created": event_result.created,
            "unit_prices_added": prices_added, "rate_created": rate_created,
            "tariff_rows_added": tariff_rows, "menus_added": menus_added}
