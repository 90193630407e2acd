"""The organiser's side of the travel survey: the live tally, QR code downloads, opening and closing
it, and the distances of origins that participants named without one."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..carbon.numbers import NumberError, parse_decimal
from ..services import DomainError
from ..services.errors import InvalidInput
from ..services.event_survey import set_origin_distances, set_survey_open, survey_tally
from ..web.i18n import locale_code
from ..web.numbers import number_message
from ..web.text import clean_text
from . import bp
from .access import event_or_404
from .events import render_event_page, survey_link
from .sharing import qr_for, qr_png, qr_svg


@bp.get("/events/<int:event_id>/survey")
def event_survey_tally(event_id: int):
    """The tally alone (htmx polls it during the event); without htmx, the event's page."""
    event = event_or_404(event_id)
    if request.headers.get("HX-Request") != "true":
        return redirect(url_for("organiser.event", event_id=event.id, _anchor="survey"))
    return render_template("organiser/_event_tally.html", event=event, tally=survey_tally(event), errors={})


@bp.get("/events/<int:event_id>/survey/qr.png")
def event_survey_qr_png(event_id: int):
    event = event_or_404(event_id)
    return qr_png(qr_for(survey_link(event)), f"survey-qr-{event.slug}.png")


@bp.get("/events/<int:event_id>/survey/qr.svg")
def event_survey_qr_svg(event_id: int):
    event = event_or_404(event_id)
    return qr_svg(qr_for(survey_link(event)), f"survey-qr-{event.slug}.svg", event.name(locale_code()))


@bp.post("/events/<int:event_id>/survey/state")
def event_survey_state(event_id: int):
    """Open or close the survey."""
    event = event_or_404(event_id)
    is_open = request.form.get("open") == "1"
    set_survey_open(event, is_open, actor=current_user._get_current_object())
    flash(_("The survey is open: participants can answer.") if is_open
          else _("The survey is closed: its link now thanks participants and takes no answers."), "success")
    return redirect(url_for("organiser.event", event_id=event.id, _anchor="survey"), code=303)


@bp.post("/events/<int:event_id>/survey/origins")
def event_origin_km(event_id: int):
    """One-way km for origins named without a distance, so those answers count too."""
    event = event_or_404(event_id)
    distances, errors = {}, {}
    for origin in survey_tally(event).origins_needing_km:
        name = f"origin_km_{origin.place.code}"
        try:
            distances[origin.place.code] = parse_decimal(clean_text(request.form.get(name)))
        except NumberError as error:
            errors[name] = str(number_message(error))
    if not errors:
        try:
            set_origin_distances(event, distances, actor=current_user._get_current_object())
        except InvalidInput as error:
            errors = {k: str(v) for k, v in error.errors.items()}
        except DomainError as error:
            errors = {"form": str(error.message)}
    if errors:
        return render_event_page(event, errors=errors, status=422)
    flash(_("The distances are saved: answers from those origins now count."), "success")
    return redirect(url_for("organiser.event", event_id=event.id, _anchor="survey"), code=303)
