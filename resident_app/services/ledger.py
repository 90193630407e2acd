"""Writing the pool ledger: the pool-wide lock, append-only entries and the running totals.

Every service that changes the pool calls lock_pool() before it reads anything it will decide
on, then post() for what happened, then commits once. The lock is a write to the single pool
row, so on PostgreSQL it is a row lock held until commit, and on SQLite it takes the database's
write lock: either way two confirmations, a correction and a refund can never decide on the same
balance at once. Nothing here commits (the calling service owns the transaction)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Channel, Contribution, LedgerEntry, LedgerKind, PoolRollup, PoolState, utcnow
from ..models.enums import LEDGER_IN, LEDGER_OUT
from ..models.ledger import NO_ADDON, POOL_ROW_ID

TOKYO = ZoneInfo("Asia/Tokyo")
ROLLUP_MEASURES = ("entries", "contributions", "yen", "co2_g", "retired_g", "tonnes", "credits_yen")

KIND_FOR_CHANNEL = {Channel.STRIPE: LedgerKind.PAYMENT, Channel.CASH: LedgerKind.CASH,
                    Channel.BANK_TRANSFER: LedgerKind.TRANSFER}


@dataclass(frozen=True)
class Entry:
    """A ledger entry to post: its kind, signed measures and references (ids)."""

    kind: LedgerKind
    occurred_at: datetime | None = None     # default: when it is recorded
    yen: int = 0
    co2_g: int = 0
    retired_g: int = 0
    tonnes: int = 0
    credits_yen: int = 0
    contribution_id: int | None = None
    batch_id: int | None = None
    purchase_id: int | None = None
    invalidation_id: int | None = None
    correction_id: int | None = None

    @property
    def contributions(self) -> int:
        """+1 when a contribution comes into the pool, −1 when it leaves it for good."""
        return 1 if self.kind in LEDGER_IN else -1 if self.kind in LEDGER_OUT else 0


_ENTRY_FIELDS = tuple(f.name for f in fields(Entry))


def ensure_pool_row() -> None:
    """Create the pool row if this database has none yet (a fresh schema). No commit."""
    if db.session.get(PoolState, POOL_ROW_ID) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(PoolState(id=POOL_ROW_ID, entries=0, last_entry_id=0, contributions=0, paid_yen=0,
                                     co2_g=0, retired_g=0, retired_t=0, credits_yen=0))
    except IntegrityError:  # another transaction created it a moment ago
        pass


def lock_pool() -> None:
    """Take the pool-wide lock for the rest of the transaction (idempotent within it)."""
    touched = db.session.execute(
        update(PoolState).where(PoolState.id == POOL_ROW_ID).values(updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if touched != 1:
        ensure_pool_row()
        db.session.execute(update(PoolState).where(PoolState.id == POOL_ROW_ID).values(updated_at=utcnow())
                           .execution_options(synchronize_session=False))


def post(entries: Iterable[Entry], *, recorded_at: datetime | None = None) -> list[int]:
    """Append the entries (one INSERT for all) and add them to the running totals, in the caller's
    transaction, which must hold lock_pool(). Returns the new sequence numbers."""
    batch = list(entries)
    if not batch:
        return []
    now = recorded_at or utcnow()
    rows = [{name: getattr(e, name) for name in _ENTRY_FIELDS} | {"recorded_at": now,
                                                                  "occurred_at": e.occurred_at or now}
            for e in batch]
    ids = list(db.session.scalars(insert(LedgerEntry).returning(LedgerEntry.id, sort_by_parameter_order=True),
                                  rows))
    db.session.execute(
        update(PoolState).where(PoolState.id == POOL_ROW_ID).values(
            entries=PoolState.entries + len(batch),
            last_entry_id=max(ids),
            contributions=PoolState.contributions + sum(e.contributions for e in batch),
            paid_yen=PoolState.paid_yen + sum(e.yen for e in batch),
            co2_g=PoolState.co2_g + sum(e.co2_g for e in batch),
            retired_g=PoolState.retired_g + sum(e.retired_g for e in batch),
            retired_t=PoolState.retired_t + sum(e.tonnes for e in batch),
            credits_yen=PoolState.credits_yen + sum(e.credits_yen for e in batch),
            updated_at=now,
        ).execution_options(synchronize_session=False))
    _roll_up(batch, now)
    return ids


def tokyo_month(moment: datetime | None) -> str:
    """"2026-11": the month of a moment in Japan time ("" for none); the SQL breakdowns' month."""
    return moment.astimezone(TOKYO).strftime("%Y-%m") if moment is not None else ""


def _roll_up(batch: list[Entry], now: datetime) -> None:
    """Add the entries to PoolRollup, one UPDATE (or INSERT) per month and add-on they touch. The
    caller holds the pool lock, so no other transaction adds the same row at the same time."""
    ids = sorted({e.contribution_id for e in batch if e.contribution_id is not None})
    about: dict[int, tuple[int, str]] = {}
    for first in range(0, len(ids), 5000):
        chunk = ids[first:first + 5000]
        about.update((cid, (addon_id, tokyo_month(paid_at))) for cid, addon_id, paid_at in db.session.execute(
            select(Contribution.id, Contribution.addon_id, Contribution.paid_at).where(Contribution.id.in_(chunk))))
    sums: dict[tuple[str, str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(ROLLUP_MEASURES, 0))
    for e in batch:
        addon_id, paid_month = about.get(e.contribution_id, (NO_ADDON, "")) if e.contribution_id else (NO_ADDON, "")
        row = sums[(tokyo_month(e.occurred_at or now), paid_month, addon_id)]
        row["entries"] += 1
        row["contributions"] += e.contributions
        for name in ROLLUP_MEASURES[2:]:
            row[name] += getattr(e, name)
    for (month, paid_month, addon_id), values in sums.items():
        key = (PoolRollup.month == month, PoolRollup.paid_month == paid_month, PoolRollup.addon_id == addon_id)
        touched = db.session.execute(
            update(PoolRollup).where(*key)
            .values({name: getattr(PoolRollup, name) + value for name, value in values.items()})
            .execution_options(synchronize_session=False)).rowcount
        if touched != 1:
            db.session.execute(insert(PoolRollup).values(month=month, paid_month=paid_month, addon_id=addon_id,
                                                         **values))


def pool_state() -> PoolState:
    """The pool row as committed (or as this transaction changed it): the running totals."""
    state = db.session.execute(select(PoolState).where(PoolState.id == POOL_ROW_ID)
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    return state if state is not None else PoolState(id=POOL_ROW_ID, entries=0, last_entry_id=0, contributions=0,
                                                     paid_yen=0, co2_g=0, retired_g=0, retired_t=0, credits_yen=0)
