"""Names for the codes that several audiences' pages and the exports show (statuses, channels, kinds
of add-on, credit types, registries), and the name of the programme itself, in the page's language.

They live here, not in one audience's module, so staff pages, organiser pages, certificates and
exports read the same words (style.md: audiences do not import each other)."""
from __future__ import annotations

from enum import StrEnum
from typing import Mapping

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import AddOnKind, BatchStatus, Channel, ContributionStatus, CreditType, DisputeStatus, Registry, User
from ..services.programme_content import PROGRAMME_EMAIL
from .i18n import locale_code

CONTRIBUTION_STATUS_LABELS = {
    ContributionStatus.PENDING: _l("Awaiting payment"),
    ContributionStatus.PAID: _l("Paid"),
    ContributionStatus.FAILED: _l("Payment failed"),
    ContributionStatus.EXPIRED: _l("Expired unpaid"),
    ContributionStatus.REFUNDED: _l("Refunded"),
}
CHANNEL_LABELS = {
    Channel.STRIPE: _l("Card or online payment (Stripe)"),
    Channel.CASH: _l("Cash (for example a fare box)"),
    Channel.BANK_TRANSFER: _l("Bank transfer"),
}
DISPUTE_LABELS = {
    DisputeStatus.OPEN: _l("Under dispute: the payer's bank is deciding; held out of batches"),
    DisputeStatus.WON: _l("Dispute won: the money stays"),
    DisputeStatus.LOST: _l("Dispute lost: the money went back to the payer (counted as a refund)"),
}
ADDON_KIND_LABELS = {
    AddOnKind.EVENT_TICKET: _l("Event ticket surcharge"),
    AddOnKind.COMMUNITY_BUS: _l("Community bus offset fare"),
    AddOnKind.ECO_TOUR: _l("Eco-tour fare"),
    AddOnKind.HOUSEHOLD: _l("Household offset"),
    AddOnKind.OTHER: _l("Offset add-on"),
}
BATCH_STATUS_LABELS = {
    BatchStatus.DRAFT: _l("Closed: credits not bought yet"),
    BatchStatus.PURCHASED: _l("Credits bought: not confirmed yet"),
    BatchStatus.INVALIDATED: _l("Confirmed: retired"),
}
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


def code_label(labels: Mapping[StrEnum, object], value: object, fallback: str | None = None) -> str:
    """The label of a code in the page's language; an unknown code as written (or the fallback).
    A StrEnum hashes as its text, so "paid" and ContributionStatus.PAID find the same label."""
    label = labels.get(value) if isinstance(value, str) else None  # type: ignore[call-overload]
    if label is not None:
        return str(label)
    return fallback if fallback is not None else str(value or "")


def contribution_status_label(status: ContributionStatus | str) -> str:
    return code_label(CONTRIBUTION_STATUS_LABELS, status)


def channel_label(channel: Channel | str) -> str:
    return code_label(CHANNEL_LABELS, channel)


def dispute_label(status: DisputeStatus | str) -> str:
    """A dispute's state in the page's language ("" when there is none)."""
    return code_label(DISPUTE_LABELS, status, "")


def addon_kind_label(kind: AddOnKind | str) -> str:
    return code_label(ADDON_KIND_LABELS, kind, str(ADDON_KIND_LABELS[AddOnKind.OTHER]))


def credit_type_label(value: CreditType | str | None) -> str:
    """The credit type's name in the page's language ("" for none)."""
    return code_label(CREDIT_TYPE_LABELS, value)


def registry_label(value: Registry | str | None) -> str:
    """The registry's name in the page's language ("" for none)."""
    return code_label(REGISTRY_LABELS, value)


def programme_name(locale: str | None = None) -> str:
    """The programme's own name from the configuration, in the page's language."""
    key = "PROGRAMME_OPERATOR_JA" if (locale or locale_code()) == "ja" else "PROGRAMME_OPERATOR_EN"
    return current_app.config[key]


def programme_owner_id() -> int | None:
    """The account that owns the programme's own add-ons (the household offset), once per request."""
    if "programme_owner_id" not in g:
        g.programme_owner_id = db.session.scalar(select(User.id).where(User.email == PROGRAMME_EMAIL))
    return g.programme_owner_id


def organiser_name(owner_id: int | None, organisation: str | None, fallback: str = "–") -> str:
    """An add-on owner's name as staff screens and exports show it: the programme's own account
    reads as the programme's name (its stored organisation is only a placeholder)."""
    if owner_id is not None and owner_id == programme_owner_id():
        return programme_name()
    return organisation or fallback
