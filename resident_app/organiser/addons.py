"""Creating, changing and looking at an add-on; the live "¥100 = 10 kg-CO2" preview."""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..carbon.conversion import grams_for_yen
from ..models import AddOn
from ..public.labels import addon_kind_label
from ..services import DomainError
from ..services.addons import (MAX_PRICE_YEN, MIN_PRICE_YEN, addon_errors, create_addon, daily_totals, kinds_for,
                               update_addon)
from ..services.errors import InvalidInput
from ..services.payments import availability
from ..services.programme import current_rate
from ..web import charts
from . import bp
from ..services.event_money import addon_from_estimate
from ..services.events import event_figures, event_for
from .access import addon_or_404, event_or_404
from .forms import blank_values, parse_whole_number, read_addon_form, values_from
from .sharing import public_link, qr_code, snippet_html
from .tally import POLL_SECONDS, tally_for


@dataclass(frozen=True)
class Preview:
    """What the price field's value buys at the current rate (or why it cannot say)."""

    price_yen: int | None = None
    grams: int | None = None
    rate_yen_per_t: int | None = None
    problem: str = ""
    price_changed: bool = False


def price_preview(raw_price: object, addon: AddOn | None = None) -> Preview:
    """The preview for a price as typed (full-width digits and commas accepted)."""
    rate = current_rate()
    if rate is None:
        return Preview(problem=_("The programme has no conversion rate yet."))
    try:
        price = parse_whole_number(str(raw_price or ""), yen=True)
    except ValueError:
        price = None
    if price is None or not MIN_PRICE_YEN <= price <= MAX_PRICE_YEN:
        return Preview(rate_yen_per_t=rate.yen_per_t,
                       problem=_("Enter a price from %(low)s to %(high)s yen to see the CO2 it offsets.",
                                 low=f"{MIN_PRICE_YEN:,}", high=f"{MAX_PRICE_YEN:,}"))
    return Preview(price, grams_for_yen(price, rate.yen_per_t), rate.yen_per_t,
                   price_changed=addon is not None and price != addon.unit_price_yen)


def _kind_options() -> list[tuple[str, str]]:
    return [(kind.value, addon_kind_label(kind)) for kind in kinds_for(current_user._get_current_object())]


def _form_page(values: dict, errors: dict, *, addon: AddOn | None = None, status: int = 200):
    event_id = values.get("event_id")
    event = event_for(current_user._get_current_object(), int(event_id)) if str(event_id or "").isdigit() else None
    return render_template(
        "organiser/addon_form.html", values=values, errors=errors, addon=addon, event=event,
        kind_options=_kind_options(), preview=price_preview(values.get("unit_price_yen"), addon),
        staff=current_user.is_staff,
    ), status


def _from_event(event_id: int):
    """The form filled in from an event's estimate (price: the suggested surcharge), or None."""
    event = event_or_404(event_id)
    estimate, rate = event_figures(event).estimate, current_rate()
    if estimate is None or rate is None:
        return None
    return values_from(addon_from_estimate(event, estimate, rate.yen_per_t))


def _submitted(addon: AddOn | None):
    """Read and save the form; the saved add-on, or the page again with every error beside its field."""
    user = current_user._get_current_object()
    data, values, errors = read_addon_form(request.form, kinds_for(user))
    if errors:
        errors = {**addon_errors(data, actor=user, addon=addon, skip=errors), **errors}
        return None, _form_page(values, errors, addon=addon, status=422)
    try:
        saved = create_addon(data, actor=user) if addon is None else update_addon(addon, data, actor=user)
    except InvalidInput as error:
        return None, _form_page(values, error.errors, addon=addon, status=422)
    except DomainError as error:
        return None, _form_page(values, {error.field or "form": error.message}, addon=addon, status=422)
    return saved, None


@bp.route("/addons/new", methods=["GET", "POST"])
def addon_new():
    """The add-on form (filled in from an event's estimate with ?event=<id>); on success the
    add-on's page with its link and QR code."""
    if request.method == "GET":
        event_id = request.args.get("event", type=int)
        values = _from_event(event_id) if event_id else None
        if event_id and values is None:
            flash(_("Save the event's estimate first: the add-on's price comes from it."), "error")
            return redirect(url_for("organiser.event_estimate", event_id=event_id), code=303)
        return _form_page(values or blank_values(), {})
    saved, page = _submitted(None)
    if saved is None:
        return page
    flash(_("The add-on is created. Share its link or QR code below."), "success")
    return redirect(url_for("organiser.addon", addon_id=saved.id), code=303)


@bp.route("/addons/<int:addon_id>/edit", methods=["GET", "POST"])
def addon_edit(addon_id: int):
    """Change an add-on. Its link and QR code stay the same."""
    addon = addon_or_404(addon_id)
    if request.method == "GET":
        return _form_page(values_from(addon), {}, addon=addon)
    saved, page = _submitted(addon)
    if saved is None:
        return page
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("organiser.addon", addon_id=saved.id), code=303)


@bp.get("/addons/preview")
@bp.get("/addons/<int:addon_id>/preview")
def addon_preview(addon_id: int | None = None):
    """The price preview alone, for htmx as the organiser types (the form shows it on submit too)."""
    addon = addon_or_404(addon_id) if addon_id is not None else None
    return render_template("organiser/_preview.html",
                           preview=price_preview(request.args.get("unit_price_yen"), addon))


@bp.get("/addons/<int:addon_id>")
def addon(addon_id: int, export: dict | None = None):
    """Figures, a chart by day with its table, the link, QR code, poster, snippet and exports
    (`export`: the download form's values and message, when the download sends the page back)."""
    item = addon_or_404(addon_id)
    rate = current_rate()
    days = daily_totals(item)
    chart = charts.daily_figure([d.day.isoformat() for d in days], [d.yen for d in days],
                                [d.units for d in days], _("Yen paid"), _("Units paid"))
    link = public_link(item)
    grams_per_unit = grams_for_yen(item.unit_price_yen, rate.yen_per_t) if rate else None
    snippet = snippet_html(item, grams_per_unit)
    # Segno writes this SVG and escapes its title; the data is our own URL (bandit B704).
    qr_svg = Markup(qr_code(item).svg_inline(scale=4, border=4, omitsize=True,  # nosec B704
                                             title=_("QR code for the add-on's page")))
    return render_template(
        "organiser/addon.html", addon=item, tally=tally_for(item, fresh=True), poll_seconds=POLL_SECONDS,
        days=days, chart=chart, link=link, qr_svg=qr_svg, snippet=snippet, snippet_code=str(snippet), rate=rate,
        grams_per_unit=grams_per_unit, state=availability(item),
        export=export or {"values": {}, "errors": {}, "replaced": 0},
    )
