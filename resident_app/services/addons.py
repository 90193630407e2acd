"""Offset add-ons that organisers and staff create: validation, create, update, and their figures."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from .days import TOKYO
from ..extensions import db
from ..models import AddOn, AddOnKind, Contribution, ContributionStatus, Event, User
from ..models.addons import new_slug
from .accounts import actor_name
from .audit import add_audit
from .errors import DomainError, InvalidInput
from .payments import units_sold

MIN_PRICE_YEN = 50          # Stripe's smallest JPY charge; also the table's check constraint
MAX_PRICE_YEN = 300_000     # the table's check constraint
MAX_UNITS = 1_000_000
MAX_TITLE = 200
MAX_PLACE = 200
MAX_DESCRIPTION = 4000
MAX_NOTE = 2000
ORGANISER_KINDS = tuple(k for k in AddOnKind if k != AddOnKind.HOUSEHOLD)  # household is the programme's own


@dataclass
class AddOnData:
    """An add-on's editable fields, already parsed (yen as int, sale times aware UTC)."""

    kind: AddOnKind | None = None
    title_ja: str = ""
    title_en: str = ""
    description_ja: str = ""
    description_en: str = ""
    unit_price_yen: int | None = None
    event_date: date | None = None
    place: str = ""
    emissions_note_ja: str = ""
    emissions_note_en: str = ""
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    max_units: int | None = None
    is_active: bool = True
    # Household offsets only: the resident chooses an amount between these bounds.
    min_amount_yen: int | None = None
    max_amount_yen: int | None = None
    # The offset event whose participants this add-on's surcharge is for (made from its estimate).
    event_id: int | None = None

    @classmethod
    def from_addon(cls, addon: AddOn) -> "AddOnData":
        return cls(**{name: getattr(addon, name) for name in cls.__dataclass_fields__})


def kinds_for(user: User) -> tuple[AddOnKind, ...]:
    """The kinds this person may choose: staff may also run a household offset."""
    return tuple(AddOnKind) if user.is_staff else ORGANISER_KINDS


def _price_range_error() -> str:
    return _l("Enter a price from %(low)s to %(high)s yen.", low=f"{MIN_PRICE_YEN:,}", high=f"{MAX_PRICE_YEN:,}")


def _too_long(value: str, limit: int) -> str | None:
    return _l("Use at most %(max)d characters.", max=limit) if len(value) > limit else None


def addon_errors(data: AddOnData, *, actor: User, addon: AddOn | None = None,
                 skip: Iterable[str] = ()) -> dict[str, str]:
    """Every reason the add-on is refused, by field; `skip` names fields the form already refused."""
    errors: dict[str, str] = {}
    if data.kind is None:
        errors["kind"] = _l("Choose what kind of add-on this is.")
    elif data.kind not in kinds_for(actor):
        errors["kind"] = _l("Household offsets are run by the programme itself. Choose another kind.")
    if not data.title_ja.strip():
        errors["title_ja"] = _l("Enter a title in Japanese.")
    for name, limit in (("title_ja", MAX_TITLE), ("title_en", MAX_TITLE), ("place", MAX_PLACE),
                        ("description_ja", MAX_DESCRIPTION), ("description_en", MAX_DESCRIPTION),
                        ("emissions_note_ja", MAX_NOTE), ("emissions_note_en", MAX_NOTE)):
        problem = _too_long(getattr(data, name), limit)
        if problem and name not in errors:
            errors[name] = problem
    if data.unit_price_yen is None:
        errors["unit_price_yen"] = _l("Enter the price in yen.")
    elif not MIN_PRICE_YEN <= data.unit_price_yen <= MAX_PRICE_YEN:
        errors["unit_price_yen"] = _price_range_error()
    if data.sale_starts_at and data.sale_ends_at and data.sale_ends_at <= data.sale_starts_at:
        errors["sale_ends_at"] = _l("The end of sales must come after the start.")
    if data.max_units is not None:
        sold = units_sold(addon) if addon is not None else 0
        if data.max_units < 1:
            errors["max_units"] = _l("Enter a cap of 1 or more, or leave it empty for no cap.")
        elif data.max_units > MAX_UNITS:
            errors["max_units"] = _l("Enter a cap of at most %(max)s.", max=f"{MAX_UNITS:,}")
        elif data.max_units < sold:
            errors["max_units"] = _l("%(count)s units are already paid for, so the cap cannot be lower.",
                                     count=f"{sold:,}")
    if data.kind == AddOnKind.HOUSEHOLD:
        errors.update(_bounds_errors(data))
    if data.event_id is not None:
        event = db.session.get(Event, data.event_id)
        if event is None or not (actor.is_staff or event.owner_id == actor.id):
            errors["event_id"] = _l("This add-on cannot be linked to that event.")
    for name in skip:
        errors.pop(name, None)
    return errors


def _bounds_errors(data: AddOnData) -> dict[str, str]:
    """A household offset: residents choose an amount within bounds that contain the default price."""
    errors: dict[str, str] = {}
    for name in ("min_amount_yen", "max_amount_yen"):
        value = getattr(data, name)
        if value is None:
            errors[name] = _l("Enter an amount in yen.")
        elif not MIN_PRICE_YEN <= value <= MAX_PRICE_YEN:
            errors[name] = _price_range_error()
    if errors or data.unit_price_yen is None:
        return errors
    low, high = data.min_amount_yen or 0, data.max_amount_yen or 0
    if low > high:
        errors["max_amount_yen"] = _l("The largest amount must not be smaller than the smallest.")
    elif not low <= data.unit_price_yen <= high:
        errors["unit_price_yen"] = _l("For a household offset the price is the suggested amount: keep it "
                                      "between the smallest and the largest amount.")
    return errors


def _clean(data: AddOnData) -> dict[str, Any]:
    fields = {name: getattr(data, name) for name in AddOnData.__dataclass_fields__}
    for name, value in fields.items():
        if isinstance(value, str):
            fields[name] = value.strip()
    household = data.kind == AddOnKind.HOUSEHOLD
    fields["variable_amount"] = household
    if not household:
        fields["min_amount_yen"] = fields["max_amount_yen"] = None
    return fields


def _snapshot(addon: AddOn) -> dict[str, Any]:
    """The add-on's fields as JSON for the audit log."""
    names = [*AddOnData.__dataclass_fields__, "variable_amount", "slug", "owner_id"]
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(addon, name)
        values[name] = value.isoformat() if isinstance(value, (date, datetime)) else (
            str(value) if isinstance(value, AddOnKind) else value)
    return values


def unique_slug(column: Any = AddOn.slug, length: int = 10) -> str:
    """A new slug that no row has yet in `column` (an add-on's link by default, an event's too)."""
    while True:  # 32^10 slugs: a clash is astronomically rare, but cheap to rule out
        slug = new_slug(length)
        if db.session.scalar(select(func.count()).where(column == slug)) == 0:
            return slug


def create_addon(data: AddOnData, *, actor: User) -> AddOn:
    """A new add-on owned by the actor, with its own unguessable link."""
    if not actor.is_active:
        raise DomainError(_l("Your account is not active, so you cannot create offset add-ons yet."))
    errors = addon_errors(data, actor=actor)
    if errors:
        raise InvalidInput(errors)
    addon = AddOn(slug=unique_slug(), owner_id=actor.id, is_public=True, **_clean(data))
    db.session.add(addon)
    db.session.flush()
    add_audit(actor_name(actor), "addon.create", "addon", addon.id, None, _snapshot(addon))
    db.session.commit()
    return addon


def update_addon(addon: AddOn, data: AddOnData, *, actor: User) -> AddOn:
    """Change an add-on. Contributions already made keep the price and rate they were paid at."""
    if not actor.is_active or not can_manage(actor, addon):
        raise DomainError(_l("You cannot change this offset add-on."))
    errors = addon_errors(data, actor=actor, addon=addon)
    if errors:
        raise InvalidInput(errors)
    before = _snapshot(addon)
    for name, value in _clean(data).items():
        setattr(addon, name, value)
    after = _snapshot(addon)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        add_audit(actor_name(actor), "addon.update", "addon", addon.id,
                  {k: before[k] for k in sorted(changed)}, {k: after[k] for k in sorted(changed)})
        db.session.commit()
    return addon


def can_manage(user: User, addon: AddOn) -> bool:
    """Organisers manage their own add-ons; staff and admins manage all of them."""
    return user.is_staff or addon.owner_id == user.id


def visible_addons(user: User) -> Select:
    """The add-ons this person may see, newest first (an event's top-up lives on the event's page)."""
    query = (select(AddOn).where(AddOn.is_event_topup.is_(False))
             .order_by(AddOn.created_at.desc(), AddOn.id.desc()))
    if user.is_staff:
        return query.options(selectinload(AddOn.owner))  # the dashboard names each organiser
    return query.where(AddOn.owner_id == user.id)


def addon_for(user: User, addon_id: int) -> AddOn | None:
    """The add-on if this person may see it; None whether it is missing or someone else's. An
    event's top-up is not edited as an add-on: the event's page pays it."""
    addon = db.session.get(AddOn, addon_id)
    if addon is None or addon.is_event_topup or not can_manage(user, addon):
        return None
    return addon


@dataclass(frozen=True)
class Totals:
    """Paid contributions only: units, yen and grams of CO2 (net of partial refunds)."""

    units: int = 0
    yen: int = 0
    co2_g: int = 0


def totals_by_addon(addon_ids: Iterable[int]) -> dict[int, Totals]:
    """Totals for each add-on id (add-ons with nothing paid are missing from the result)."""
    ids = list(addon_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Contribution.addon_id, func.sum(Contribution.quantity), func.sum(Contribution.net_yen),
               func.sum(Contribution.net_g))
        .where(Contribution.addon_id.in_(ids), Contribution.status == ContributionStatus.PAID)
        .group_by(Contribution.addon_id))
    return {addon_id: Totals(int(units), int(yen), int(grams)) for addon_id, units, yen, grams in rows}


def addon_totals(addon: AddOn) -> Totals:
    return totals_by_addon([addon.id]).get(addon.id, Totals())


@dataclass(frozen=True)
class DayTotals:
    day: date  # in Asia/Tokyo
    units: int
    yen: int
    co2_g: int


def daily_totals(addon: AddOn) -> list[DayTotals]:
    """Paid contributions by Asia/Tokyo day of payment, oldest first (days without any are absent).

    Bucketed in Python: SQLite and PostgreSQL disagree on time-zone functions, and the rows are small."""
    days: OrderedDict[date, list[int]] = OrderedDict()
    rows = db.session.execute(
        select(Contribution.paid_at, Contribution.quantity, Contribution.net_yen, Contribution.net_g)
        .where(Contribution.addon_id == addon.id, Contribution.status == ContributionStatus.PAID,
               Contribution.paid_at.is_not(None))
        .order_by(Contribution.paid_at)
        .execution_options(yield_per=1000))
    for paid_at, quantity, amount, grams in rows:
        bucket = days.setdefault(paid_at.astimezone(TOKYO).date(), [0, 0, 0])
        bucket[0] += quantity
        bucket[1] += amount
        bucket[2] += grams
    return [DayTotals(day, *values) for day, values in days.items()]

