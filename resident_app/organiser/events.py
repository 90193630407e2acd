"""Offset events (the guidebook's A1) for organisers: the list, creating and changing an event, and
the event's page that walks through boundary and estimate, add-on, survey, actuals, offset, report."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..carbon.municipalities import municipalities
from ..extensions import db
from ..models import Event
from ..payments.gateway import get_gateway
from ..services import DomainError
from ..services.errors import InvalidInput
from ..services.days import tokyo_today
from ..services.event_report import event_overview
from ..services.event_survey import survey_tally
from ..services.events import create_event, event_errors, update_event, visible_events
from ..web import event_labels
from ..web.i18n import locale_code
from . import bp
from .access import event_or_404
from .event_estimate import result_context
from .event_forms import blank_event_values, event_values, read_event_form
from .sharing import qr_for

event_labels.register(bp)


def municipality_options() -> list[tuple[str, str]]:
    locale = locale_code()
    return [("", _("Choose…"))] + [(m.code, m.name(locale)) for m in municipalities().values()]


def survey_link(event: Event) -> str:
    return url_for("public.event_survey", slug=event.slug, _external=True)


@bp.get("/events")
def events():
    """The organiser's events (every event for staff), the latest first."""
    user = current_user._get_current_object()
    items = [event_overview(e) for e in db.session.scalars(visible_events(user))]
    return render_template("organiser/events.html", overviews=items, user=user)


def _facts_page(values: dict, errors: dict, *, event: Event | None = None, status: int = 200):
    return render_template("organiser/event_form.html", values=values, errors=errors, event=event,
                           municipality_options=municipality_options()), status


def _facts_submitted(event: Event | None):
    user = current_user._get_current_object()
    data, values, errors = read_event_form(request.form)
    if errors:
        errors = {**event_errors(data), **errors}
        return None, _facts_page(values, errors, event=event, status=422)
    try:
        saved = create_event(data, actor=user) if event is None else update_event(event, data, actor=user)
    except InvalidInput as error:
        return None, _facts_page(values, error.errors, event=event, status=422)
    except DomainError as error:
        return None, _facts_page(values, {error.field or "form": error.message}, event=event, status=422)
    return saved, None


@bp.route("/events/new", methods=["GET", "POST"])
def event_new():
    """Name, dates, venue and municipality, expected participants and staff."""
    if request.method == "GET":
        return _facts_page(blank_event_values(), {})
    saved, page = _facts_submitted(None)
    if saved is None:
        return page
    flash(_("The event is created. Next, set its boundary and estimate its emissions."), "success")
    return redirect(url_for("organiser.event_estimate", event_id=saved.id), code=303)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def event_edit(event_id: int):
    """Change the event's facts; the survey link and QR code stay the same."""
    event = event_or_404(event_id)
    if request.method == "GET":
        return _facts_page(event_values(event), {}, event=event)
    saved, page = _facts_submitted(event)
    if saved is None:
        return page
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("organiser.event", event_id=saved.id), code=303)


def render_event_page(item: Event, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                      status: int = 200):
    """The event's page; a form on it that was refused comes back with its errors beside its fields."""
    overview = event_overview(item)
    if overview.status is not None and overview.status.gap_g:
        get_gateway()  # starts the sandbox if needed, so the CSP lets the top-up form go to the pay page
    link = survey_link(item)
    return render_template(
        "organiser/event.html", o=overview, event=item, tally=survey_tally(item), survey_url=link,
        qr_svg=Markup(qr_for(link).svg_inline(scale=4, border=4, omitsize=True,  # nosec B704 - segno's SVG of our own link
                                              title=_("QR code for the travel survey"))),
        staff=current_user.is_staff, errors=errors or {},
        values={"transfer_received_on": tokyo_today().isoformat(), **(values or {})},
        **result_context(item, overview.figures.estimate, item.surcharge_share_percent)), status


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    """The event's steps: estimate and surcharge, add-ons, the survey, actuals, the offset, the report."""
    return render_event_page(event_or_404(event_id))
