"""The files browsers and crawlers ask for at fixed addresses: /favicon.ico, /apple-touch-icon.png,
the web app manifest (name, colours and home-screen icons, in the visitor's language) and
/robots.txt; and each page's description and robots meta (web/meta.py)."""
from __future__ import annotations

from flask import Response, current_app, jsonify, send_from_directory, url_for
from flask_babel import gettext as _

from ..web.i18n import locale_code
from ..web.meta import THEME_COLOUR, BACKGROUND_COLOUR, PRIVATE_PREFIXES, meta_context, site_description
from . import bp

ICON_MAX_AGE = 7 * 24 * 3600


def _icon(filename: str, mimetype: str) -> Response:
    folder = f"{current_app.static_folder}/icons"
    return send_from_directory(folder, filename, mimetype=mimetype, max_age=ICON_MAX_AGE)


@bp.get("/favicon.ico")
def favicon():
    """Every browser asks for it, whatever the page links (16, 32 and 48 px)."""
    return _icon("favicon.ico", "image/vnd.microsoft.icon")


@bp.get("/apple-touch-icon.png")
def apple_touch_icon():
    """iOS asks here when saving to the home screen (180 px, opaque; iOS rounds the corners)."""
    return _icon("apple-touch-icon.png", "image/png")


@bp.get("/manifest.webmanifest")
def manifest():
    """What a phone needs to put the site on its home screen, in the visitor's language."""
    def icon(filename: str, sizes: str, kind: str, purpose: str = "any") -> dict[str, str]:
        return {"src": url_for("static", filename=f"icons/{filename}"), "sizes": sizes, "type": kind,
                "purpose": purpose}
    response = jsonify({
        "name": _("Tokyo Household CO2 and Offsets"),
        "short_name": _("CO2 and offsets"),
        "description": site_description(),
        "lang": locale_code(),
        "dir": "ltr",
        "start_url": url_for("public.home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [icon("icon.svg", "any", "image/svg+xml"),
                  icon("icon-192.png", "192x192", "image/png"),
                  icon("icon-512.png", "512x512", "image/png"),
                  icon("icon-maskable-192.png", "192x192", "image/png", "maskable"),
                  icon("icon-maskable-512.png", "512x512", "image/png", "maskable")],
    })
    response.mimetype = "application/manifest+json"
    response.cache_control.public = True
    response.cache_control.max_age = 24 * 3600
    return response


@bp.get("/robots.txt")
def robots():
    """Public pages may be indexed; sign-in, console, certificates and saved results may not."""
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES), ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 24 * 3600
    return response


bp.app_context_processor(meta_context)
