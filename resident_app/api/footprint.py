"""GET /api/v1/factors and POST /api/v1/footprint: the calculator's arithmetic, checkable by anyone."""
from __future__ import annotations

from decimal import Decimal

from flask import jsonify
from flask_babel import gettext as _

from ..carbon import reference
from ..carbon.footprint import compute_footprint
from ..carbon.sources import (API_FIELDS, MAX_HOUSEHOLD_SIZE_INPUT, PERIOD_MONTHS, SOURCES, InputError, bound_for,
                              parse_household_size, parse_period, parse_quantity)
from ..extensions import csrf
from ..public.labels import error_message
from ..services.factors import active_factor_set
from ..web.json_body import read_json_object
from ..web.openapi import COUNT, DATE, TEXT, array, obj, ok, operation, refused
from . import bp

FACTORS = obj({
    "factor_set": obj({"id": COUNT, "name": TEXT, "fiscal_year": TEXT, "effective_from": DATE}),
    "factors": array(obj({"key": {"type": "string", "enum": list(SOURCES)}, "unit": TEXT,
                          "kg_co2_per_unit": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
                          "fiscal_year": TEXT, "source": TEXT, "confidence": TEXT})),
})
NO_FACTOR_SET = refused("No factor set is active (errors.factor_set)")


def _quantities(period: str) -> dict[str, dict]:
    return {API_FIELDS[s]: {"type": "number", "minimum": 0, "maximum": int(bound_for(s, period).limit)}
            for s in SOURCES}


# Types and names here; the bounds of a month are tighter than a year's (the allOf below).
FOOTPRINT_REQUEST = {
    **obj({"period": {"type": "string", "enum": list(PERIOD_MONTHS)},
           "household_size": {"type": "integer", "minimum": 1, "maximum": MAX_HOUSEHOLD_SIZE_INPUT},
           **_quantities("year")}, optional=tuple(API_FIELDS.values())),
    "allOf": [{"if": {"properties": {"period": {"const": "month"}}},
               "then": {"properties": _quantities("month")}}],
}
FOOTPRINT = obj({
    "total_g_per_year": COUNT,
    "by_source_g_per_year": obj({source: COUNT for source in SOURCES}),
    "average_home_g_per_year": COUNT, "average_car_g_per_year": COUNT,
    "household_size_used_for_average": COUNT, "factor_set_id": COUNT,
})


def decimal_text(value: Decimal) -> str:
    """A Decimal without trailing zeros and never in exponent form: 0.423000 -> '0.423'."""
    return format(value.normalize(), "f")


def _factor_set_or_503():
    factor_set = active_factor_set()
    if factor_set is None:
        return None, (jsonify({"errors": {"factor_set": _("No factor set is active.")}}), 503)
    return factor_set, None


@bp.get("/factors")
@operation("The emission factors in use", tags=("calculator",), responses={
    200: ok("The active factor set, every factor with its unit, source and confidence mark", FACTORS),
    503: NO_FACTOR_SET})
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
@operation("A household's yearly CO2 from its energy and water use", tags=("calculator",),
           request=FOOTPRINT_REQUEST, responses={
               200: ok("Grams a year per source and in total, with the national averages", FOOTPRINT),
               400: refused("A message per refused field (or `body` when the body is not a JSON object)"),
               413: refused("The body is larger than the limit (errors.body)"),
               503: NO_FACTOR_SET})
def footprint():
    """Yearly grams per source for the quantities given; 400 with per-field errors otherwise."""
    payload = read_json_object(FOOTPRINT_REQUEST)  # sizes, nesting and JSON types; values below
    errors: dict[str, str] = {}
    period = "month"
    try:
        period = parse_period(payload["period"])
    except InputError as error:
        errors["period"] = error_message(error)
    household_size = 1
    try:
        household_size = parse_household_size(payload["household_size"])
    except InputError as error:
        errors["household_size"] = error_message(error)
    quantities: dict[str, Decimal] = {}
    for source in SOURCES:
        field = API_FIELDS[source]
        try:
            quantities[source] = parse_quantity(source, payload.get(field), period)
        except InputError as error:
            errors[field] = error_message(error)
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
