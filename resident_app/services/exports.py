"""Rows for the exports: one tuple per row, read lazily, in the column order that
resident_app/exporters.py declares (with the headers, labels and units).

Values keep their types: yen and grams ints, times aware datetimes, days dates, statuses their
StrEnum codes, nothing None-ified; the exporters turn them into CSV text or XLSX cells. Queries
select plain columns and run with yield_per, so a million contributions stream through in
constant memory (nothing is loaded before the caller asks for the next row)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, literal, select

from .days import TOKYO
from ..extensions import db
from ..models import AddOn, AuditEntry, Batch, Contribution, ContributionStatus, User
from .audit import add_audit
from .register import batch_view
from .pool import _paid, _sums, _tokyo_month  # the dashboard's own definitions, so the totals agree
from .programme_content import PROGRAMME_EMAIL

UTC = ZoneInfo("UTC")
CHUNK_ROWS = 1000
# What an organiser's own export holds: money that came in, and money that went back.
ORGANISER_STATUSES = (ContributionStatus.PAID, ContributionStatus.REFUNDED)

Row = Sequence[object]


def tokyo_iso(moment: datetime | None) -> str:
    """An aware datetime as ISO 8601 in Asia/Tokyo, to the second; empty for None."""
    return moment.astimezone(TOKYO).isoformat(timespec="seconds") if moment else ""


def tokyo_period(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """Days in Tokyo, both included, as an aware UTC [start, end) pair; None leaves a side open."""
    start = datetime.combine(first, time.min, TOKYO).astimezone(UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min, TOKYO).astimezone(UTC) if last else None
    return start, end


def _organisation(programme_name: str | None):
    """The owner's organisation; the programme's own account (whose stored organisation is a
    placeholder) under the programme's name when one is given."""
    if programme_name is None:
        return User.organisation
    return case((User.email == PROGRAMME_EMAIL, literal(programme_name)), else_=User.organisation)


# --- contributions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContributionFilter:
    """Which contributions: [start, end) on the payment time (creation time if never paid)."""

    start: datetime | None = None
    end: datetime | None = None
    addon_id: int | None = None
    owner_id: int | None = None
    status: ContributionStatus | None = ContributionStatus.PAID   # None: every status


def contribution_query(where: ContributionFilter = ContributionFilter(), *,
                       programme_name: str | None = None) -> Select:
    """The SELECT behind contribution_rows: its columns, filters and order."""
    moment = func.coalesce(Contribution.paid_at, Contribution.created_at)
    query = (
        select(Contribution.number, Contribution.paid_at, Contribution.created_at, Contribution.status,
               Contribution.channel, AddOn.id, AddOn.slug, AddOn.title_ja, AddOn.title_en, AddOn.kind, User.id,
               _organisation(programme_name), Contribution.quantity, Contribution.unit_price_yen,
               Contribution.amount_yen, Contribution.refunded_yen, Contribution.co2_g, Contribution.refunded_g,
               Contribution.rate_yen_per_t,
               Batch.number, Contribution.display_name)
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
    return query.order_by(moment, Contribution.id)


def contribution_rows(where: ContributionFilter = ContributionFilter(), *,
                      programme_name: str | None = None) -> Iterator[Row]:
    """One row per contribution, oldest first: number, paid_at, created_at, status, channel, addon
    id, slug, titles ja and en, kind, organiser id, organisation, quantity, unit price, amount,
    refunded yen, grams, refunded grams, rate, batch number, display name. No e-mail address, no
    payment ids."""
    # On the session's connection, without the ORM's result machinery (plain columns need none:
    # about a third faster). `with`: a download abandoned half-way closes its (server-side, on
    # PostgreSQL) cursor at once.
    with db.session.connection().execute(contribution_query(where, programme_name=programme_name)
                                         .execution_options(yield_per=CHUNK_ROWS)) as rows:
        yield from rows


def addon_contribution_rows(addon_id: int) -> Iterator[Row]:
    """One add-on's paid and refunded contributions for its organiser, oldest first: number,
    paid_at, quantity, amount_yen, refunded_yen, co2_g, refunded_g, status, display_name. Nothing else
    about the person."""
    query = (select(Contribution.number, Contribution.paid_at, Contribution.quantity, Contribution.amount_yen,
                    Contribution.refunded_yen, Contribution.co2_g, Contribution.refunded_g, Contribution.status,
                    Contribution.display_name)
             .where(Contribution.addon_id == addon_id, Contribution.status.in_(ORGANISER_STATUSES))
             .order_by(Contribution.paid_at, Contribution.id))
    with db.session.connection().execute(query.execution_options(yield_per=CHUNK_ROWS)) as rows:
        yield from rows


# --- pooled totals by month and add-on ------------------------------------------------------------

def totals_rows(*, start: datetime | None = None, end: datetime | None = None,
                programme_name: str | None = None) -> Iterator[Row]:
    """Paid contributions per month of payment (Asia/Tokyo, as the month's first day) and add-on:
    month, addon id, slug, titles, kind, organisation, count, yen, grams."""
    month = _tokyo_month().label("month")
    organisation = _organisation(programme_name).label("organisation")
    query = _paid(
        select(month, AddOn.id, AddOn.slug, AddOn.title_ja, AddOn.title_en, AddOn.kind, organisation, *_sums())
        .select_from(Contribution)
        .join(AddOn, AddOn.id == Contribution.addon_id)
        .join(User, User.id == AddOn.owner_id),
        owner_id=None, start=start, end=end)
    # Grouped by the keys: the other columns depend on them (PostgreSQL accepts that for primary
    # keys), and the CASE with its bound name would not match itself in a GROUP BY there.
    query = query.group_by(month, AddOn.id, User.id).order_by(month, AddOn.id)
    with db.session.connection().execute(query.execution_options(yield_per=CHUNK_ROWS)) as rows:
        for m, addon_id, slug, title_ja, title_en, kind, organisation_name, count, paid_yen, co2_g in rows:
            first_day = date(int(m[:4]), int(m[5:7]), 1)
            yield (first_day, addon_id, slug, title_ja, title_en, kind, organisation_name, int(count), int(paid_yen),
                   int(co2_g))


# --- batches, purchases and invalidations --------------------------------------------------------

def serial_text(ranges) -> str:
    """Serial ranges as one cell: "JP-1-0001 – JP-1-0003; JP-1-0010 – JP-1-0010"."""
    return "; ".join(f"{r.start} – {r.end}" for r in ranges)


def batch_rows(*, start: datetime | None = None, end: datetime | None = None) -> Iterator[Row]:
    """One row per invalidation (one row for a batch without any), oldest batch first, with
    corrections applied: the values the batch page and the transparency page show."""
    query = select(Batch).order_by(Batch.id)
    if start is not None:
        query = query.where(Batch.cutoff_at >= start)
    if end is not None:
        query = query.where(Batch.cutoff_at < end)
    for batch in db.session.scalars(query).all():  # batches are few (a handful a year)
        view = batch_view(batch)
        purchase = view.purchase
        head = (batch.number, batch.status, batch.cutoff_at, batch.confirmed_at, batch.contribution_count,
                batch.paid_yen, batch.owed_g, batch.surplus_available_g, batch.surplus_used_g, batch.tonnes_required,
                batch.surplus_after_g)
        bought = (purchase.provider, purchase.credit_type, purchase.project_name, purchase.project_id,
                  purchase.credit_place, purchase.tonnes, purchase.price_per_t_yen, purchase.total_yen,
                  purchase.purchased_on) if purchase else (None,) * 9
        purchase_corrected = sorted(purchase.corrected) if purchase else []
        if not view.invalidations:
            yield (*head, *bought, *(None,) * 8, " ".join(purchase_corrected))
        for number, item in enumerate(view.invalidations, start=1):
            corrected = [f"purchase.{name}" for name in purchase_corrected] + sorted(item.corrected)
            yield (*head, *bought, number, item.registry, item.invalidated_on, serial_text(item.serial_ranges),
                   item.tonnes, item.purpose, item.offset_place, item.notice_file_id, " ".join(corrected))


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


def _json(value: Any) -> str | None:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value is not None else None


def audit_rows(where: AuditFilter = AuditFilter()) -> Iterator[Row]:
    """One row per audit entry, newest first: id, at, actor, action, object type and id, and the
    before and after values as JSON."""
    columns = audit_query(where).with_only_columns(
        AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.object_type,
        AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
    with db.session.connection().execute(columns.execution_options(yield_per=CHUNK_ROWS)) as rows:
        for entry_id, at, actor, action, object_type, object_id, before, after in rows:
            yield entry_id, at, actor, action, object_type, object_id, _json(before), _json(after)


def audit_actions() -> list[str]:
    """Every action name in the log, for the filter."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def record_export(actor: str, kind: str, params: dict[str, Any]) -> None:
    """Leave an audit row for a download: exports carry what residents chose to show of themselves."""
    add_audit(actor, "export.download", "export", kind, None, {k: v for k, v in params.items() if v not in (None, "")})
    db.session.commit()
