"""The organiser's dashboard: their add-ons and what each has raised."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ..extensions import db
from ..services.addons import Totals, totals_by_addon, visible_addons
from ..services.payments import availability
from . import bp


@bp.get("/")
def dashboard():
    """Own add-ons (every add-on for staff) with units, yen and kg-CO2 paid."""
    user = current_user._get_current_object()
    addons = db.session.scalars(visible_addons(user)).all()
    totals = totals_by_addon(a.id for a in addons)
    rows = [(addon, totals.get(addon.id, Totals()), availability(addon)) for addon in addons]
    overall = Totals(sum(t.units for _, t, _ in rows), sum(t.yen for _, t, _ in rows),
                     sum(t.co2_g for _, t, _ in rows))
    return render_template("organiser/dashboard.html", rows=rows, overall=overall, user=user)
