"""Read-only figures about the pool, shared by the API, the pages and the learn section."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..carbon.conversion import grams_for_yen
from ..extensions import db
from ..models import Contribution, ContributionStatus
from .programme import current_rate


@dataclass(frozen=True)
class PoolFigures:
    contributions: int
    paid_yen: int
    co2_g: int
    retired_t: int
    balance_g: int
    rate_yen_per_t: int

    @property
    def grams_per_100_yen(self) -> int:
        return grams_for_yen(100, self.rate_yen_per_t) if self.rate_yen_per_t else 0

    def as_json(self) -> dict[str, int]:
        return {"contributions": self.contributions, "paid_yen": self.paid_yen, "co2_g": self.co2_g,
                "retired_t": self.retired_t, "balance_g": self.balance_g,
                "rate_yen_per_t": self.rate_yen_per_t}


def pool_figures() -> PoolFigures:
    """Paid contributions only. Retirement figures stay 0 until batches are recorded."""
    count, paid_yen, co2_g = db.session.execute(
        select(func.count(Contribution.id), func.coalesce(func.sum(Contribution.amount_yen), 0),
               func.coalesce(func.sum(Contribution.co2_g), 0))
        .where(Contribution.status == ContributionStatus.PAID)
    ).one()
    rate = current_rate()
    return PoolFigures(int(count), int(paid_yen), int(co2_g), 0, 0, rate.yen_per_t if rate else 0)
