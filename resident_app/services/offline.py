"""Money that arrived outside Stripe (a bus fare box's cash, an organiser's bank transfer),
recorded by staff as contributions under the same rules: paid by the one mark_paid, with its
ledger entry and the evidence kept."""
from __future__ import annotations

import uuid
from datetime import date

from flask_babel import lazy_gettext as _l

from ..carbon.conversion import grams_for_yen
from ..extensions import db
from ..models import AddOn, Channel, Contribution, ContributionStatus, OfflineReceipt, StoredFile, User, utcnow
from ..models.addons import new_token
from .accounts import actor_name
from .audit import add_audit
from .days import end_of_day
from .errors import DomainError, InvalidInput
from .fields import MAX_NOTE, MAX_OFFLINE_QUANTITY, clean, past_date, require_staff
from .ledger import lock_pool
from .payments import certificate_number, mark_paid
from .programme import current_rate

OFFLINE_CHANNELS = (Channel.CASH, Channel.BANK_TRANSFER)


def record_offline_contribution(addon: AddOn, *, quantity: int, channel: Channel | str, received_on: date,
                                recorded_by: User, note: str = "", evidence: StoredFile | None = None,
                                display_name: str = "") -> Contribution:
    """A fare box's cash or an organiser's bank transfer: a paid contribution at the add-on's unit
    price, its grams at the rate in force on the day the money was received. A day before an
    earlier batch's cut-off is accepted: that batch is closed, so the money joins the next one, and
    its page says so (batches.late_money)."""
    require_staff(recorded_by)
    errors: dict[str, str] = {}
    try:
        channel = Channel(channel)
    except ValueError:
        channel = None
    if channel not in OFFLINE_CHANNELS:
        errors["channel"] = _l("Choose cash or bank transfer.")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_OFFLINE_QUANTITY:
        errors["quantity"] = _l("Enter a whole number from %(low)s to %(high)s.", low="1",
                                high=f"{MAX_OFFLINE_QUANTITY:,}")
    elif addon.unit_price_yen * quantity < 1:
        errors["quantity"] = _l("The amount must be at least 1 yen.")
    received = past_date(errors, "received_on", received_on)
    note = clean(note)
    if len(note) > MAX_NOTE:
        errors["note"] = _l("Use at most %(max)d characters.", max=MAX_NOTE)
    if evidence is not None and not isinstance(evidence, StoredFile):
        errors["evidence"] = _l("Upload the evidence as a file.")
    if errors:
        raise InvalidInput(errors)
    # Narrows types: the checks above raised for None (bandit B101).
    assert received is not None and channel is not None  # nosec B101
    # Money counted at the end of its day is in hand by then; today's counts as received now.
    paid_at = min(end_of_day(received), utcnow())
    rate = current_rate(at=paid_at)
    if rate is None:
        raise DomainError(_l("No conversion rate was in force on that date."), field="received_on")
    amount = addon.unit_price_yen * quantity
    lock_pool()
    contribution = Contribution(
        number=f"tmp-{uuid.uuid4().hex[:20]}", certificate_token=new_token(), addon_id=addon.id,
        channel=channel, status=ContributionStatus.PENDING, quantity=quantity,
        unit_price_yen=addon.unit_price_yen, amount_yen=amount, co2_g=grams_for_yen(amount, rate.yen_per_t),
        rate_id=rate.id, rate_yen_per_t=rate.yen_per_t, display_name=clean(display_name)[:100],
        receipt_email="", locale="ja", idempotency_key=f"offline-{uuid.uuid4()}", note=note,
        recorded_by_id=recorded_by.id)
    db.session.add(contribution)
    db.session.flush()
    contribution.number = certificate_number(contribution)
    mark_paid([contribution.id], paid_at=paid_at, actor=actor_name(recorded_by))
    db.session.add(OfflineReceipt(contribution_id=contribution.id, channel=channel, received_on=received,
                                  evidence_file_id=evidence.id if evidence else None,
                                  recorded_by_id=recorded_by.id))
    add_audit(actor_name(recorded_by), "contribution.offline", "contribution", contribution.id, None,
              {"addon": addon.slug, "channel": str(channel), "received_on": received.isoformat(),
               "quantity": quantity, "amount_yen": amount, "co2_g": contribution.co2_g,
               "rate_yen_per_t": rate.yen_per_t, "evidence_file_id": evidence.id if evidence else None})
    db.session.commit()
    db.session.refresh(contribution)
    return contribution
