"""Contributions paid through Stripe: start a checkout, fulfil it, and THE one function that marks
any contribution paid (Stripe, cash or bank transfer) and writes its ledger entry."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

import stripe
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..carbon.conversion import grams_for_yen
from ..extensions import db
from ..models import (AccountStatus, AddOn, Channel, Contribution, ContributionStatus, FlagKind, sources_for,
                      utcnow)
from ..models.addons import new_token
from ..payments.gateway import get_gateway
from .audit import add_audit
from .errors import DomainError
from .ledger import KIND_FOR_CHANNEL, Entry, lock_pool, post
from .programme import current_rate
from .reviews import raise_flag

log = logging.getLogger(__name__)

MAX_UNITS_PER_PURCHASE = 20
MIN_CHARGE_YEN = 50          # Stripe's minimum for JPY
MAX_CHARGE_YEN = 99_999_999  # Stripe's 8-digit ceiling


def units_sold(addon: AddOn) -> int:
    """Units paid so far (refunded ones no longer count against the cap; disputed ones still do)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Contribution.quantity), 0))
        .where(Contribution.addon_id == addon.id, Contribution.status == ContributionStatus.PAID)) or 0)


@dataclass(frozen=True)
class Availability:
    open: bool
    reason: str = ""           # "inactive", "organiser", "not_started", "ended", "sold_out"
    max_quantity: int = MAX_UNITS_PER_PURCHASE


def availability(addon: AddOn, now: datetime | None = None) -> Availability:
    """Whether residents can pay for the add-on now, and how many units at most."""
    moment = now or utcnow()
    if not addon.is_active:
        return Availability(False, "inactive", 0)
    if addon.owner.status != AccountStatus.ACTIVE:  # a pending or suspended organiser sells nothing
        return Availability(False, "organiser", 0)
    if addon.sale_starts_at and moment < addon.sale_starts_at:
        return Availability(False, "not_started", 0)
    if addon.sale_ends_at and moment >= addon.sale_ends_at:
        return Availability(False, "ended", 0)
    limit = 1 if addon.variable_amount else MAX_UNITS_PER_PURCHASE
    if addon.max_units is not None:
        left = addon.max_units - units_sold(addon)
        if left <= 0:
            return Availability(False, "sold_out", 0)
        limit = min(limit, left)
    return Availability(True, "", limit)


def _price(addon: AddOn, quantity: int, amount_yen: int | None) -> tuple[int, int]:
    """Unit price and total from the database (the form only chooses quantity or, for a household
    offset, an amount within the add-on's bounds)."""
    if addon.variable_amount:
        low = addon.min_amount_yen or MIN_CHARGE_YEN
        high = addon.max_amount_yen or MAX_CHARGE_YEN
        if amount_yen is None or not low <= amount_yen <= high:
            raise DomainError(_l("Choose an amount between %(low)s and %(high)s yen.",
                                 low=f"{low:,}", high=f"{high:,}"), field="amount")
        return amount_yen, amount_yen
    return addon.unit_price_yen, addon.unit_price_yen * quantity


def start_checkout(addon: AddOn, *, quantity: int, amount_yen: int | None, display_name: str,
                   receipt_email: str, locale: str) -> tuple[Contribution, str]:
    """Create a pending contribution and its Stripe Checkout Session; returns the pay page URL."""
    state = availability(addon)
    if not state.open:
        raise DomainError(_l("This offset add-on cannot be paid for at the moment."))
    if not 1 <= quantity <= state.max_quantity:
        raise DomainError(_l("Choose a quantity from 1 to %(max)d.", max=state.max_quantity), field="quantity")
    unit_price, amount = _price(addon, quantity, amount_yen)
    if amount < MIN_CHARGE_YEN:
        raise DomainError(_l("The smallest payment is 50 yen."), field="amount")
    rate = current_rate()
    if rate is None:
        raise DomainError(_l("The programme has no conversion rate yet."))
    contribution = Contribution(
        number=f"tmp-{uuid.uuid4().hex[:20]}", certificate_token=new_token(), addon_id=addon.id,
        channel=Channel.STRIPE, status=ContributionStatus.PENDING, quantity=quantity,
        unit_price_yen=unit_price, amount_yen=amount, co2_g=grams_for_yen(amount, rate.yen_per_t),
        rate_id=rate.id, rate_yen_per_t=rate.yen_per_t, display_name=display_name.strip()[:100],
        receipt_email=receipt_email.strip()[:254], locale=locale,
        idempotency_key=f"contribution-{uuid.uuid4()}")
    db.session.add(contribution)
    db.session.flush()
    contribution.number = certificate_number(contribution)
    add_audit("resident", "contribution.create", "contribution", contribution.id, None,
              {"addon": addon.slug, "amount_yen": amount, "co2_g": contribution.co2_g})
    db.session.commit()  # the row exists before Stripe hears of it

    title = addon.title(locale)
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{
            "price_data": {"currency": "jpy", "unit_amount": unit_price,
                           "product_data": {"name": title[:250],
                                            "description": f"{contribution.co2_g / 1000:,.1f} kg-CO2"}},
            "quantity": quantity,
        }],
        "success_url": url_for("checkout.thanks", slug=addon.slug, _external=True)
        + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": url_for("checkout.addon", slug=addon.slug, cancelled=1, _external=True),
        "client_reference_id": str(contribution.id),
        "metadata": {"contribution_id": str(contribution.id), "number": contribution.number},
        "locale": "ja" if locale == "ja" else "en",
    }
    if contribution.receipt_email:
        params["customer_email"] = contribution.receipt_email
    try:
        session = get_gateway().create_checkout_session(params, contribution.idempotency_key)
    except stripe.StripeError as error:
        raise _checkout_not_started(contribution, error) from None
    contribution.stripe_session_id = session.id
    db.session.commit()
    return contribution, session.url


def _checkout_not_started(contribution: Contribution, error: stripe.StripeError) -> DomainError:
    """Stripe refused the session or could not be reached: the contribution can never be paid, so it
    fails at once (without the e-mail address) instead of waiting, pending, for a session it has not."""
    db.session.rollback()
    ContributionStatus(contribution.status).check(ContributionStatus.FAILED)
    contribution.status = ContributionStatus.FAILED
    contribution.receipt_email = ""
    add_audit("resident", "contribution.checkout_failed", "contribution", contribution.id,
              {"status": "pending"}, {"status": "failed", "error": type(error).__name__})
    db.session.commit()
    # The class only: Stripe's message can repeat the e-mail address, and logs carry no personal data.
    log.warning("checkout session for contribution %s not created: %s", contribution.id, type(error).__name__)
    if isinstance(error, stripe.InvalidRequestError) and getattr(error, "param", None) == "customer_email":
        return DomainError(_l("The payment service did not accept this e-mail address. Check it, or leave it "
                              "blank."), field="receipt_email")
    return DomainError(_l("The payment could not be started. Nothing was charged; please try again in a "
                          "moment."))


def certificate_number(contribution: Contribution) -> str:
    """A readable, unique number for the certificate: year and a running id."""
    return f"OC-{contribution.created_at.year}-{contribution.id:06d}"


@dataclass(frozen=True)
class Outcome:
    result: str            # paid, already, not_paid, mismatch, unknown, failed, expired, refunded, ignored
    contribution: Contribution | None = None


def mark_paid(contribution_ids: Sequence[int], *, paid_at: datetime | None = None,
              payment_intent: str | None = None, actor: str = "stripe") -> list[int]:
    """THE place a contribution becomes paid, by any channel. Inside the caller's transaction (no
    commit): takes the pool lock, moves every contribution whose status the transition table lets
    become paid (a conditional UPDATE, so the webhook and the thanks page can race safely), writes
    one ledger entry each, and flags any that took an add-on past its unit cap. Returns the ids
    it moved; the others were paid already. Several ids at once keep bulk loading to one UPDATE
    and one INSERT."""
    if not contribution_ids:
        return []
    lock_pool()
    moment = paid_at or utcnow()
    values: dict[str, Any] = {"status": ContributionStatus.PAID, "paid_at": moment}
    if payment_intent is not None:
        values["stripe_payment_intent_id"] = payment_intent
    moved = db.session.execute(
        update(Contribution)
        .where(Contribution.id.in_(list(contribution_ids)),
               Contribution.status.in_(sources_for(ContributionStatus.PAID)))
        .values(**values)
        .returning(Contribution.id, Contribution.channel, Contribution.amount_yen, Contribution.co2_g,
                   Contribution.addon_id, Contribution.quantity)
        .execution_options(synchronize_session=False)).all()
    post([Entry(KIND_FOR_CHANNEL[Channel(row.channel)], occurred_at=moment, yen=row.amount_yen, co2_g=row.co2_g,
                contribution_id=row.id) for row in moved])
    _flag_over_cap(moved, actor)
    return [row.id for row in moved]


def _flag_over_cap(moved, actor: str) -> None:
    """The unit cap is enforced here, when money arrives: two residents can start checkout for the
    last unit at once and both pay. Under the pool lock the count is exact; whatever went past the
    cap stays paid (the money was taken) and is flagged for staff to refund."""
    for addon_id in {row.addon_id for row in moved}:
        addon = db.session.get(AddOn, addon_id)
        if addon.max_units is None:
            continue
        over = units_sold(addon) - addon.max_units
        for row in sorted((r for r in moved if r.addon_id == addon_id), key=lambda r: r.id, reverse=True):
            if over <= 0:
                break
            raise_flag(row.id, FlagKind.OVER_CAP, f"Paid for {row.quantity} unit(s) after the cap of "
                       f"{addon.max_units} units was reached: refund {min(over, row.quantity)} unit(s) "
                       "or note why it stays.", actor=actor)
            over -= row.quantity


def fulfil_checkout_session(session: dict[str, Any]) -> Outcome:
    """A completed Stripe Checkout Session. Safe to call from the webhook and the success page at
    once, and for the same session any number of times: mark_paid's conditional UPDATE decides."""
    contribution = db.session.scalar(
        select(Contribution).where(Contribution.stripe_session_id == session.get("id")))
    if contribution is None:
        return Outcome("unknown")
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return Outcome("not_paid", contribution)
    mismatch = _mismatch(contribution, session)
    if mismatch:
        return _flag_mismatch(contribution, mismatch)
    if not mark_paid([contribution.id], payment_intent=session.get("payment_intent")):
        db.session.rollback()
        db.session.refresh(contribution)
        return Outcome("already", contribution)
    add_audit("stripe", "contribution.paid", "contribution", contribution.id,
              {"status": "pending"}, {"status": "paid", "amount_yen": contribution.amount_yen})
    db.session.commit()
    db.session.refresh(contribution)
    from .mail import send_receipt

    send_receipt(contribution)
    return Outcome("paid", contribution)


def _mismatch(contribution: Contribution, session: dict[str, Any]) -> str:
    currency = str(session.get("currency") or "").lower()
    total = session.get("amount_total")
    if currency != "jpy" or total != contribution.amount_yen:
        return f"Stripe reported {total} {currency}; expected {contribution.amount_yen} jpy"
    return ""


def _flag_mismatch(contribution: Contribution, reason: str) -> Outcome:
    if contribution.flag_reason != reason:
        raise_flag(contribution.id, FlagKind.AMOUNT_MISMATCH, reason, actor="stripe")
        db.session.commit()
        db.session.refresh(contribution)
    log.warning("contribution %s flagged: %s", contribution.id, reason)
    return Outcome("mismatch", contribution)


def _move(session_id: str | None, target: ContributionStatus, action: str) -> Outcome:
    contribution = db.session.scalar(select(Contribution).where(Contribution.stripe_session_id == session_id))
    if contribution is None:
        return Outcome("unknown")
    moved = db.session.execute(
        update(Contribution)
        .where(Contribution.id == contribution.id, Contribution.status.in_(sources_for(target)))
        .values(status=target).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        return Outcome("ignored", contribution)
    add_audit("stripe", action, "contribution", contribution.id, {"status": "pending"}, {"status": str(target)})
    db.session.commit()
    db.session.refresh(contribution)
    return Outcome(str(target), contribution)


def mark_failed(session: dict[str, Any]) -> Outcome:
    """An asynchronous payment (konbini) failed: the contribution never counts."""
    return _move(session.get("id"), ContributionStatus.FAILED, "contribution.failed")


def mark_expired(session: dict[str, Any]) -> Outcome:
    """The resident never paid and the session expired."""
    return _move(session.get("id"), ContributionStatus.EXPIRED, "contribution.expired")


def by_intent(intent: str) -> Contribution | None:
    """The contribution a Stripe PaymentIntent paid."""
    return db.session.scalar(select(Contribution).where(Contribution.stripe_payment_intent_id == intent))


def find_by_intent(intent: str | None) -> Contribution | None:
    """The contribution a PaymentIntent paid; when a refund or dispute overtakes the completion
    event, the session is fetched from Stripe and fulfilled first."""
    if not intent:
        return None
    contribution = by_intent(intent)
    if contribution is None:
        listing = get_gateway().client.v1.checkout.sessions.list({"payment_intent": intent})
        for session in listing.data:
            fulfil_checkout_session(session.to_dict())
        contribution = by_intent(intent)
    return contribution
