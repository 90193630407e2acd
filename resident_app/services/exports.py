"""Rows for the staff exports and the CLI: header first, then one tuple per row, read lazily.

The functions produce rows; web/csv_export.py and web/xlsx_export.py write them. Queries select
plain columns and run with yield_per, so a million contributions stream through in constant
memory (nothing is loaded before the caller asks for the next row). Yen and grams stay ints;
times are ISO 8601 in Asia/Tokyo."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..extensions import db
from ..models import AddOn, AuditEntry, Batch, Contribution, ContributionStatus, User
from .audit import add_audit
from .register import batch_view
from .pool import _paid, _sums, _tokyo_month  # the dashboard's own definitions, so the totals agree

TOKYO = ZoneInfo("Asia/Tokyo")
UTC = ZoneInfo("UTC")
CHUNK_ROWS = 1000
KINDS = ("contributions", "totals", "batches")

Row = Sequence[object]

CONTRIBUTION_HEADER = (
    "number", "paid_at", "created_at", "status", "channel", "addon_id", "addon_slug", "addon_title_ja",
    "addon_title_en", "addon_kind", "organiser_id", "organisation", "quantity", "unit_price_yen", "amount_yen",
    "refunded_yen", "co2_g", "rate_yen_per_t", "batch_number", "display_name")
TOTALS_HEADER = ("month", "addon_id", "addon_slug", "addon_title_ja", "addon_title_en", "addon_kind",
                 "organisation", "contributions", "paid_yen", "co2_g")
BATCH_HEADER = (
    "batch_number", "status", "cutoff_at", "confirmed_at", "contribution_count", "paid_yen", "owed_g",
    "surplus_available_g", "surplus_used_g", "tonnes_required", "surplus_after_g", "provider", "credit_type",
    "project_name", "project_id", "credit_place", "purchased_t", "price_per_t_yen", "purchase_total_yen",
    "purchased_on", "invalidation", "registry", "invalidated_on", "serial_ranges", "invalidated_t", "purpose",
    "offset_place", "notice_file_id", "corrected_fields")
AUDIT_HEADER = ("id", "at", "actor", "action", "object_type", "object_id", "before", "after")


def tokyo_iso(moment: datetime | None) -> str:
    """An aware datetime as ISO 8601 in Asia/Tokyo, to the second; empty for None."""
    return moment.astimezone(TOKYO).isoformat(timespec="seconds") if moment else ""


def tokyo_period(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """Days in Tokyo, both included, as an aware UTC [start, end) pair; None leaves a side open."""
    start = datetime.combine(first, time.min, TOKYO).astimezone(UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min, TOKYO).astimezone(UTC) if last else None
    return start, end


def _text(value: Any) -> str:
    return str(value) if value is not None else ""


# --- contributions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContributionFilter:
    """Which contributions: [start, end) on the payment time (creation time if never paid)."""

    start: datetime | None = None
    end: datetime | None = None
    addon_id: int | None = None
    owner_id: int | None = None
    status: ContributionStatus | None = ContributionStatus.PAID   # None: every status


def contribution_rows(where: ContributionFilter = ContributionFilter()) -> Iterator[Row]:
    """The header, then one row per contribution, oldest first. No e-mail address, no payment ids."""
    yield CONTRIBUTION_HEADER
    moment = func.coalesce(Contribution.paid_at, Contribution.created_at)
    query = (
        select(Contribution.number, Contribution.paid_at, Contribution.created_at, Contribution.status,
               Contribution.channel, AddOn.id, AddOn.slug, AddOn.title_ja, AddOn.title_en, AddOn.kind, User.id,
               User.organisation, Contribution.quantity, Contribution.unit_price_yen, Contribution.amount_yen,
               Contribution.refunded_yen, Contribution.co2_g, Contribution.rate_yen_per_t, Batch.number,
               Contribution.display_name)
        .join(AddOn, AddOn.id == Contribution.addon_id)
        .join(User, User.id == AddOn.owner_id)
        .outerjoin(Batch, Batch.id == Contribution.batch_id))
    if where.status is not None:
        query = query.where(Contribution.status == where.status)
    if where.start is not None:
        query = query.where(moment >= where.start)
    if where.end is not None:
        query = query.where(moment < where.end)
    if where.addon_id is not None:
        query = query.where(Contribution.addon_id == where.addon_id)
    if where.owner_id is not None:
        query = query.where(AddOn.owner_id == where.owner_id)
    # `with`: a download abandoned half-way closes its (server-side, on PostgreSQL) cursor at once.
    with db.session.execute(query.order_by(moment, Contribution.id)
                            .execution_options(yield_per=CHUNK_ROWS)) as rows:
        for (number, paid_at, created_at, status, channel, addon_id, slug, title_ja, title_en, kind, owner_id,
             organisation, quantity, unit_price, amount, refunded, grams, rate, batch_number, display_name) in rows:
            yield (number, tokyo_iso(paid_at), tokyo_iso(created_at), str(status), str(channel), addon_id, slug,
                   title_ja, title_en, str(kind), owner_id, organisation, quantity, unit_price, amount, refunded,
                   grams, rate, batch_number or "", display_name)


# --- pooled totals by month and add-on ------------------------------------------------------------

def totals_rows(*, start: datetime | None = None, end: datetime | None = None) -> Iterator[Row]:
    """The header, then paid contributions per month of payment (Asia/Tokyo) and add-on."""
    yield TOTALS_HEADER
    month = _tokyo_month().label("month")
    query = _paid(
        select(month, AddOn.id, AddOn.slug, AddOn.title_ja, AddOn.title_en, AddOn.kind, User.organisation,
               *_sums())
        .select_from(Contribution)
        .join(AddOn, AddOn.id == Contribution.addon_id)
        .join(User, User.id == AddOn.owner_id),
        owner_id=None, start=start, end=end)
    query = query.group_by(month, AddOn.id, AddOn.slug, AddOn.title_ja, AddOn.title_en, AddOn.kind,
                           User.organisation).order_by(month, AddOn.id)
    with db.session.execute(query.execution_options(yield_per=CHUNK_ROWS)) as rows:
        for m, addon_id, slug, title_ja, title_en, kind, organisation, count, paid_yen, co2_g in rows:
            yield (str(m), addon_id, slug, title_ja, title_en, str(kind), organisation, int(count), int(paid_yen),
                   int(co2_g))


# --- batches, purchases and invalidations --------------------------------------------------------

def serial_text(ranges) -> str:
    """Serial ranges as one cell: "JP-1-0001 – JP-1-0003; JP-1-0010 – JP-1-0010"."""
    return "; ".join(f"{r.start} – {r.end}" for r in ranges)


def batch_rows(*, start: datetime | None = None, end: datetime | None = None) -> Iterator[Row]:
    """The header, then one row per invalidation (one row for a batch without any), oldest batch
    first, with corrections applied: the values the batch page and the transparency page show."""
    yield BATCH_HEADER
    query = select(Batch).order_by(Batch.id)
    if start is not None:
        query = query.where(Batch.cutoff_at >= start)
    if end is not None:
        query = query.where(Batch.cutoff_at < end)
    for batch in db.session.scalars(query).all():  # batches are few (a handful a year)
        view = batch_view(batch)
        purchase = view.purchase
        head = (batch.number, str(batch.status), tokyo_iso(batch.cutoff_at), tokyo_iso(batch.confirmed_at),
                batch.contribution_count, batch.paid_yen, batch.owed_g, batch.surplus_available_g,
                batch.surplus_used_g, batch.tonnes_required, batch.surplus_after_g)
        bought = (purchase.provider, str(purchase.credit_type), purchase.project_name, purchase.project_id,
                  purchase.credit_place, purchase.tonnes, purchase.price_per_t_yen, purchase.total_yen,
                  purchase.purchased_on.isoformat()) if purchase else ("",) * 9
        purchase_corrected = sorted(purchase.corrected) if purchase else []
        if not view.invalidations:
            yield (*head, *bought, "", "", "", "", "", "", "", "", " ".join(purchase_corrected))
        for number, item in enumerate(view.invalidations, start=1):
            corrected = [f"purchase.{name}" for name in purchase_corrected] + sorted(item.corrected)
            yield (*head, *bought, number, str(item.registry), item.invalidated_on.isoformat(),
                   serial_text(item.serial_ranges), item.tonnes, item.purpose, item.offset_place,
                   item.notice_file_id if item.notice_file_id is not None else "", " ".join(corrected))


# --- the audit log -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def audit_query(where: AuditFilter = AuditFilter()):
    """The audit entries matching the filter, newest first."""
    query = select(AuditEntry)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.start is not None:
        query = query.where(AuditEntry.at >= where.start)
    if where.end is not None:
        query = query.where(AuditEntry.at < where.end)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value is not None else ""


def audit_rows(where: AuditFilter = AuditFilter()) -> Iterator[Row]:
    """The header, then one row per audit entry, newest first; before and after as JSON."""
    yield AUDIT_HEADER
    columns = audit_query(where).with_only_columns(
        AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.object_type,
        AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
    with db.session.execute(columns.execution_options(yield_per=CHUNK_ROWS)) as rows:
        for entry_id, at, actor, action, object_type, object_id, before, after in rows:
            yield entry_id, tokyo_iso(at), actor, action, object_type, object_id, _json(before), _json(after)


def audit_actions() -> list[str]:
    """Every action name in the log, for the filter."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


# --- one entry point for the pages and the CLI ---------------------------------------------------

def export_rows(kind: str, *, start: datetime | None = None, end: datetime | None = None,
                addon_id: int | None = None, owner_id: int | None = None,
                status: ContributionStatus | None = ContributionStatus.PAID) -> Iterator[Row]:
    """The rows of one kind of export (contributions, totals or batches) for a period."""
    if kind == "contributions":
        return contribution_rows(ContributionFilter(start, end, addon_id, owner_id, status))
    if kind == "totals":
        return totals_rows(start=start, end=end)
    if kind == "batches":
        return batch_rows(start=start, end=end)
    raise ValueError(f"unknown export kind {kind!r}")


def record_export(actor: str, kind: str, params: dict[str, Any]) -> None:
    """Leave an audit row for a download: exports carry what residents chose to show of themselves."""
    add_audit(actor, "export.download", "export", kind, None, {k: v for k, v in params.items() if v not in (None, "")})
    db.session.commit()
