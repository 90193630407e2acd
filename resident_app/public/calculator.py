"""The household CO2 calculator (見える化): form, live result, save, share and delete.

Live updates (htmx) answer with out-of-band swaps of the figures only: the actions list with its
labels and sources stays in the page unless the set or order of actions changes, and controls are
never replaced under the reader's cursor (see templates/public/_live.html)."""
from __future__ import annotations

import hashlib

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..carbon.citations import citation
from ..carbon.footprint import OFFSET_PERCENTS
from ..carbon.municipalities import AREAS, municipalities
from ..carbon.sources import BILL_SOURCES, CAR_SOURCES, HOME_SOURCES, SOURCES, UNITS
from ..carbon.tariffs import CONTRACT_AMPERES
from ..extensions import limiter
from ..services import DomainError
from ..services.calculations import (CalculatorInput, DeleteOutcome, calculate, delete_result, find_saved,
                                     holds_delete_key, load_saved_input, parse_form, save_result)
from ..services.payments import availability
from ..services.reference import reference
from ..web import charts
from ..web.htmx import is_htmx
from ..web.i18n import kg, locale_code, translations, yen
from ..web.ratelimit import browser_key, calculator_save_per_address, calculator_save_per_browser
from . import bp
from .labels import AREA_LABELS, END_USE_LABELS, FUEL_LABELS, SOURCE_LABELS, error_message

TOP_ACTIONS = 5
# The saving browser's delete key: a cookie scoped to the result's own path (/r/<token>), so it goes
# only with that result's page and its delete form, and lives as long as browsers keep any cookie.
DELETE_COOKIE = "delete_key"
DELETE_COOKIE_MAX_AGE = 400 * 24 * 3600


def _grouped(results) -> list[tuple[str, list]]:
    """Actions grouped by end use, groups in the order of their best action."""
    groups: dict[str, list] = {}
    for result in results:
        groups.setdefault(result.info.end_use, []).append(result)
    return list(groups.items())


def _layout_key(calc, offer) -> str:
    """What the page's structure depends on; the figures inside it may change freely."""
    if calc is None or not calc.data.has_values:
        return "empty"
    parts = [",".join(r.key for r in calc.plan.results), str(bool(calc.quote)), str(bool(offer))]
    return hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:12]


def _page_context(data: CalculatorInput, calc, *, saved=None) -> dict:
    errors = {name: error_message(err) for name, err in data.errors.items()}
    offer = _household_offer(calc)
    ref = reference()
    context = {
        "data": data, "calc": calc, "errors": errors, "saved": saved,
        "sources": SOURCES, "bill_sources": BILL_SOURCES, "units": UNITS,
        "source_labels": SOURCE_LABELS, "end_use_labels": END_USE_LABELS, "fuel_labels": FUEL_LABELS,
        "offset_percents": OFFSET_PERCENTS, "amperes": CONTRACT_AMPERES, "menus": ref.listed_menus,
        "municipality_groups": [(AREA_LABELS[a], [m for m in municipalities().values() if m.area == a])
                                for a in AREAS],
        "rate": ref.rate(), "household_offer": offer, "layout": _layout_key(calc, offer),
        "in_statistics": bool(saved and saved.in_statistics),
        "error_fields": ["household_size", "period", "contract_ampere", "electricity_menu", "municipality",
                         *SOURCES],
    }
    if calc is not None and data.has_values:
        results = list(calc.plan.results)
        top, rest = results[:TOP_ACTIONS], results[TOP_ACTIONS:]
        keys = dict.fromkeys(a.citation for a in calc.averages.by_fuel.values() if a.citation)
        context.update(_charts(calc), top_groups=_grouped(top), rest_groups=_grouped(rest),
                       rest_count=len(rest), rest_open=any(r.selected for r in rest),
                       comparison_citations=[citation(key) for key in keys])
    return context


def _household_offer(calc):
    """The programme's household offset add-on, when it can take the quoted amount now."""
    if calc is None or calc.quote is None or calc.quote.amount_yen <= 0:
        return None
    addon = reference().household_addon
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
    fair = calc.comparison
    comparison = charts.comparison_figure(
        [_("Home energy"), _("Car fuel")], [fair.home_g, fair.car_g], [fair.average_home_g, fair.average_car_g],
        _("Your household"), _("Average household"), _("kg-CO2 a year"))
    return {"breakdown_chart": breakdown, "comparison_chart": comparison, "used_sources": used,
            "home_sources": HOME_SOURCES, "car_sources": CAR_SOURCES}


def _calculation(data: CalculatorInput, factor_set=None, electricity_factor=None):
    ref = reference()
    factor_set = factor_set or ref.factor_set
    if factor_set is None:
        abort(503)
    rate = ref.rate()
    return calculate(data, factor_set, rate.yen_per_t if rate else None, electricity_factor=electricity_factor)


def _live_response(context: dict):
    """htmx: out-of-band swaps only; the whole result when its structure changed."""
    context["layout_changed"] = request.form.get("result_layout") != context["layout"]
    response = make_response(render_template("public/_live.html", htmx=True, **context))
    response.vary.add("HX-Request")
    return response


@bp.route("/calculator", methods=["GET", "POST"])
def calculator():
    """GET shows the empty form; POST (plain or htmx) shows the result for what was entered."""
    if request.method == "GET":
        return render_template("public/calculator.html", **_page_context(CalculatorInput(), None))
    data = parse_form(request.form, request.form.getlist("action"))
    context = _page_context(data, _calculation(data))
    context["in_statistics"] = bool(request.form.get("in_statistics"))
    if is_htmx():
        return _live_response(context)
    response = make_response(render_template("public/calculator.html", **context))
    response.vary.add("HX-Request")
    return response


@bp.post("/calculator/save")
@limiter.limit(calculator_save_per_browser, key_func=browser_key)
@limiter.limit(calculator_save_per_address)
def calculator_save():
    """Store the numbers under an unguessable link and open it; this browser alone gets the key
    that deletes it."""
    data = parse_form(request.form, request.form.getlist("action"))
    calc = _calculation(data)
    try:
        saved, delete_key = save_result(calc, in_statistics=bool(request.form.get("in_statistics")))
    except DomainError as error:
        flash(str(error.message), "error")
        return render_template("public/calculator.html", **_page_context(data, calc)), 422
    flash(_("Your result is saved. Anyone with this link can see it; only this browser can delete it."),
          "success")
    response = redirect(url_for("public.saved_result", token=saved.token), code=303)
    response.set_cookie(DELETE_COOKIE, delete_key, max_age=DELETE_COOKIE_MAX_AGE, path=_result_path(saved.token),
                        secure=_secure_cookie(), httponly=True, samesite="Lax")
    return response


def _secure_cookie() -> bool:
    """The delete key goes over HTTPS only wherever the session cookie does, or the request came so."""
    return request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def _result_path(token: str) -> str:
    return url_for("public.saved_result", token=token)


def _saved_page(saved, *, refusal: str | None = None, status: int = 200):
    data = load_saved_input(saved)
    calc = _calculation(data, saved.factor_set, saved.electricity_kg_co2_per_kwh)
    context = _page_context(data, calc, saved=saved)
    context.update(can_delete=holds_delete_key(saved, request.cookies.get(DELETE_COOKIE)), refusal=refusal,
                   contact=current_app.config.get("CONTACT_EMAIL"))
    response = make_response(render_template("public/calculator.html", **context), status)
    response.headers["Cache-Control"] = "private, no-cache"  # the delete form depends on this browser's cookie
    return response


@bp.get("/r/<token>")
def saved_result(token: str):
    """A saved result, computed again with the factor set and electricity factor it was saved with."""
    saved = find_saved(token)
    if saved is None:
        abort(404)
    return _saved_page(saved)


@bp.post("/r/<token>/delete")
def saved_result_delete(token: str):
    """Delete a saved result for good: only with the delete key the saving browser holds.

    Without it, 403 on the result's own page rather than 404: whoever holds the share link can see
    the result exists, so a 404 would hide nothing and only mislead."""
    outcome = delete_result(token, request.cookies.get(DELETE_COOKIE))
    if outcome is DeleteOutcome.REFUSED:
        saved = find_saved(token)
        if saved is None:  # deleted by its saver a moment ago
            abort(404)
        if saved.delete_key_sha256:
            refusal = _("Only the browser that saved this result can delete it. The link lets others see it, "
                        "not delete it.")
        else:
            refusal = _("This result was saved before each saved result had its own delete key, so it cannot "
                        "be deleted from this site.")
        return _saved_page(saved, refusal=refusal, status=403)
    if outcome is DeleteOutcome.DELETED:
        flash(_("The saved result was deleted."), "success")
    else:
        flash(_("That result was already deleted."), "info")
    response = redirect(url_for("public.calculator"), code=303)
    if DELETE_COOKIE in request.cookies and len(token) <= 64:
        # The key goes with its result. Only a real result's path: a cookie scoped to a 5,000-character
        # "token" would be a Set-Cookie header larger than browsers (and proxies) take.
        response.delete_cookie(DELETE_COOKIE, path=_result_path(token), httponly=True, samesite="Lax",
                               secure=_secure_cookie())
    return response


@bp.app_template_global()
def action_label(action) -> str:
    return action.label(locale_code())


def N_(msgid: str) -> str:  # noqa: N802 - the name pybabel extracts by default
    """Marks a msgid for the catalogue; _translated() translates it."""
    return msgid


def _translated(catalogue, msgid: str, **values) -> Markup:
    """A catalogue string as safe HTML with its values escaped: what Jinja's {% trans %} does."""
    text = Markup(catalogue.ugettext(msgid))  # nosec B704 - our own catalogue's text, as Jinja's i18n marks it
    return text % values if values else text


@bp.app_template_global()
def action_saving(result) -> Markup:
    """An action's grams and yen a year ("−48.2 kg-CO2 a year · saves about ¥3,279 a year"). In
    Python rather than a macro: a live update writes one per action (20 or so) on every keystroke."""
    catalogue = translations()
    if result.saving_g > 0:
        text = _translated(catalogue, N_("−%(kg)s kg-CO2 a year"), kg=kg(result.saving_g))
    else:
        text = _translated(catalogue, N_("no CO2 left to save here"))
    if result.saving_yen is not None and result.saving_yen > 0:
        text += " · " + _translated(catalogue, N_("saves about %(amount)s a year"),
                                    amount=yen(result.saving_yen))
    elif result.saving_yen is not None and result.saving_yen < 0:
        text += " · " + _translated(catalogue, N_("costs about %(amount)s more a year"),
                                    amount=yen(-result.saving_yen))
    return text
