"""Contributions waiting for a person: flagged ones (an amount Stripe reported differently, a
partial refund, a payment past an add-on's unit cap), resolved one by one with a reason, and
payments under dispute, held out of batches until the bank decides."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..models import Contribution, FlagKind
from ..services import DomainError
from ..services.payments import units_sold
from ..services.reviews import resolve_flag
from ..web.i18n import kg, number, yen
from ..web.text import clean_text
from . import bp
from .batches import field_errors
from .forms import FormState
from .offline import contribution_page
from .queries import disputed_contributions, flagged_contributions

REVIEW_LIMIT = 200
RESOLVE_FORM = frozenset({"reason"})
FLAG_LABELS = {
    FlagKind.AMOUNT_MISMATCH: _l("Stripe reported another amount or currency: not counted as paid"),
    FlagKind.PARTIAL_REFUND: _l("Partly refunded: the refunded share is already taken out of the pool"),
    FlagKind.OVER_CAP: _l("Paid after the add-on's unit cap was reached: refund it, or say why it stays"),
}


def flag_label(kind: str) -> str:
    """What a flag means, in the page's language ("Flagged" for flags raised before kinds existed)."""
    try:
        return str(FLAG_LABELS[FlagKind(kind)])
    except (KeyError, ValueError):
        return _("Flagged")


def flag_detail(contribution: Contribution) -> str:
    """The flag's figures in the page's language, from the contribution itself; a flag of another
    kind shows the text it was raised with (as Stripe reported it)."""
    kind = contribution.flag_kind
    if kind == FlagKind.PARTIAL_REFUND:
        return _("%(refunded)s refunded of %(paid)s so far: %(kg)s kg-CO2 less owed.",
                 refunded=yen(contribution.refunded_yen), paid=yen(contribution.amount_yen),
                 kg=kg(contribution.refunded_g))
    if kind == FlagKind.OVER_CAP and contribution.addon.max_units is not None:
        return _("The add-on's cap is %(cap)s units; %(sold)s units are paid.",
                 cap=number(contribution.addon.max_units), sold=number(units_sold(contribution.addon)))
    return contribution.flag_reason


bp.add_app_template_global(flag_label)
bp.add_app_template_global(flag_detail)


def _page(forms: dict[int, FormState] | None = None, status: int = 200):
    flagged, flagged_total = flagged_contributions(REVIEW_LIMIT)
    disputed, disputed_total = disputed_contributions(REVIEW_LIMIT)
    forms = forms or {}
    return render_template("staff/reviews.html", flagged=flagged, flagged_total=flagged_total,
                           disputed=disputed, disputed_total=disputed_total,
                           forms={c.id: forms.get(c.id) or FormState({"reason": ""}) for c in flagged}), status


@bp.get("/reviews")
def reviews():
    """Flagged contributions, each with a form to resolve it, and payments under dispute."""
    return _page()


@bp.post("/contributions/<int:contribution_id>/resolve")
def resolve(contribution_id: int):
    """Resolve a contribution's flag with a reason (audited); back to where the form was."""
    item = db.session.get(Contribution, contribution_id)
    if item is None:
        abort(404)
    state = FormState({"reason": clean_text(request.form.get("reason"))})
    try:
        resolve_flag(item, reason=state.values["reason"], actor=current_user._get_current_object())
    except DomainError as error:
        state.errors = field_errors(error, RESOLVE_FORM)  # "no flag any more" is flashed above the page
        if request.form.get("from") == "contribution":
            return contribution_page(item, resolve_form=state, status=422)
        return _page({item.id: state}, status=422)
    flash(_("The flag on %(number)s is resolved. The reason is in the audit log.", number=item.number), "success")
    if request.form.get("from") == "contribution":
        return redirect(url_for("staff.contribution", contribution_id=item.id), code=303)
    return redirect(url_for("staff.reviews"), code=303)
