"""The calculator's settings in the staff console (on /staff/settings): tariffs and their monthly
adjustments, electricity menus, regional averages from e-Stat, and the municipal statistics export.

The settings page includes templates/staff/_calculator_settings.html, which asks for its figures
through the `calculator_settings()` template global; errors re-render the same settings page."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..carbon.actions import action_infos, parameters
from ..carbon.citations import FIELDS as CITATION_FIELDS, Citation
from ..carbon.numbers import NumberError, parse_decimal, parse_int
from ..carbon.tariffs import CONTRACT_AMPERES
from ..organiser.forms import parse_date
from ..services import DomainError
from ..services.averages import REGIONS, active_set, average_sets, choose_average_set, upload_average_set
from ..services.errors import InvalidInput
from ..services.menus import all_menus, save_menu
from ..services.municipal_stats import export_rows, municipality_stats
from ..services.tariffs import (ELECTRICITY_KEY, GAS_KEY, add_electricity_schedule,
                                add_gas_schedule, all_adjustments, all_schedules, schedule_on, set_adjustment)
from ..web.csv_export import csv_response
from ..web.text import clean_text
from . import actor, bp


ADJUSTMENT_LABELS = {"fuel_cost": _l("Fuel cost adjustment, TEPCO (yen per kWh)"),
                     "renewable_levy": _l("Renewable energy surcharge (yen per kWh)"),
                     "gas_material_cost": _l("Raw material cost adjustment, Tokyo Gas (yen per m³)")}


@bp.app_template_global()
def calculator_settings() -> dict:
    """What the settings page's calculator sections show (asked for by that template only)."""
    menu_key = request.args.get("menu", "")
    editing = next((m for m in all_menus() if m.key == menu_key), None)
    stats = municipality_stats()
    return {"schedules": all_schedules(), "adjustments": all_adjustments(), "adjustment_labels": ADJUSTMENT_LABELS,
            "electricity": schedule_on(ELECTRICITY_KEY, date.max), "gas": schedule_on(GAS_KEY, date.max),
            "amperes": CONTRACT_AMPERES, "menus": all_menus(), "editing_menu": editing,
            "average_sets": average_sets(), "active_average_set": active_set(), "regions": REGIONS,
            "actions": [(info, [p for (key, _name), p in parameters().items() if key == info.key])
                        for info in action_infos().values()],
            "stats_results": sum(s.count for s in stats),
            "stats_shown": sum(1 for s in stats for summary in s.by_size.values() if summary.shown)}


def _rerender(errors: dict[str, str], values: dict[str, str]):
    from .settings import _page  # the settings page owns the layout; imported late (it imports this module's page)

    return _page(errors=errors, values=values, status=422)


def _citation_from(prefix: str) -> Citation:
    return Citation.from_mapping({name: clean_text(request.form.get(f"{prefix}cite_{name}"))
                                  for name in CITATION_FIELDS})


def _prefixed(error: DomainError, prefix: str, fallback: str) -> dict[str, str]:
    found = error.errors if isinstance(error, InvalidInput) else {error.field or fallback: error.message}
    return {(name if name.startswith(("basic_", "tier_", "gas_")) else f"{prefix}{name}"): message
            for name, message in found.items()}


def _values() -> dict[str, str]:
    return {name: clean_text(value) for name, value in request.form.items() if name != "csrf_token"}


@bp.post("/settings/tariffs/<kind>")
def settings_tariff_add(kind: str):
    """A new price list for TEPCO 従量電灯B (kind=electricity) or Tokyo Gas (kind=city_gas) from a date."""
    if kind not in ("electricity", "city_gas"):
        abort(404)
    prefix = "tariff_" if kind == "electricity" else "gas_"
    values = _values()
    try:
        effective_from = parse_date(values.get(f"{prefix}effective_from"))
    except ValueError:
        return _rerender({f"{prefix}effective_from": _("Enter a date such as 2027-04-01.")}, values)
    adder = add_electricity_schedule if kind == "electricity" else add_gas_schedule
    try:
        adder(request.form, effective_from=effective_from, citation_row=_citation_from(prefix),
              confidence=values.get(f"{prefix}confidence", ""), staff_note=values.get(f"{prefix}staff_note", ""),
              actor=actor())
    except DomainError as error:
        return _rerender(_prefixed(error, prefix, "effective_from"), values)
    flash(_("The new prices are saved; they apply from their date."), "success")
    return redirect(url_for("staff.settings", _anchor="tariffs"), code=303)


@bp.post("/settings/tariff-adjustments")
def settings_tariff_adjustment():
    """The month's fuel cost adjustment (or a surcharge or gas adjustment) from its first day."""
    values = _values()
    errors: dict[str, str] = {}
    starts_on = None
    month = values.get("adj_month", "")
    try:
        starts_on = parse_date(f"{month}-01" if len(month) == 7 else month)
    except ValueError:
        errors["adj_month"] = _("Enter a month such as 2027-04.")
    amount = None
    try:
        amount = parse_decimal(values.get("adj_value"), negative=True)
    except NumberError:
        errors["adj_value"] = _("Enter a number of yen per unit, for example -1.25.")
    if not errors:
        try:
            set_adjustment(values.get("adj_kind", ""), starts_on=starts_on, yen_per_unit=amount,
                           staff_note=values.get("adj_note", ""), actor=actor())
        except DomainError as error:
            mapping = {"kind": "adj_kind", "starts_on": "adj_month", "yen_per_unit": "adj_value"}
            found = error.errors if isinstance(error, InvalidInput) else {error.field or "kind": error.message}
            errors = {mapping.get(k, "adj_kind"): v for k, v in found.items()}
    if errors:
        return _rerender(errors, values)
    flash(_("The adjustment is saved. New calculations use it from its month."), "success")
    return redirect(url_for("staff.settings", _anchor="adjustments"), code=303)


@bp.post("/settings/electricity-menus")
def settings_menu_save():
    """Add an electricity menu or change one (by its key)."""
    values = _values()
    try:
        menu = save_menu(values.get("menu_key", ""), retailer_ja=values.get("retailer_ja", ""),
                         retailer_en=values.get("retailer_en", ""), menu_ja=values.get("menu_ja", ""),
                         menu_en=values.get("menu_en", ""), factor=values.get("factor", ""),
                         fiscal_year=values.get("menu_fiscal_year", ""), confidence=values.get("menu_confidence", ""),
                         citation_row=_citation_from("menu_"), staff_note=values.get("menu_staff_note", ""),
                         is_listed=bool(request.form.get("menu_listed")), actor=actor())
    except DomainError as error:
        found = error.errors if isinstance(error, InvalidInput) else {"menu_key": error.message}
        return _rerender(found, values)
    flash(_("The electricity menu \"%(key)s\" is saved.", key=menu.key), "success")
    return redirect(url_for("staff.settings", _anchor="menus"), code=303)


@bp.post("/settings/averages")
def settings_average_upload():
    """A region's household averages from an e-Stat CSV."""
    values = _values()
    upload = request.files.get("avg_file")
    try:
        average_set = upload_average_set(upload.stream if upload is not None and upload.filename else None,
                                         region=values.get("avg_region", ""), name=values.get("avg_name", ""),
                                         year=values.get("avg_year", ""), region_filter=values.get("avg_filter", ""),
                                         activate=bool(request.form.get("avg_activate")), actor=actor())
    except DomainError as error:
        found = error.errors if isinstance(error, InvalidInput) else {"avg_file": error.message}
        return _rerender(found, values)
    flash(_("The table \"%(name)s\" is loaded with %(count)d figures.", name=average_set.name,
            count=len(average_set.rows)), "success")
    return redirect(url_for("staff.settings", _anchor="averages"), code=303)


@bp.post("/settings/averages/use")
def settings_average_use():
    """Compare with an uploaded table, or with the national averages again."""
    choice = request.form.get("avg_set", "national")
    try:
        # parse_int, never int(): an id past the database's integer range was a 500
        set_id = None if choice == "national" else parse_int(choice, max_chars=9)
        if choice != "national" and set_id is None:
            raise DomainError(_l("There is no such table."))
        chosen = choose_average_set(set_id, actor=actor())
    except (NumberError, DomainError):
        flash(_("There is no such table."), "error")
    else:
        flash(_("Comparisons now use \"%(name)s\".", name=chosen.name) if chosen
              else _("Comparisons now use the national averages."), "success")
    return redirect(url_for("staff.settings", _anchor="averages"), code=303)


@bp.get("/settings/municipal-statistics.csv")
def settings_municipal_statistics_csv():
    """The public statistics as CSV: counts, and quartiles only where ten results exist."""
    return csv_response(export_rows(), "municipal-statistics.csv")
