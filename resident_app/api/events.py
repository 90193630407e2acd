"""POST /api/v1/event-estimate: an event's CO2 by boundary item and the suggested surcharge, with
the programme's active factors and rate (the arithmetic of the organisers' estimate page)."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from ..carbon.event import ITEMS, MODES, QUANTITY_FIELDS, TRAVEL_ITEMS, event_emissions, suggested_surcharge_yen
from ..carbon.event_input import (LIMITS, MAX_ORIGIN_CHARS, MAX_TRAVEL_ROWS, WHOLE_FIELDS, EventInputError,
                                  read_event_inputs)
from ..extensions import csrf
from ..services.factors import active_factor_set
from ..services.programme import current_rate
from ..web.event_labels import problem_message
from ..web.json_body import read_json
from ..web.openapi import COUNT, TEXT, array, obj, ok, operation, refused
from . import bp


def _number(name: str, minimum: int = 0) -> dict:
    return {"type": "integer" if name in WHOLE_FIELDS else "number", "minimum": minimum, "maximum": int(LIMITS[name])}


LEG = obj({"mode": {"type": "string", "enum": list(MODES)}, "one_way_km": _number("one_way_km"),
           "share_percent": _number("share_percent"), "persons": _number("persons"),
           "origin": {"type": "string", "maxLength": MAX_ORIGIN_CHARS}},
          optional=("share_percent", "persons", "origin"))
# Types, names and bounds; the rules across fields (shares add up to 100 %, a leg gives shares or
# persons, not both) are checked by the view and answered per field.
EVENT_REQUEST = obj({
    "participants": _number("participants", 1), "staff": _number("staff"), "days": _number("days", 1),
    **{name: _number(name) for name in QUANTITY_FIELDS},
    **{name: {**array(LEG), "maxItems": MAX_TRAVEL_ROWS} for name in TRAVEL_ITEMS},
    "exclude": array({"type": "string", "enum": list(ITEMS)}),
}, optional=("staff", "days", *QUANTITY_FIELDS, *TRAVEL_ITEMS, "exclude"))
ESTIMATE = obj({"items": {"type": "object", "additionalProperties": COUNT}, "excluded": array(TEXT),
                "total_g": COUNT, "per_participant_g": COUNT, "rate_yen_per_t": COUNT,
                "suggested_surcharge_yen": COUNT, "factor_set_id": COUNT, "event_factor_set_id": COUNT})


@csrf.exempt
@bp.post("/event-estimate")
@operation("An event's CO2 by boundary item and the suggested surcharge", tags=("events",),
           request=EVENT_REQUEST, responses={
               200: ok("Grams per item inside the boundary, the total, per participant, and the surcharge", ESTIMATE),
               400: refused("A message per refused field (or `body` when the body is not a JSON object)"),
               413: refused("The body is larger than the limit (errors.body)"),
               503: refused("No factor set or rate is active (errors.factor_set)")})
def event_estimate():
    """Integer grams per item inside the boundary, the total, per participant and the surcharge;
    400 with {"errors": {field: message}} in the caller's language otherwise."""
    payload = read_json()  # size, nesting and syntax (400/413); types and values below, per field
    try:
        inputs = read_event_inputs(payload)
    except EventInputError as error:
        return jsonify({"errors": {field: problem_message(p) for field, p in error.by_field().items()}}), 400
    household, events, rate = active_factor_set("household"), active_factor_set("event"), current_rate()
    if household is None or events is None or rate is None:
        return jsonify({"errors": {"factor_set": _("No factor set is active.")}}), 503
    result = event_emissions(inputs, {**household.factor_map(), **events.factor_map()})
    return jsonify({
        "items": result.items_g,
        "excluded": list(result.excluded),
        "total_g": result.total_g,
        "per_participant_g": result.per_participant_g,
        "rate_yen_per_t": rate.yen_per_t,
        "suggested_surcharge_yen": suggested_surcharge_yen(result.per_participant_g, rate.yen_per_t),
        "factor_set_id": household.id,
        "event_factor_set_id": events.id,
    })
