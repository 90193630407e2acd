"""GET /api/v1/factors, POST /api/v1/footprint, GET /api/v1/electricity-menus: the calculator's
arithmetic, checkable by anyone. The body is read through web.json_body against the declared
request schema (sizes, nesting, JSON types), then values; every error is per field."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask import jsonify
from flask_babel import gettext as _

from ..carbon import reference
from ..carbon.comparison import UNITS as COMPARED_UNITS
from ..carbon.municipalities import is_municipality_code, municipalities
from ..carbon.sources import (API_FIELDS, BILL_SOURCES, MAX_HOUSEHOLD_SIZE_INPUT, PERIOD_MONTHS, SOURCES,
                              InputError, bound_for, parse_household_size, parse_period)
from ..carbon.tariffs import CONTRACT_AMPERES
from ..extensions import csrf
from ..public.labels import error_message
from ..services.calculations import CalculatorInput, calculate, parse_ampere, read_values, today_in_tokyo
from ..services.menus import UNKNOWN, menu_factor
from ..services.reference import reference as reference_data
from ..web.i18n import locale_code
from ..web.json_body import read_json_object
from ..web.openapi import COUNT, DATE, INTEGER, TEXT, array, nullable, obj, ok, operation, refused
from . import bp

BILL_FIELDS: dict[str, str] = {"electricity": "electricity_bill_yen", "city_gas": "city_gas_bill_yen"}
ESTIMATE_FIELDS = {"electricity": "electricity_kwh_per_year", "city_gas": "city_gas_m3_per_year"}

DECIMAL_TEXT = {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}
NUMBER = {"type": "number"}
FACTORS = obj({
    "factor_set": obj({"id": COUNT, "name": TEXT, "fiscal_year": TEXT, "effective_from": DATE}),
    "factors": array(obj({"key": {"type": "string", "enum": list(SOURCES)}, "unit": TEXT,
                          "kg_co2_per_unit": DECIMAL_TEXT, "fiscal_year": TEXT, "source": TEXT,
                          "source_url": TEXT, "confidence": TEXT})),
})
MENUS = array(obj({"key": TEXT, "label": TEXT, "kg_co2_per_kwh": DECIMAL_TEXT, "fiscal_year": TEXT,
                   "confidence": TEXT, "source": TEXT, "source_url": TEXT}))
NO_FACTOR_SET = refused("No factor set is active (errors.factor_set)")


def _quantities(period: str) -> dict[str, dict]:
    fields = {API_FIELDS[s]: {"type": "number", "minimum": 0, "maximum": int(bound_for(s, period).limit)}
              for s in SOURCES}
    fields.update({BILL_FIELDS[s]: {"type": "number", "minimum": 0,
                                    "maximum": int(bound_for(s, period, bill=True).limit)}
                   for s in BILL_SOURCES})
    return fields


# Types and names here; the bounds of a month are tighter than a year's (the allOf below).
FOOTPRINT_REQUEST = {
    **obj({"period": {"type": "string", "enum": list(PERIOD_MONTHS)},
           "household_size": {"type": "integer", "minimum": 1, "maximum": MAX_HOUSEHOLD_SIZE_INPUT},
           "contract_ampere": {"type": "integer", "enum": list(CONTRACT_AMPERES)},
           "electricity_menu": {"type": ["string", "null"]},
           "municipality_code": {"type": ["string", "null"], "enum": [*sorted(municipalities()), None]},
           **_quantities("year")},
          optional=(*API_FIELDS.values(), *BILL_FIELDS.values(), "contract_ampere", "electricity_menu",
                    "municipality_code")),
    "allOf": [{"if": {"properties": {"period": {"const": "month"}}},
               "then": {"properties": _quantities("month")}},
              # A quantity or its bill, never both (the bill is read through the tariff into the quantity).
              *({"not": {"required": [API_FIELDS[s], BILL_FIELDS[s]]}} for s in BILL_SOURCES)],
}
GRAMS_BY_KEY = {"type": "object", "additionalProperties": INTEGER}
FOOTPRINT = obj({
    "total_g_per_year": COUNT,
    "by_source_g_per_year": obj({source: COUNT for source in SOURCES}),
    "average_home_g_per_year": COUNT, "average_car_g_per_year": COUNT,
    "household_size_used_for_average": COUNT, "factor_set_id": COUNT,
    "electricity_menu": TEXT, "electricity_kg_co2_per_kwh": DECIMAL_TEXT,
    "municipality_code": nullable(TEXT),
    "estimated_quantities": obj({name: NUMBER for name in ESTIMATE_FIELDS.values()},
                                optional=tuple(ESTIMATE_FIELDS.values())),
    "actions": array(obj({"key": TEXT, "end_use": TEXT, "source": TEXT, "saving_g_per_year": COUNT,
                          "saving_yen_per_year": INTEGER, "by_source_g_per_year": GRAMS_BY_KEY})),
    "comparison": obj({
        "basis": TEXT, "region": TEXT, "household_size": COUNT,
        "averages": {"type": "object", "additionalProperties": NUMBER},
        "home_g_per_year": COUNT, "average_home_g_per_year": COUNT,
        "car_g_per_year": COUNT, "average_car_g_per_year": COUNT,
        "home_energy_mj_per_year": NUMBER, "average_home_energy_mj_per_year": NUMBER,
    }),
})


def decimal_text(value: Decimal) -> str:
    """A Decimal without trailing zeros and never in exponent form: 0.423000 -> '0.423'."""
    return format(value.normalize(), "f")


def tenth(value: Decimal) -> float:
    """A quantity as a JSON number to 0.1 (a display value, never money)."""
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def citation_text(citation, locale: str) -> str:
    """A one-line citation in the request's language: publisher, title, year (never a staff note)."""
    if not citation:
        return ""
    parts = [citation.publisher(locale), citation.title(locale), citation.year]
    return ", ".join(p for p in parts if p)


def _factor_set_or_503():
    factor_set = reference_data().factor_set
    if factor_set is None:
        return None, (jsonify({"errors": {"factor_set": _("No factor set is active.")}}), 503)
    return factor_set, None


@bp.get("/factors")
@operation("The emission factors in use", tags=("calculator",), responses={
    200: ok("The active factor set, every factor with its unit, citation and confidence mark", FACTORS),
    503: NO_FACTOR_SET})
def factors():
    """The factor set in use, every factor with its unit, citation and confidence mark."""
    factor_set, failure = _factor_set_or_503()
    if failure:
        return failure
    locale = locale_code()
    return jsonify({
        "factor_set": {"id": factor_set.id, "name": factor_set.name, "fiscal_year": factor_set.fiscal_year,
                       "effective_from": factor_set.effective_from.isoformat()},
        "factors": [{"key": f.key, "unit": f.unit, "kg_co2_per_unit": decimal_text(f.kg_co2_per_unit),
                     "fiscal_year": f.fiscal_year, "source": citation_text(f.citation, locale),
                     "source_url": f.citation.url, "confidence": f.confidence}
                    for f in factor_set.factors],
    })


@bp.get("/electricity-menus")
@operation("The electricity menus a household may name", tags=("calculator",), responses={
    200: ok("Each menu's key (for `electricity_menu`), label and kg-CO2 per kWh", MENUS),
    503: NO_FACTOR_SET})
def electricity_menus():
    """The menus a household may name in `electricity_menu`: key, label, kg-CO2 per kWh."""
    factor_set, failure = _factor_set_or_503()
    if failure:
        return failure
    locale = locale_code()
    return jsonify([{"key": m.key, "label": m.label(locale), "kg_co2_per_kwh": decimal_text(menu_factor(m, factor_set)),
                     "fiscal_year": m.fiscal_year, "confidence": m.confidence,
                     "source": citation_text(m.citation, locale), "source_url": m.citation.url}
                    for m in reference_data().listed_menus])


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _read(payload: dict, errors: dict[str, str]) -> CalculatorInput:
    """The payload as the calculator's input; JSON types first, then values."""
    data = CalculatorInput()
    try:
        data.period = parse_period(payload.get("period"))
    except InputError as error:
        errors["period"] = error_message(error)
    raw_size = payload.get("household_size")
    try:
        if isinstance(raw_size, str):  # JSON numbers only, as for the quantities
            raise InputError("invalid_household_size")
        data.household_size = parse_household_size(raw_size)
    except InputError as error:
        errors["household_size"] = error_message(error)
    ampere = payload.get("contract_ampere")
    ampere_errors: dict[str, InputError] = {}
    if not _is_number(ampere):
        ampere_errors["contract_ampere"] = InputError("invalid_ampere")
    else:
        data.contract_ampere = parse_ampere(ampere, ampere_errors)
    errors.update({name: error_message(err) for name, err in ampere_errors.items()})
    menu = payload.get("electricity_menu")
    if menu is None or menu == UNKNOWN:  # "I don't know": the factor set's electricity factor, as on the form
        menu = UNKNOWN
    elif not isinstance(menu, str) or reference_data().menu_by_key(menu) is None:
        errors["electricity_menu"] = error_message(InputError("unknown_menu"))
    else:
        data.electricity_menu = menu
    code = payload.get("municipality_code")
    if code is not None:
        if not is_municipality_code(code):
            errors["municipality_code"] = error_message(InputError("unknown_municipality"))
        else:
            data.municipality_code = code
    values: dict[str, object] = {}
    bills: dict[str, bool] = {}
    names: dict[str, str] = {}
    for source in SOURCES:
        field, bill_field = API_FIELDS[source], BILL_FIELDS.get(source)
        quantity, bill = payload.get(field), payload.get(bill_field) if bill_field else None
        if quantity is not None and bill is not None:
            errors[bill_field] = _("Give either %(quantity)s or %(bill)s, not both.", quantity=field, bill=bill_field)
            continue
        use_bill = bill is not None
        name = bill_field if use_bill else field
        value = bill if use_bill else quantity
        if not _is_number(value):  # the API takes JSON numbers, not text
            errors[name] = error_message(InputError("invalid"))
            continue
        values[source], bills[source], names[source] = value, use_bill, name
    if not errors:
        read_values(data, values, bills, today_in_tokyo(), names)
        errors.update({name: error_message(err) for name, err in data.errors.items()})
    return data


@csrf.exempt
@bp.post("/footprint")
@operation("A household's yearly CO2, its bill estimates, the actions that apply and a fair comparison",
           tags=("calculator",), request=FOOTPRINT_REQUEST, responses={
               200: ok("Grams a year per source and in total, actions and the comparison", FOOTPRINT),
               400: refused("A message per refused field (or `body` when the body is not a JSON object)"),
               413: refused("The body is larger than the limit (errors.body)"),
               503: NO_FACTOR_SET})
def footprint():
    """Yearly grams per source, the bill estimates, the actions that apply and the fair comparison;
    400 with per-field errors otherwise."""
    payload = read_json_object(FOOTPRINT_REQUEST)  # sizes, nesting and JSON types; values below
    errors: dict[str, str] = {}
    data = _read(payload, errors)
    if errors:
        return jsonify({"errors": errors}), 400
    factor_set, failure = _factor_set_or_503()
    if failure:
        return failure
    rate = reference_data().rate()
    calc = calculate(data, factor_set, rate.yen_per_t if rate else None)
    average = reference.average_for(data.household_size)
    fair = calc.comparison
    return jsonify({
        "total_g_per_year": calc.footprint.total_g,
        "by_source_g_per_year": calc.footprint.by_source_g,
        "average_home_g_per_year": average.total_home_g,
        "average_car_g_per_year": reference.car_average_g(),
        "household_size_used_for_average": average.persons,
        "factor_set_id": factor_set.id,
        "electricity_menu": data.electricity_menu,
        "electricity_kg_co2_per_kwh": decimal_text(calc.electricity_factor),
        "municipality_code": data.municipality_code or None,
        "estimated_quantities": {ESTIMATE_FIELDS[s]: tenth(e.quantity_per_year)
                                 for s, e in data.estimates.items() if s in BILL_SOURCES},
        "actions": [{"key": r.key, "end_use": r.info.end_use, "source": r.main_source,
                     "saving_g_per_year": r.saving_g, "saving_yen_per_year": r.saving_yen,
                     "by_source_g_per_year": r.by_source_g} for r in calc.plan.results],
        "comparison": {
            "basis": fair.basis, "region": fair.region, "household_size": fair.persons,
            "averages": {f"{fuel}_{COMPARED_UNITS[fuel].lower()}_per_year": tenth(a.quantity)
                         for fuel, a in fair.averages.items()},
            "home_g_per_year": fair.home_g, "average_home_g_per_year": fair.average_home_g,
            "car_g_per_year": fair.car_g, "average_car_g_per_year": fair.average_car_g,
            "home_energy_mj_per_year": tenth(fair.home_mj),
            "average_home_energy_mj_per_year": tenth(fair.average_home_mj),
        },
    })
