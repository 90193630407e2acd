"""Names, one-line explanations and field messages for event offsets, shared by the organiser's
pages, the public event page and survey, and the JSON API."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..carbon.event import QUANTITY_FIELDS
from ..carbon.event_input import Problem
from ..carbon.numbers import NumberError
from .i18n import number
from .numbers import number_message

ITEM_LABELS = {
    "venue_electricity": _l("Venue electricity"),
    "venue_gas": _l("Venue gas"),
    "participant_travel": _l("Participants' travel"),
    "staff_travel": _l("Staff travel"),
    "lodging": _l("Lodging"),
    "paper": _l("Printed matter"),
    "waste": _l("Waste"),
}
# What each boundary item counts, in one line (the checklist and the report's boundary section).
ITEM_HINTS = {
    "venue_electricity": _l("The electricity the venue, stage, lights and stalls use during the event: kWh from "
                            "the meter or the venue's bill, or hours × kW of the equipment."),
    "venue_gas": _l("City gas burned at the venue for heating or cooking, in m³ from the meter or the bill."),
    "participant_travel": _l("Participants' round trips to the venue and back, by how they travel and how far."),
    "staff_travel": _l("The organiser's staff and volunteers' round trips, counted like the participants'."),
    "lodging": _l("Hotel nights of speakers, performers, staff or participants who stay over (person-nights)."),
    "paper": _l("Flyers, posters, programmes and handouts printed for the event, by weight or A4 sheets."),
    "waste": _l("Burnable waste from the event taken for incineration, in kg."),
}
MODE_LABELS = {
    "rail": _l("Train or subway"),
    "bus": _l("Bus"),
    "car": _l("Car (per person in it)"),
    "air_domestic": _l("Domestic flight"),
    "walk": _l("Walking or cycling"),
}
BAND_LABELS = {
    "0-1": _l("Under 1 km"),
    "1-3": _l("1–3 km"),
    "3-10": _l("3–10 km"),
    "10-30": _l("10–30 km"),
    "30-100": _l("30–100 km"),
    "100-300": _l("100–300 km"),
    "300+": _l("Over 300 km"),
}
UNIT_LABELS = {
    "kWh": "kWh", "m3": "m³", "passenger-km": _l("passenger-km"), "person-night": _l("person-night"),
    "kg": "kg",
}
QUANTITY_NAMES = frozenset({"participants", "staff", "days", *QUANTITY_FIELDS})
TRAVEL_SOURCE_LABELS = {
    "estimate": _l("the estimate's assumptions, scaled to the actual attendance"),
    "survey": _l("the participants' travel survey, scaled to the actual attendance"),
}


def item_label(item: str) -> str:
    return str(ITEM_LABELS.get(item, item))


def mode_label(mode: str) -> str:
    return str(MODE_LABELS.get(mode, mode))


def band_label(band: str) -> str:
    return str(BAND_LABELS.get(band, band))


def factor_unit_label(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit))


def travel_source_label(source: str) -> str:
    return str(TRAVEL_SOURCE_LABELS.get(source, source))


NUMBER_SUFFIXES = (".share_percent", ".one_way_km", ".persons")


def problem_message(problem: Problem) -> str:
    """The message for one refused event field, in the caller's language."""
    p = problem.params
    if problem.code == "type":
        if problem.field in QUANTITY_NAMES or problem.field.endswith(NUMBER_SUFFIXES):
            return _("Send a number here (a JSON number, not text).")
        if problem.field == "body":
            return _("Send a JSON object such as {\"participants\": 200, \"days\": 1, ...}.")
        return _("This has the wrong form: see the example in the documentation.")
    if problem.code in ("invalid", "negative", "not_whole"):
        return str(number_message(NumberError(problem.code)))
    total = p.get("total", 0)
    messages = {
        "too_long": _("Use at most %(max)s characters.", max=p.get("limit", 0)),
        "required": _("Enter a number here."),
        "too_large": _("This is more than an event here could have (at most %(limit)s). Please check the figure.",
                       limit=number(int(p.get("limit", 0)))),
        "too_small": _("Enter %(minimum)s or more.", minimum=number(int(p.get("minimum", 0)))),
        "unknown_field": _("Unknown field."),
        "unknown_mode": _("Choose one of: rail, bus, car, air_domestic, walk."),
        "unknown_item": _("Choose one of: venue_electricity, venue_gas, participant_travel, staff_travel, "
                          "lodging, paper, waste."),
        "shares_sum": _("The shares add up to %(total)s %%; they must add up to 100 %%.",
                        total=number(total, 1 if total % 1 else 0)),
        "no_travel": _("Give how people travel (shares that add up to 100 percent), or leave this item out of "
                       "the boundary."),
        "no_persons": _("Give the number of people from at least one origin."),
        "mixed_rows": _("Use either shares or a table of origins with head counts, not both."),
        "too_many_rows": _("Use at most %(limit)s rows.", limit=p.get("limit", 0)),
        "days_differ": _("The event lasts %(days)s days: use the same number of days.", days=p.get("days", 0)),
    }
    return str(messages.get(problem.code, _("This value cannot be used.")))


def plain_number(value: Decimal) -> str:
    """A factor as written: 0.017, 15, 1.62 (never 1.5E+1)."""
    return format(value.normalize(), "f")


def register(blueprint: Blueprint) -> None:
    """The labels as app-wide template globals (the organiser's and the public pages use them)."""
    for function in (item_label, mode_label, band_label, factor_unit_label, travel_source_label, plain_number):
        blueprint.add_app_template_global(function)
    blueprint.add_app_template_global(ITEM_HINTS, "item_hints")
