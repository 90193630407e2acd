"""An event's money goes through the pool like any other: the participants' surcharge add-on made
from the estimate, the organiser's top-up paid through the same checkout, and a bank transfer that
staff record. What it covers is summed from the event's paid contributions; what was retired
comes from the batches that took them (certificate_retirement)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..carbon.conversion import yen_for_grams
from ..carbon.event import EventEmissions, offset_percent, suggested_surcharge_yen
from ..extensions import db
from ..models import (AddOn, AddOnKind, Batch, BatchStatus, Channel, Contribution, ContributionStatus, Event,
                      StoredFile, User)
from .accounts import actor_name
from .addons import MAX_PRICE_YEN, MIN_PRICE_YEN, AddOnData, Totals, unique_slug
from .audit import add_audit
from .offline import record_offline_contribution
from .register import Retirement, certificate_retirement
from .errors import DomainError, InvalidInput
from .events import require_event_manager
from .payments import start_checkout


# --- the participants' surcharge -----------------------------------------------------------------

def _estimate_note(**values: object):
    return _l("Estimated before the event: about %(kg)s kg-CO2 per participant. The surcharge offsets %(share)s %% "
              "of it.", **values)

def _in(locale: str, message) -> str:
    """A lazy message rendered in the given language (an add-on carries both its titles)."""
    with force_locale(locale):
        return str(message)


def addon_from_estimate(event: Event, estimate: EventEmissions, rate_yen_per_t: int) -> AddOnData:
    """The add-on form filled in from the estimate: an event-ticket surcharge at the suggested price
    (the organiser's share of the per-participant CO2, rounded up to 10 yen), linked to the event."""
    price = suggested_surcharge_yen(estimate.per_participant_g, rate_yen_per_t, event.surcharge_share_percent)
    per_kg = (Decimal(estimate.per_participant_g) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    values = {"kg": f"{per_kg:,}", "share": event.surcharge_share_percent}
    # Both languages whatever the organiser reads in: residents see the title in theirs.
    return AddOnData(
        kind=AddOnKind.EVENT_TICKET, event_id=event.id, unit_price_yen=price, event_date=event.starts_on,
        place=event.venue, is_active=True,
        title_ja=_in("ja", _l("%(name)s: carbon offset surcharge", name=event.name_ja)),
        title_en=_in("en", _l("%(name)s: carbon offset surcharge", name=event.name_en or event.name_ja)),
        emissions_note_ja=_in("ja", _estimate_note(**values)),
        emissions_note_en=_in("en", _estimate_note(**values)),
    )


def event_addons(event: Event) -> list[AddOn]:
    """The participants' add-ons linked to the event (not the organiser's top-up), oldest first."""
    return list(db.session.scalars(select(AddOn).where(AddOn.event_id == event.id, AddOn.is_event_topup.is_(False))
                                   .order_by(AddOn.id)))


# --- what was paid, covered and retired ----------------------------------------------------------

@dataclass(frozen=True)
class EventRetirement:
    """A confirmed batch that took some of the event's contributions, and the credits it retired."""

    retirement: Retirement
    co2_g: int                 # the event's grams in this batch


@dataclass(frozen=True)
class EventMoney:
    participants: Totals       # paid through the participants' add-ons (online, cash, transfers)
    organiser: Totals          # the organiser's top-ups (online or by bank transfer)
    retirements: tuple[EventRetirement, ...]

    @property
    def covered_g(self) -> int:
        return self.participants.co2_g + self.organiser.co2_g

    @property
    def paid_yen(self) -> int:
        return self.participants.yen + self.organiser.yen

    @property
    def retired_g(self) -> int:
        return sum(r.co2_g for r in self.retirements)

    @property
    def awaiting_g(self) -> int:
        """Paid but not yet in a confirmed batch."""
        return self.covered_g - self.retired_g


def _paid_of(event: Event):
    return (AddOn.event_id == event.id, Contribution.status == ContributionStatus.PAID)


def event_money(event: Event) -> EventMoney:
    """Paid contributions only, net of partial refunds (refunded ones no longer count), split by who paid."""
    totals = {False: Totals(), True: Totals()}
    rows = db.session.execute(
        select(AddOn.is_event_topup, func.sum(Contribution.quantity), func.sum(Contribution.net_yen),
               func.sum(Contribution.net_g))
        .select_from(Contribution).join(AddOn, AddOn.id == Contribution.addon_id)
        .where(*_paid_of(event)).group_by(AddOn.is_event_topup))
    for topup, units, yen, grams in rows:
        totals[bool(topup)] = Totals(int(units), int(yen), int(grams))
    batches = db.session.execute(
        select(Batch.id, func.min(Contribution.id), func.sum(Contribution.net_g))
        .select_from(Contribution).join(AddOn, AddOn.id == Contribution.addon_id)
        .join(Batch, Batch.id == Contribution.batch_id)
        .where(*_paid_of(event), Batch.status == BatchStatus.INVALIDATED)
        .group_by(Batch.id).order_by(Batch.id))
    retirements = []
    for _batch_id, contribution_id, grams in batches:
        retirement = certificate_retirement(db.session.get(Contribution, contribution_id))
        if retirement is not None:
            retirements.append(EventRetirement(retirement, int(grams)))
    return EventMoney(totals[False], totals[True], tuple(retirements))


@dataclass(frozen=True)
class OffsetStatus:
    """What the offset must cover (the actual total once entered, else the estimate) against what was paid."""

    total_g: int
    covered_g: int
    retired_g: int
    rate_yen_per_t: int | None

    @property
    def percent(self) -> int:
        return offset_percent(self.covered_g, self.total_g)

    @property
    def fully_offset(self) -> bool:
        return self.covered_g >= self.total_g

    @property
    def gap_g(self) -> int:
        return max(0, self.total_g - self.covered_g)

    @property
    def gap_yen(self) -> int:
        """The gap at the current rate, rounded up to a yen (the pool never promises more than it buys),
        and at least the smallest charge."""
        if not self.gap_g or not self.rate_yen_per_t:
            return 0
        return max(yen_for_grams(self.gap_g, self.rate_yen_per_t), MIN_PRICE_YEN)


def offset_status(emissions: EventEmissions, money: EventMoney, rate_yen_per_t: int | None) -> OffsetStatus:
    return OffsetStatus(emissions.total_g, money.covered_g, money.retired_g, rate_yen_per_t)


# --- the organiser's top-up and staff's bank transfers --------------------------------------------

def _topup_addon(event: Event, actor: str, amount_yen: int) -> AddOn:
    """The event's top-up add-on (made on first use), priced at `amount_yen`; staged, not committed."""
    addon = db.session.scalar(select(AddOn).where(AddOn.event_id == event.id, AddOn.is_event_topup.is_(True)))
    if addon is None:
        addon = AddOn(
            slug=unique_slug(), owner_id=event.owner_id, kind=AddOnKind.EVENT_TICKET, event_id=event.id,
            is_event_topup=True, is_public=False, is_active=True, variable_amount=True,
            min_amount_yen=MIN_PRICE_YEN, max_amount_yen=MAX_PRICE_YEN, unit_price_yen=amount_yen,
            event_date=event.starts_on, place=event.venue,
            title_ja=_in("ja", _l("%(name)s: the organiser's offset", name=event.name_ja)),
            title_en=_in("en", _l("%(name)s: the organiser's offset", name=event.name_en or event.name_ja)))
        db.session.add(addon)
        db.session.flush()
        add_audit(actor, "addon.create", "addon", addon.id, None,
                  {"event_id": event.id, "is_event_topup": True, "slug": addon.slug, "unit_price_yen": amount_yen})
    elif addon.unit_price_yen != amount_yen:
        add_audit(actor, "addon.update", "addon", addon.id, {"unit_price_yen": addon.unit_price_yen},
                  {"unit_price_yen": amount_yen})
        addon.unit_price_yen = amount_yen
    return addon


def _amount_error(amount_yen: int | None) -> str | None:
    if amount_yen is None or not MIN_PRICE_YEN <= amount_yen <= MAX_PRICE_YEN:
        return _l("Enter an amount from %(low)s to %(high)s yen.", low=f"{MIN_PRICE_YEN:,}", high=f"{MAX_PRICE_YEN:,}")
    return None


def start_topup(event: Event, status: OffsetStatus, *, actor: User, locale: str) -> str:
    """Checkout for the gap between the total and what was paid (at most 300,000 yen at a time):
    a contribution to the event's top-up add-on, paid on the same hosted page. Returns its URL."""
    require_event_manager(event, actor)
    if status.gap_yen <= 0:
        raise DomainError(_l("Nothing is left to pay: the event is fully offset."))
    amount = min(status.gap_yen, MAX_PRICE_YEN)
    addon = _topup_addon(event, actor_name(actor), amount)
    try:
        _contribution, url = start_checkout(addon, quantity=1, amount_yen=amount,
                                            display_name=event.owner.organisation, receipt_email=actor.email,
                                            locale=locale)
    except DomainError:
        db.session.rollback()
        raise
    return url


def record_event_transfer(event: Event, *, amount_yen: int | None, received_on: date | None, staff: User,
                          note: str = "", evidence: StoredFile | None = None) -> Contribution:
    """The organiser's bank transfer for the event, recorded by staff: a paid contribution to the
    event's top-up add-on at the rate of the day received (record_offline_contribution's rules)."""
    if not staff.is_staff:
        raise DomainError(_l("Only the programme's staff record money received outside Stripe."))
    problem = _amount_error(amount_yen)
    if problem:
        raise InvalidInput({"amount_yen": problem})
    assert amount_yen is not None  # nosec B101 - narrows the type; _amount_error refused None above
    addon = _topup_addon(event, actor_name(staff), amount_yen)
    try:
        return record_offline_contribution(addon, quantity=1, channel=Channel.BANK_TRANSFER, received_on=received_on,
                                           recorded_by=staff, note=note, evidence=evidence,
                                           display_name=event.owner.organisation)
    except DomainError:
        db.session.rollback()
        raise
