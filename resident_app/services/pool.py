"""Read-only figures about the pool, shared by the API, the pages, the dashboard and the exports.

The pool's totals come from the ledger (its running sums); the breakdowns by month, add-on, kind
and organiser sum the same contributions net of refunds, so their totals agree with the ledger's.
The pool_totals_by_* functions count the contributions (any period, one organiser's); the
dashboard's whole-pool breakdowns come from the ledger's running totals by month and add-on
(dashboard_totals), which `flask pool check` and the tests hold equal to those counts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from ..carbon.conversion import grams_for_yen
from ..carbon.pool import pool_balance_g
from ..extensions import db
from ..models import AddOn, AddOnKind, Contribution, ContributionStatus, DisputeStatus, PoolAwaiting, User
from ..models.ledger import NO_ADDON, POOL_ROW_ID
from .ledger import pool_state
from .programme import current_rate


@dataclass(frozen=True)
class PoolFigures:
    contributions: int
    paid_yen: int
    co2_g: int
    retired_t: int
    balance_g: int
    rate_yen_per_t: int

    @property
    def grams_per_100_yen(self) -> int:
        return grams_for_yen(100, self.rate_yen_per_t) if self.rate_yen_per_t else 0

    def as_json(self) -> dict[str, int]:
        return {"contributions": self.contributions, "paid_yen": self.paid_yen, "co2_g": self.co2_g,
                "retired_t": self.retired_t, "balance_g": self.balance_g,
                "rate_yen_per_t": self.rate_yen_per_t}


def pool_figures() -> PoolFigures:
    """The pool's totals: the ledger's running sums on the pool row (never a scan of the
    contributions; `flask pool check` recounts them from the ledger and the tables)."""
    state = pool_state()
    rate = current_rate()
    return PoolFigures(int(state.contributions), int(state.paid_yen), int(state.co2_g), int(state.retired_t),
                       pool_balance_g(int(state.retired_t), int(state.retired_g)), rate.yen_per_t if rate else 0)


def retired_tonnes() -> int:
    """Tonnes invalidated for confirmed batches, after corrections (the ledger's sum of tonnes)."""
    return int(pool_state().retired_t)


def retired_contributions_g() -> int:
    """Grams of contributions those tonnes cover: retired less what refunds and lost disputes gave back."""
    return int(pool_state().retired_g)


def balance_g() -> int:
    """The carried balance (surplus): retired tonnes × 1,000,000 − grams still covered by them."""
    state = pool_state()
    return pool_balance_g(int(state.retired_t), int(state.retired_g))


@dataclass(frozen=True)
class Awaiting:
    """Paid contributions that no batch has taken yet (not those under dispute: no batch may)."""

    count: int
    paid_yen: int
    co2_g: int


def awaiting_figures() -> Awaiting:
    """What awaits the next batch, from the row the contributions' triggers keep (one row read,
    whatever the number of contributions; no row yet means none)."""
    row = db.session.execute(select(PoolAwaiting.contributions, PoolAwaiting.yen, PoolAwaiting.co2_g)
                             .where(PoolAwaiting.id == POOL_ROW_ID)).one_or_none()
    return Awaiting(*(int(v) for v in row)) if row is not None else Awaiting(0, 0, 0)


def awaiting_recount() -> Awaiting:
    """awaiting_figures summed from the contributions again (a scan: for `flask pool check`)."""
    count, paid_yen, co2_g = db.session.execute(
        select(func.count(Contribution.id), func.coalesce(func.sum(Contribution.net_yen), 0),
               func.coalesce(func.sum(Contribution.net_g), 0))
        .where(Contribution.status == ContributionStatus.PAID, Contribution.batch_id.is_(None),
               Contribution.dispute_status != DisputeStatus.OPEN)).one()
    return Awaiting(int(count), int(paid_yen), int(co2_g))


# --- totals for the dashboard and the exports ---------------------------------------------------

@dataclass(frozen=True)
class MonthTotal:
    month: str          # "2026-12", the month of payment in Asia/Tokyo
    count: int
    paid_yen: int
    co2_g: int


@dataclass(frozen=True)
class AddOnTotal:
    addon_id: int
    slug: str
    title_ja: str
    title_en: str
    kind: AddOnKind
    owner_id: int
    count: int
    paid_yen: int
    co2_g: int


@dataclass(frozen=True)
class KindTotal:
    kind: AddOnKind
    count: int
    paid_yen: int
    co2_g: int


@dataclass(frozen=True)
class OrganiserTotal:
    owner_id: int
    organisation: str
    count: int
    paid_yen: int
    co2_g: int


def _sums() -> tuple[ColumnElement[Any], ...]:
    return (func.count(Contribution.id), func.coalesce(func.sum(Contribution.net_yen), 0),
            func.coalesce(func.sum(Contribution.net_g), 0))


def _paid(query: Select, *, owner_id: int | None, start: datetime | None, end: datetime | None) -> Select:
    """Counted contributions only (paid, disputed or not, net of partial refunds); optionally one
    organiser's add-ons and paid_at in [start, end)."""
    query = query.where(Contribution.status == ContributionStatus.PAID)
    if owner_id is not None:
        query = query.where(AddOn.owner_id == owner_id)
    if start is not None:
        query = query.where(Contribution.paid_at >= start)
    if end is not None:
        query = query.where(Contribution.paid_at < end)
    return query


def _tokyo_month() -> ColumnElement[str]:
    if db.session.get_bind().dialect.name == "sqlite":  # stored as naive UTC text
        # Whole seconds first: SQLite's date arithmetic rounds 23:59:59.999999 up into the next month.
        return func.strftime("%Y-%m", func.substr(Contribution.paid_at, 1, 19), "+9 hours")
    return func.to_char(func.timezone("Asia/Tokyo", Contribution.paid_at), "YYYY-MM")


def pool_totals_by_month(*, owner_id: int | None = None, start: datetime | None = None,
                         end: datetime | None = None) -> list[MonthTotal]:
    """Paid contributions per month of payment (Asia/Tokyo), oldest first."""
    month = _tokyo_month().label("month")
    query = _paid(select(month, *_sums()).select_from(Contribution)
                  .join(AddOn, AddOn.id == Contribution.addon_id),
                  owner_id=owner_id, start=start, end=end).group_by(month).order_by(month)
    return [MonthTotal(str(m), int(c), int(y), int(g)) for m, c, y, g in db.session.execute(query)]


def pool_totals_by_addon(*, owner_id: int | None = None, start: datetime | None = None,
                         end: datetime | None = None) -> list[AddOnTotal]:
    """Paid contributions per add-on, largest amount first."""
    query = _paid(select(AddOn.id, AddOn.slug, AddOn.title_ja, AddOn.title_en, AddOn.kind, AddOn.owner_id,
                         *_sums()).join(Contribution, Contribution.addon_id == AddOn.id),
                  owner_id=owner_id, start=start, end=end)
    query = query.group_by(AddOn.id, AddOn.slug, AddOn.title_ja, AddOn.title_en, AddOn.kind, AddOn.owner_id)
    rows = db.session.execute(query.order_by(func.sum(Contribution.net_yen).desc(), AddOn.id))
    return [AddOnTotal(i, s, tj, te, AddOnKind(k), o, int(c), int(y), int(g))
            for i, s, tj, te, k, o, c, y, g in rows]


def pool_totals_by_kind(*, owner_id: int | None = None, start: datetime | None = None,
                        end: datetime | None = None) -> list[KindTotal]:
    """Paid contributions per kind of add-on (bus fare, event ticket, household...)."""
    query = _paid(select(AddOn.kind, *_sums()).join(Contribution, Contribution.addon_id == AddOn.id),
                  owner_id=owner_id, start=start, end=end).group_by(AddOn.kind).order_by(AddOn.kind)
    return [KindTotal(AddOnKind(k), int(c), int(y), int(g)) for k, c, y, g in db.session.execute(query)]


def pool_totals_by_organiser(*, start: datetime | None = None,
                             end: datetime | None = None) -> list[OrganiserTotal]:
    """Paid contributions per organiser (owner of the add-on), largest amount first."""
    query = _paid(select(User.id, User.organisation, *_sums())
                  .join(AddOn, AddOn.owner_id == User.id)
                  .join(Contribution, Contribution.addon_id == AddOn.id),
                  owner_id=None, start=start, end=end).group_by(User.id, User.organisation)
    rows = db.session.execute(query.order_by(func.sum(Contribution.net_yen).desc(), User.id))
    return [OrganiserTotal(i, o, int(c), int(y), int(g)) for i, o, c, y, g in rows]


@dataclass(frozen=True)
class DashboardTotals:
    figures: PoolFigures
    months: list[MonthTotal]
    addons: list[AddOnTotal]
    kinds: list[KindTotal]
    organisers: list[OrganiserTotal]


def dashboard_totals() -> DashboardTotals:
    """The pool's figures and the four breakdowns of pool_totals_by_* (months of payment, add-ons,
    kinds, organisers; the same rows, order and figures) from the running totals by month and
    add-on: a few hundred rows whatever the number of contributions."""
    from .open_ledger import read_rollup  # open_ledger -> exports -> this module

    state, rollup = read_rollup()
    rate = current_rate()
    figures = PoolFigures(int(state.contributions), int(state.paid_yen), int(state.co2_g), int(state.retired_t),
                          pool_balance_g(int(state.retired_t), int(state.retired_g)), rate.yen_per_t if rate else 0)
    by_month: dict[str, list[int]] = {}
    by_addon: dict[int, list[int]] = {}
    for _month, paid_month, addon_id, sums in rollup.rows:
        if addon_id == NO_ADDON:
            continue
        for key, into in ((paid_month, by_month), (addon_id, by_addon)):
            total = into.setdefault(key, [0, 0, 0])  # type: ignore[arg-type]
            total[0] += sums.contributions
            total[1] += sums.yen
            total[2] += sums.co2_g
    # A month or add-on whose every contribution was refunded counts none: the counts leave it out too.
    months = [MonthTotal(m, *t) for m, t in sorted(by_month.items()) if t[0]]
    addons_by_id = {a.id: a for a in db.session.scalars(select(AddOn).where(AddOn.id.in_(list(by_addon))))}
    addons = sorted((AddOnTotal(i, a.slug, a.title_ja, a.title_en, AddOnKind(a.kind), a.owner_id, *by_addon[i])
                     for i, a in addons_by_id.items() if by_addon[i][0]), key=lambda t: (-t.paid_yen, t.addon_id))
    kinds: dict[AddOnKind, list[int]] = {}
    owners: dict[int, list[int]] = {}
    for total in addons:
        for key, into in ((total.kind, kinds), (total.owner_id, owners)):
            sums = into.setdefault(key, [0, 0, 0])  # type: ignore[arg-type]
            sums[0] += total.count
            sums[1] += total.paid_yen
            sums[2] += total.co2_g
    names = dict(db.session.execute(select(User.id, User.organisation).where(User.id.in_(list(owners)))).all())
    return DashboardTotals(
        figures, months, addons,
        [KindTotal(k, *kinds[k]) for k in sorted(kinds, key=lambda k: k.value)],
        sorted((OrganiserTotal(o, names.get(o, ""), *t) for o, t in owners.items()),
               key=lambda t: (-t.paid_yen, t.owner_id)))
