"""Sharing an add-on: its link, QR code downloads (PNG for posters, SVG for print shops), an A4
poster and an HTML snippet for the organiser's own ticket page."""
from __future__ import annotations

import io

import segno
from flask import render_template, send_file, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..carbon.conversion import grams_for_yen
from ..models import AddOn
from ..services.programme import current_rate
from ..web.i18n import kg, locale_code, yen
from . import bp
from .access import addon_or_404

QR_ERROR = "m"       # 15 % of the code can be lost (a crease, a thumb) and it still reads
QR_SCALE = 10        # pixels per module: about 4 cm across at 300 dpi for a short link
QR_BORDER = 4        # the quiet zone the QR standard asks for
# Inline styles only: the snippet goes into pages whose style sheets we do not control.
SNIPPET_STYLE = ("display:inline-block;padding:12px 20px;border-radius:8px;background:#1b6e53;"
                 "color:#ffffff;font-family:sans-serif;font-size:16px;font-weight:bold;line-height:1.4;"
                 "text-decoration:none")


def public_link(addon: AddOn) -> str:
    """The resident-facing page of the add-on, as an absolute URL."""
    return url_for("checkout.addon", slug=addon.slug, _external=True)


def qr_for(url: str) -> segno.QRCode:
    """A QR code for a link printed on paper (an add-on's page, an event's survey)."""
    return segno.make(url, error=QR_ERROR)


def qr_code(addon: AddOn) -> segno.QRCode:
    return qr_for(public_link(addon))


def qr_png(code: segno.QRCode, filename: str):
    """The QR code as a PNG download large enough for an A4 poster."""
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return _download(buffer.getvalue(), "image/png", filename)


def qr_svg(code: segno.QRCode, filename: str, title: str):
    """The QR code as an SVG download: sharp at any size, for print shops."""
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=QR_SCALE, border=QR_BORDER, xmldecl=True, title=title)
    return _download(buffer.getvalue(), "image/svg+xml", filename)


def snippet_html(addon: AddOn, grams_per_unit: int | None) -> Markup:
    """A link styled as a button, for the organiser to paste into their own page."""
    if addon.variable_amount or grams_per_unit is None:
        label = _("Take part in the carbon offset")
    else:
        label = _("Add a carbon offset (%(price)s = %(kg)s kg-CO2)", price=yen(addon.unit_price_yen),
                  kg=kg(grams_per_unit))
    return Markup('<a href="{url}" style="{style}">{label}</a>').format(
        url=public_link(addon), style=SNIPPET_STYLE, label=label)


def _download(data: bytes, mimetype: str, filename: str):
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/addons/<int:addon_id>/qr.png")
def addon_qr_png(addon_id: int):
    """The QR code as a PNG large enough for an A4 poster."""
    addon = addon_or_404(addon_id)
    return qr_png(qr_code(addon), f"offset-qr-{addon.slug}.png")


@bp.get("/addons/<int:addon_id>/qr.svg")
def addon_qr_svg(addon_id: int):
    """The QR code as SVG: sharp at any size, for print shops."""
    addon = addon_or_404(addon_id)
    return qr_svg(qr_code(addon), f"offset-qr-{addon.slug}.svg", addon.title(locale_code()))


@bp.get("/addons/<int:addon_id>/poster")
def addon_poster(addon_id: int):
    """A printable A4 poster: title, price, what the money does, and the QR code."""
    addon = addon_or_404(addon_id)
    rate = current_rate()
    link = public_link(addon)
    # Segno writes this SVG and escapes its title; the data is our own URL (bandit B704).
    svg = Markup(qr_code(addon).svg_inline(scale=QR_SCALE, border=QR_BORDER, omitsize=True,  # nosec B704
                                           title=_("QR code: scan it to take part")))
    return render_template(
        "organiser/poster.html", addon=addon, link=link, qr_svg=svg, rate=rate,
        grams_per_unit=grams_for_yen(addon.unit_price_yen, rate.yen_per_t) if rate else None)
