"""Home, how we calculate, the language switch, and the health check."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text

from ..carbon import reference
from ..carbon.conversion import grams_for_yen
from ..carbon.sources import MONTHLY_BILL_BOUNDS_YEN, MONTHLY_BOUNDS, UNITS
from ..extensions import db
from ..services.factors import active_factor_set
from ..services.programme import current_rate, current_unit_prices
from ..web.i18n import LOCALE_COOKIE
from ..web.openapi import obj, ok, operation
from . import bp
from .labels import SOURCE_LABELS

ONE_YEAR = 365 * 24 * 3600
HEALTH = obj({"status": {"type": "string", "enum": ["ok", "unavailable"]},
              "database": {"type": "string", "enum": ["ok", "unreachable"]}})


@bp.get("/")
def home():
    rate = current_rate()
    return render_template("public/home.html", rate=rate,
                           grams_per_100_yen=grams_for_yen(100, rate.yen_per_t) if rate else None)


@bp.get("/methodology")
def methodology():
    factor_set = active_factor_set()
    rate = current_rate()
    return render_template(
        "public/methodology.html", factor_set=factor_set, rate=rate,
        unit_prices=current_unit_prices(), averages=reference.household_averages(),
        car=reference.other_figures()["car_fuel_per_household"],
        bounds=MONTHLY_BOUNDS, bill_bounds=MONTHLY_BILL_BOUNDS_YEN, units=UNITS,
        source_labels=SOURCE_LABELS, actions=reference.saving_actions(),
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
    """200 when the database answers, 503 otherwise (for load balancers and monitoring)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"; the detail goes to the log
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
