"""POST /api/v1/event-estimate: an event's CO2 by boundary item and the suggested surcharge, with
the programme's active factors and rate (the arithmetic of the organisers' estimate page)."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from ..carbon.event import event_emissions, suggested_surcharge_yen
from ..carbon.event_input import EventInputError, read_event_inputs
from ..extensions import csrf
from ..services.factors import active_factor_set
from ..services.programme import current_rate
from ..web.event_labels import problem_message
from . import bp


@csrf.exempt
@bp.post("/event-estimate")
def event_estimate():
    """Integer grams per item inside the boundary, the total, per participant and the surcharge;
    400 with {"errors": {field: message}} in the caller's language otherwise."""
    payload = request.get_json(silent=True)
    try:
        inputs = read_event_inputs(payload if isinstance(payload, dict) else None)  # type: ignore[arg-type]
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
