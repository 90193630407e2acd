"""Small reads for the staff console that services.pool and services.batches do not offer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import func, literal_column, select

from ..extensions import db
from ..models import (AddOn, Batch, BatchStatus, Contribution, ContributionStatus, DisputeStatus, OfflineReceipt,
                      StoredFile, User)
from ..services.accounts import actor_name
from ..web.typed import chosen_id

PER_PAGE = 50
FLAGGED_LIMIT = 50


def open_batch_count() -> int:
    """Batches closed but not confirmed yet."""
    return int(db.session.scalar(select(func.count(Batch.id))
                                 .where(Batch.status != BatchStatus.INVALIDATED)) or 0)


def flagged_contributions(limit: int = FLAGGED_LIMIT) -> tuple[Sequence[Contribution], int]:
    """Contributions with a flag_reason (newest first, at most `limit`) and how many there are."""
    # Written out as '' (not a bound parameter) so the database can use the index of flagged rows.
    flagged = Contribution.flag_reason != literal_column("''")
    total = int(db.session.scalar(select(func.count(Contribution.id)).where(flagged)) or 0)
    rows = db.session.scalars(select(Contribution).where(flagged)
                              .order_by(Contribution.created_at.desc(), Contribution.id.desc()).limit(limit)).all()
    return rows, total


def disputed_contributions(limit: int = FLAGGED_LIMIT) -> tuple[Sequence[Contribution], int]:
    """Paid contributions under dispute (held out of batches; newest first) and how many there are."""
    open_dispute = (Contribution.dispute_status == DisputeStatus.OPEN, Contribution.status == ContributionStatus.PAID)
    total = int(db.session.scalar(select(func.count(Contribution.id)).where(*open_dispute)) or 0)
    rows = db.session.scalars(select(Contribution).where(*open_dispute)
                              .order_by(Contribution.created_at.desc(), Contribution.id.desc()).limit(limit)).all()
    return rows, total


@dataclass(frozen=True)
class Page:
    items: Sequence[Contribution]
    total: int
    page: int
    pages: int

    @property
    def first_index(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def batch_contributions(batch_id: int, page: int, per_page: int = PER_PAGE) -> Page:
    """One page of the contributions a batch holds, oldest payment first."""
    total = int(db.session.scalar(select(func.count(Contribution.id))
                                  .where(Contribution.batch_id == batch_id)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(select(Contribution).where(Contribution.batch_id == batch_id)
                              .order_by(Contribution.paid_at, Contribution.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(rows, total, page, pages)


def offline_receipt(contribution_id: int) -> OfflineReceipt | None:
    return db.session.scalar(select(OfflineReceipt).where(OfflineReceipt.contribution_id == contribution_id))


def addon_choices() -> Sequence[AddOn]:
    """Every add-on, those on sale first, for recording money received outside Stripe. An event's
    top-up is left out: its bank transfers are recorded on the event's page, for any amount."""
    return db.session.scalars(select(AddOn).where(AddOn.is_event_topup.is_(False))
                              .order_by(AddOn.is_active.desc(), AddOn.title_ja, AddOn.id)).all()


def kept_upload(raw_id: str | None, actor: User) -> StoredFile | None:
    """A file this person uploaded with a form that was refused, offered again on the next try.
    Only their own uploads: an id typed into the form cannot attach someone else's file."""
    file_id = chosen_id(raw_id)
    stored = db.session.get(StoredFile, file_id) if file_id is not None else None
    if stored is None or stored.uploaded_by != actor_name(actor):
        return None
    return stored


def user_email(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = db.session.get(User, user_id)
    return user.email if user else ""
