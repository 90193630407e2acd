"""Public evidence of the pool: the registry's invalidation notice (無効化通知) of every confirmed
batch, downloadable by anyone, and the names of registries and credit types that participation
certificates and the staff console show.

Notices of batches that are not confirmed yet stay private (staff download them from the console)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort
from flask_babel import lazy_gettext as _l

from .extensions import db
from .models import Contribution, CreditType, Invalidation, Registry
from .services.register import batch_view, retired_in
from .web.downloads import send_stored_file

bp = Blueprint("evidence", __name__)

CREDIT_TYPE_LABELS = {
    CreditType.J_CREDIT: _l("J-Credit"),
    CreditType.J_VER: _l("J-VER"),
    CreditType.OTHER: _l("Other credit"),
}
REGISTRY_LABELS = {
    Registry.J_CREDIT: _l("J-Credit registry"),
    Registry.J_VER: _l("J-VER registry"),
    Registry.OTHER: _l("Other registry"),
}


def credit_type_label(value: CreditType | str | None) -> str:
    """The credit type's name in the page's language ("" for none)."""
    try:
        return str(CREDIT_TYPE_LABELS[CreditType(value)])
    except ValueError:
        return str(value or "")


def registry_label(value: Registry | str | None) -> str:
    """The registry's name in the page's language ("" for none)."""
    try:
        return str(REGISTRY_LABELS[Registry(value)])
    except ValueError:
        return str(value or "")


bp.add_app_template_global(credit_type_label)
bp.add_app_template_global(registry_label)


@dataclass(frozen=True)
class PublicNotice:
    invalidation_id: int
    purpose: str


@dataclass(frozen=True)
class RetirementEvidence:
    """What a certificate adds to certificate_retirement(): where the credit was created, and
    the public notices of its batch (values after corrections)."""

    credit_place: str
    notices: tuple[PublicNotice, ...]


def retirement_evidence(contribution: Contribution) -> RetirementEvidence | None:
    """The evidence for a retired contribution, or None while it awaits invalidation."""
    batch = retired_in(contribution)
    if batch is None:
        return None
    view = batch_view(batch)
    return RetirementEvidence(
        credit_place=view.purchase.credit_place if view.purchase else "",
        notices=tuple(PublicNotice(i.id, i.purpose) for i in view.invalidations if i.notice_file_id))


@bp.get("/notices/<int:invalidation_id>")
def notice(invalidation_id: int):
    """The registry's invalidation notice, once its batch is confirmed; 404 before, like a missing one."""
    item = db.session.get(Invalidation, invalidation_id)
    if item is None or not item.batch.is_confirmed or item.notice_file is None:
        abort(404)
    return send_stored_file(item.notice_file, public=True)
