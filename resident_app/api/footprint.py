"""GET /api/v1/factors and POST /api/v1/footprint: the calculator's arithmetic, checkable by anyone."""
from __future__ import annotations

from decimal import Decimal

from flask import jsonify, request
from flask_babel import gettext as _

from ..carbon import reference
from ..carbon.footprint import compute_footprint
from ..carbon.sources import API_FIELDS, SOURCES, InputError, parse_household_size, parse_period, parse_quantity
from ..extensions import csrf
from ..public.labels import error_message
from ..services.factors import active_factor_set
from . import bp


def decimal_text(value: Decimal) -> str:
    """A Decimal without trailing zeros and never in exponent form: 0.423000 -> '0.423'."""
    return format(value.normalize(), "f")


def _factor_set_or_503():
    factor_set = active_factor_set()
    if factor_set is None:
        return None, (jsonify({"errors": {"factor_set": _("No factor set is active.")}}), 503)
    return factor_set, None


@bp.get("/factors")
def factors():
    """The factor set in use, every factor with its unit, source and confidence mark."""
    factor_set, failure = _factor_set_or_503()
    if failure:
        return failure
    return jsonify({
        "factor_set": {"id": factor_set.id, "name": factor_set.name, "fiscal_year": factor_set.fiscal_year,
                       "effective_from": factor_set.effective_from.isoformat()},
        "factors": [{"key": f.key, "unit": f.unit, "kg_co2_per_unit": decimal_text(f.kg_co2_per_unit),
                     "fiscal_year": f.fiscal_year, "source": f.source, "confidence": f.confidence}
                    for f in factor_set.factors],
    })


@csrf.exempt
@bp.post("/footprint")
def footprint():
    """Yearly grams per source for the quantities given; 400 with per-field errors otherwise."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify({"errors": {"body": _("Send a JSON object, for example {\"period\": \"month\", "
                                             "\"household_size\": 2, \"electricity_kwh\": 300}.")}}), 400
    errors: dict[str, str] = {}
    period = "month"
    try:
        period = parse_period(payload.get("period"))
    except InputError as error:
        errors["period"] = error_message(error)
    household_size = 1
    try:
        raw_size = payload.get("household_size")
        if isinstance(raw_size, str):  # JSON numbers only, as for the quantities
            raise InputError("invalid_household_size")
        household_size = parse_household_size(raw_size)
    except InputError as error:
        errors["household_size"] = error_message(error)
    quantities: dict[str, Decimal] = {}
    for source in SOURCES:
        field = API_FIELDS[source]
        value = payload.get(field)
        if isinstance(value, str):  # the API takes JSON numbers, not text
            errors[field] = error_message(InputError("invalid"))
            continue
        try:
            quantities[source] = parse_quantity(source, value, period)
        except InputError as error:
            errors[field] = error_message(error)
    unknown = sorted(set(payload) - {"period", "household_size", *API_FIELDS.values()})
    for field in unknown:
        errors[field] = _("Unknown field.")
    if errors:
        return jsonify({"errors": errors}), 400
    factor_set, failure = _factor_set_or_503()
    if failure:
        return failure
    result = compute_footprint(quantities, period, factor_set.factor_map())
    average = reference.average_for(household_size)
    return jsonify({
        "total_g_per_year": result.total_g,
        "by_source_g_per_year": result.by_source_g,
        "average_home_g_per_year": average.total_home_g,
        "average_car_g_per_year": reference.car_average_g(),
        "household_size_used_for_average": average.persons,
        "factor_set_id": factor_set.id,
    })
