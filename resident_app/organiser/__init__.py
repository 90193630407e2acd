"""Organisers' pages: their add-ons, the figures, links, QR codes, posters and CSV exports.

Staff and admins use the same pages and see every add-on."""
from urllib.parse import urlsplit

from flask import Blueprint, make_response, request, url_for
from flask_login import current_user

from ..extensions import login_manager
from ..public.labels import addon_kind_label
from ..web.labels import organiser_name
from ..web.htmx import is_htmx

bp = Blueprint("organiser", __name__)
bp.add_app_template_global(addon_kind_label)
bp.add_app_template_global(organiser_name)  # staff see every add-on's owner


@bp.before_request
def require_active_account():
    """Every page here needs an active account; signed-out, pending and suspended people log in first."""
    if current_user.is_authenticated:
        return None
    if is_htmx():
        # A redirect would be followed inside the XHR and the log-in page swapped into a fragment:
        # send the whole window to the log-in page instead, coming back to the page it was on.
        page = urlsplit(request.headers.get("HX-Current-URL", "")).path or url_for("organiser.dashboard")
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=page)
        return response
    return login_manager.unauthorized()


from . import addons, certificate, dashboard, exports, sharing, tally  # noqa: E402,F401  (routes register on import)
from . import event_actuals, event_estimate, event_report, event_survey, events  # noqa: E402,F401
