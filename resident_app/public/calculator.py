"""The household CO2 calculator (見える化): form, live result, save, share and delete."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from flask_babel import gettext as _

from ..carbon.footprint import OFFSET_PERCENTS
from ..carbon.sources import BILL_SOURCES, CAR_SOURCES, HOME_SOURCES, SOURCES, UNITS
from ..extensions import db
from ..models import AddOn
from ..services import DomainError
from ..services.payments import availability
from ..services.programme_content import HOUSEHOLD_SLUG
from ..services.calculations import (CalculatorInput, calculate, delete_result, find_saved,
                                     load_saved_input, parse_form, save_result)
from ..services.factors import active_factor_set
from ..services.programme import current_rate, current_unit_prices
from ..web import charts
from ..web.htmx import render_page_or_partial
from ..web.i18n import locale_code
from . import bp
from .labels import SOURCE_LABELS, error_message


def _unit_prices() -> dict:
    return current_unit_prices()


def _page_context(data: CalculatorInput, calc, *, saved=None) -> dict:
    prices = _unit_prices()
    errors = {field: error_message(err) for field, err in data.errors.items()}
    context = {
        "data": data, "calc": calc, "errors": errors, "saved": saved,
        "sources": SOURCES, "bill_sources": BILL_SOURCES, "units": UNITS,
        "source_labels": SOURCE_LABELS, "offset_percents": OFFSET_PERCENTS,
        "unit_prices": prices, "rate": current_rate(),
        "bill_used": [s for s in BILL_SOURCES if data.bill.get(s)],
        "household_offer": _household_offer(calc),
    }
    if calc is not None and data.has_values:
        context.update(_charts(calc))
    return context


def _household_offer(calc):
    """The programme's household offset add-on, when it can take the quoted amount now."""
    if calc is None or calc.quote is None or calc.quote.amount_yen <= 0:
        return None
    addon = db.session.scalar(select(AddOn).where(AddOn.slug == HOUSEHOLD_SLUG))
    if addon is None or not availability(addon).open:
        return None
    low, high = addon.min_amount_yen or 0, addon.max_amount_yen or calc.quote.amount_yen
    amount = min(max(calc.quote.amount_yen, low), high)
    return {"url": url_for("checkout.addon", slug=addon.slug, amount=amount), "amount": amount,
            "adjusted": amount != calc.quote.amount_yen}


def _charts(calc) -> dict:
    used = [s for s in SOURCES if calc.footprint.by_source_g[s] > 0]
    breakdown = charts.breakdown_figure(
        [str(SOURCE_LABELS[s]) for s in used], [calc.footprint.by_source_g[s] for s in used],
        _("kg-CO2 a year"))
    categories = [_("Home energy"), _("Car fuel")]
    comparison = charts.comparison_figure(
        categories, [calc.comparison.home_g, calc.comparison.car_g],
        [calc.comparison.average_home_g, calc.comparison.average_car_g],
        _("Your household"), _("National average"), _("kg-CO2 a year"))
    return {"breakdown_chart": breakdown, "comparison_chart": comparison, "used_sources": used,
            "home_sources": HOME_SOURCES, "car_sources": CAR_SOURCES}


def _calculation(data: CalculatorInput, factor_set=None):
    factor_set = factor_set or active_factor_set()
    if factor_set is None:
        abort(503)
    rate = current_rate()
    return calculate(data, factor_set, rate.yen_per_t if rate else None)


def _prices_as_decimals() -> dict[str, Decimal]:
    return {key: price.yen_per_unit for key, price in _unit_prices().items()}


@bp.route("/calculator", methods=["GET", "POST"])
def calculator():
    """GET shows the empty form; POST (plain or htmx) shows the result for what was entered."""
    if request.method == "GET":
        data = CalculatorInput()
        return render_template("public/calculator.html", **_page_context(data, None))
    data = parse_form(request.form, request.form.getlist("action"), _prices_as_decimals())
    calc = _calculation(data)
    return render_page_or_partial("public/calculator.html", "public/_result.html",
                                  **_page_context(data, calc))


@bp.post("/calculator/save")
def calculator_save():
    """Store the numbers under an unguessable link and open it."""
    data = parse_form(request.form, request.form.getlist("action"), _prices_as_decimals())
    calc = _calculation(data)
    try:
        saved = save_result(calc)
    except DomainError as error:
        flash(str(error.message), "error")
        return render_template("public/calculator.html", **_page_context(data, calc)), 422
    flash(_("Your result is saved. Anyone with this link can see it; you can delete it at any time."),
          "success")
    return redirect(url_for("public.saved_result", token=saved.token), code=303)


@bp.get("/r/<token>")
def saved_result(token: str):
    """A saved result, computed again with the factor set it was saved with."""
    saved = find_saved(token)
    if saved is None:
        abort(404)
    data = load_saved_input(saved)
    calc = _calculation(data, saved.factor_set)
    return render_template("public/calculator.html", **_page_context(data, calc, saved=saved))


@bp.post("/r/<token>/delete")
def saved_result_delete(token: str):
    """Delete a saved result for good."""
    if delete_result(token):
        flash(_("The saved result was deleted."), "success")
    else:
        flash(_("That result was already deleted."), "info")
    return redirect(url_for("public.calculator"), code=303)


@bp.app_template_global()
def action_label(action) -> str:
    return action.label(locale_code())
