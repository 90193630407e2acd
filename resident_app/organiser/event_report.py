"""The event offset report (A4, ja/en), in the order of the Ministry of the Environment's guidance
for offsetting meetings and events; the public event page shows the same contents."""
from __future__ import annotations

from flask import abort, render_template, url_for

from ..models import utcnow
from ..services.days import TOKYO
from ..services.event_report import event_overview
from . import bp
from .access import event_or_404


@bp.get("/events/<int:event_id>/report")
def event_report(event_id: int):
    """Printable once the estimate is saved; its sections fill in as the event goes on."""
    overview = event_overview(event_or_404(event_id))
    if overview.figures.estimate is None:
        abort(404)
    return render_template("organiser/event_report.html", o=overview, issued_on=utcnow().astimezone(TOKYO).date(),
                           public_url=url_for("public.event", slug=overview.event.slug, _external=True))
