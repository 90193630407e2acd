"""Invalidations (無効化) of a batch's credits in the registry, as staff copy them from the
registry's notice: record and change them while the batch is not confirmed. Serial ranges are
checked against every range already recorded, so no serial number is claimed twice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..carbon.pool import PoolWarning, SerialRange, SerialRangeError, clean_ranges, ranges_tonnes
from ..extensions import db
from ..models import Batch, BatchStatus, Invalidation, Registry, StoredFile, User, utcnow
from .accounts import actor_name
from .audit import add_audit
from .batches import final_error, lock_open, refresh_figures
from .errors import DomainError, InvalidInput
from .fields import (MAX_TEXT, MAX_TONNES, enum_value, int_in, past_date, purpose_key, require_staff,
                     required_text)
from .ledger import lock_pool
from .register import batch_warnings, invalidation_view


@dataclass
class InvalidationData:
    """One invalidation (無効化) as staff enter it from the registry's notice."""

    registry: Registry | str | None = None
    invalidated_on: date | None = None
    serial_ranges: Iterable[SerialRange | tuple[str, str] | dict[str, str]] = ()
    tonnes: int | None = None
    purpose: str = ""
    offset_place: str = ""          # the place being offset
    notice_file: StoredFile | None = None


@dataclass(frozen=True)
class InvalidationResult:
    invalidation: Invalidation
    warnings: list[PoolWarning]


def serial_error(error: SerialRangeError) -> str:
    params = error.params
    if error.code == "empty":
        return _l("Enter at least one serial number range.")
    if error.code == "too_long":
        return _l("A serial number can have at most %(max)d characters.", max=params.get("max", 100))
    if error.code == "no_number":
        return _l("The serial number %(serial)s does not end in a number.", serial=params.get("serial", ""))
    if error.code == "prefix_mismatch":
        return _l("%(start)s and %(end)s do not share the same prefix, so the range cannot be counted.",
                  start=params.get("start", ""), end=params.get("end", ""))
    if error.code == "reversed":
        return _l("The range %(start)s to %(end)s ends before it starts.",
                  start=params.get("start", ""), end=params.get("end", ""))
    return _l("The range %(start)s to %(end)s overlaps serial numbers already recorded.",
              start=params.get("start", ""), end=params.get("end", ""))


def _other_ranges(excluding: int | None) -> list[SerialRange]:
    """Every serial range recorded in any batch (after corrections), except one invalidation's."""
    query = select(Invalidation)
    if excluding is not None:
        query = query.where(Invalidation.id != excluding)
    ranges: list[SerialRange] = []
    for item in db.session.scalars(query):
        ranges.extend(invalidation_view(item).serial_ranges)
    return ranges


def check_ranges(errors: dict[str, str], raw: Any, *, excluding: int | None) -> tuple[SerialRange, ...]:
    try:
        ranges = clean_ranges(raw or ())
        ranges_tonnes(ranges, _other_ranges(excluding))
    except SerialRangeError as error:
        errors["serial_ranges"] = serial_error(error)
        return ()
    except (TypeError, ValueError):
        errors["serial_ranges"] = _l("Enter each range as a first and a last serial number.")
        return ()
    return ranges


def purpose_taken(batch: Batch, purpose: str, *, excluding: int | None) -> bool:
    key = purpose_key(purpose)
    return any(purpose_key(view.purpose) == key for view in
               (invalidation_view(i) for i in batch.invalidations if i.id != excluding))


def _invalidation_fields(batch: Batch, data: InvalidationData, *, excluding: int | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields = {
        "credit_registry": enum_value(errors, "registry", Registry, data.registry),
        "invalidated_on": past_date(errors, "invalidated_on", data.invalidated_on),
        "serial_ranges": [r.as_json() for r in check_ranges(errors, data.serial_ranges, excluding=excluding)],
        "tonnes": int_in(errors, "tonnes", data.tonnes, 1, MAX_TONNES),
        "purpose": required_text(errors, "purpose", data.purpose, MAX_TEXT,
                                 _l("Enter the purpose of the invalidation.")),
        "offset_place": required_text(errors, "offset_place", data.offset_place, MAX_TEXT,
                                      _l("Enter the place being offset.")),
    }
    if "purpose" not in errors and purpose_taken(batch, fields["purpose"], excluding=excluding):
        errors["purpose"] = _l("This batch already has an invalidation for this purpose. The registry "
                               "allows one invalidation per purpose.")
    if data.notice_file is not None and not isinstance(data.notice_file, StoredFile):
        errors["notice_file"] = _l("Upload the registry's notice as a file.")
    if errors:
        raise InvalidInput(errors)
    return fields


def _invalidation_audit(item: Invalidation) -> dict[str, Any]:
    return {"registry": str(item.credit_registry), "invalidated_on": item.invalidated_on.isoformat(),
            "serial_ranges": list(item.serial_ranges), "tonnes": item.tonnes, "purpose": item.purpose,
            "offset_place": item.offset_place, "notice_file_id": item.notice_file_id}


def _require_purchased(batch: Batch) -> None:
    if batch.is_confirmed:
        raise final_error(batch)
    if batch.status != BatchStatus.PURCHASED:
        raise DomainError(_l("Record the credit purchase for batch %(number)s first.", number=batch.number))


def record_invalidation(batch: Batch, data: InvalidationData, *, actor: User) -> InvalidationResult:
    """Record an invalidation for a purchased batch. Returns the batch's warnings."""
    require_staff(actor)
    _require_purchased(batch)
    fields = _invalidation_fields(batch, data, excluding=None)
    lock_pool()
    lock_open(batch)
    refresh_figures(batch)
    item = Invalidation(batch_id=batch.id, created_by_id=actor.id, notice_file=data.notice_file, **fields)
    db.session.add(item)
    batch.invalidations.append(item)
    return _saved(item, actor, "invalidation.record", None)


def _saved(item: Invalidation, actor: User, action: str, before: dict[str, Any] | None) -> InvalidationResult:
    """Audit the invalidation with the batch's warnings now, and commit."""
    db.session.flush()
    warnings = batch_warnings(item.batch)
    add_audit(actor_name(actor), action, "invalidation", item.id, before,
              {**_invalidation_audit(item), "batch": item.batch.number, "warnings": [w.code for w in warnings]})
    db.session.commit()
    return InvalidationResult(item, warnings)


def update_invalidation(item: Invalidation, data: InvalidationData, *, actor: User) -> InvalidationResult:
    """Change an invalidation while its batch is not yet confirmed."""
    require_staff(actor)
    batch = item.batch
    _require_purchased(batch)
    fields = _invalidation_fields(batch, data, excluding=item.id)
    lock_pool()
    lock_open(batch)
    refresh_figures(batch)
    before = _invalidation_audit(item)
    for name, value in fields.items():
        setattr(item, name, value)
    if data.notice_file is not None:  # an edit without a new upload keeps the notice
        item.notice_file = data.notice_file
    item.updated_at = utcnow()
    return _saved(item, actor, "invalidation.update", before)


