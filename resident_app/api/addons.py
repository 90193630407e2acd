"""GET /api/v1/addons: the add-ons residents can pay for now, for embedding and open data."""
from flask import jsonify, url_for
from sqlalchemy import select

from ..carbon.conversion import grams_for_yen
from ..extensions import db
from ..models import AddOn
from ..services.payments import availability
from ..services.programme import current_rate
from ..web.i18n import locale_code
from ..web.openapi import BOOLEAN, COUNT, TEXT, URL, array, obj, ok, operation
from . import bp

ADDON = obj({"slug": TEXT, "url": URL, "title": TEXT, "kind": TEXT, "unit_price_yen": COUNT,
             "variable_amount": BOOLEAN, "co2_g_per_unit": COUNT})


@bp.get("/addons")
@operation("Add-ons residents can pay for now", tags=("open data",), responses={
    200: ok("Active, public add-ons open for sale, with the grams one unit offsets at today's rate", array(ADDON))})
def addons():
    """Active, public add-ons open for sale; grams per unit at the current rate."""
    rate = current_rate()
    items = db.session.scalars(
        select(AddOn).where(AddOn.is_active.is_(True), AddOn.is_public.is_(True)).order_by(AddOn.id))
    locale = locale_code()
    return jsonify([
        {"slug": a.slug, "url": url_for("checkout.addon", slug=a.slug, _external=True),
         "title": a.title(locale), "kind": str(a.kind), "unit_price_yen": a.unit_price_yen,
         "variable_amount": a.variable_amount,
         "co2_g_per_unit": grams_for_yen(a.unit_price_yen, rate.yen_per_t) if rate else 0}
        for a in items if availability(a).open
    ])
