"""Reading an event's inputs: the API's JSON, a form turned into the same shape, or the stored
figures. Types are checked before values (carbon.numbers), every field at once, and each refusal
is a Problem naming its field (participant_travel[1].one_way_km) with a code the web layer words."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Mapping

from .event import ITEMS, MODES, QUANTITY_FIELDS, TRAVEL_ITEMS, EventInputs, TravelLeg
from .numbers import NumberError, parse_decimal

# Upper bounds that catch a typo (an extra zero, a meter reading) without refusing a real event.
LIMITS: dict[str, Decimal] = {
    "participants": Decimal(1_000_000),
    "staff": Decimal(100_000),
    "days": Decimal(31),
    "venue_electricity_kwh": Decimal(10_000_000),
    "venue_hours": Decimal(744),          # a month of hours
    "venue_kw": Decimal(100_000),
    "venue_gas_m3": Decimal(1_000_000),
    "lodging_person_nights": Decimal(1_000_000),
    "paper_kg": Decimal(100_000),
    "paper_a4_sheets": Decimal(10_000_000),
    "waste_kg": Decimal(1_000_000),
    "share_percent": Decimal(100),
    "one_way_km": Decimal(3_000),        # Japan is about 3,000 km long
    "persons": Decimal(1_000_000),
}
WHOLE_FIELDS = frozenset({"participants", "staff", "days", "lodging_person_nights", "paper_a4_sheets", "persons"})
TOP_FIELDS = frozenset({"participants", "staff", "days", *QUANTITY_FIELDS, *TRAVEL_ITEMS, "exclude"})
MAX_TRAVEL_ROWS = 50
MAX_ORIGIN_CHARS = 100


@dataclass(frozen=True)
class Problem:
    """Why one field was refused. code: a NumberError code, or required, too_large, too_small,
    unknown_field, unknown_mode, unknown_item, shares_sum, no_travel, mixed_rows, too_many_rows,
    no_persons, too_long. `params` fill the message."""

    field: str
    code: str
    params: dict[str, object] = field(default_factory=dict)


class EventInputError(ValueError):
    """Several fields refused at once, each with its Problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(", ".join(f"{p.field}: {p.code}" for p in self.problems))

    def by_field(self) -> dict[str, Problem]:
        found: dict[str, Problem] = {}
        for problem in self.problems:
            found.setdefault(problem.field, problem)
        return found


class _Reader:
    def __init__(self, payload: Mapping[str, object], *, text_numbers: bool) -> None:
        self.payload = payload
        self.text_numbers = text_numbers
        self.problems: list[Problem] = []

    def problem(self, field_name: str, code: str, **params: object) -> None:
        self.problems.append(Problem(field_name, code, params))

    def number(self, raw: object, path: str, kind: str, *, required: bool = False,
               minimum: int = 0) -> Decimal | None:
        """A number for the field `kind` (limits and wholeness by kind), reported under `path`."""
        if raw is None or (isinstance(raw, str) and not raw.strip() and self.text_numbers):
            if required:
                self.problem(path, "required")
            return None
        if isinstance(raw, str) and not self.text_numbers:
            self.problem(path, "type")  # the API takes JSON numbers, not text
            return None
        try:
            value = parse_decimal(raw, decimals=kind not in WHOLE_FIELDS)
        except NumberError as error:
            self.problem(path, error.code)
            return None
        if value is None:
            if required:
                self.problem(path, "required")
            return None
        if value > LIMITS[kind]:
            self.problem(path, "too_large", limit=int(LIMITS[kind]))
            return None
        if value < minimum:
            self.problem(path, "too_small", minimum=minimum)
            return None
        return value

    def top(self, name: str, *, required: bool = False, minimum: int = 0) -> Decimal | None:
        return self.number(self.payload.get(name), name, name, required=required, minimum=minimum)

    def legs(self, name: str) -> tuple[TravelLeg, ...] | None:
        raw = self.payload.get(name)
        if raw is None:
            return None
        if not isinstance(raw, (list, tuple)):
            self.problem(name, "type")
            return None
        if len(raw) > MAX_TRAVEL_ROWS:
            self.problem(name, "too_many_rows", limit=MAX_TRAVEL_ROWS)
            return None
        legs: list[TravelLeg] = []
        kinds: set[str] = set()
        for index, row in enumerate(raw):
            path = f"{name}[{index}]"
            if not isinstance(row, Mapping):
                self.problem(path, "type")
                continue
            for key in sorted(set(row) - {"mode", "one_way_km", "share_percent", "persons", "origin"}):
                self.problem(f"{path}.{key}", "unknown_field")
            mode = row.get("mode")
            if not isinstance(mode, str) or mode not in MODES:
                self.problem(f"{path}.mode", "unknown_mode")
            km = self.number(row.get("one_way_km"), f"{path}.one_way_km", "one_way_km", required=True)
            if "persons" in row and "share_percent" not in row:
                kinds.add("persons")
                persons = self.number(row.get("persons"), f"{path}.persons", "persons", required=True)
                origin = row.get("origin", "")
                if not isinstance(origin, str):
                    self.problem(f"{path}.origin", "type")
                    origin = ""
                elif len(origin.strip()) > MAX_ORIGIN_CHARS:
                    self.problem(f"{path}.origin", "too_long", limit=MAX_ORIGIN_CHARS)
                if km is not None and persons is not None and isinstance(mode, str) and mode in MODES:
                    legs.append(TravelLeg(mode, km, persons=int(persons), origin=origin.strip()))
            else:
                kinds.add("share")
                share = self.number(row.get("share_percent"), f"{path}.share_percent", "share_percent",
                                    required=True)
                if km is not None and share is not None and isinstance(mode, str) and mode in MODES:
                    legs.append(TravelLeg(mode, km, share_percent=share))
        if len(kinds) > 1:
            self.problem(name, "mixed_rows")
            return None
        return tuple(legs)


def read_event_inputs(payload: Mapping[str, object], *, text_numbers: bool = False) -> EventInputs:
    """Check an event's inputs (the API's JSON, or a form turned into the same shape): types
    before values, every field at once. Raises EventInputError with a Problem per field.

    `text_numbers=True` accepts numbers typed as text (forms, stored inputs); the API does not."""
    if not isinstance(payload, Mapping):
        raise EventInputError([Problem("body", "type")])
    reader = _Reader(payload, text_numbers=text_numbers)
    for name in sorted(set(payload) - TOP_FIELDS, key=str):
        reader.problem(str(name), "unknown_field")
    excluded = _excluded(reader, payload.get("exclude"))
    participants = reader.top("participants", required=True, minimum=1)
    staff = reader.top("staff")
    days = reader.top("days", minimum=1)
    quantities = {name: reader.top(name) for name in QUANTITY_FIELDS}
    travel = {name: reader.legs(name) for name in TRAVEL_ITEMS}
    persons = {"participant_travel": participants, "staff_travel": staff or Decimal(0)}
    for name in TRAVEL_ITEMS:
        if name not in excluded and persons[name]:
            _check_travel(reader, name, travel[name])
    if reader.problems:
        raise EventInputError(reader.problems)
    assert participants is not None  # nosec B101 - narrows the type; reader.problems raised above when missing
    return EventInputs(
        participants=int(participants), staff=int(staff or 0), days=int(days or 1),
        venue_electricity_kwh=quantities["venue_electricity_kwh"], venue_hours=quantities["venue_hours"],
        venue_kw=quantities["venue_kw"], venue_gas_m3=quantities["venue_gas_m3"] or Decimal(0),
        participant_travel=travel["participant_travel"] or (), staff_travel=travel["staff_travel"] or (),
        lodging_person_nights=int(quantities["lodging_person_nights"] or 0),
        paper_kg=quantities["paper_kg"] or Decimal(0), paper_a4_sheets=int(quantities["paper_a4_sheets"] or 0),
        waste_kg=quantities["waste_kg"] or Decimal(0), excluded=excluded)


def _excluded(reader: _Reader, raw: object) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, (list, tuple)):
        reader.problem("exclude", "type")
        return frozenset()
    items = set()
    for index, item in enumerate(raw):
        if not isinstance(item, str) or item not in ITEMS:
            reader.problem(f"exclude[{index}]", "unknown_item")
        else:
            items.add(item)
    return frozenset(items)


def _check_travel(reader: _Reader, name: str, legs: tuple[TravelLeg, ...] | None) -> None:
    """A travel item inside the boundary needs its modes: shares adding up to 100, or origins with people."""
    if any(p.field == name or p.field.startswith(f"{name}[") for p in reader.problems):
        return  # the rows themselves were refused; say that first
    if not legs:
        reader.problem(name, "no_travel")
    elif legs[0].persons is not None:
        if sum(leg.persons or 0 for leg in legs) <= 0:
            reader.problem(name, "no_persons")
    else:
        total = sum((leg.share_percent or Decimal(0) for leg in legs), Decimal(0))
        if total != 100:
            reader.problem(name, "shares_sum", total=total)


