"""The participants' travel survey (事後算定's travel figures): anonymous answers sent from a phone,
the organiser's live tally, the distances of origins named without one, opening and closing it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..carbon.event import DISTANCE_BANDS, MODES, SurveyAnswer, SurveyTravel, survey_travel
from ..carbon.event_input import LIMITS
from ..carbon.municipalities import Municipality, municipality
from ..extensions import db
from ..models import Event, EventSurveyAnswer, User, utcnow
from .accounts import actor_name
from .audit import add_audit
from .errors import DomainError, InvalidInput
from .events import require_event_manager

PARTICIPANT = "participant (anonymous)"


def record_survey_answer(event: Event, *, mode: str, distance_band: str, origin_code: str) -> EventSurveyAnswer:
    """One anonymous answer: how they came, and about how far or from which municipality."""
    if not event.survey_open:
        raise DomainError(_l("This survey is closed. Thank you all the same."))
    mode, distance_band, origin_code = (mode or "").strip(), (distance_band or "").strip(), (origin_code or "").strip()
    errors: dict[str, str] = {}
    if mode not in MODES:
        errors["mode"] = _l("Choose how you came.")
    if distance_band and distance_band not in DISTANCE_BANDS:
        errors["distance_band"] = _l("Choose one of the distances.")
    if origin_code and municipality(origin_code) is None:
        errors["origin_code"] = _l("Choose a municipality from the list.")
    if not errors and not distance_band and not origin_code:
        errors["distance_band"] = _l("Choose about how far you came, or where you came from.")
    if errors:
        raise InvalidInput(errors)
    answer = EventSurveyAnswer(event_id=event.id, mode=mode, distance_band=distance_band, origin_code=origin_code)
    db.session.add(answer)
    db.session.flush()
    add_audit(PARTICIPANT, "survey.answer", "event", event.id, None,
              {"answer_id": answer.id, "mode": mode, "distance_band": distance_band, "origin_code": origin_code})
    db.session.commit()
    return answer


def _rows(event: Event) -> list[EventSurveyAnswer]:
    return list(db.session.scalars(select(EventSurveyAnswer).where(EventSurveyAnswer.event_id == event.id)
                                   .order_by(EventSurveyAnswer.id)))


def _km(row: EventSurveyAnswer, origin_km: Mapping[str, str]) -> Decimal | None:
    """The answer's one-way km: its band's value, else the distance the organiser gave its origin."""
    if row.distance_band in DISTANCE_BANDS:
        return DISTANCE_BANDS[row.distance_band]
    known = origin_km.get(row.origin_code)
    return Decimal(known) if known is not None else None


@dataclass(frozen=True)
class OriginCount:
    place: Municipality
    answers: int
    without_band: int          # answers naming only this origin: they need the origin's distance
    km: Decimal | None         # the distance the organiser gave, if any


@dataclass(frozen=True)
class SurveyTally:
    answers: int
    by_mode: dict[str, int]
    by_band: dict[str, int]
    origins: tuple[OriginCount, ...]
    travel: SurveyTravel       # the answers with a distance, as persons and mean km per mode

    @property
    def origins_needing_km(self) -> tuple[OriginCount, ...]:
        return tuple(o for o in self.origins if o.without_band)


def survey_tally(event: Event) -> SurveyTally:
    """Counts by mode, distance and origin, and the travel the answers describe."""
    rows = _rows(event)
    origin_km = event.origin_km or {}
    by_mode = {mode: sum(1 for r in rows if r.mode == mode) for mode in MODES}
    by_band = {band: sum(1 for r in rows if r.distance_band == band) for band in DISTANCE_BANDS}
    origins: dict[str, list[int]] = {}
    for row in rows:
        if row.origin_code:
            counts = origins.setdefault(row.origin_code, [0, 0])
            counts[0] += 1
            counts[1] += 0 if row.distance_band else 1
    places = []
    for code, (count, without) in sorted(origins.items(), key=lambda item: (-item[1][0], item[0])):
        place = municipality(code)
        if place is not None:
            km = origin_km.get(code)
            places.append(OriginCount(place, count, without, Decimal(km) if km is not None else None))
    travel = survey_travel(SurveyAnswer(r.mode, _km(r, origin_km)) for r in rows)
    return SurveyTally(len(rows), by_mode, by_band, tuple(places), travel)


def set_origin_distances(event: Event, distances: Mapping[str, Decimal | None], *, actor: User) -> Event:
    """One-way km from origins that answers named without a distance (None or blank clears one)."""
    require_event_manager(event, actor)
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for code, km in distances.items():
        if municipality(code) is None:
            errors[f"origin_km_{code}"] = _l("Choose a municipality from the list.")
        elif km is not None:
            if not 0 <= km <= LIMITS["one_way_km"]:
                errors[f"origin_km_{code}"] = _l("Enter a distance from 0 to %(max)s km.",
                                                 max=f"{int(LIMITS['one_way_km']):,}")
            else:
                clean[code] = format(km.normalize(), "f")
    if errors:
        raise InvalidInput(errors)
    before = dict(event.origin_km or {})
    after = {**{k: v for k, v in before.items() if k not in distances}, **clean}
    if after != before:
        event.origin_km = after
        event.updated_at = utcnow()
        add_audit(actor_name(actor), "event.origin_km", "event", event.id, {"origin_km": before}, {"origin_km": after})
        db.session.commit()
    return event


def set_survey_open(event: Event, is_open: bool, *, actor: User) -> Event:
    """Open or close the survey; a closed survey's link says so and takes no answers."""
    require_event_manager(event, actor)
    if event.survey_open != is_open:
        event.survey_open = is_open
        event.updated_at = utcnow()
        add_audit(actor_name(actor), "event.survey_open" if is_open else "event.survey_close", "event", event.id,
                  {"survey_open": not is_open}, {"survey_open": is_open})
        db.session.commit()
    return event
