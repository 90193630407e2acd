"""Money received outside Stripe (a bus fare box's cash, an organiser's bank transfer), recorded as
contributions by the same rules; and one contribution's page with its certificate link."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Channel, Contribution
from ..services import DomainError
from ..services.batches import closed_after
from ..services.days import tokyo_today
from ..services.offline import record_offline_contribution
from ..web.i18n import locale_code, number, yen
from ..web.labels import channel_label, contribution_status_label, dispute_label
from ..web.text import clean_text
from . import bp
from .batches import field_errors
from .forms import BAD_DATE, FormState, read_date, whole_number
from .queries import addon_choices, offline_receipt, user_email
from .uploads import take_upload

FIELDS = ("addon_id", "quantity", "channel", "received_on", "note", "display_name")
bp.add_app_template_global(channel_label)
bp.add_app_template_global(dispute_label)
bp.add_app_template_global(contribution_status_label)


def _form_page(state: FormState, status: int = 200):
    addons = addon_choices()
    locale = locale_code()
    options = [(str(a.id), _("%(title)s (%(price)s per unit)", title=a.title(locale), price=yen(a.unit_price_yen)))
               for a in addons]
    return render_template("staff/offline.html", state=state, addons=addons, addon_options=options,
                           channels=[(c.value, channel_label(c)) for c in (Channel.CASH, Channel.BANK_TRANSFER)],
                           ), status


@bp.route("/contributions/offline", methods=["GET", "POST"])
def offline_new():
    """Record cash or a bank transfer: add-on, quantity, channel, day received, note and evidence."""
    if request.method == "GET":
        return _form_page(FormState({"addon_id": clean_text(request.args.get("addon_id")), "quantity": "",
                                     "channel": Channel.CASH.value, "received_on": tokyo_today().isoformat(),
                                     "note": "", "display_name": ""}))
    user = current_user._get_current_object()
    state = FormState({name: clean_text(request.form.get(name)) for name in FIELDS})
    addon = next((a for a in addon_choices() if str(a.id) == state.values["addon_id"]), None)
    if addon is None:
        state.errors["addon_id"] = _("Choose the add-on the money was paid for.")
    quantity = received_on = None
    try:
        quantity = whole_number(state.values["quantity"])
    except ValueError:
        state.errors["quantity"] = _("Enter the number of units as a whole number, for example 37.")
    try:
        received_on = read_date(state.values["received_on"])
    except ValueError:
        state.errors["received_on"] = BAD_DATE
    evidence = take_upload("evidence", state, user)
    if addon is None:
        return _form_page(state, 422)
    try:
        contribution = record_offline_contribution(
            addon, quantity=quantity, channel=state.values["channel"], received_on=received_on, recorded_by=user,
            note=state.values["note"], evidence=evidence, display_name=state.values["display_name"])
    except DomainError as error:
        state.errors = {**field_errors(error, frozenset(FIELDS) | {"evidence"}), **state.errors}
        return _form_page(state, 422)
    flash(_("The contribution is recorded: %(amount)s for %(count)s units. It joins the next batch.",
            amount=yen(contribution.amount_yen), count=number(contribution.quantity)), "success")
    closed = closed_after(contribution.paid_at)
    if closed is not None:
        flash(_("The money was received before the cut-off of batch %(number)s, which is already closed. It "
                "joins the next batch instead, and that batch's page will say so.", number=closed.number),
              "warning")
    return redirect(url_for("staff.contribution", contribution_id=contribution.id), code=303)


@bp.get("/contributions/<int:contribution_id>")
def contribution(contribution_id: int):
    """One contribution: amounts, refunds, how the money arrived, its batch, a dispute, any flag
    (with the form to resolve it), its certificate."""
    item = db.session.get(Contribution, contribution_id)
    if item is None:
        abort(404)
    return contribution_page(item)


def contribution_page(item: Contribution, *, resolve_form: FormState | None = None, status: int = 200):
    return render_template("staff/contribution.html", c=item, receipt=offline_receipt(item.id),
                           recorded_by=user_email(item.recorded_by_id),
                           resolve_form=resolve_form or FormState({"reason": ""})), status
