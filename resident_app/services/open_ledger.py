"""The pool ledger as open data: its public columns (no personal data), streamed for download,
and the sums and breakdowns the transparency report publishes, all read up to one ledger head so
a report and its download describe the same moment.

Anyone can recompute the pool's figures from the download alone:

    paid_yen      = SUM(yen)                    co2_g = SUM(co2_g)
    retired_t     = SUM(tonnes)                 credits_spent_yen = SUM(credits_yen)
    balance_g     = SUM(tonnes) × 1,000,000 − SUM(retired_g)
    contributions = rows of kind payment, cash or transfer − rows of kind refund or dispute_lost
    a month's figures: the same sums over the rows whose occurred_at starts with "2026-11"
    a programme's or a batch's: the same sums over the rows naming it"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from sqlalchemy import ColumnElement, case, func, select

from ..carbon.conversion import GRAMS_PER_TONNE
from ..extensions import db
from ..models import AddOn, AddOnKind, Batch, Contribution, LedgerEntry, LedgerKind, PoolRollup, PoolState
from ..models.enums import LEDGER_IN, LEDGER_OUT
from ..models.ledger import NO_ADDON
from .exports import tokyo_iso
from .ledger import ROLLUP_MEASURES, pool_state

CHUNK_ROWS = 1000
# The programmes the report totals, by add-on kind (eco-tours are few and count as "other").
PROGRAMMES: dict[str, tuple[AddOnKind, ...]] = {
    "community_bus": (AddOnKind.COMMUNITY_BUS,),
    "events": (AddOnKind.EVENT_TICKET,),
    "households": (AddOnKind.HOUSEHOLD,),
    "other": (AddOnKind.ECO_TOUR, AddOnKind.OTHER),
}
PROGRAMME_OF_KIND = {kind: name for name, kinds in PROGRAMMES.items() for kind in kinds}
LEDGER_COLUMNS = ("seq", "recorded_at", "occurred_at", "kind", "yen", "co2_g", "retired_g", "tonnes",
                  "credits_yen", "contribution", "programme", "batch", "invalidation", "correction")
MEASURES = ("yen", "co2_g", "retired_g", "tonnes", "credits_yen")


def ledger_head() -> int:
    """The sequence number of the latest entry: reads up to it are one consistent moment (entries
    are written under the pool lock, so they commit in sequence)."""
    return int(pool_state().last_entry_id)


# --- the download --------------------------------------------------------------------------------

def _public_query(head: int):
    return (select(LedgerEntry.id, LedgerEntry.recorded_at, LedgerEntry.occurred_at, LedgerEntry.kind,
                   LedgerEntry.yen, LedgerEntry.co2_g, LedgerEntry.retired_g, LedgerEntry.tonnes,
                   LedgerEntry.credits_yen, Contribution.number, AddOn.kind, Batch.number,
                   LedgerEntry.invalidation_id, LedgerEntry.correction_id)
            .outerjoin(Contribution, Contribution.id == LedgerEntry.contribution_id)
            .outerjoin(AddOn, AddOn.id == Contribution.addon_id)
            .outerjoin(Batch, Batch.id == LedgerEntry.batch_id)
            .where(LedgerEntry.id <= head).order_by(LedgerEntry.id))


def ledger_rows(head: int | None = None) -> Iterator[tuple[object, ...]]:
    """The header, then one row per entry up to `head`, oldest first, read in chunks. Times in
    Japan time (ISO 8601), measures as signed integers, references by their public numbers."""
    head = ledger_head() if head is None else head
    yield LEDGER_COLUMNS
    with db.session.execute(_public_query(head).execution_options(yield_per=CHUNK_ROWS)) as rows:
        for (seq, recorded_at, occurred_at, kind, yen, co2_g, retired_g, tonnes, credits_yen, number, addon_kind,
             batch, invalidation_id, correction_id) in rows:
            yield (seq, tokyo_iso(recorded_at), tokyo_iso(occurred_at), str(kind), yen, co2_g, retired_g, tonnes,
                   credits_yen, number or "", PROGRAMME_OF_KIND.get(addon_kind, "") if addon_kind else "",
                   batch or "", invalidation_id or "", correction_id or "")


def ledger_json_chunks(head: int | None = None) -> Iterator[str]:
    """The same rows as a JSON document, streamed: {"head", "columns", "entries": [{...}, ...]}."""
    rows = ledger_rows(head)
    columns = next(rows)
    head = ledger_head() if head is None else head
    yield '{"head": %d, "units": {"yen": "JPY", "co2_g": "g-CO2", "retired_g": "g-CO2", "tonnes": "t-CO2", ' \
          '"credits_yen": "JPY"}, "columns": %s, "entries": [' % (head, json.dumps(columns))
    buffer: list[str] = []
    first = True
    for row in rows:
        buffer.append(("" if first else ",") + "\n" + json.dumps(dict(zip(columns, row)), ensure_ascii=False))
        first = False
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer)
            buffer = []
    yield "".join(buffer) + "\n]}\n"


# --- sums ----------------------------------------------------------------------------------------

@dataclass
class LedgerSums:
    """The column sums of some ledger entries, and what the public figures make of them."""

    entries: int = 0
    contributions: int = 0
    yen: int = 0
    co2_g: int = 0
    retired_g: int = 0
    tonnes: int = 0
    credits_yen: int = 0

    @property
    def balance_g(self) -> int:
        return self.tonnes * GRAMS_PER_TONNE - self.retired_g

    def add(self, kind: str, values: Sequence[int]) -> None:
        self.entries += 1
        self.contributions += 1 if kind in LEDGER_IN else -1 if kind in LEDGER_OUT else 0
        for name, value in zip(MEASURES, values):
            setattr(self, name, getattr(self, name) + int(value))


def sum_public_rows(rows: Iterable[Sequence[object]]) -> LedgerSums:
    """Sum downloaded rows (header first) as a spreadsheet would: the proof that the open data
    reproduces the published totals."""
    iterator = iter(rows)
    columns = list(next(iterator))
    kind_at, at = columns.index("kind"), [columns.index(m) for m in MEASURES]
    sums = LedgerSums()
    for row in iterator:
        sums.add(str(row[kind_at]), [int(row[i]) for i in at])
    return sums


def _count() -> ColumnElement[int]:
    return func.coalesce(func.sum(case((LedgerEntry.kind.in_(LEDGER_IN), 1),
                                       (LedgerEntry.kind.in_(LEDGER_OUT), -1), else_=0)), 0)


def _sum_columns() -> tuple[ColumnElement[int], ...]:
    return (func.count(LedgerEntry.id), _count(), *(func.coalesce(func.sum(getattr(LedgerEntry, m)), 0)
                                                      for m in MEASURES))


def ledger_totals(head: int | None = None) -> LedgerSums:
    """Every entry up to `head` summed in the database (a full recount, for `flask pool check`)."""
    query = select(*_sum_columns())
    if head is not None:
        query = query.where(LedgerEntry.id <= head)
    entries, contributions, *values = db.session.execute(query).one()
    return LedgerSums(int(entries), int(contributions), *(int(v) for v in values))


# --- breakdowns ----------------------------------------------------------------------------------

def _tokyo_month(column) -> ColumnElement[str]:
    if db.session.get_bind().dialect.name == "sqlite":  # stored as naive UTC text
        # Whole seconds first: SQLite's date arithmetic rounds 23:59:59.999999 up into the next month.
        return func.strftime("%Y-%m", func.substr(column, 1, 19), "+9 hours")
    return func.to_char(func.timezone("Asia/Tokyo", column), "YYYY-MM")


def ledger_by_month(head: int) -> dict[str, LedgerSums]:
    """Sums by the month (Japan time) each entry occurred in: a recount (`flask pool check`)."""
    month = _tokyo_month(LedgerEntry.occurred_at).label("month")
    rows = db.session.execute(select(month, *_sum_columns()).where(LedgerEntry.id <= head)
                              .group_by(month).order_by(month))
    return {str(m): LedgerSums(int(n), int(c), *(int(v) for v in values)) for m, n, c, *values in rows}


def ledger_by_programme(head: int) -> dict[str, LedgerSums]:
    """Sums of the entries about contributions, by the programme of the contribution's add-on: a
    recount (`flask pool check`)."""
    rows = db.session.execute(
        select(AddOn.kind, *_sum_columns()).select_from(LedgerEntry)
        .join(Contribution, Contribution.id == LedgerEntry.contribution_id)
        .join(AddOn, AddOn.id == Contribution.addon_id)
        .where(LedgerEntry.id <= head).group_by(AddOn.kind))
    result = {name: LedgerSums() for name in PROGRAMMES}
    for kind, n, c, *values in rows:
        sums = result[PROGRAMME_OF_KIND[AddOnKind(kind)]]
        sums.entries += int(n)
        sums.contributions += int(c)
        for name, value in zip(MEASURES, values):
            setattr(sums, name, getattr(sums, name) + int(value))
    return result


# --- the same breakdowns from the running totals (pages: no scan) ---------------------------------

@dataclass(frozen=True)
class Rollup:
    """The ledger's sums by month, add-on and month of payment up to one head, read in one go."""

    head: int
    rows: tuple[tuple[str, str, int, LedgerSums], ...]    # (month, paid_month, addon_id, sums)


def read_rollup(attempts: int = 5) -> tuple[PoolState, Rollup]:
    """The pool row and the rollups as of the same ledger head. Both change in one transaction, but
    two statements may see two commits: read again until the rollups hold exactly the entries the
    pool row counts (entries only ever grow), and recount from the ledger if writes never pause."""
    measures = [getattr(PoolRollup, name) for name in ROLLUP_MEASURES]
    for _ in range(attempts):
        state = pool_state()
        rows = db.session.execute(select(PoolRollup.month, PoolRollup.paid_month, PoolRollup.addon_id, *measures)
                                  .order_by(PoolRollup.month, PoolRollup.paid_month, PoolRollup.addon_id)).all()
        if sum(int(r.entries) for r in rows) == int(state.entries):
            return state, Rollup(int(state.last_entry_id), tuple(
                (m, p, int(a), LedgerSums(*(int(v) for v in values))) for m, p, a, *values in rows))
    state = pool_state()
    return state, recount_rollup(int(state.last_entry_id))


def recount_rollup(head: int) -> Rollup:
    """What the rollups should hold, summed from the ledger up to `head` (a full scan)."""
    month, paid_month = _tokyo_month(LedgerEntry.occurred_at), _tokyo_month(Contribution.paid_at)
    query = (select(month, func.coalesce(paid_month, ""), func.coalesce(Contribution.addon_id, NO_ADDON),
                    *_sum_columns())
             .select_from(LedgerEntry).outerjoin(Contribution, Contribution.id == LedgerEntry.contribution_id)
             .where(LedgerEntry.id <= head).group_by(month, paid_month, Contribution.addon_id))
    rows = sorted((str(m), str(p), int(a), LedgerSums(*(int(v) for v in values)))
                  for m, p, a, *values in db.session.execute(query))
    return Rollup(head, tuple(rows))


def _add(into: LedgerSums, sums: LedgerSums) -> None:
    into.entries += sums.entries
    into.contributions += sums.contributions
    for name in MEASURES:
        setattr(into, name, getattr(into, name) + getattr(sums, name))


def rollup_by_month(rollup: Rollup) -> dict[str, LedgerSums]:
    """ledger_by_month from the running totals."""
    result: dict[str, LedgerSums] = {}
    for month, _paid, _addon, sums in rollup.rows:
        _add(result.setdefault(month, LedgerSums()), sums)
    return dict(sorted(result.items()))


def addon_kinds() -> dict[int, AddOnKind]:
    return {i: AddOnKind(k) for i, k in db.session.execute(select(AddOn.id, AddOn.kind))}


def rollup_by_programme(rollup: Rollup) -> dict[str, LedgerSums]:
    """ledger_by_programme from the running totals."""
    kinds = addon_kinds()
    result = {name: LedgerSums() for name in PROGRAMMES}
    for _month, _paid, addon_id, sums in rollup.rows:
        if addon_id != NO_ADDON:
            _add(result[PROGRAMME_OF_KIND[kinds[addon_id]]], sums)
    return result


@dataclass
class BatchLedger:
    """What the ledger says about one batch: the grams its confirmation retired, the grams given
    back since (refunds, lost disputes: now surplus), its tonnes and what its credits cost."""

    retired_g: int = 0            # from batch_retired
    released_g: int = 0           # from surplus_carried (positive: grams returned to the surplus)
    tonnes: int = 0               # credits_invalidated and corrections
    credits_yen: int = 0          # credits_bought and corrections
    kinds: set[str] = field(default_factory=set)

    @property
    def surplus_added_g(self) -> int:
        """What the batch adds to the carried balance (negative when it used more than it added)."""
        return self.tonnes * GRAMS_PER_TONNE - self.retired_g + self.released_g


def ledger_by_batch(head: int, batch_id: int | None = None) -> dict[int, BatchLedger]:
    """Each batch's entries summed (one batch's only, if `batch_id` is given)."""
    query = (select(LedgerEntry.batch_id, LedgerEntry.kind, func.sum(LedgerEntry.retired_g),
                    func.sum(LedgerEntry.tonnes), func.sum(LedgerEntry.credits_yen))
             .where(LedgerEntry.id <= head, LedgerEntry.batch_id.is_not(None))
             .group_by(LedgerEntry.batch_id, LedgerEntry.kind))
    if batch_id is not None:
        query = query.where(LedgerEntry.batch_id == batch_id)
    rows = db.session.execute(query)
    result: dict[int, BatchLedger] = {}
    for batch_id, kind, retired_g, tonnes, credits_yen in rows:
        item = result.setdefault(batch_id, BatchLedger())
        item.kinds.add(str(kind))
        if kind == LedgerKind.SURPLUS_CARRIED:
            item.released_g -= int(retired_g)
        else:
            item.retired_g += int(retired_g)
        item.tonnes += int(tonnes)
        item.credits_yen += int(credits_yen)
    return result
