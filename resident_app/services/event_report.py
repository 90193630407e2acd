"""Everything an event's pages and its report show, gathered in one read: figures, factors, money,
the offset's status and what the organiser may say. Also the transparency page's list of events."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..carbon.event import claim
from ..carbon.municipalities import Municipality, municipality
from ..extensions import db
from ..models import AddOn, Contribution, ContributionStatus, ConversionRate, Event, Factor
from .event_money import EventMoney, OffsetStatus, event_addons, event_money, offset_status
from .events import EventFigures, event_factors, event_figures
from .programme import current_rate


@dataclass(frozen=True)
class EventOverview:
    event: Event
    figures: EventFigures
    factors: list[Factor]
    money: EventMoney
    status: OffsetStatus | None          # None until the estimate is saved
    rate: ConversionRate | None
    addons: list[AddOn]
    place: Municipality | None

    @property
    def claim(self) -> str:
        """offset, partly_offset, paid_awaiting or not_offset (carbon.event.claim)."""
        if self.status is None:
            return "not_offset"
        return claim(self.status.total_g, self.status.covered_g, self.status.retired_g)


def event_overview(event: Event) -> EventOverview:
    figures = event_figures(event)
    money = event_money(event)
    rate = current_rate()
    status = offset_status(figures.latest, money, rate.yen_per_t if rate else None) if figures.latest else None
    return EventOverview(event, figures, event_factors(event), money, status, rate, event_addons(event),
                         municipality(event.municipality_code))


def offset_events() -> list[EventOverview]:
    """Events with an estimate that money was paid for, the latest first: the transparency page lists them."""
    # EXISTS per event add-on (the contributions' addon_id index), not a join over every contribution.
    paid = select(Contribution.id).where(Contribution.addon_id == AddOn.id,
                                         Contribution.status == ContributionStatus.PAID).exists()
    ids = select(AddOn.event_id).where(AddOn.event_id.is_not(None), paid)
    events = db.session.scalars(select(Event).where(Event.id.in_(ids))
                                .options(selectinload(Event.owner))
                                .where(Event.estimate_inputs.is_not(None))
                                .order_by(Event.starts_on.desc(), Event.id.desc()))
    return [event_overview(event) for event in events]
