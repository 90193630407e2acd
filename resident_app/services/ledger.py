"""Writing the pool ledger: the pool-wide lock, append-only entries and the running totals.

Every service that changes the pool calls lock_pool() before it reads anything it will decide
on, then post() for what happened, then commits once. The lock is a write to the single pool
row, so on PostgreSQL it is a row lock held until commit, and on SQLite it takes the database's
write lock: either way two confirmations, a correction and a refund can never decide on the same
balance at once. Nothing here commits (the calling service owns the transaction)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Channel, LedgerEntry, LedgerKind, PoolState, utcnow
from ..models.enums import LEDGER_IN, LEDGER_OUT
from ..models.ledger import POOL_ROW_ID

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
    return ids


def pool_state() -> PoolState:
    """The pool row as committed (or as this transaction changed it): the running totals."""
    state = db.session.execute(select(PoolState).where(PoolState.id == POOL_ROW_ID)
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    return state if state is not None else PoolState(id=POOL_ROW_ID, entries=0, last_entry_id=0, contributions=0,
                                                     paid_yen=0, co2_g=0, retired_g=0, retired_t=0, credits_yen=0)
