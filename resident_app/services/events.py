"""Offset events (the guidebook's A1): create and change an event, save its boundary and estimate
(事前算定) and its actual figures (事後算定), and compute both with the event's factor sets."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from ..carbon.event import ENERGY_FACTOR_KEYS, EventEmissions, EventInputs, event_emissions
from ..carbon.event_input import EventInputError, Problem, read_event_inputs
from ..carbon.municipalities import municipality
from ..extensions import db
from ..models import Event, Factor, User, utcnow
from .accounts import actor_name
from .addons import unique_slug
from .audit import add_audit
from .errors import DomainError, InvalidInput
from .factors import active_factor_set

MAX_NAME = 200
MAX_VENUE = 200
MAX_PURPOSE = 2000
MAX_PARTICIPANTS = 1_000_000
MAX_STAFF = 100_000
MAX_DAYS = 31
TRAVEL_SOURCES = ("estimate", "survey")
EVENT_SLUG_LENGTH = 8  # the survey's QR code stays small: 32^8, about 10^12 links


@dataclass
class EventData:
    """An event's editable facts, already parsed."""

    name_ja: str = ""
    name_en: str = ""
    purpose_ja: str = ""
    purpose_en: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    venue: str = ""
    municipality_code: str = ""
    expected_participants: int | None = None
    expected_staff: int | None = 0

    @classmethod
    def from_event(cls, event: Event) -> "EventData":
        return cls(**{name: getattr(event, name) for name in cls.__dataclass_fields__})


def event_errors(data: EventData) -> dict[str, str]:
    """Every reason the event's facts are refused, by field."""
    errors: dict[str, str] = {}
    if not data.name_ja.strip():
        errors["name_ja"] = _l("Enter the event's name in Japanese.")
    for name, limit in (("name_ja", MAX_NAME), ("name_en", MAX_NAME), ("venue", MAX_VENUE),
                        ("purpose_ja", MAX_PURPOSE), ("purpose_en", MAX_PURPOSE)):
        if name not in errors and len(getattr(data, name).strip()) > limit:
            errors[name] = _l("Use at most %(max)d characters.", max=limit)
    if data.starts_on is None:
        errors["starts_on"] = _l("Enter the first day of the event.")
    if data.ends_on is None:
        errors["ends_on"] = _l("Enter the last day of the event (the same day for a one-day event).")
    if data.starts_on and data.ends_on:
        if data.ends_on < data.starts_on:
            errors["ends_on"] = _l("The last day cannot come before the first day.")
        elif (data.ends_on - data.starts_on).days + 1 > MAX_DAYS:
            errors["ends_on"] = _l("An event here lasts at most %(max)d days.", max=MAX_DAYS)
    if data.municipality_code and municipality(data.municipality_code) is None:
        errors["municipality_code"] = _l("Choose a municipality from the list.")
    if data.expected_participants is None or not 1 <= data.expected_participants <= MAX_PARTICIPANTS:
        errors["expected_participants"] = _l("Enter the number of participants you expect, from 1 to %(max)s.",
                                             max=f"{MAX_PARTICIPANTS:,}")
    if data.expected_staff is None or not 0 <= data.expected_staff <= MAX_STAFF:
        errors["expected_staff"] = _l("Enter the number of staff, from 0 to %(max)s.", max=f"{MAX_STAFF:,}")
    return errors


def _snapshot(event: Event) -> dict[str, Any]:
    values = {name: getattr(event, name) for name in EventData.__dataclass_fields__}
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _clean(data: EventData) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in asdict(data).items()}


def create_event(data: EventData, *, actor: User) -> Event:
    """A new event owned by the actor, computed with the factor sets in force today."""
    if not actor.is_active:
        raise DomainError(_l("Your account is not active, so you cannot create events yet."))
    errors = event_errors(data)
    if errors:
        raise InvalidInput(errors)
    household, event_set = active_factor_set("household"), active_factor_set("event")
    if household is None or event_set is None:
        raise DomainError(_l("The programme has no emission factors yet. Please ask the programme's staff."))
    event = Event(slug=unique_slug(Event.slug, EVENT_SLUG_LENGTH), owner_id=actor.id, factor_set_id=household.id,
                  event_factor_set_id=event_set.id, origin_km={}, **_clean(data))
    db.session.add(event)
    db.session.flush()
    add_audit(actor_name(actor), "event.create", "event", event.id, None,
              {**_snapshot(event), "factor_set_id": household.id, "event_factor_set_id": event_set.id})
    db.session.commit()
    return event


def update_event(event: Event, data: EventData, *, actor: User) -> Event:
    """Change the event's facts; its estimate and actual figures stay as saved."""
    require_event_manager(event, actor)
    errors = event_errors(data)
    if errors:
        raise InvalidInput(errors)
    before = _snapshot(event)
    for name, value in _clean(data).items():
        setattr(event, name, value)
    for field in ("estimate_inputs", "actual_inputs"):  # travel is per day: keep the saved figures in step
        saved = getattr(event, field)
        if saved and saved.get("days") != event.days:
            setattr(event, field, {**saved, "days": event.days})
    after = _snapshot(event)
    changed = sorted(k for k in after if after[k] != before[k])
    if changed:
        event.updated_at = utcnow()
        add_audit(actor_name(actor), "event.update", "event", event.id,
                  {k: before[k] for k in changed}, {k: after[k] for k in changed})
        db.session.commit()
    return event


def can_manage_event(user: User, event: Event) -> bool:
    """Organisers manage their own events; staff and admins manage all of them."""
    return user.is_staff or event.owner_id == user.id


def require_event_manager(event: Event, actor: User) -> None:
    """Raise unless the actor may change the event (its organiser, or staff)."""
    if not actor.is_active or not can_manage_event(actor, event):
        raise DomainError(_l("You cannot change this event."))


def event_for(user: User, event_id: int) -> Event | None:
    """The event if this person may see it; None whether it is missing or someone else's."""
    event = db.session.get(Event, event_id)
    return event if event is not None and can_manage_event(user, event) else None


def visible_events(user: User) -> Select:
    """The events this person may see, the latest first."""
    query = select(Event).order_by(Event.starts_on.desc(), Event.id.desc())
    return query if user.is_staff else query.where(Event.owner_id == user.id)


def event_by_slug(slug: str) -> Event | None:
    """The event behind a public link (the survey and the public page)."""
    if not 0 < len(slug) <= 16:
        return None
    return db.session.scalar(select(Event).where(Event.slug == slug))


# --- the figures ---------------------------------------------------------------------------------

def event_factors(event: Event) -> list[Factor]:
    """The factors the event's figures use: venue energy from the household set, then the event set."""
    energy = [f for f in event.factor_set.factors if f.key in ENERGY_FACTOR_KEYS]
    return [*energy, *event.event_factor_set.factors]


def factor_map(event: Event) -> dict[str, Decimal]:
    return {f.key: f.kg_co2_per_unit for f in event_factors(event)}


def estimate_inputs(event: Event) -> EventInputs | None:
    return read_event_inputs(event.estimate_inputs, text_numbers=True) if event.estimate_inputs else None


def actual_inputs(event: Event) -> EventInputs | None:
    return read_event_inputs(event.actual_inputs, text_numbers=True) if event.actual_inputs else None


@dataclass(frozen=True)
class EventFigures:
    """The estimate and, once entered, the actual figures, computed with the event's factors."""

    estimate_inputs: EventInputs | None
    estimate: EventEmissions | None
    actual_inputs: EventInputs | None
    actual: EventEmissions | None

    @property
    def latest(self) -> EventEmissions | None:
        """The actual figures once entered, else the estimate: what an offset has to cover."""
        return self.actual or self.estimate


def event_figures(event: Event) -> EventFigures:
    factors = factor_map(event)
    estimate, actual = estimate_inputs(event), actual_inputs(event)
    return EventFigures(estimate, event_emissions(estimate, factors) if estimate else None,
                        actual, event_emissions(actual, factors) if actual else None)


# --- the estimate (事前算定) and the actual figures (事後算定) ----------------------------------------

def _check_days(inputs: EventInputs, event: Event) -> None:
    if inputs.days != event.days:
        raise EventInputError([Problem("days", "days_differ", {"days": event.days})])


def save_estimate(event: Event, inputs: EventInputs, *, share_percent: int, actor: User) -> Event:
    """The boundary and the quantities expected; the participants and staff become the expected ones."""
    require_event_manager(event, actor)
    _check_days(inputs, event)
    if not 1 <= share_percent <= 100:
        raise DomainError(_l("Choose a share from 1 to 100 %."), field="surcharge_share_percent")
    before = {"estimate_inputs": event.estimate_inputs, "surcharge_share_percent": event.surcharge_share_percent}
    event.estimate_inputs = inputs.as_json()
    event.expected_participants, event.expected_staff = inputs.participants, inputs.staff
    event.surcharge_share_percent = share_percent
    event.updated_at = utcnow()
    emissions = event_emissions(inputs, factor_map(event))
    add_audit(actor_name(actor), "event.estimate", "event", event.id, before,
              {"estimate_inputs": event.estimate_inputs, "surcharge_share_percent": share_percent,
               "items_g": emissions.items_g, "total_g": emissions.total_g})
    db.session.commit()
    return event


def actual_payload(event: Event, values: dict[str, object], travel_legs: list[dict[str, object]] | None) -> dict:
    """The actual figures in the API's shape: the estimate's boundary and staff travel, the actual
    persons and quantities typed, and the participants' travel from the survey (`travel_legs`) or,
    when None, the estimate's assumptions (scaled to the actual attendance when they are computed)."""
    if not event.estimate_inputs:
        raise DomainError(_l("Save the estimate first: the actual figures use the same boundary."))
    payload = dict(event.estimate_inputs)
    payload.update(values)
    if travel_legs is not None:
        payload["participant_travel"] = travel_legs
    return payload


def save_actuals(event: Event, inputs: EventInputs, *, travel_source: str, survey_answers: int | None,
                 actor: User) -> Event:
    """The actual attendance and quantities after the event, with where the travel figures came from."""
    require_event_manager(event, actor)
    _check_days(inputs, event)
    if travel_source not in TRAVEL_SOURCES:
        raise DomainError(_l("Choose where the travel figures come from."), field="travel_source")
    estimate = estimate_inputs(event)
    if estimate is None:
        raise DomainError(_l("Save the estimate first: the actual figures use the same boundary."))
    if inputs.excluded != estimate.excluded:
        raise DomainError(_l("The boundary was set before the event; the actual figures keep it."))
    before = {"actual_inputs": event.actual_inputs, "actual_travel_source": event.actual_travel_source}
    event.actual_inputs = inputs.as_json()
    event.actual_travel_source = travel_source
    event.actual_survey_answers = survey_answers if travel_source == "survey" else None
    event.updated_at = utcnow()
    emissions = event_emissions(inputs, factor_map(event))
    add_audit(actor_name(actor), "event.actuals", "event", event.id, before,
              {"actual_inputs": event.actual_inputs, "actual_travel_source": travel_source,
               "actual_survey_answers": event.actual_survey_answers, "items_g": emissions.items_g,
               "total_g": emissions.total_g})
    db.session.commit()
    return event
