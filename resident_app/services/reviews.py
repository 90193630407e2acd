"""Contributions flagged for a person to look at (an amount Stripe reported differently, a partial
refund, a payment past an add-on's unit cap), and how staff resolve each flag with a reason.

A flag never changes the pool's figures: the money side is settled by the payment and refund
services. Resolving says what staff did about it, and the audit log keeps both."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from ..extensions import db
from ..models import Contribution, FlagKind, User
from .accounts import actor_name
from .audit import add_audit
from .errors import DomainError
from .fields import MAX_NOTE, clean, require_staff

MAX_FLAG_TEXT = 500


def raise_flag(contribution_id: int, kind: FlagKind, reason: str, *, actor: str) -> None:
    """Flag a contribution for review, inside the caller's transaction (no commit)."""
    db.session.execute(update(Contribution).where(Contribution.id == contribution_id)
                       .values(flag_kind=kind.value, flag_reason=reason[:MAX_FLAG_TEXT])
                       .execution_options(synchronize_session=False))
    add_audit(actor, "contribution.flag", "contribution", contribution_id, None,
              {"kind": kind.value, "reason": reason[:MAX_FLAG_TEXT]})


def resolve_flag(contribution: Contribution, *, reason: str, actor: User) -> Contribution:
    """Clear a contribution's flag, saying what was done about it (refunded at Stripe, organiser
    agreed, checked against the bank statement...). The reason is required and audited."""
    require_staff(actor)
    reason = clean(reason)
    if not reason:
        raise DomainError(_l("Say what was done about this flag."), field="reason")
    if len(reason) > MAX_NOTE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_NOTE), field="reason")
    before = {"kind": contribution.flag_kind, "reason": contribution.flag_reason}
    cleared = db.session.execute(
        update(Contribution).where(Contribution.id == contribution.id, Contribution.flag_reason != "")
        .values(flag_kind=FlagKind.NONE.value, flag_reason="").execution_options(synchronize_session=False)).rowcount
    if cleared != 1:
        db.session.rollback()
        raise DomainError(_l("This contribution has no flag to resolve any more."))
    add_audit(actor_name(actor), "contribution.flag_resolved", "contribution", contribution.id, before,
              {"resolution": reason})
    db.session.commit()
    db.session.refresh(contribution)
    return contribution
