"""The transparency report (情報公開): the pool's figures, every confirmed batch with its credits
and invalidations (corrections applied), totals by month and by programme.

Read only. The page, /transparency.csv and /transparency.json are all built from one
TransparencyReport. Its figures are sums over the pool ledger up to one head (services.open_ledger),
the same sums GET /api/v1/pool serves, and the ledger itself is published beside it, so every
figure here can be recomputed from the download."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import func, select

from ..carbon.pool import SerialRange, pool_balance_g
from ..extensions import db
from ..models import Batch, BatchStatus, ConversionRate, InvalidationCorrection, utcnow
from .exports import serial_text, tokyo_iso
from .open_ledger import BatchLedger, ledger_by_batch, read_rollup, rollup_by_month, rollup_by_programme
from .pool import PoolFigures
from .programme import current_rate
from .register import InvalidationView, PurchaseView, batch_view
from .settings import rate_history

NoticeUrl = Callable[[int], "str | None"]


@dataclass(frozen=True)
class MonthRow:
    month: str              # "2026-10": ledger entries by the month they occurred in (Asia/Tokyo)
    contributions: int      # contributions in less contributions out for good that month
    paid_yen: int
    co2_g: int
    invalidated_t: int


@dataclass(frozen=True)
class ProgrammeRow:
    programme: str
    contributions: int
    paid_yen: int
    co2_g: int


@dataclass(frozen=True)
class PublishedCorrection:
    target: str             # "purchase" or "invalidation"
    field: str
    old_value: Any
    new_value: Any
    reason: str
    recorded_at: datetime

    @property
    def old_text(self) -> str:
        return _value_text(self.old_value)

    @property
    def new_text(self) -> str:
        return _value_text(self.new_value)


def _value_text(value: Any) -> str:
    """A corrected value as a person reads it (serial ranges as "A – B", the rest as written)."""
    flat = _flat(value)
    return str(flat)


@dataclass(frozen=True)
class PublishedBatch:
    batch: Batch
    purchase: PurchaseView | None
    invalidations: tuple[InvalidationView, ...]
    corrections: tuple[PublishedCorrection, ...]
    ledger: BatchLedger             # the batch's entries in the ledger: the figures published for it

    @property
    def invalidated_t(self) -> int:
        return self.ledger.tonnes

    @property
    def invalidated_on(self) -> date | None:
        return max((i.invalidated_on for i in self.invalidations), default=None)


@dataclass(frozen=True)
class TransparencyReport:
    generated_at: datetime
    ledger_head: int                # the figures are the sums of ledger entries 1..ledger_head
    ledger_entries: int
    figures: PoolFigures
    retired_contributions_g: int    # grams of paid contributions that confirmed batches cover
    credits_spent_yen: int          # what confirmed batches' credits cost, as invoiced (after corrections)
    months: tuple[MonthRow, ...]
    programmes: tuple[ProgrammeRow, ...]
    batches: tuple[PublishedBatch, ...]
    rates: tuple[ConversionRate, ...]    # every conversion rate with its reason, the latest first

    @property
    def awaiting_g(self) -> int:
        """Grams paid for but not yet covered by a confirmed batch."""
        return self.figures.co2_g - self.retired_contributions_g


def _published(batch: Batch, ledger: BatchLedger) -> PublishedBatch:
    view = batch_view(batch)
    corrections = tuple(
        PublishedCorrection("invalidation" if c.invalidation_id is not None else "purchase", c.field, c.old_value,
                            c.new_value, c.reason, c.created_at)
        for c in view.corrections)
    return PublishedBatch(batch, view.purchase, view.invalidations, corrections, ledger)


def transparency_report() -> TransparencyReport:
    """Everything the transparency page shows, read once, up to one ledger head: the totals from the
    pool row, the months and programmes from the rollups (no scan of the ledger)."""
    state, rollup = read_rollup()
    head = rollup.head
    per_batch = ledger_by_batch(head)
    batches = tuple(_published(b, per_batch.get(b.id, BatchLedger())) for b in db.session.scalars(
        select(Batch).where(Batch.status == BatchStatus.INVALIDATED)
        .order_by(Batch.confirmed_at.desc(), Batch.id.desc())))
    months = tuple(MonthRow(month, s.contributions, s.yen, s.co2_g, s.tonnes)
                   for month, s in rollup_by_month(rollup).items())
    programmes = tuple(ProgrammeRow(name, s.contributions, s.yen, s.co2_g)
                       for name, s in rollup_by_programme(rollup).items())
    rate = current_rate()
    figures = PoolFigures(int(state.contributions), int(state.paid_yen), int(state.co2_g), int(state.retired_t),
                          pool_balance_g(int(state.retired_t), int(state.retired_g)), rate.yen_per_t if rate else 0)
    return TransparencyReport(utcnow(), head, int(state.entries), figures, int(state.retired_g),
                              int(state.credits_yen), months, programmes, batches, tuple(rate_history()))


def last_change() -> datetime | None:
    """When the figures last changed (the latest confirmation or correction), for the page's date line."""
    return max(filter(None, (
        db.session.scalar(select(func.max(Batch.confirmed_at))),
        db.session.scalar(select(func.max(InvalidationCorrection.created_at))))), default=None)


# --- open data: the same report as JSON and as CSV ------------------------------------------------

def _ranges(ranges: Sequence[SerialRange]) -> list[dict[str, str]]:
    return [r.as_json() for r in ranges]


def _purchase_json(purchase: PurchaseView | None) -> dict[str, Any] | None:
    if purchase is None:
        return None
    return {"provider": purchase.provider, "credit_type": str(purchase.credit_type),
            "project_name": purchase.project_name, "project_id": purchase.project_id,
            "credit_place": purchase.credit_place, "tonnes": purchase.tonnes,
            "price_per_t_yen": purchase.price_per_t_yen, "total_yen": purchase.total_yen,
            "purchased_on": purchase.purchased_on.isoformat(), "corrected": sorted(purchase.corrected)}


def _invalidation_json(item: InvalidationView, notice_url: NoticeUrl) -> dict[str, Any]:
    return {"registry": str(item.registry), "invalidated_on": item.invalidated_on.isoformat(),
            "serial_ranges": _ranges(item.serial_ranges), "tonnes": item.tonnes, "purpose": item.purpose,
            "offset_place": item.offset_place, "notice_on_file": item.notice_file_id is not None,
            "notice_url": notice_url(item.id) if item.notice_file_id is not None else None,
            "corrected": sorted(item.corrected)}


def batch_json(published: PublishedBatch, notice_url: NoticeUrl) -> dict[str, Any]:
    """One confirmed batch. owed_g, released_g, invalidated_t and credits_yen are its ledger entries'
    sums; surplus_added_g = invalidated_t × 1,000,000 − owed_g + released_g, and the batches'
    invalidated_t and surplus_added_g add up to the pool's retired_t and balance_g."""
    batch, ledger = published.batch, published.ledger
    return {
        "number": batch.number, "cutoff_at": tokyo_iso(batch.cutoff_at), "confirmed_at": tokyo_iso(batch.confirmed_at),
        "contribution_count": batch.contribution_count, "paid_yen": batch.paid_yen, "owed_g": ledger.retired_g,
        "surplus_used_g": batch.surplus_used_g, "tonnes_required": batch.tonnes_required,
        "surplus_after_g": batch.surplus_after_g, "invalidated_t": published.invalidated_t,
        "released_g": ledger.released_g, "surplus_added_g": ledger.surplus_added_g, "credits_yen": ledger.credits_yen,
        "purchase": _purchase_json(published.purchase),
        "invalidations": [_invalidation_json(i, notice_url) for i in published.invalidations],
        "corrections": [{"target": c.target, "field": c.field, "old_value": c.old_value, "new_value": c.new_value,
                         "reason": c.reason, "recorded_at": tokyo_iso(c.recorded_at)} for c in published.corrections],
    }


LedgerUrls = Callable[[], "dict[str, str]"]


def report_json(report: TransparencyReport, notice_url: NoticeUrl,
                ledger_urls: LedgerUrls = lambda: {}) -> dict[str, Any]:
    """The report as JSON: money in integer yen, CO2 in integer grams, credits in whole tonnes."""
    return {
        "generated_at": tokyo_iso(report.generated_at),
        "ledger": {"head": report.ledger_head, "entries": report.ledger_entries, **ledger_urls()},
        "units": {"money": "JPY (integer yen)", "co2": "g-CO2 (integer grams)", "credits": "t-CO2 (whole tonnes)"},
        "pool": report.figures.as_json(),
        "retired_contributions_g": report.retired_contributions_g,
        "awaiting_g": report.awaiting_g,
        "credits_spent_yen": report.credits_spent_yen,
        "months": [{"month": m.month, "contributions": m.contributions, "paid_yen": m.paid_yen, "co2_g": m.co2_g,
                    "invalidated_t": m.invalidated_t} for m in report.months],
        "programmes": [{"programme": p.programme, "contributions": p.contributions, "paid_yen": p.paid_yen,
                        "co2_g": p.co2_g} for p in report.programmes],
        "batches": [batch_json(b, notice_url) for b in report.batches],
        "rates": [{"effective_from": tokyo_iso(r.effective_from), "yen_per_t": r.yen_per_t, "reason": r.reason}
                  for r in report.rates],
    }


CSV_HEADER = ("section", "key", "field", "value")


def _flat(value: Any) -> object:
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], dict) and "start" in value[0]:
            return serial_text(SerialRange(r["start"], r["end"]) for r in value)
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if value is not None else ""


def report_rows(report: TransparencyReport, notice_url: NoticeUrl,
                ledger_urls: LedgerUrls = lambda: {}) -> Iterator[tuple[object, ...]]:
    """The report as long CSV rows (section, key, field, value), header first: the same figures
    as the JSON, one value a row, so a spreadsheet can filter and sum them."""
    data = report_json(report, notice_url, ledger_urls)
    yield CSV_HEADER
    yield ("report", "", "generated_at", data["generated_at"])
    for name, value in data["ledger"].items():
        yield ("ledger", "", name, value)
    for name, value in data["pool"].items():
        yield ("pool", "", name, value)
    for name in ("retired_contributions_g", "awaiting_g", "credits_spent_yen"):
        yield ("pool", "", name, data[name])
    for month in data["months"]:
        for name, value in month.items():
            if name != "month":
                yield ("month", month["month"], name, value)
    for programme in data["programmes"]:
        for name, value in programme.items():
            if name != "programme":
                yield ("programme", programme["programme"], name, value)
    for batch in data["batches"]:
        number = batch["number"]
        for name, value in batch.items():
            if name not in ("number", "purchase", "invalidations", "corrections"):
                yield ("batch", number, name, value)
        for name, value in (batch["purchase"] or {}).items():
            yield ("purchase", number, name, _flat(value))
        for index, item in enumerate(batch["invalidations"], start=1):
            for name, value in item.items():
                yield ("invalidation", f"{number}/{index}", name, _flat(value))
        for index, item in enumerate(batch["corrections"], start=1):
            for name, value in item.items():
                yield ("correction", f"{number}/{index}", name, _flat(value))
    for rate in data["rates"]:
        yield ("rate", rate["effective_from"], "yen_per_t", rate["yen_per_t"])
        yield ("rate", rate["effective_from"], "reason", rate["reason"])
