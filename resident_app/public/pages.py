"""Home, how we calculate, the language switch, and the health check."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text

from ..carbon import enduse
from ..carbon.actions import action_infos, parameters
from ..carbon.citations import citation
from ..carbon.comparison import COMPARED, national_rows, physical_averages
from ..carbon.conversion import grams_for_yen
from ..carbon.sources import MONTHLY_BILL_BOUNDS_YEN, MONTHLY_BOUNDS, UNITS
from ..extensions import db, limiter
from ..services.averages import active_set
from ..services.calculations import today_in_tokyo
from ..services.factors import active_factor_set
from ..services.menus import listed_menus, menu_factor
from ..services.programme import current_rate, current_unit_prices
from ..services.tariffs import (FUEL_COST, GAS_KEY, GAS_MATERIAL, RENEWABLE_LEVY, adjustment_on,
                                electricity_tariff_on, gas_tariff_on, schedule_on)
from ..web.i18n import LOCALE_COOKIE, number
from ..web.openapi import obj, ok, operation
from . import bp
from .labels import (ACTION_MODELS, ARCHETYPE_LABELS, END_USE_LABELS, FUEL_LABELS, SOURCE_LABELS)

ONE_YEAR = 365 * 24 * 3600
HEALTH = obj({"status": {"type": "string", "enum": ["ok", "unavailable"]},
              "database": {"type": "string", "enum": ["ok", "unreachable"]},
              "redis": {"type": "string", "enum": ["ok", "unreachable", "not used"]}})


@bp.get("/")
def home():
    rate = current_rate()
    return render_template("public/home.html", rate=rate,
                           grams_per_100_yen=grams_for_yen(100, rate.yen_per_t) if rate else None)


def _model_text(key: str) -> str:
    """The action's model in the page's language, with its parameters filled in."""
    values = {}
    for (action, name), parameter in parameters().items():
        if action in (key, "shower_1min"):
            value = parameter.value
            values.setdefault(name, f"{number(value * 100, 1 if (value * 1000) % 10 else 0)}%" if "rate" in name
                              else format(value.normalize(), "f"))
    return str(ACTION_MODELS[key]) % values


@bp.get("/methodology")
def methodology():
    factor_set = active_factor_set()
    rate = current_rate()
    day = today_in_tokyo()
    infos = action_infos()
    gasoline = factor_set.factor_map()["gasoline"] if factor_set else None
    averages = {persons: physical_averages(national_rows(), persons, gasoline) for persons in range(1, 7)} \
        if gasoline else {}
    return render_template(
        "public/methodology.html", factor_set=factor_set, rate=rate,
        unit_prices=current_unit_prices(), averages=averages, compared=COMPARED, fuel_labels=FUEL_LABELS,
        regional=active_set(), survey_citations=[citation(k) for k in ("moe_household_survey_fy2022",
                                                                        "moe_household_survey_fy2023",
                                                                        "moe_household_survey_fy2019",
                                                                        "moe_household_survey_trend")],
        bounds=MONTHLY_BOUNDS, bill_bounds=MONTHLY_BILL_BOUNDS_YEN, units=UNITS,
        source_labels=SOURCE_LABELS, end_use_labels=END_USE_LABELS, archetype_labels=ARCHETYPE_LABELS,
        shares=enduse.shares(), archetypes=enduse.ARCHETYPES, d62=citation("d62_engine"),
        actions=[(info, _model_text(key)) for key, info in infos.items()],
        menus=[(m, menu_factor(m, factor_set)) for m in listed_menus()] if factor_set else [],
        electricity=electricity_tariff_on(day), electricity_row=schedule_on("tepco_b", day),
        gas=gas_tariff_on(day), gas_row=schedule_on(GAS_KEY, day),
        fuel_cost=adjustment_on(FUEL_COST, day), levy=adjustment_on(RENEWABLE_LEVY, day),
        gas_adjustment=adjustment_on(GAS_MATERIAL, day),
        grams_per_100_yen=grams_for_yen(100, rate.yen_per_t) if rate else None,
    )


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else goes home (no open redirect)."""
    if not target:
        return url_for("public.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("public.home")
    return target


@bp.post("/language")
def set_language():
    """Remember the chosen language and return to the same page."""
    chosen = request.form.get("lang", "")
    response = redirect(safe_next(request.form.get("next")), code=303)
    if chosen in current_app.config["LANGUAGES"]:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=ONE_YEAR, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


@bp.get("/healthz")
@operation("Health check for load balancers", tags=("operations",), responses={
    200: ok("The database answers", HEALTH), 503: ok("The database does not answer", HEALTH)})
def healthz():
    """The database and the rate-limit storage (Redis), each reported; 503 if either is down."""
    checks = {"database": "ok", "redis": "not used"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"; the detail goes to the log
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        checks["database"] = "unreachable"
    if limiter.enabled and not str(current_app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        checks["redis"] = "ok" if limiter.storage.check() else "unreachable"
        if checks["redis"] != "ok":
            current_app.logger.error("health check: rate limit storage unreachable")
    healthy = "unreachable" not in checks.values()
    response = jsonify({"status": "ok" if healthy else "unavailable", **checks})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503
