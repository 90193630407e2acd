"""The reference data the calculator and the footprint API read on every keystroke, held by each
worker and read again only when it has changed.

A live update used to ask the database for the same dozen small rows every time (the active factor
set and its factors, the rate, unit prices, two tariffs and three adjustments, the menus, the
averages): about a third of its time. Now each worker keeps what those queries answered, and a
request asks one thing: the number in `reference_version`. Any change to those tables, by any
worker or CLI command, changes that number in the same transaction (a `before_flush` hook below,
and a hook for ORM bulk UPDATE/DELETE), so the next request anywhere reads them again. What is
kept is what the services return (frozen tariffs, yen per unit, Averages) or copies of the rows
that belong to no session, so no thread can see another's session.

Changing those tables with raw SQL outside the ORM does not change the number: whoever does that
runs `UPDATE reference_version SET version = version + 1` in the same transaction (README,
"Running in production")."""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from flask import current_app, g, has_app_context
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session, selectinload

from ..extensions import db
from ..models import (AddOn, AverageRowRecord, AverageSet, ConversionRate, ElectricityMenu, Factor, FactorSet,
                      ReferenceVersion, Tariff, TariffAdjustment, UnitPrice, User, utcnow)
from .programme_content import HOUSEHOLD_SLUG

# The tables whose rows the calculator reads; a change to any of them changes the version. Of the
# accounts, only a change of status counts (the household add-on's owner may be suspended).
TRACKED = (FactorSet, Factor, UnitPrice, ConversionRate, Tariff, TariffAdjustment, ElectricityMenu, AverageSet,
           AverageRowRecord, AddOn)
_MEMO_LIMIT = 64   # day- or size-keyed answers kept per version (days and household sizes are few)


def _copy(row: Any) -> Any:
    """A copy of an ORM row that belongs to no session: its columns only."""
    mapper = db.inspect(type(row))
    return type(row)(**{attr.key: getattr(row, attr.key) for attr in mapper.column_attrs})


def _copy_factor_set(row: FactorSet) -> FactorSet:
    copy = _copy(row)
    copy.factors = [_copy(factor) for factor in row.factors]
    return copy


@dataclass
class Reference:
    """One reading of the reference data at `version`; answers for a day or a size kept on first use."""

    version: int | None
    factor_set: FactorSet | None
    rates: list[ConversionRate]              # newest first
    listed_menus: list[ElectricityMenu]
    household_addon: AddOn | None            # the programme's household offset, its owner beside it
    _memo: dict[tuple, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rate(self, at: datetime | None = None) -> ConversionRate | None:
        """The rate in force at `at` (default now), as services.programme.current_rate chooses it."""
        moment = at or utcnow()
        return next((rate for rate in self.rates if rate.effective_from <= moment), None)

    def menu_by_key(self, key: str) -> ElectricityMenu | None:
        return next((menu for menu in self.listed_menus if menu.key == key), None) if isinstance(key, str) else None

    def _remember(self, key: tuple, compute: Callable[[], Any]) -> Any:
        try:
            return self._memo[key]
        except KeyError:
            pass
        value = compute()
        with self._lock:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = value
        return value

    def unit_prices(self, day: date) -> dict[str, Decimal]:
        """Yen per unit by key on `day`."""
        from .programme import current_unit_prices
        return self._remember(("prices", day), lambda: {key: price.yen_per_unit
                                                        for key, price in current_unit_prices(day).items()})

    def electricity_tariff(self, day: date):
        from .tariffs import electricity_tariff_on
        return self._remember(("electricity", day), lambda: electricity_tariff_on(day))

    def gas_tariff(self, day: date):
        from .tariffs import gas_tariff_on
        return self._remember(("gas", day), lambda: gas_tariff_on(day))

    def averages(self, persons: int, gasoline_kg_per_l: Decimal):
        from .averages import comparison_averages
        return self._remember(("averages", persons, gasoline_kg_per_l),
                              lambda: comparison_averages(persons, gasoline_kg_per_l))


_VERSION = select(ReferenceVersion.version).where(ReferenceVersion.id == 1)


def current_version() -> int | None:
    """The number in reference_version (None: no row, e.g. a database emptied by hand). On the
    session's connection, in its transaction, without the ORM's per-statement work (3x cheaper)."""
    return db.session.connection().execute(_VERSION).scalar()


def _load(version: int | None) -> Reference:
    factor_set = db.session.scalar(select(FactorSet).options(selectinload(FactorSet.factors))
                                   .where(FactorSet.is_active.is_(True), FactorSet.kind == "household"))
    rates = db.session.scalars(select(ConversionRate).order_by(ConversionRate.effective_from.desc(),
                                                               ConversionRate.id.desc()))
    menus = db.session.scalars(select(ElectricityMenu).where(ElectricityMenu.is_listed.is_(True))
                               .order_by(ElectricityMenu.sort_order, ElectricityMenu.id))
    addon = db.session.scalar(select(AddOn).where(AddOn.slug == HOUSEHOLD_SLUG))
    household = None
    if addon is not None:
        household = _copy(addon)
        household.owner = _copy(addon.owner)
    return Reference(version, _copy_factor_set(factor_set) if factor_set is not None else None,
                     [_copy(rate) for rate in rates], [_copy(menu) for menu in menus], household)


def reference() -> Reference:
    """This worker's reading of the reference data, read again if the version moved on. Within one
    request the version is read once."""
    if "reference" in g:
        return g.reference
    version = current_version()
    store = current_app.extensions.setdefault("resident_reference", {})
    held = store.get("current")
    if held is None or version is None or held.version != version:
        # The version is read before the data: data newer than the version is read again next
        # time, never data older than the version it is kept under.
        held = _load(version)
        if version is not None:
            store["current"] = held  # one assignment: a thread reads the old reading or the new
    g.reference = held
    return held


def bump(connection) -> None:
    """Change the version (in the caller's transaction); make the row if it is missing."""
    changed = connection.execute(update(ReferenceVersion).where(ReferenceVersion.id == 1)
                                 .values(version=ReferenceVersion.version + 1)).rowcount
    if not changed:
        connection.execute(insert(ReferenceVersion).values(id=1, version=secrets.randbits(62)))
    if has_app_context():
        g.pop("reference", None)


def _tracked_change(obj: object) -> bool:
    if isinstance(obj, TRACKED):
        return True
    return isinstance(obj, User) and db.inspect(obj).attrs.status.history.has_changes()


@event.listens_for(Session, "before_flush")
def _bump_on_change(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _tracked_change(obj):
            bump(session.connection())
            return


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk(state) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, (*TRACKED, User)):
        bump(state.session.connection())
