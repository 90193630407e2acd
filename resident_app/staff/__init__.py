"""The staff console (職員): pool, batches and invalidations, settings, organisers, audit, exports.

Every route here needs an active staff or admin account; admin-only routes add @admin_required."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, make_response, request, url_for
from flask_login import current_user

from ..extensions import login_manager
from ..models import Role
from ..web.htmx import is_htmx

bp = Blueprint("staff", __name__)


@bp.before_request
def require_staff():
    """Signed-out people log in first; organisers get 403 (they know the console exists)."""
    if not current_user.is_authenticated:
        if is_htmx():
            page = urlsplit(request.headers.get("HX-Current-URL", "")).path or url_for("staff.dashboard")
            response = make_response("", 401)
            response.headers["HX-Redirect"] = url_for("auth.login", next=page)
            return response
        return login_manager.unauthorized()
    if current_user.role not in (Role.STAFF, Role.ADMIN):
        abort(403)
    return None


def admin_required(view):
    """Only admins (creating staff accounts, reading and exporting the audit log)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role != Role.ADMIN:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


@bp.app_context_processor
def staff_endpoints_global():
    """Lets the staff layout list only console pages that exist."""
    def staff_endpoints() -> set[str]:
        from flask import current_app

        return {name for name in current_app.view_functions if name.startswith("staff.")}
    return {"staff_endpoints": staff_endpoints}


def actor() -> str:
    """How the audit log names the signed-in member of staff."""
    return current_user.email


# Route modules register on import; each feature lives in its own file.
from . import modules  # noqa: E402,F401
