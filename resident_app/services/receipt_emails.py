"""Residents' receipt e-mail addresses are kept only while a receipt may still be needed."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from ..extensions import db
from ..models import Contribution, utcnow
from .audit import add_audit


def forget_receipt_emails(*, older_than_days: int, actor: str, now: datetime | None = None) -> int:
    """Blank the receipt address of every contribution created more than `older_than_days` days ago;
    returns how many. One audit row records the count, never the addresses."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    forgotten = db.session.execute(
        update(Contribution).where(Contribution.receipt_email != "", Contribution.created_at < cutoff)
        .values(receipt_email="").execution_options(synchronize_session=False)).rowcount
    if forgotten:
        add_audit(actor, "contribution.receipt_emails_forgotten", "contribution", "*", None,
                  {"count": forgotten, "created_before": cutoff.isoformat(timespec="seconds")})
    db.session.commit()
    return forgotten
