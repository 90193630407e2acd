"""Add-on landing page, checkout, thanks page and the participation certificate."""
from __future__ import annotations

import logging

import segno
import stripe
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from ..carbon.conversion import grams_for_yen
from ..carbon.numbers import NumberError
from ..extensions import db, limiter
from ..models import AddOn, Contribution
from ..payments.gateway import get_gateway
from ..evidence import retirement_evidence
from ..services import DomainError
from ..services.register import certificate_retirement
from ..services.payments import availability, fulfil_checkout_session, start_checkout
from ..services.accounts import EMAIL_RE, MAX_EMAIL_LENGTH
from ..services.programme import current_rate
from ..public.labels import addon_kind_label
from ..web.i18n import locale_code
from ..web.ratelimit import (addon_key, browser_key, checkout_per_addon, checkout_per_address,
                             checkout_per_session)
from ..web.numbers import number_message
from ..web.text import clean_text
from ..web.typed import whole_number
from . import bp

log = logging.getLogger(__name__)

bp.add_app_template_global(addon_kind_label)

NAME_MAX = 40


def _addon_or_404(slug: str) -> AddOn:
    addon = db.session.scalar(select(AddOn).where(AddOn.slug == slug)) if len(slug) <= 32 else None
    if addon is None:
        abort(404)
    return addon


def _whole(value: str | None) -> tuple[int | None, NumberError | None]:
    """A typed whole number of at most 9 digits (a yen sign allowed); None when blank or unreadable,
    with the reason when unreadable."""
    try:
        return whole_number(value, yen=True, max_digits=9), None
    except NumberError as error:
        return None, error


def email_problem(address: str) -> str | None:
    """Why a receipt address cannot be used (the same check as accounts'), or None."""
    if address and (len(address) > MAX_EMAIL_LENGTH or not EMAIL_RE.match(address) or ".." in address):
        return _("Enter an e-mail address such as name@example.jp, or leave it blank.")
    return None


def _landing(addon: AddOn, *, form: dict, errors: dict, status: int = 200):
    get_gateway()  # starts the sandbox if needed, so the CSP names the pay page's origin
    rate = current_rate()
    state = availability(addon)
    return render_template(
        "checkout/addon.html", addon=addon, rate=rate, state=state, form=form, errors=errors,
        grams_per_unit=grams_for_yen(addon.unit_price_yen, rate.yen_per_t) if rate else 0,
        grams_per_100_yen=grams_for_yen(100, rate.yen_per_t) if rate else 0,
        cancelled=request.args.get("cancelled") == "1",
    ), status


@bp.get("/a/<slug>")
def addon(slug: str):
    """What the add-on offsets, where the money goes, the rate; quantity, name, e-mail, pay."""
    item = _addon_or_404(slug)
    amount = _whole(request.args.get("amount"))[0]
    form = {"quantity": 1, "amount": amount or item.unit_price_yen, "display_name": "", "receipt_email": ""}
    return _landing(item, form=form, errors={})


@bp.post("/a/<slug>/checkout")
@limiter.limit(checkout_per_session, key_func=browser_key)
@limiter.limit(checkout_per_addon, key_func=addon_key)
@limiter.limit(checkout_per_address)
def checkout(slug: str):
    """Create the contribution and send the resident to the hosted pay page."""
    item = _addon_or_404(slug)
    amount, unreadable = _whole(request.form.get("amount"))
    form = {
        "quantity": _whole(request.form.get("quantity"))[0] or 0,
        "amount": amount,
        "display_name": clean_text(request.form.get("display_name")),
        "receipt_email": clean_text(request.form.get("receipt_email")),
    }
    errors: dict[str, str] = {}
    if item.variable_amount:
        form["quantity"] = 1
        if unreadable is not None:
            errors["amount"] = str(number_message(unreadable, whole=True))
            form["amount"] = clean_text(request.form.get("amount"))[:20]  # shown back as typed
    if len(form["display_name"]) > NAME_MAX:
        errors["display_name"] = _("Use at most %(max)d characters.", max=NAME_MAX)
    email = form["receipt_email"]
    if email_problem(email):
        errors["receipt_email"] = email_problem(email)
    if errors:
        return _landing(item, form=form, errors=errors, status=422)
    try:
        __, pay_url = start_checkout(item, quantity=form["quantity"], amount_yen=form["amount"],
                                    display_name=form["display_name"], receipt_email=email,
                                    locale=locale_code())
    except DomainError as error:
        errors[error.field or "form"] = str(error.message)
        return _landing(item, form=form, errors=errors, status=422)
    return redirect(pay_url, code=303)


@bp.get("/a/<slug>/thanks")
def thanks(slug: str):
    """Back from the pay page: fulfil from the session (the webhook may be slower) and show the result."""
    item = _addon_or_404(slug)
    session_id = request.args.get("session_id", "")
    contribution = db.session.scalar(select(Contribution).where(
        Contribution.stripe_session_id == session_id, Contribution.addon_id == item.id)) if session_id else None
    if contribution is None:
        abort(404)
    try:
        session = get_gateway().retrieve_session(session_id)
    except stripe.StripeError:
        # Stripe unreachable for a moment: the webhook (or `flask payments reconcile`) finishes the
        # payment; the waiting page tells the resident so and offers to check again.
        log.warning("thanks page: could not fetch session %s from Stripe", session_id, exc_info=True)
        return render_template("checkout/waiting.html", addon=item, contribution=contribution)
    outcome = fulfil_checkout_session(session)
    contribution = outcome.contribution or contribution
    if contribution.status == "paid":
        flash(_("Thank you. Your payment was received and your participation certificate is ready."), "success")
        return redirect(url_for("checkout.certificate", token=contribution.certificate_token), code=303)
    return render_template("checkout/waiting.html", addon=item, contribution=contribution)


@bp.get("/c/<token>")
def certificate(token: str):
    """The participation certificate (オフセット参加証). No e-mail address is ever shown here."""
    contribution = db.session.scalar(select(Contribution).where(Contribution.certificate_token == token)) \
        if 0 < len(token) <= 64 else None
    if contribution is None or contribution.status not in ("paid", "refunded"):
        abort(404)
    link = url_for("checkout.certificate", token=token, _external=True)
    qr = segno.make(link, error="m")
    # Segno writes this SVG and escapes its title; the data is our own URL (bandit B704).
    svg = Markup(qr.svg_inline(scale=3, border=2, dark="#11503c", omitsize=True,  # nosec B704
                               title=_("QR code linking to this certificate online")))
    retirement = certificate_retirement(contribution)
    return render_template("checkout/certificate.html", c=contribution, addon=contribution.addon,
                           qr_svg=svg, link=link, retirement=retirement,
                           evidence=retirement_evidence(contribution) if retirement else None)
