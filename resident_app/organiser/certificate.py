"""The event offset certificate (/organiser/addons/<id>/certificate): printable on A4 once the
add-on's contributions are retired, i.e. their batch's credits are invalidated and confirmed."""
from __future__ import annotations

from flask import abort, render_template

from ..models import AddOn, utcnow
from ..services.days import TOKYO
from ..services.event_certificate import event_certificate, has_retired_contributions
from . import bp
from .access import addon_or_404


@bp.app_template_global("addon_certificate_available")
def addon_certificate_available(addon: AddOn) -> bool:
    """Whether the add-on page links to the certificate."""
    return has_retired_contributions(addon)


@bp.get("/addons/<int:addon_id>/certificate")
def addon_certificate(addon_id: int):
    """404 until at least one of the add-on's contributions is retired."""
    certificate = event_certificate(addon_or_404(addon_id))
    if certificate is None:
        abort(404)
    return render_template("organiser/certificate.html", cert=certificate, addon=certificate.addon,
                           issued_on=utcnow().astimezone(TOKYO).date())
