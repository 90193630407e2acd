"""The boundary checklist and the estimate before the event (事前算定), with the suggested surcharge;
the result updates as the organiser types (htmx) and is shown after saving without JavaScript."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..carbon.event import ITEMS, MODES, EventEmissions, EventInputs, event_emissions, suggested_surcharge_yen
from ..carbon.event_input import EventInputError, read_event_inputs
from ..models import Event
from ..services import DomainError
from ..services.events import event_factors, estimate_inputs, factor_map, save_estimate
from ..services.programme import current_rate
from ..web import charts
from ..web.event_labels import item_label
from . import bp
from .access import event_or_404
from .event_forms import ORIGIN_ROWS, estimate_values, form_errors, read_estimate_form, read_share


def breakdown_chart(items_g: dict[str, int]) -> dict:
    """The items' kg-CO2 as bars (the table beside it has the same figures)."""
    return charts.breakdown_figure([item_label(i) for i in items_g], list(items_g.values()), _("kg-CO2"))


def result_context(event: Event, emissions: EventEmissions | None, share_percent: int) -> dict:
    """What the result partial needs: the figures, chart, factors, rate and surcharges."""
    rate = current_rate()
    surcharge = full = None
    if emissions is not None and rate is not None:
        surcharge = suggested_surcharge_yen(emissions.per_participant_g, rate.yen_per_t, share_percent)
        full = suggested_surcharge_yen(emissions.per_participant_g, rate.yen_per_t)
    return {"emissions": emissions, "rate": rate, "share_percent": share_percent, "surcharge_yen": surcharge,
            "full_surcharge_yen": full, "factors": event_factors(event),
            "chart": breakdown_chart(emissions.items_g) if emissions and emissions.total_g else None}


def _read(event: Event) -> tuple[EventInputs | None, dict, dict[str, str], int]:
    """The inputs (or None), the values to show back, the errors by form field, and the share."""
    payload, values = read_estimate_form(request.form, days=event.days)
    errors: dict[str, str] = {}
    share = read_share(str(values["surcharge_share_percent"]))
    if share is None:
        errors["surcharge_share_percent"] = _("Enter a whole percentage from 1 to 100.")
    try:
        inputs = read_event_inputs(payload, text_numbers=True)
    except EventInputError as error:
        inputs, errors = None, {**form_errors(error, str(values["pt_method"])), **errors}
    return inputs, values, errors, share or event.surcharge_share_percent


def _page(event: Event, values: dict, errors: dict, inputs: EventInputs | None, share: int, status: int = 200):
    emissions = event_emissions(inputs, factor_map(event)) if inputs is not None else None
    return render_template("organiser/event_estimate.html", event=event, values=values, errors=errors,
                           items=ITEMS, modes=MODES, origin_rows=range(ORIGIN_ROWS),
                           **result_context(event, emissions, share)), status


@bp.route("/events/<int:event_id>/estimate", methods=["GET", "POST"])
def event_estimate(event_id: int):
    """The checklist of boundary items with their quantities; saving keeps them as the estimate."""
    event = event_or_404(event_id)
    if request.method == "GET":
        saved = estimate_inputs(event)
        return _page(event, estimate_values(event, saved), {}, saved, event.surcharge_share_percent)
    inputs, values, errors, share = _read(event)
    if errors or inputs is None:
        return _page(event, values, errors, None, share, 422)
    try:
        save_estimate(event, inputs.without_empty_legs(), share_percent=share,
                      actor=current_user._get_current_object())
    except EventInputError as error:
        return _page(event, values, form_errors(error), None, share, 422)
    except DomainError as error:
        return _page(event, values, {error.field or "form": error.message}, None, share, 422)
    flash(_("The estimate is saved. You can now create the participants' add-on from it."), "success")
    return redirect(url_for("organiser.event", event_id=event.id, _anchor="estimate"), code=303)


@bp.post("/events/<int:event_id>/estimate/preview")
def event_estimate_preview(event_id: int):
    """The result for what is typed so far, for htmx (nothing is saved); without JavaScript the
    form's own button saves and the event's page shows the result."""
    event = event_or_404(event_id)
    inputs, _values, errors, share = _read(event)
    emissions = event_emissions(inputs, factor_map(event)) if inputs is not None else None
    return render_template("organiser/_event_result.html", event=event, preview_errors=bool(errors),
                           **result_context(event, emissions, share))
