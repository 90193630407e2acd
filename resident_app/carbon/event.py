"""An event's CO2, the guidebook's method A1: the boundary, the estimate before the event, the same
sums from actual figures afterwards, the participants' travel survey and the suggested surcharge.

Pure: plain values in, plain values out. Quantities are Decimals, grams and yen ints. Each item is
computed exactly and rounded once, half up to a whole gram (as the household footprint is);
the total is the sum of the rounded items.

Travel is a round trip per person per day: 2 x one-way km x persons x share x days x factor.
Persons on a leg come either from a share of everyone (shares add up to 100 %) or from a table
of origins with head counts, which is scaled to the number of persons travelling."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping

from .conversion import GRAMS_PER_TONNE

ITEMS: tuple[str, ...] = ("venue_electricity", "venue_gas", "participant_travel", "staff_travel", "lodging",
                          "paper", "waste")
TRAVEL_ITEMS: tuple[str, ...] = ("participant_travel", "staff_travel")
MODES: tuple[str, ...] = ("rail", "bus", "car", "air_domestic", "walk")  # walk: walking and cycling, 0 g
ZERO_MODES = frozenset({"walk"})
# Factors the event factor set must hold (kg-CO2 per unit); energy comes from the household set.
EVENT_FACTOR_KEYS: tuple[str, ...] = ("rail", "bus", "car", "air_domestic", "hotel_night", "paper", "waste")
ENERGY_FACTOR_KEYS: tuple[str, ...] = ("electricity", "city_gas")
# One sheet of A4 copy paper: 210 x 297 mm at 64 g/m2 is 3.99 g; sheets count as 4 g of paper each.
A4_SHEET_KG = Decimal("0.004")
SURCHARGE_STEP_YEN = 10
MIN_SURCHARGE_YEN = 50       # Stripe's smallest JPY charge

QUANTITY_FIELDS: tuple[str, ...] = ("venue_electricity_kwh", "venue_hours", "venue_kw", "venue_gas_m3",
                                    "lodging_person_nights", "paper_kg", "paper_a4_sheets", "waste_kg")


# --- what the organiser knows --------------------------------------------------------------------

@dataclass(frozen=True)
class TravelLeg:
    """One mode of travel: a share of everyone, or a row of the origins table (persons)."""

    mode: str
    one_way_km: Decimal
    share_percent: Decimal | None = None
    persons: int | None = None
    origin: str = ""

    def as_json(self) -> dict[str, object]:
        row: dict[str, object] = {"mode": self.mode, "one_way_km": _text(self.one_way_km)}
        if self.persons is not None:
            row["persons"] = self.persons
            if self.origin:
                row["origin"] = self.origin
        else:
            row["share_percent"] = _text(self.share_percent or Decimal(0))
        return row


@dataclass(frozen=True)
class EventInputs:
    """What the organiser knows about the event: persons, days, the boundary and its quantities."""

    participants: int
    staff: int = 0
    days: int = 1
    venue_electricity_kwh: Decimal | None = None
    venue_hours: Decimal | None = None       # or hours x kW when the kWh are not known
    venue_kw: Decimal | None = None
    venue_gas_m3: Decimal = Decimal(0)
    participant_travel: tuple[TravelLeg, ...] = ()
    staff_travel: tuple[TravelLeg, ...] = ()
    lodging_person_nights: int = 0
    paper_kg: Decimal = Decimal(0)
    paper_a4_sheets: int = 0
    waste_kg: Decimal = Decimal(0)
    excluded: frozenset[str] = frozenset()

    @property
    def electricity_kwh(self) -> Decimal:
        """The kWh given, else hours x kW, else 0."""
        if self.venue_electricity_kwh is not None:
            return self.venue_electricity_kwh
        if self.venue_hours is not None and self.venue_kw is not None:
            return self.venue_hours * self.venue_kw
        return Decimal(0)

    @property
    def paper_total_kg(self) -> Decimal:
        return self.paper_kg + self.paper_a4_sheets * A4_SHEET_KG

    def includes(self, item: str) -> bool:
        return item not in self.excluded

    def without_empty_legs(self) -> "EventInputs":
        """The same inputs without travel rows that carry nobody (a form's untouched rows)."""
        def kept(legs: tuple[TravelLeg, ...]) -> tuple[TravelLeg, ...]:
            return tuple(leg for leg in legs if (leg.persons if leg.persons is not None else leg.share_percent))
        return replace(self, participant_travel=kept(self.participant_travel), staff_travel=kept(self.staff_travel))

    def as_json(self) -> dict[str, object]:
        """The API's JSON shape, numbers as decimal strings; carbon.event_input.read_event_inputs(…,
        text_numbers=True) reads it back (stored inputs are checked again when they are read)."""
        data: dict[str, object] = {"participants": self.participants, "staff": self.staff, "days": self.days}
        for name in QUANTITY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = _text(Decimal(value))
        data["participant_travel"] = [leg.as_json() for leg in self.participant_travel]
        data["staff_travel"] = [leg.as_json() for leg in self.staff_travel]
        data["exclude"] = [item for item in ITEMS if item in self.excluded]
        return data


def _text(value: Decimal) -> str:
    """A Decimal as plain text, never in exponent form: 12.50 -> '12.5', 1E+3 -> '1000'."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- the sums ------------------------------------------------------------------------------------

def _grams(kg: Decimal) -> int:
    return int((kg * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def persons_on_legs(legs: Iterable[TravelLeg], persons: int) -> list[tuple[TravelLeg, Decimal]]:
    """How many of `persons` travel on each leg: their share, or the origins table scaled to them."""
    legs = list(legs)
    table = sum(leg.persons or 0 for leg in legs if leg.persons is not None)
    result = []
    for leg in legs:
        if leg.persons is not None:
            count = Decimal(leg.persons) * persons / table if table else Decimal(0)
        else:
            count = Decimal(persons) * (leg.share_percent or Decimal(0)) / 100
        result.append((leg, count))
    return result


def travel_kg(legs: Iterable[TravelLeg], persons: int, days: int, factors: Mapping[str, Decimal]) -> Decimal:
    """2 x one-way km x persons on the leg x days x kg-CO2 per passenger-km, summed over the legs."""
    total = Decimal(0)
    for leg, count in persons_on_legs(legs, persons):
        if leg.mode in ZERO_MODES:
            continue
        total += 2 * leg.one_way_km * count * days * factors[leg.mode]
    return total


def item_kg(item: str, inputs: EventInputs, factors: Mapping[str, Decimal]) -> Decimal:
    """One item's exact kg-CO2 (before rounding)."""
    if item == "venue_electricity":
        return inputs.electricity_kwh * factors["electricity"]
    if item == "venue_gas":
        return inputs.venue_gas_m3 * factors["city_gas"]
    if item == "participant_travel":
        return travel_kg(inputs.participant_travel, inputs.participants, inputs.days, factors)
    if item == "staff_travel":
        return travel_kg(inputs.staff_travel, inputs.staff, inputs.days, factors)
    if item == "lodging":
        return inputs.lodging_person_nights * factors["hotel_night"]
    if item == "paper":
        return inputs.paper_total_kg * factors["paper"]
    if item == "waste":
        return inputs.waste_kg * factors["waste"]
    raise ValueError(item)


@dataclass(frozen=True)
class EventEmissions:
    """Grams per item inside the boundary (in ITEMS order), the items left out, and the persons."""

    items_g: dict[str, int]
    excluded: tuple[str, ...]
    participants: int

    @property
    def total_g(self) -> int:
        return sum(self.items_g.values())

    @property
    def per_participant_g(self) -> int:
        """The total over the participants (staff are the organiser's), half up to a gram."""
        if self.participants <= 0:
            return 0
        return int((Decimal(self.total_g) / self.participants).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def share_percent(self, item: str) -> int:
        """The item's whole-percent share of the total (0 when there is no total)."""
        if self.total_g <= 0:
            return 0
        return int((Decimal(self.items_g.get(item, 0)) * 100 / self.total_g).quantize(Decimal(1), ROUND_HALF_UP))


def event_emissions(inputs: EventInputs, factors: Mapping[str, Decimal]) -> EventEmissions:
    """Each item inside the boundary, computed exactly and rounded half up to whole grams once."""
    items = {item: _grams(item_kg(item, inputs, factors)) for item in ITEMS if inputs.includes(item)}
    return EventEmissions(items, tuple(i for i in ITEMS if not inputs.includes(i)), inputs.participants)


def suggested_surcharge_yen(per_participant_g: int, rate_yen_per_t: int, share_percent: int = 100) -> int:
    """per-participant grams x share x the rate, rounded UP to the next 10 yen, and at least 50 yen."""
    if rate_yen_per_t <= 0:
        raise ValueError("rate must be positive")
    if not 1 <= share_percent <= 100:
        raise ValueError("share must be 1 to 100 percent")
    yen = Decimal(per_participant_g) * share_percent / 100 * rate_yen_per_t / GRAMS_PER_TONNE
    steps = (yen / SURCHARGE_STEP_YEN).to_integral_value(rounding=ROUND_CEILING)
    return max(int(steps) * SURCHARGE_STEP_YEN, MIN_SURCHARGE_YEN)


def offset_percent(covered_g: int, total_g: int) -> int:
    """How much of the total is covered, in whole percent rounded DOWN (never claim more), at most 100."""
    if total_g <= 0:
        return 100 if covered_g >= 0 else 0
    return min(100, covered_g * 100 // total_g)


def claim(total_g: int, covered_g: int, retired_g: int) -> str:
    """What the organiser may say publicly (the guidance: claim an offset only for credits already
    invalidated). "offset": invalidated credits cover the total; "partly_offset": they cover part;
    "paid_awaiting": paid for, credits not yet invalidated; "not_offset": nothing paid yet."""
    if retired_g > 0 and retired_g >= total_g:
        return "offset"
    if retired_g > 0:
        return "partly_offset"
    if covered_g > 0:
        return "paid_awaiting"
    return "not_offset"


# --- the participants' travel survey -------------------------------------------------------------

# Answer bands for "about how far did you come?", each counted at the value shown (km, one way).
DISTANCE_BANDS: dict[str, Decimal] = {
    "0-1": Decimal("0.5"),
    "1-3": Decimal(2),
    "3-10": Decimal("6.5"),
    "10-30": Decimal(20),
    "30-100": Decimal(65),
    "100-300": Decimal(200),
    "300+": Decimal(600),
}


@dataclass(frozen=True)
class SurveyAnswer:
    mode: str
    one_way_km: Decimal | None   # None: an origin without a known distance yet


@dataclass(frozen=True)
class SurveyTravel:
    """The survey's answers as travel legs: persons per mode (answers with a distance) and their mean
    one-way km, ready to scale to the actual attendance."""

    answers: int                          # every answer received
    used: int                             # answers with a distance, which the legs are built from
    legs: tuple[TravelLeg, ...]

    def share_percent(self, mode: str) -> int:
        if not self.used:
            return 0
        count = sum(leg.persons or 0 for leg in self.legs if leg.mode == mode)
        return int((Decimal(count) * 100 / self.used).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def survey_travel(answers: Iterable[SurveyAnswer]) -> SurveyTravel:
    """Persons per mode and mean one-way km (half up to 0.1 km), from the answers that have a distance."""
    counts: dict[str, int] = {}
    km: dict[str, Decimal] = {}
    total = 0
    for answer in answers:
        total += 1
        if answer.one_way_km is None or answer.mode not in MODES:
            continue
        counts[answer.mode] = counts.get(answer.mode, 0) + 1
        km[answer.mode] = km.get(answer.mode, Decimal(0)) + answer.one_way_km
    legs = tuple(
        TravelLeg(mode, (km[mode] / counts[mode]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
                  persons=counts[mode])
        for mode in MODES if counts.get(mode))
    return SurveyTravel(total, sum(counts.values()), legs)
