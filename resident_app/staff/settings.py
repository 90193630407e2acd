"""Rate and factors (/staff/settings): the conversion rate and its history, emission factor sets,
unit prices for bill estimates. Every change goes through services.settings and is audited."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..carbon.conversion import grams_for_yen
from ..extensions import db
from ..models import FactorSet, utcnow
from ..services import DomainError
from ..services.errors import InvalidInput
from ..services.factors import CITATION_COLUMNS, FACTOR_COLUMNS
from ..services.programme import current_rate
from ..services.settings import (add_unit_price, change_rate, choose_active_factor_set, factor_sets,
                                 needs_verification, rate_history, unit_price_keys, unit_price_rows,
                                 upload_factor_set)
from ..web.csv_export import csv_response
from ..web.i18n import locale_code, number
from ..web.text import clean_text
from ..web.typed import day, decimal_number, whole_number
from . import actor, bp

# Form field name -> the service's field name, per form (the three forms share one page, so their
# inputs need distinct names and ids).
RATE_FIELDS = {"yen_per_t": "yen_per_t", "reason": "reason", "effective_on": "effective_on"}
SET_FIELDS = {"set_name": "name", "fiscal_year": "fiscal_year", "set_effective_from": "effective_from",
              "file": "file"}
PRICE_FIELDS = {"price_key": "key", "yen_per_unit": "yen_per_unit", "price_effective_from": "effective_from",
                "as_of": "as_of", "confidence": "confidence", "source": "source"}


def plain_decimal(value: Decimal) -> str:
    """0.423, 31, 162.5: no exponent and no trailing zeros (Decimal.normalize() writes 260 as 2.6E+2)."""
    return format(value.normalize(), "f")


def _form_errors(error: DomainError, fields: dict[str, str], fallback: str) -> dict[str, str]:
    """A service error keyed by the page's field names (unknown fields go to `fallback`)."""
    by_service = {service: form for form, service in fields.items()}
    found = error.errors if isinstance(error, InvalidInput) else {error.field or "": error.message}
    return {by_service.get(name, fallback): message for name, message in found.items()}


def _event_factors_page(*, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                        status: int = 200):
    return render_template("staff/event_factors.html", sets=factor_sets("event"), needs_verification=needs_verification,
                           plain=plain_decimal, errors=errors or {}, values=values or {}), status


def _page(*, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200):
    rate = current_rate()
    return render_template(
        "staff/settings.html", rate=rate, history=rate_history(),
        grams_per_100_yen=grams_for_yen(100, rate.yen_per_t) if rate else None,
        sets=factor_sets(), prices=unit_price_rows(), price_keys=unit_price_keys(),
        needs_verification=needs_verification, plain=plain_decimal, now=utcnow(),
        errors=errors or {}, values=values or {},
    ), status


@bp.get("/settings")
def settings():
    """The rate, factor sets and unit prices, each with its form."""
    return _page()


@bp.get("/settings/event-factors")
def settings_event_factors():
    """The event factor sets (travel, lodging, printed matter, waste) and next year's upload."""
    return _event_factors_page()


def _factor_sets_anchor(kind: str) -> str:
    if kind == "event":
        return url_for("staff.settings_event_factors", _anchor="factor-sets")
    return url_for("staff.settings", _anchor="factor-sets")


@bp.post("/settings/rate")
def settings_rate():
    """Put a new conversion rate in force, now or from a later day; the reason is required."""
    values = {name: clean_text(request.form.get(name)) for name in RATE_FIELDS}
    errors: dict[str, str] = {}
    try:
        yen_per_t = whole_number(values["yen_per_t"], yen=True)
    except ValueError:
        yen_per_t, errors["yen_per_t"] = None, _("Enter a whole number of yen, for example 10000.")
    try:
        effective_on = day(values["effective_on"])
    except ValueError:
        effective_on, errors["effective_on"] = None, _("Enter a date such as 2027-04-01.")
    if not errors:
        try:
            rate = change_rate(yen_per_t, reason=values["reason"], actor=actor(), effective_on=effective_on)
        except DomainError as error:
            errors = _form_errors(error, RATE_FIELDS, "yen_per_t")
        else:
            flash(_("The new rate of %(rate)s yen per tonne is saved. Contributions already paid keep their rate.",
                    rate=number(rate.yen_per_t)), "success")
            return redirect(url_for("staff.settings", _anchor="rate"), code=303)
    return _page(errors=errors, values=values, status=422)


@bp.post("/settings/factor-sets")
def settings_factor_upload():
    """Add a factor set (household or event) for a new fiscal year from an uploaded CSV."""
    kind = "event" if request.form.get("kind") == "event" else "household"
    values = {name: clean_text(request.form.get(name)) for name in ("set_name", "fiscal_year", "set_effective_from")}
    values["activate"] = "1" if request.form.get("activate") else ""
    errors: dict[str, str] = {}
    try:
        effective_from = day(values["set_effective_from"])
    except ValueError:
        effective_from, errors["set_effective_from"] = None, _("Enter a date such as 2027-04-01.")
    upload = request.files.get("file")
    stream = upload.stream if upload is not None and upload.filename else None
    if not errors:
        try:
            factor_set = upload_factor_set(stream, name=values["set_name"], fiscal_year=values["fiscal_year"],
                                           effective_from=effective_from, activate=bool(values["activate"]),
                                           actor=actor(), kind=kind)
        except DomainError as error:
            errors = _form_errors(error, SET_FIELDS, "file")
        else:
            if factor_set.is_active:
                flash(_("The factor set \"%(name)s\" is added and is now used for new calculations.",
                        name=factor_set.name), "success")
            else:
                flash(_("The factor set \"%(name)s\" is added. It is not in use until you make it active.",
                        name=factor_set.name), "success")
            return redirect(_factor_sets_anchor(kind), code=303)
    if kind == "event":
        return _event_factors_page(errors=errors, values=values, status=422)
    return _page(errors=errors, values=values, status=422)


@bp.post("/settings/factor-sets/<int:set_id>/activate")
def settings_factor_activate(set_id: int):
    """Use this factor set for new calculations; saved results keep the set they used."""
    try:
        factor_set = choose_active_factor_set(set_id, actor=actor())
    except DomainError as error:
        flash(str(error.message), "error")
        chosen = db.session.get(FactorSet, set_id)
        return redirect(_factor_sets_anchor(chosen.kind if chosen else "household"), code=303)
    flash(_("The factor set \"%(name)s\" is now used for new calculations.", name=factor_set.name), "success")
    return redirect(_factor_sets_anchor(factor_set.kind), code=303)


@bp.post("/settings/unit-prices")
def settings_unit_price():
    """Add a new unit price for a key from a date."""
    values = {name: clean_text(request.form.get(name)) for name in PRICE_FIELDS}
    errors: dict[str, str] = {}
    try:
        yen_per_unit = decimal_number(values["yen_per_unit"], yen=True)
    except ValueError:
        yen_per_unit, errors["yen_per_unit"] = None, _("Enter a number, for example 31 or 162.5.")
    try:
        effective_from = day(values["price_effective_from"])
    except ValueError:
        effective_from, errors["price_effective_from"] = None, _("Enter a date such as 2027-04-01.")
    if not errors:
        try:
            price = add_unit_price(values["price_key"], yen_per_unit=yen_per_unit, effective_from=effective_from,
                                   as_of=values["as_of"], confidence=values["confidence"], source=values["source"],
                                   actor=actor())
        except DomainError as error:
            errors = _form_errors(error, PRICE_FIELDS, "price_key")
        else:
            flash(_("The new unit price for %(name)s is saved.", name=price.label(locale_code())), "success")
            return redirect(url_for("staff.settings", _anchor="unit-prices"), code=303)
    return _page(errors=errors, values=values, status=422)


@bp.get("/settings/factor-sets/<int:set_id>.csv")
def settings_factor_csv(set_id: int):
    """A factor set in the upload format: the starting point for next year's file."""
    factor_set = db.session.get(FactorSet, set_id) or abort(404)
    rows = [FACTOR_COLUMNS + CITATION_COLUMNS,
            *((f.key, f.label_ja, f.label_en, f.unit, plain_decimal(f.kg_co2_per_unit), f.fiscal_year, f.confidence,
               f.source, *f.citation.as_row().values()) for f in factor_set.factors)]
    return csv_response(rows, f"factor-set-{factor_set.id}-{factor_set.fiscal_year}.csv")
