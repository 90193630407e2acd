"""The live tally on an add-on's page: units, yen, kg-CO2 and the last ten minutes, for an
organiser watching a festival or a bus line.

htmx polls the partial every POLL_SECONDS. The figures come from one aggregate query per add-on and
worker at most every TALLY_CACHE_SECONDS, however many people watch, so hundreds of screens cost
almost nothing. Without JavaScript the page shows the same figures with a refresh link.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, redirect, render_template, url_for
from sqlalchemy import case, func, select

from ..extensions import db
from ..models import AddOn, Contribution, ContributionStatus, utcnow
from ..web.htmx import is_htmx
from . import bp
from .access import addon_or_404

RECENT = timedelta(minutes=10)
POLL_SECONDS = 10
DEFAULT_CACHE_SECONDS = 5
_lock = threading.Lock()


@dataclass(frozen=True)
class Tally:
    """Paid contributions to one add-on, as of a moment."""

    units: int
    yen: int
    co2_g: int
    recent_units: int   # paid in the last RECENT
    recent_yen: int
    last_paid_at: datetime | None
    as_of: datetime


def compute_tally(addon_id: int, now: datetime) -> Tally:
    """One aggregate query over the add-on's paid contributions, net of partial refunds."""
    recent = Contribution.paid_at >= now - RECENT
    units, yen, grams, recent_units, recent_yen, last = db.session.execute(
        select(func.coalesce(func.sum(Contribution.quantity), 0), func.coalesce(func.sum(Contribution.net_yen), 0),
               func.coalesce(func.sum(Contribution.net_g), 0),
               func.coalesce(func.sum(case((recent, Contribution.quantity), else_=0)), 0),
               func.coalesce(func.sum(case((recent, Contribution.net_yen), else_=0)), 0),
               func.max(Contribution.paid_at))
        .where(Contribution.addon_id == addon_id, Contribution.status == ContributionStatus.PAID)).one()
    return Tally(int(units), int(yen), int(grams), int(recent_units), int(recent_yen), last, now)


def tally_for(addon: AddOn, *, fresh: bool = False) -> Tally:
    """The add-on's tally, from this worker's cache unless it is older than TALLY_CACHE_SECONDS
    (the full page asks for a fresh one; only the polls share)."""
    cache: dict[int, tuple[float, Tally]] = current_app.extensions.setdefault("organiser_tally", {})
    seconds = current_app.config.get("TALLY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    with _lock:
        cached = cache.get(addon.id)
        if not fresh and cached is not None and cached[0] > time.monotonic():
            return cached[1]
        tally = compute_tally(addon.id, utcnow())
        cache[addon.id] = (time.monotonic() + seconds, tally)
        return tally


@bp.get("/addons/<int:addon_id>/tally")
def addon_tally(addon_id: int):
    """The tally alone, for htmx's polling; anyone else gets the whole page."""
    addon = addon_or_404(addon_id)
    if not is_htmx():
        return redirect(url_for("organiser.addon", addon_id=addon.id, _anchor="live"), code=303)
    response = current_app.make_response(render_template("organiser/_tally.html", addon=addon,
                                                         tally=tally_for(addon), poll_seconds=POLL_SECONDS))
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("HX-Request")
    return response
