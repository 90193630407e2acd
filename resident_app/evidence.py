"""Public evidence of the pool: the registry's invalidation notice (無効化通知) of every confirmed
batch, downloadable by anyone, and the names of registries and credit types that participation
certificates and the staff console show.

Notices of batches that are not confirmed yet stay private (staff download them from the console)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort

from .extensions import db
from .models import Contribution, CreditType, Invalidation, Registry
from .services.register import batch_view, retired_in
from .web.downloads import send_stored_file
from .web.labels import CREDIT_TYPE_LABELS, REGISTRY_LABELS, credit_type_label, registry_label  # noqa: F401

bp = Blueprint("evidence", __name__)

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
