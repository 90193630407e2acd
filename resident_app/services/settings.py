"""What the staff settings and accounts screens change: the rate, factor sets, unit prices, accounts.

Thin use-cases on top of programme, factors and accounts: they check what a form can get wrong,
then call the service that writes, audits and commits."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import BinaryIO
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .days import TOKYO
from ..extensions import db
from ..models import AccountStatus, ConversionRate, FactorSet, Role, UnitPrice, User, utcnow
from .accounts import approve_organiser, suspend_user
from .audit import add_audit
from .errors import DomainError, InvalidInput
from .factors import CONFIDENCE_MARKS, FACTOR_COLUMNS, activate_factor_set, load_factor_set
from .programme import MAX_RATE_YEN_PER_T, MIN_RATE_YEN_PER_T, current_rate, set_rate
from .programme_content import PROGRAMME_EMAIL

# Marks whose figure has not been checked against a primary source: the staff screen flags them.
TO_VERIFY_MARKS = frozenset({"S", "D", "U"})
MAX_REASON = 2000
MAX_SET_NAME = 200
MAX_FISCAL_YEAR = 20
MAX_SOURCE = 2000
MAX_AS_OF = 20
MAX_FACTOR_FILE_BYTES = 1024 * 1024
MAX_YEN_PER_UNIT = Decimal("99999999.9999")  # Numeric(12, 4)


def needs_verification(mark: str) -> bool:
    """True for a secondary (S), derived (D) or unverified (U) figure."""
    return mark in TO_VERIFY_MARKS


# --- the conversion rate ------------------------------------------------------------------------

def rate_history() -> list[ConversionRate]:
    """Every rate ever set, the latest effective first."""
    return list(db.session.scalars(
        select(ConversionRate).order_by(ConversionRate.effective_from.desc(), ConversionRate.id.desc())))


def change_rate(yen_per_t: int | None, *, reason: str, actor: str, effective_on: date | None = None) -> ConversionRate:
    """A new rate from now (or from the start of a later day in Tokyo), with the reason recorded.
    Contributions already paid keep the rate they were paid under."""
    errors: dict[str, str] = {}
    if yen_per_t is None:
        errors["yen_per_t"] = _l("Enter the rate in yen per tonne.")
    elif not MIN_RATE_YEN_PER_T <= yen_per_t <= MAX_RATE_YEN_PER_T:
        errors["yen_per_t"] = _l("The rate must be between %(low)d and %(high)d yen per tonne.",
                                 low=MIN_RATE_YEN_PER_T, high=MAX_RATE_YEN_PER_T)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _l("Say why the rate changes: it is published with the rate's history.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _l("Use at most %(max)d characters.", max=MAX_REASON)
    today = utcnow().astimezone(TOKYO).date()
    if effective_on is not None and effective_on < today:
        # A rate back-dated would apply to money already recorded for those days.
        errors["effective_on"] = _l("Choose today or a later day: a rate cannot start in the past.")
    if errors:
        raise InvalidInput(errors)
    current = current_rate()
    if effective_on is None or effective_on == today:
        if current is not None and current.yen_per_t == yen_per_t:
            raise DomainError(_l("This is already the rate in force."), field="yen_per_t")
        return set_rate(yen_per_t, actor=actor, reason=reason)
    start = datetime.combine(effective_on, time.min, TOKYO).astimezone(ZoneInfo("UTC"))
    return set_rate(yen_per_t, actor=actor, reason=reason, effective_from=start)


# --- emission factor sets -------------------------------------------------------------------------

def factor_sets(kind: str = "household") -> list[FactorSet]:
    """Every factor set of a kind with its factors, the active one first, then the newest."""
    return list(db.session.scalars(
        select(FactorSet).where(FactorSet.kind == kind).options(selectinload(FactorSet.factors))
        .order_by(FactorSet.is_active.desc(), FactorSet.effective_from.desc(), FactorSet.id.desc())))


def read_factor_upload(stream: BinaryIO) -> list[dict[str, str]]:
    """The rows of an uploaded factor file (UTF-8, with or without a BOM; default.csv's columns)."""
    data = stream.read(MAX_FACTOR_FILE_BYTES + 1)
    if not data:
        raise DomainError(_l("Choose a CSV file to upload."), field="file")
    if len(data) > MAX_FACTOR_FILE_BYTES:
        raise DomainError(_l("The file is larger than %(kb)d KB.", kb=MAX_FACTOR_FILE_BYTES // 1024), field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(_l("Save the file as CSV in UTF-8 and upload it again."), field="file") from None
    if not text.strip():
        raise DomainError(_l("The file is empty."), field="file")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in FACTOR_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DomainError(_l("The file lacks the columns: %(columns)s", columns=", ".join(missing)), field="file")
    return list(reader)


def upload_factor_set(stream: BinaryIO | None, *, name: str, fiscal_year: str, effective_from: date | None,
                      activate: bool, actor: str, kind: str = "household") -> FactorSet:
    """A new fiscal year's factor set (household or event) from an uploaded CSV; optionally the
    active set of its kind at once."""
    errors: dict[str, str] = {}
    name, fiscal_year = (name or "").strip(), (fiscal_year or "").strip()
    if not name:
        errors["name"] = _l("Enter a name for the set.")
    elif len(name) > MAX_SET_NAME:
        errors["name"] = _l("Use at most %(max)d characters.", max=MAX_SET_NAME)
    if not fiscal_year:
        errors["fiscal_year"] = _l("Enter the fiscal year, for example FY2027.")
    elif len(fiscal_year) > MAX_FISCAL_YEAR:
        errors["fiscal_year"] = _l("Use at most %(max)d characters.", max=MAX_FISCAL_YEAR)
    if effective_from is None:
        errors["effective_from"] = _l("Enter the date the set applies from.")
    rows: list[dict[str, str]] = []
    if stream is None:
        errors["file"] = _l("Choose a CSV file to upload.")
    else:
        try:
            rows = read_factor_upload(stream)
        except DomainError as error:
            errors["file"] = error.message
    if not errors and db.session.scalar(select(FactorSet.id).where(FactorSet.name == name,
                                                                   FactorSet.fiscal_year == fiscal_year)):
        errors["name"] = _l("A set with this name and fiscal year exists already. Choose another name.")
    if errors:
        raise InvalidInput(errors)
    # Narrows the type: the checks above raised for None (bandit B101).
    assert effective_from is not None  # nosec B101
    try:
        result = load_factor_set(rows, name=name, fiscal_year=fiscal_year, effective_from=effective_from,
                                 activate=activate, actor=actor, kind=kind)
    except DomainError as error:  # a line of the file: its message names the line
        db.session.rollback()
        raise DomainError(error.message, field="file") from None
    return result.factor_set


def choose_active_factor_set(set_id: int, *, actor: str) -> FactorSet:
    """Make factor set `set_id` the one new calculations use."""
    factor_set = db.session.get(FactorSet, set_id)
    if factor_set is None:
        raise DomainError(_l("There is no such factor set."))
    if factor_set.is_active:
        raise DomainError(_l("This set is already the active one."))
    activate_factor_set(factor_set, actor=actor)
    return factor_set


# --- unit prices ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceRow:
    price: UnitPrice
    in_force: bool
    scheduled: bool


def unit_price_rows(on: date | None = None) -> list[PriceRow]:
    """Every unit price by key, newest first, marked in force (the latest from a past date) or scheduled."""
    day = on or utcnow().astimezone(TOKYO).date()
    prices = list(db.session.scalars(
        select(UnitPrice).order_by(UnitPrice.key, UnitPrice.effective_from.desc(), UnitPrice.id.desc())))
    seen: set[str] = set()
    rows = []
    for price in prices:
        scheduled = price.effective_from > day
        in_force = not scheduled and price.key not in seen
        if in_force:
            seen.add(price.key)
        rows.append(PriceRow(price, in_force, scheduled))
    return rows


def unit_price_keys() -> list[UnitPrice]:
    """The latest row of each key (for its label and unit)."""
    latest: dict[str, UnitPrice] = {}
    for price in db.session.scalars(select(UnitPrice).order_by(UnitPrice.key, UnitPrice.effective_from, UnitPrice.id)):
        latest[price.key] = price
    return list(latest.values())


def add_unit_price(key: str, *, yen_per_unit: Decimal | None, effective_from: date | None, as_of: str,
                   confidence: str, source: str, actor: str) -> UnitPrice:
    """A new price for an existing key from a date; earlier prices stay in the history."""
    errors: dict[str, str] = {}
    latest = next((p for p in unit_price_keys() if p.key == key), None)
    if latest is None:
        errors["key"] = _l("Choose what the price is for.")
    if yen_per_unit is None:
        errors["yen_per_unit"] = _l("Enter the price in yen per unit.")
    elif not 0 < yen_per_unit <= MAX_YEN_PER_UNIT or yen_per_unit != yen_per_unit.quantize(Decimal("0.0001")):
        errors["yen_per_unit"] = _l("Enter a price above 0 with at most four decimals.")
    if effective_from is None:
        errors["effective_from"] = _l("Enter the date the price applies from.")
    as_of, source = (as_of or "").strip(), (source or "").strip()
    if not as_of:
        errors["as_of"] = _l("Enter the date or period the price refers to, for example 2027-04.")
    elif len(as_of) > MAX_AS_OF:
        errors["as_of"] = _l("Use at most %(max)d characters.", max=MAX_AS_OF)
    if confidence not in CONFIDENCE_MARKS:
        errors["confidence"] = _l("Choose a confidence mark.")
    if not source:
        errors["source"] = _l("Enter where the price comes from.")
    elif len(source) > MAX_SOURCE:
        errors["source"] = _l("Use at most %(max)d characters.", max=MAX_SOURCE)
    if not errors and db.session.scalar(select(UnitPrice.id).where(UnitPrice.key == key,
                                                                   UnitPrice.effective_from == effective_from)):
        errors["effective_from"] = _l("This key already has a price from that date.")
    if errors:
        raise InvalidInput(errors)
    # Narrows types: the checks above raised for None (bandit B101).
    assert latest is not None and yen_per_unit is not None and effective_from is not None  # nosec B101
    price = UnitPrice(key=key, label_ja=latest.label_ja, label_en=latest.label_en, unit=latest.unit,
                      yen_per_unit=yen_per_unit, as_of=as_of, confidence=confidence, source=source,
                      effective_from=effective_from)
    db.session.add(price)
    try:
        db.session.flush()
    except IntegrityError:  # the same key and date saved a moment ago in another request
        db.session.rollback()
        raise InvalidInput({"effective_from": _l("This key already has a price from that date.")}) from None
    add_audit(actor, "unit_price.add", "unit_price", price.id,
              {"key": key, "yen_per_unit": str(latest.yen_per_unit),
               "effective_from": latest.effective_from.isoformat()},
              {"key": key, "yen_per_unit": str(yen_per_unit), "effective_from": effective_from.isoformat(),
               "as_of": as_of, "confidence": confidence, "source": source})
    db.session.commit()
    return price


# --- accounts ------------------------------------------------------------------------------------

def accounts_for_review() -> list[User]:
    """Every account: organisers waiting for approval first (oldest first), then the rest."""
    pending_first = case((User.status == AccountStatus.PENDING, 0), else_=1)
    return list(db.session.scalars(select(User).order_by(pending_first, User.role, User.created_at.desc(), User.id)))


def _account_for_change(user_id: int, staff: User) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise DomainError(_l("There is no such account."))
    if user.id == staff.id:
        raise DomainError(_l("You cannot change the status of your own account."))
    if user.email == PROGRAMME_EMAIL:  # owns the household offset; nobody signs in with it
        raise DomainError(_l("The programme's own account cannot be changed."))
    if user.role != Role.ORGANISER and staff.role != Role.ADMIN:
        raise DomainError(_l("Only an administrator can change a staff account."))
    return user


def approve_account(user_id: int, *, staff: User, actor: str) -> User:
    """Let a pending or suspended account sign in (staff accounts: administrators only)."""
    return approve_organiser(_account_for_change(user_id, staff).email, actor=actor)


def suspend_account(user_id: int, *, staff: User, actor: str) -> User:
    """Stop an account signing in (never one's own; staff accounts: administrators only)."""
    return suspend_user(_account_for_change(user_id, staff).email, actor=actor)
