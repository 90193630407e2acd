"""Correcting entries on a confirmed batch's purchase or invalidations. The original values stay;
the register shows the latest correction on top, and the ledger gets a correction entry with what
it changes (tonnes retired, yen spent on credits), so the public totals move with it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l

from ..carbon.conversion import GRAMS_PER_TONNE
from ..carbon.numbers import NumberError, parse_int
from ..carbon.pool import PoolWarning, SerialRange, ranges_tonnes_or_none
from ..extensions import db
from ..models import CreditPurchase, CreditType, Invalidation, InvalidationCorrection, LedgerKind, Registry, User
from .accounts import actor_name
from .audit import add_audit
from .batches import balance_now_g, refresh_open_batches, refuse, reserved_surplus_g
from .errors import DomainError
from .fields import (MAX_NOTE, MAX_PRICE_PER_T_YEN, MAX_PROJECT_ID, MAX_PROJECT_NAME, MAX_TEXT, MAX_TONNES,
                     MAX_TOTAL_YEN, clean, enum_value, int_in, past_date, require_staff, required_text)
from .invalidations import check_ranges, purpose_taken
from .ledger import Entry, lock_pool, post
from .register import (INVALIDATION_FIELDS, PURCHASE_FIELDS, batch_warnings, invalidation_view, purchase_view,
                       to_json)

INT_LIMITS = {"tonnes": MAX_TONNES, "price_per_t_yen": MAX_PRICE_PER_T_YEN, "total_yen": MAX_TOTAL_YEN}
TEXT_LIMITS = {"project_name": MAX_PROJECT_NAME, "project_id": MAX_PROJECT_ID}


@dataclass(frozen=True)
class CorrectionResult:
    correction: InvalidationCorrection          # the correction of `field` itself
    warnings: list[PoolWarning]


def _parse_correction(name: str, raw: Any, target: Invalidation | CreditPurchase) -> Any:
    """The new value, checked like the original entry; returned in its display type."""
    errors: dict[str, str] = {}
    if name in INT_LIMITS:
        if isinstance(raw, str):  # typed (the CLI, a caller): the one number reader, never int()
            try:
                raw = parse_int(raw, yen=name != "tonnes", max_chars=12)
            except NumberError:
                pass  # int_in below names the problem
        value = int_in(errors, name, raw, 1, INT_LIMITS[name])
    elif name in ("invalidated_on", "purchased_on"):
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw.strip())
            except ValueError:
                pass
        value = past_date(errors, name, raw)
    elif name == "registry":
        value = enum_value(errors, name, Registry, raw)
    elif name == "credit_type":
        value = enum_value(errors, name, CreditType, raw)
    elif name == "serial_ranges":
        value = check_ranges(errors, raw, excluding=target.id)
    else:
        value = required_text(errors, name, raw if isinstance(raw, str) else "", TEXT_LIMITS.get(name, MAX_TEXT),
                              _l("Enter a value."))
    if errors:
        raise DomainError(next(iter(errors.values())), field="new_value")
    return value


def _covering_ranges(target: Invalidation, tonnes: int, shown: tuple[SerialRange, ...],
                     serial_ranges: Iterable[Any] | None) -> tuple[SerialRange, ...] | None:
    """More tonnes retired need serial numbers in the registry: the ranges shown must count the new
    tonnes, or the correction brings ranges that do (checked against every other recorded range).
    Returns the new ranges to record, or None when the ranges shown already count them."""
    if not serial_ranges and ranges_tonnes_or_none(shown) == tonnes:
        return None
    if not serial_ranges:
        raise DomainError(_l("Raising the tonnes to %(tonnes)s needs the serial number ranges that cover all "
                             "%(tonnes)s t: enter them with the correction.", tonnes=tonnes), field="serial_ranges")
    errors: dict[str, str] = {}
    ranges = check_ranges(errors, serial_ranges, excluding=target.id)
    if errors:
        raise DomainError(errors["serial_ranges"], field="serial_ranges")
    counted = ranges_tonnes_or_none(ranges)
    if counted != tonnes:
        raise DomainError(_l("These serial number ranges count %(counted)s t, not %(tonnes)s t.",
                             counted=counted, tonnes=tonnes), field="serial_ranges")
    return ranges


def record_correction(target: Invalidation | CreditPurchase, *, field: str, new_value: Any, reason: str,
                      actor: User, serial_ranges: Iterable[Any] | None = None) -> CorrectionResult:
    """A correcting entry on a confirmed batch's invalidation or purchase: the original stays and
    the displayed value becomes `new_value`. The reason is required. Raising an invalidation's
    tonnes needs the serial ranges that cover them (`serial_ranges`, unless those shown already
    do); lowering them must leave the contributions already retired covered."""
    require_staff(actor)
    batch = target.batch
    is_invalidation = isinstance(target, Invalidation)
    if not batch.is_confirmed:
        raise DomainError(_l("Batch %(number)s is not confirmed yet: change the record itself instead.",
                             number=batch.number))
    allowed = INVALIDATION_FIELDS if is_invalidation else PURCHASE_FIELDS
    if field not in allowed:
        raise DomainError(_l("This field cannot be corrected."), field="field")
    reason = clean(reason)
    if not reason:
        raise DomainError(_l("Explain why the record is corrected."), field="reason")
    if len(reason) > MAX_NOTE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_NOTE), field="reason")
    value = _parse_correction(field, new_value, target)
    view = invalidation_view(target) if is_invalidation else purchase_view(target)
    old = getattr(view, field)
    if to_json(field, old) == to_json(field, value):
        raise DomainError(_l("The new value is the same as the one shown now."), field="new_value")
    new_ranges = None
    if is_invalidation and field == "tonnes" and value > old:
        new_ranges = _covering_ranges(target, value, view.serial_ranges, serial_ranges)
    lock_pool()  # the balance checked below cannot move until this commits
    if is_invalidation and field == "purpose" and purpose_taken(batch, value, excluding=target.id):
        raise refuse(_l("This batch already has an invalidation for this purpose. The registry allows one "
                        "invalidation per purpose."), field="new_value")
    if is_invalidation and field == "tonnes" and value < old:
        if balance_now_g() - (old - value) * GRAMS_PER_TONNE < reserved_surplus_g():
            raise refuse(_l("With %(tonnes)s t the tonnes retired would no longer cover the contributions "
                            "already marked retired.", tonnes=value), field="new_value")
    changes = ([("serial_ranges", view.serial_ranges, new_ranges)] if new_ranges is not None else []) \
        + [(field, old, value)]
    corrections = []
    for name, before, after in changes:
        correction = InvalidationCorrection(
            batch_id=batch.id, invalidation_id=target.id if is_invalidation else None,
            purchase_id=None if is_invalidation else target.id, field=name, old_value=to_json(name, before),
            new_value=to_json(name, after), reason=reason, created_by_id=actor.id)
        db.session.add(correction)
        db.session.flush()
        corrections.append(correction)
    post([Entry(LedgerKind.CORRECTION, batch_id=batch.id, correction_id=c.id,
                invalidation_id=target.id if is_invalidation else None,
                purchase_id=None if is_invalidation else target.id,
                tonnes=value - old if is_invalidation and c.field == "tonnes" else 0,
                credits_yen=value - old if not is_invalidation and c.field == "total_yen" else 0)
          for c in corrections])
    if is_invalidation and field == "tonnes":
        refresh_open_batches()
    warnings = batch_warnings(batch)
    for correction in corrections:
        add_audit(actor_name(actor), "correction.record", "invalidation" if is_invalidation else "credit_purchase",
                  target.id, {correction.field: correction.old_value},
                  {correction.field: correction.new_value, "reason": reason, "batch": batch.number,
                   "warnings": [w.code for w in warnings]})
    db.session.commit()
    return CorrectionResult(corrections[-1], warnings)
