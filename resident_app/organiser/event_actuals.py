"""After the event (事後算定): the actual attendance and quantities, the travel survey in place of
the estimate's assumptions, and closing the gap: the organiser's top-up through the same checkout,
or a bank transfer that staff record."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..carbon.event_input import EventInputError, read_event_inputs
from ..carbon.numbers import NumberError, parse_int
from ..models import Event
from ..services import DomainError
from ..services.errors import InvalidInput
from ..services.event_money import record_event_transfer, start_topup
from ..services.event_report import event_overview
from ..services.event_survey import survey_tally
from ..services.events import actual_payload, estimate_inputs, save_actuals
from ..web.i18n import locale_code, yen
from ..web.numbers import number_message
from ..web.text import clean_text
from . import bp
from .access import event_or_404
from .event_forms import ActualForm, actual_typed, actual_values, form_errors, read_actual_form
from .events import render_event_page
from .forms import parse_date


def _page(event: Event, form: ActualForm, errors: dict[str, str], status: int = 200):
    estimate = estimate_inputs(event)
    return render_template("organiser/event_actuals.html", event=event, form=form, errors=errors,
                           estimate=estimate, tally=survey_tally(event)), status


@bp.route("/events/<int:event_id>/actuals", methods=["GET", "POST"])
def event_actuals(event_id: int):
    """Actual attendance, kWh, m³, lodging, printed matter and waste; travel from the survey or the estimate."""
    event = event_or_404(event_id)
    estimate = estimate_inputs(event)
    if estimate is None:
        flash(_("Save the estimate first: the actual figures use the same boundary."), "error")
        return redirect(url_for("organiser.event_estimate", event_id=event.id), code=303)
    if request.method == "GET":
        return _page(event, actual_values(event, None if event.actual_inputs is None else
                                          read_event_inputs(event.actual_inputs, text_numbers=True), estimate), {})
    form = read_actual_form(request.form)
    if not form.travel_source:
        return _page(event, form, {"travel_source": _("Choose where the travel figures come from.")}, 422)
    survey = survey_tally(event).travel if form.travel_source == "survey" else None
    if survey is not None and not survey.used:
        return _page(event, form, {"travel_source": _("The survey has no answers with a distance yet.")}, 422)
    try:
        payload = actual_payload(event, actual_typed(form),
                                 [leg.as_json() for leg in survey.legs] if survey is not None else None)
        inputs = read_event_inputs(payload, text_numbers=True)
        save_actuals(event, inputs, travel_source=form.travel_source,
                     survey_answers=survey.used if survey is not None else None,
                     actor=current_user._get_current_object())
    except EventInputError as error:
        return _page(event, form, form_errors(error), 422)
    except DomainError as error:
        return _page(event, form, {error.field or "form": str(error.message)}, 422)
    flash(_("The actual figures are saved. Compare them with the estimate below."), "success")
    return redirect(url_for("organiser.event", event_id=event.id, _anchor="actuals"), code=303)


@bp.post("/events/<int:event_id>/topup")
def event_topup(event_id: int):
    """Pay the gap between the total and what was paid, on the same hosted checkout page."""
    event = event_or_404(event_id)
    overview = event_overview(event)
    if overview.status is None:
        abort(404)
    if overview.figures.actual is None:
        flash(_("Enter the actual figures first: the gap is closed against the actual total."), "error")
        return redirect(url_for("organiser.event_actuals", event_id=event.id), code=303)
    try:
        url = start_topup(event, overview.status, actor=current_user._get_current_object(), locale=locale_code())
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(url_for("organiser.event", event_id=event.id, _anchor="offset"), code=303)
    return redirect(url, code=303)


TRANSFER_FIELDS = ("amount_yen", "received_on", "note")  # named transfer_* on the event's page


@bp.post("/events/<int:event_id>/transfer")
def event_transfer(event_id: int):
    """Staff only: record the organiser's bank transfer for the event (the pool's usual rules)."""
    event = event_or_404(event_id)
    user = current_user._get_current_object()
    if not user.is_staff:
        abort(403)
    if event_overview(event).figures.actual is None:
        # The form is on the page only once the actual figures are in (the gap is closed against
        # them): a refusal here would have no field to stand beside.
        flash(_("Record a bank transfer once the actual figures are entered: the gap is closed against the "
                "actual total."), "error")
        return redirect(url_for("organiser.event", event_id=event.id, _anchor="offset"), code=303)
    values = {name: clean_text(request.form.get(f"transfer_{name}")) for name in TRANSFER_FIELDS}
    errors: dict[str, str] = {}
    amount = received_on = None
    try:
        amount = parse_int(values["amount_yen"], yen=True, max_chars=11)
    except NumberError as error:
        errors["amount_yen"] = str(number_message(error, whole=True))
    try:
        received_on = parse_date(values["received_on"])
    except ValueError:
        errors["received_on"] = _("Enter a date such as 2027-04-29.")
    if not errors:
        try:
            contribution = record_event_transfer(event, amount_yen=amount, received_on=received_on, staff=user,
                                                 note=values["note"])
        except InvalidInput as error:
            errors = {k: str(v) for k, v in error.errors.items()}
        except DomainError as error:
            errors = {error.field or "amount_yen": str(error.message)}
        else:
            flash(_("The bank transfer of %(amount)s is recorded for this event. It joins the next batch.",
                    amount=yen(contribution.amount_yen)), "success")
            return redirect(url_for("organiser.event", event_id=event.id, _anchor="offset"), code=303)
    return render_event_page(event, errors={f"transfer_{k}": v for k, v in errors.items()},
                             values={f"transfer_{k}": v for k, v in values.items()}, status=422)
