"""The event forms: the event's facts, the boundary and estimate, the actual figures.

The estimate and the actuals are turned into the API's JSON shape (numbers as typed text), so one
reader (carbon.event.read_event_inputs) checks the API, the forms and the stored figures alike; its
errors are mapped back to the form's fields here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from flask_babel import lazy_gettext as _l

from ..carbon.event import ITEMS, MODES, EventInputs, TravelLeg
from ..carbon.event_input import EventInputError
from ..carbon.numbers import NumberError, parse_int
from ..models import Event
from ..services.events import EventData
from ..web.event_labels import problem_message
from ..web.numbers import number_message
from ..web.text import clean_text
from .forms import parse_date

FACT_TEXT = ("name_ja", "name_en", "purpose_ja", "purpose_en", "venue", "municipality_code")
FACT_FIELDS = (*FACT_TEXT, "starts_on", "ends_on", "expected_participants", "expected_staff")
QUANTITIES = ("venue_electricity_kwh", "venue_hours", "venue_kw", "venue_gas_m3", "lodging_person_nights",
              "paper_kg", "paper_a4_sheets", "waste_kg")
ORIGIN_ROWS = 8
PREFIX = {"participant_travel": "pt", "staff_travel": "st"}


# --- the event's facts ---------------------------------------------------------------------------

def blank_event_values() -> dict[str, str]:
    return {**{name: "" for name in FACT_FIELDS}, "expected_staff": "0"}


def event_values(event: Event) -> dict[str, str]:
    values = {name: str(getattr(event, name) or "") for name in FACT_TEXT}
    values.update(starts_on=event.starts_on.isoformat(), ends_on=event.ends_on.isoformat(),
                  expected_participants=str(event.expected_participants), expected_staff=str(event.expected_staff))
    return values


def read_event_form(form: Mapping[str, str]) -> tuple[EventData, dict[str, str], dict[str, str]]:
    """The parsed facts, the values to show back, and the fields that could not be read."""
    values = {name: clean_text(form.get(name)) for name in FACT_FIELDS}
    errors: dict[str, str] = {}
    data = EventData(**{name: values[name] for name in FACT_TEXT})
    for name in ("starts_on", "ends_on"):
        try:
            setattr(data, name, parse_date(values[name]))
        except ValueError:
            errors[name] = _l("Enter a date such as 2027-04-29.")
    for name in ("expected_participants", "expected_staff"):
        try:
            setattr(data, name, parse_int(values[name], max_chars=9))
        except NumberError as error:
            errors[name] = str(number_message(error, whole=True))
    return data, values, errors


# --- the boundary and the estimate ---------------------------------------------------------------

def _share_rows(values: dict[str, str], prefix: str) -> list[dict[str, object]]:
    rows = []
    for mode in MODES:
        share, km = values[f"{prefix}_share_{mode}"], values[f"{prefix}_km_{mode}"]
        if not share:
            share, km = "0", "0"        # an untouched row counts nobody
        elif not km and mode == "walk":
            km = "0"                    # walking and cycling emit nothing, whatever the distance
        rows.append({"mode": mode, "share_percent": share, "one_way_km": km or None})
    return rows


def _origin_rows(values: dict[str, str]) -> list[dict[str, object]]:
    rows = []
    for index in range(ORIGIN_ROWS):
        origin, mode = values[f"pto_{index}_origin"], values[f"pto_{index}_mode"] or "rail"
        persons, km = values[f"pto_{index}_persons"], values[f"pto_{index}_km"]
        if not (origin or persons or km):
            persons, km = "0", "0"      # an empty row counts nobody
        rows.append({"origin": origin, "mode": mode, "persons": persons or None, "one_way_km": km or None})
    return rows


def _travel_names() -> list[str]:
    names = ["pt_method"]
    for prefix in PREFIX.values():
        names += [f"{prefix}_{kind}_{mode}" for mode in MODES for kind in ("share", "km")]
    names += [f"pto_{i}_{kind}" for i in range(ORIGIN_ROWS) for kind in ("origin", "mode", "persons", "km")]
    return names


def read_estimate_form(form: Mapping[str, str], *, days: int) -> tuple[dict[str, object], dict[str, object]]:
    """The payload in the API's shape, and the values to show back."""
    values: dict[str, object] = {name: clean_text(form.get(name)) for name in
                                 ("participants", "staff", *QUANTITIES, *_travel_names(), "surcharge_share_percent")}
    text = {k: str(v) for k, v in values.items()}
    for item in ITEMS:
        values[f"include_{item}"] = form.get(f"include_{item}") == "1"
    method = "origins" if text["pt_method"] == "origins" else "shares"
    values["pt_method"] = method
    payload: dict[str, object] = {"participants": text["participants"], "staff": text["staff"], "days": days,
                                  **{name: text[name] or None for name in QUANTITIES},
                                  "participant_travel": _origin_rows(text) if method == "origins"
                                  else _share_rows(text, "pt"),
                                  "staff_travel": _share_rows(text, "st"),
                                  "exclude": [item for item in ITEMS if not values[f"include_{item}"]]}
    return payload, values


def estimate_values(event: Event, inputs: EventInputs | None) -> dict[str, object]:
    """The estimate form before anything is typed, or as last saved."""
    values: dict[str, object] = {name: "" for name in (*QUANTITIES, *_travel_names())}
    values.update(participants=str(event.expected_participants), staff=str(event.expected_staff),
                  surcharge_share_percent=str(event.surcharge_share_percent), pt_method="shares")
    for item in ITEMS:
        values[f"include_{item}"] = inputs is None or inputs.includes(item)
    if inputs is None:
        return values
    data = inputs.as_json()
    for name in QUANTITIES:
        values[name] = str(data.get(name, ""))
    values.update(participants=str(inputs.participants), staff=str(inputs.staff))
    _legs_into(values, "st", inputs.staff_travel)
    if inputs.participant_travel and inputs.participant_travel[0].persons is not None:
        values["pt_method"] = "origins"
        for index, leg in enumerate(inputs.participant_travel[:ORIGIN_ROWS]):
            row = leg.as_json()
            values.update({f"pto_{index}_origin": leg.origin, f"pto_{index}_mode": leg.mode,
                           f"pto_{index}_persons": str(row["persons"]), f"pto_{index}_km": str(row["one_way_km"])})
    else:
        _legs_into(values, "pt", inputs.participant_travel)
    return values


def _legs_into(values: dict[str, object], prefix: str, legs: tuple[TravelLeg, ...]) -> None:
    for leg in legs:  # one row per mode on the form: a second leg of the same mode keeps the first
        row = leg.as_json()
        if not values.get(f"{prefix}_share_{leg.mode}") and row.get("share_percent") not in (None, "0"):
            values[f"{prefix}_share_{leg.mode}"] = str(row["share_percent"])
            values[f"{prefix}_km_{leg.mode}"] = str(row["one_way_km"])


def form_field(path: str, method: str = "shares") -> str:
    """The form field an API path's problem belongs to: participant_travel[2].share_percent -> pt_share_car."""
    for item, prefix in PREFIX.items():
        if not path.startswith(f"{item}["):
            continue
        index_text, _, part = path[len(item) + 1:].partition("]")
        index, part = int(index_text), part.lstrip(".")
        if item == "participant_travel" and method == "origins":
            return f"pto_{index}_{'km' if part == 'one_way_km' else part or 'persons'}"
        mode = MODES[index] if index < len(MODES) else MODES[-1]
        return f"{prefix}_{'km' if part == 'one_way_km' else 'share'}_{mode}"
    if path.startswith("exclude"):
        return "form"
    return path


def form_errors(error: EventInputError, method: str = "shares") -> dict[str, str]:
    """Each refused field's message under the form's field name (the first problem per field)."""
    errors: dict[str, str] = {}
    for path, problem in error.by_field().items():
        errors.setdefault(form_field(path, method), problem_message(problem))
    return errors


def read_share(raw: str) -> int | None:
    """The surcharge's share of the per-participant CO2, 1 to 100 (blank or unreadable: None)."""
    try:
        share = parse_int(raw, max_chars=3)
    except NumberError:
        return None
    return share if share is not None and 1 <= share <= 100 else None


# --- the actual figures --------------------------------------------------------------------------

ACTUAL_FIELDS = ("participants", "staff", *QUANTITIES)


@dataclass(frozen=True)
class ActualForm:
    values: dict[str, str]
    travel_source: str


def actual_values(event: Event, saved: EventInputs | None, estimate: EventInputs) -> ActualForm:
    """The actuals form: as saved, or the estimate's figures to change where they differ."""
    data = (saved or estimate).as_json()
    values = {name: str(data.get(name, "")) for name in ACTUAL_FIELDS}
    return ActualForm(values, event.actual_travel_source or "estimate")


def read_actual_form(form: Mapping[str, str]) -> ActualForm:
    values = {name: clean_text(form.get(name)) for name in ACTUAL_FIELDS}
    source = clean_text(form.get("travel_source"))
    return ActualForm(values, source if source in ("estimate", "survey") else "")


def actual_typed(form: ActualForm) -> dict[str, object]:
    """The typed figures for services.events.actual_payload (blank quantities count as 0)."""
    return {name: form.values[name] or None for name in ACTUAL_FIELDS}
