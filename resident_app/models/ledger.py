"""The pool ledger (台帳): every change to the pool as an append-only entry, and the pool row.

An entry is never updated or deleted; a mistake is put right by a later entry. Its measures are
signed, and each public total is the plain sum of one column over every entry:

    paid_yen   = SUM(yen)          money from residents the pool keeps
    co2_g      = SUM(co2_g)        grams the pool owes them
    retired_t  = SUM(tonnes)       credits invalidated for confirmed batches
    retired_g  = SUM(retired_g)    grams those credits cover
    balance_g  = retired_t × 1,000,000 − retired_g   (the surplus carried forward)
    credits_spent_yen = SUM(credits_yen)

The single PoolState row (id 1) is the pool-wide lock every pool write takes first, and it keeps
the same sums as running totals, updated in the transaction that writes the entries, so public
figures never have to scan the contributions. PoolRollup keeps them again by month and add-on,
in the same transaction, for the breakdowns (the transparency report, the staff dashboard).
`flask pool check` recounts all of them from the ledger."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, BigInteger, CheckConstraint, Enum, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .addons import Contribution
from .enums import LedgerKind
from .types import BigKey, Grams, Tonnes, UTCDateTime, Yen, utcnow

POOL_ROW_ID = 1


class LedgerEntry(db.Model):
    """One change to the pool: what happened, its signed measures and what it refers to."""

    __tablename__ = "pool_ledger"
    __table_args__ = (Index("ix_pool_ledger_kind_occurred_at", "kind", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True)  # the sequence number
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it happened: the payment, the day cash was received, the invalidation date. Usually the
    # same as recorded_at; cash counted late keeps the day it was received (months follow it).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[LedgerKind] = mapped_column(
        Enum(LedgerKind, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e]))
    yen: Mapped[Yen] = mapped_column(default=0)
    co2_g: Mapped[Grams] = mapped_column(default=0)
    retired_g: Mapped[Grams] = mapped_column(default=0)
    tonnes: Mapped[Tonnes] = mapped_column(default=0)
    credits_yen: Mapped[Yen] = mapped_column(default=0)
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"), nullable=True, index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), nullable=True, index=True)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("credit_purchases.id"), nullable=True)
    invalidation_id: Mapped[int | None] = mapped_column(ForeignKey("invalidations.id"), nullable=True)
    correction_id: Mapped[int | None] = mapped_column(ForeignKey("invalidation_corrections.id"), nullable=True)


# The database itself refuses to change an entry (migration 0004_ledger creates the same triggers).
APPEND_ONLY = {
    "sqlite": ("CREATE TRIGGER pool_ledger_append_only BEFORE UPDATE ON pool_ledger "
               "BEGIN SELECT RAISE(ABORT, 'pool_ledger is append-only: add a correcting entry'); END",),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION pool_ledger_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'pool_ledger is append-only: add a correcting entry'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER pool_ledger_append_only BEFORE UPDATE ON pool_ledger "
        "FOR EACH ROW EXECUTE FUNCTION pool_ledger_append_only()"),
}
for _dialect, _statements in APPEND_ONLY.items():
    for _statement in _statements:
        event.listen(LedgerEntry.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))


class PoolState(db.Model):
    """The one pool row: the lock pool writes take, and the ledger's running totals."""

    __tablename__ = "pool_state"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        # The last line of defence (the services check first): the tonnes retired always cover the
        # grams they retired, so the carried balance is never negative; and nothing is retired
        # that was not paid for.
        CheckConstraint("retired_t * 1000000 >= retired_g", name="balance_not_negative"),
        CheckConstraint("retired_g >= 0 AND co2_g >= retired_g", name="retired_within_paid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(BigInteger, default=0)         # how many ledger entries
    last_entry_id: Mapped[int] = mapped_column(BigInteger, default=0)   # the ledger's head
    contributions: Mapped[int] = mapped_column(BigInteger, default=0)   # counted: in less out for good
    paid_yen: Mapped[Yen] = mapped_column(default=0)
    co2_g: Mapped[Grams] = mapped_column(default=0)
    retired_g: Mapped[Grams] = mapped_column(default=0)
    retired_t: Mapped[Tonnes] = mapped_column(default=0)
    credits_yen: Mapped[Yen] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


NO_ADDON = 0  # PoolRollup.addon_id of entries about no contribution (batches, credits, corrections)


class PoolRollup(db.Model):
    """The ledger's sums by the month an entry occurred in (Japan time), the add-on of the
    contribution it is about and the month that contribution was paid in: running totals kept by
    services.ledger.post in the transaction that writes the entries, so the breakdowns by month, by
    programme, by add-on and by organiser read a few hundred rows instead of the whole ledger."""

    __tablename__ = "pool_rollups"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)        # "2026-11": occurred_at, Tokyo
    paid_month: Mapped[str] = mapped_column(String(7), primary_key=True)   # the contribution's paid_at; ""
    addon_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # NO_ADDON: none
    entries: Mapped[int] = mapped_column(BigInteger, default=0)
    contributions: Mapped[int] = mapped_column(BigInteger, default=0)     # in less out for good
    yen: Mapped[Yen] = mapped_column(default=0)
    co2_g: Mapped[Grams] = mapped_column(default=0)
    retired_g: Mapped[Grams] = mapped_column(default=0)
    tonnes: Mapped[Tonnes] = mapped_column(default=0)
    credits_yen: Mapped[Yen] = mapped_column(default=0)


class PoolAwaiting(db.Model):
    """What awaits the next batch (the staff dashboard's figures): paid contributions that no batch
    holds and no open dispute holds back, counted with their yen and grams net of refunds. Kept by
    triggers on contributions (AWAITING_TRIGGERS), so every write, whatever its path, moves it in
    the same statement; a missing row means zero. `flask pool check` recounts it."""

    __tablename__ = "pool_awaiting"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    contributions: Mapped[int] = mapped_column(BigInteger, default=0)
    yen: Mapped[Yen] = mapped_column(default=0)
    co2_g: Mapped[Grams] = mapped_column(default=0)


# The row a contribution adds while it awaits a batch (status paid, no batch, no open dispute:
# services.batches.batchable() less the cut-off), written out for each database. Migration
# 0009_awaiting creates the same triggers. SQLite has row triggers only; PostgreSQL sums each
# statement's transition tables, so a bulk UPDATE moves the row once (not once per contribution)
# and a statement that changes no figure (a receipt address purged) neither writes nor locks it.
_UPSERT = " ON CONFLICT (id) DO UPDATE SET contributions = {p}contributions + excluded.contributions, " \
          "yen = {p}yen + excluded.yen, co2_g = {p}co2_g + excluded.co2_g"
_SQLITE_AWAITS = "{r}.status = 'paid' AND {r}.batch_id IS NULL AND {r}.dispute_status != 'open'"
_SQLITE_IN = ("INSERT INTO pool_awaiting (id, contributions, yen, co2_g) SELECT 1, 1, NEW.amount_yen - NEW.refunded_yen, "
              "NEW.co2_g - NEW.refunded_g WHERE " + _SQLITE_AWAITS.format(r="NEW") + _UPSERT.format(p="") + ";")
_SQLITE_OUT = ("INSERT INTO pool_awaiting (id, contributions, yen, co2_g) SELECT 1, -1, OLD.refunded_yen - OLD.amount_yen, "
               "OLD.refunded_g - OLD.co2_g WHERE " + _SQLITE_AWAITS.format(r="OLD") + _UPSERT.format(p="") + ";")
_PG_AWAITS = "status = 'paid' AND batch_id IS NULL AND dispute_status <> 'open'"
# nosec B608 below: trigger text fixed here, no input reaches it
_PG_IN = ("SELECT 1 AS n, amount_yen - refunded_yen AS yen, co2_g - refunded_g AS g "  # nosec B608
          "FROM new_rows WHERE " + _PG_AWAITS)
_PG_OUT = ("SELECT -1 AS n, refunded_yen - amount_yen AS yen, refunded_g - co2_g AS g "  # nosec B608
           "FROM old_rows WHERE " + _PG_AWAITS)
_PG_APPLY = ("INSERT INTO pool_awaiting AS p (id, contributions, yen, co2_g) "  # nosec B608
             "SELECT 1, sum(n), sum(yen), sum(g) FROM ({rows}) d "
             "HAVING sum(n) <> 0 OR sum(yen) <> 0 OR sum(g) <> 0" + _UPSERT.format(p="p.") + ";")
AWAITING_TRIGGERS = {
    "sqlite": (
        "CREATE TRIGGER contributions_awaiting_insert AFTER INSERT ON contributions WHEN "
        + _SQLITE_AWAITS.format(r="NEW") + " BEGIN " + _SQLITE_IN + " END",
        "CREATE TRIGGER contributions_awaiting_update AFTER UPDATE OF status, batch_id, dispute_status, amount_yen, "
        "refunded_yen, co2_g, refunded_g ON contributions WHEN (" + _SQLITE_AWAITS.format(r="OLD") + ") OR ("
        + _SQLITE_AWAITS.format(r="NEW") + ") BEGIN " + _SQLITE_OUT + " " + _SQLITE_IN + " END",
        "CREATE TRIGGER contributions_awaiting_delete AFTER DELETE ON contributions WHEN "
        + _SQLITE_AWAITS.format(r="OLD") + " BEGIN " + _SQLITE_OUT + " END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION contributions_awaiting() RETURNS trigger AS $$ BEGIN "
        "IF TG_OP = 'INSERT' THEN " + _PG_APPLY.format(rows=_PG_IN) + " "
        "ELSIF TG_OP = 'UPDATE' THEN " + _PG_APPLY.format(rows=_PG_IN + " UNION ALL " + _PG_OUT) + " "
        "ELSE " + _PG_APPLY.format(rows=_PG_OUT) + " END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER contributions_awaiting_insert AFTER INSERT ON contributions REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION contributions_awaiting()",
        "CREATE TRIGGER contributions_awaiting_update AFTER UPDATE ON contributions "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contributions_awaiting()",
        "CREATE TRIGGER contributions_awaiting_delete AFTER DELETE ON contributions REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION contributions_awaiting()",
    ),
}
for _dialect, _statements in AWAITING_TRIGGERS.items():
    for _statement in _statements:
        event.listen(Contribution.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
