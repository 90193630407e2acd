"""`flask pool check`: every invariant of the pool recomputed from the ledger and the tables, one
line each with its figures. Read only; a full recount, so it scans (run it from the command line
or CI, never from a page).

The invariants: the running totals equal a recount of the ledger, and what awaits the next batch
a recount of the contributions; each contribution's entries equal its paid-and-refunded figures
(no payment counted twice); each contribution sits in at most one batch and no refunded or
disputed one waits in an open batch; the tonnes retired cover the grams retired and the balance
never went negative at any point of the ledger's history; the published per-batch figures equal
the ledger's; open batches owe what they hold; and the open data (the ledger download, the
transparency report, /api/v1/pool) reproduces every total."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, or_, select

from ..carbon.conversion import GRAMS_PER_TONNE
from ..extensions import db
from ..models import Batch, BatchStatus, Contribution, ContributionStatus, DisputeStatus, LedgerEntry, PoolRollup
from ..models.enums import LEDGER_IN
from .ledger import ROLLUP_MEASURES, pool_state
from .open_ledger import (ledger_by_batch, ledger_by_month, ledger_by_programme, ledger_rows, ledger_totals,
                          recount_rollup, sum_public_rows)
from .pool import awaiting_figures, awaiting_recount, pool_figures
from .register import batch_view
from .transparency import report_json, transparency_report

SHOWN = 5  # ids named in a failing line


@dataclass(frozen=True)
class CheckLine:
    name: str
    ok: bool
    figures: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.figures}"


def _ids(rows) -> str:
    ids = [str(r) for r in rows[:SHOWN]]
    return ", ".join(ids) + (" …" if len(rows) > SHOWN else "")


def check_running_totals() -> CheckLine:
    state, recount = pool_state(), ledger_totals()
    pairs = {"entries": (state.entries, recount.entries), "contributions": (state.contributions, recount.contributions),
             "paid_yen": (state.paid_yen, recount.yen), "co2_g": (state.co2_g, recount.co2_g),
             "retired_g": (state.retired_g, recount.retired_g), "retired_t": (state.retired_t, recount.tonnes),
             "credits_yen": (state.credits_yen, recount.credits_yen)}
    head = db.session.scalar(select(func.coalesce(func.max(LedgerEntry.id), 0)))
    wrong = [f"{k} {a:,} ≠ {b:,}" for k, (a, b) in pairs.items() if a != b]
    if state.last_entry_id != head:
        wrong.append(f"head {state.last_entry_id} ≠ {head}")
    text = (f"{recount.entries:,} entries up to #{head}, ¥{recount.yen:,}, {recount.co2_g:,} g, "
            f"{recount.tonnes:,} t, {recount.retired_g:,} g retired, ¥{recount.credits_yen:,} on credits")
    return CheckLine("running totals = ledger recount", not wrong, "; ".join(wrong) or text)


def check_rollups() -> CheckLine:
    """The running totals by month and add-on (what the transparency report and the dashboard read)
    against the ledger summed by month and add-on again, row by row."""
    state = pool_state()
    stored = {(m, p, int(a)): tuple(int(v) for v in values) for m, p, a, *values in db.session.execute(
        select(PoolRollup.month, PoolRollup.paid_month, PoolRollup.addon_id,
               *(getattr(PoolRollup, name) for name in ROLLUP_MEASURES)))}
    recount = {(m, p, a): (s.entries, s.contributions, s.yen, s.co2_g, s.retired_g, s.tonnes, s.credits_yen)
               for m, p, a, s in recount_rollup(int(state.last_entry_id)).rows}
    wrong = sorted(key for key in stored.keys() | recount.keys() if stored.get(key) != recount.get(key))
    months = ledger_by_month(int(state.last_entry_id))
    programmes = ledger_by_programme(int(state.last_entry_id))
    text = (f"{len(stored)} rows (month × month paid × add-on) = the ledger summed again; "
            f"{len(months)} month(s), {sum(1 for p in programmes.values() if p.entries)} programme(s)")
    if wrong:
        text = f"{len(wrong)} row(s) differ from the ledger: " + ", ".join(f"{m}/{p or '-'}/{a}" for m, p, a in wrong[:SHOWN])
    return CheckLine("totals by month and add-on = ledger recount", not wrong, text)


def check_awaiting() -> CheckLine:
    """What awaits the next batch (the dashboard's figures, kept by the contributions' triggers)
    against the contributions summed again."""
    kept, recount = awaiting_figures(), awaiting_recount()
    text = f"{recount.count:,} contributions, ¥{recount.paid_yen:,}, {recount.co2_g:,} g"
    if kept != recount:
        text = f"kept {kept.count:,}, ¥{kept.paid_yen:,}, {kept.co2_g:,} g ≠ counted {text}"
    return CheckLine("awaiting the next batch = contributions recount", kept == recount, text)


def check_contributions() -> CheckLine:
    """Per contribution: paid ones have one entry in and entries summing to what they keep;
    refunded ones sum to zero; the rest have none."""
    entries = (select(LedgerEntry.contribution_id.label("cid"), func.sum(LedgerEntry.yen).label("yen"),
                      func.sum(LedgerEntry.co2_g).label("g"),
                      func.sum(case((LedgerEntry.kind.in_(LEDGER_IN), 1), else_=0)).label("ins"))
               .where(LedgerEntry.contribution_id.is_not(None)).group_by(LedgerEntry.contribution_id).subquery())
    paid = Contribution.status == ContributionStatus.PAID
    counted = Contribution.status.in_((ContributionStatus.PAID, ContributionStatus.REFUNDED))
    want_yen = case((paid, Contribution.net_yen), else_=literal(0))
    want_g = case((paid, Contribution.net_g), else_=literal(0))
    want_ins = case((counted, 1), else_=0)
    got_yen, got_g, got_ins = (func.coalesce(entries.c.yen, 0), func.coalesce(entries.c.g, 0),
                               func.coalesce(entries.c.ins, 0))
    wrong = db.session.scalars(
        select(Contribution.id).outerjoin(entries, entries.c.cid == Contribution.id)
        .where(or_(got_yen != want_yen, got_g != want_g, got_ins != want_ins)).order_by(Contribution.id)).all()
    count, yen, grams = db.session.execute(
        select(func.count(Contribution.id), func.coalesce(func.sum(Contribution.net_yen), 0),
               func.coalesce(func.sum(Contribution.net_g), 0)).where(paid)).one()
    state = pool_state()
    totals_ok = (state.contributions, state.paid_yen, state.co2_g) == (count, yen, grams)
    text = f"{count:,} paid, ¥{yen:,}, {grams:,} g"
    if wrong:
        text += f"; {len(wrong)} contribution(s) disagree with their entries: {_ids(wrong)}"
    if not totals_ok:
        text += f"; the ledger says {state.contributions:,}, ¥{state.paid_yen:,}, {state.co2_g:,} g"
    return CheckLine("each payment counted once, net of refunds", not wrong and totals_ok, text)


def check_batch_membership() -> CheckLine:
    stray = db.session.scalars(
        select(Contribution.id).join(Batch, Batch.id == Contribution.batch_id)
        .where(Batch.status != BatchStatus.INVALIDATED,
               or_(Contribution.status != ContributionStatus.PAID,
                   Contribution.dispute_status == DisputeStatus.OPEN)).order_by(Contribution.id)).all()
    unpaid_retired = db.session.scalars(
        select(Contribution.id).join(Batch, Batch.id == Contribution.batch_id)
        .where(Batch.status == BatchStatus.INVALIDATED,
               Contribution.status.not_in((ContributionStatus.PAID, ContributionStatus.REFUNDED)))).all()
    batched = db.session.scalar(select(func.count(Contribution.id)).where(Contribution.batch_id.is_not(None)))
    text = f"{batched:,} contributions in batches (one batch_id each)"
    if stray:
        text += f"; refunded or disputed in an open batch: {_ids(stray)}"
    if unpaid_retired:
        text += f"; never paid but retired: {_ids(unpaid_retired)}"
    return CheckLine("each contribution in at most one batch", not stray and not unpaid_retired, text)


def check_cover() -> CheckLine:
    """retired_t × 10^6 = retired grams + balance, the balance is not negative now, and it never
    was after any entry of the ledger's history."""
    state = pool_state()
    retired_g = int(db.session.scalar(
        select(func.coalesce(func.sum(Contribution.net_g), 0)).join(Batch, Batch.id == Contribution.batch_id)
        .where(Batch.status == BatchStatus.INVALIDATED, Contribution.status == ContributionStatus.PAID)) or 0)
    shown_t = sum(batch_view(b).invalidated_t for b in db.session.scalars(
        select(Batch).where(Batch.status == BatchStatus.INVALIDATED)))
    lowest, lowest_at, tonnes, grams = 0, 0, 0, 0
    with db.session.execute(select(LedgerEntry.id, LedgerEntry.tonnes, LedgerEntry.retired_g)
                            .order_by(LedgerEntry.id).execution_options(yield_per=5000)) as rows:
        for seq, t, g in rows:
            tonnes, grams = tonnes + t, grams + g
            if tonnes * GRAMS_PER_TONNE - grams < lowest:
                lowest, lowest_at = tonnes * GRAMS_PER_TONNE - grams, seq
    balance = state.retired_t * GRAMS_PER_TONNE - state.retired_g
    ok = balance >= 0 and lowest >= 0 and state.retired_g == retired_g and state.retired_t == shown_t
    text = (f"{state.retired_t:,} t × 1,000,000 = {state.retired_g:,} g retired + {balance:,} g balance; "
            f"lowest balance in the ledger {lowest:,} g")
    if lowest < 0:
        text += f" (after entry #{lowest_at})"
    if state.retired_g != retired_g:
        text += f"; contributions in confirmed batches hold {retired_g:,} g"
    if state.retired_t != shown_t:
        text += f"; the invalidations shown (after corrections) count {shown_t:,} t"
    return CheckLine("tonnes retired cover the grams retired; balance never negative", ok, text)


def check_batches() -> CheckLine:
    """Each confirmed batch's published figures against its ledger entries and its contributions."""
    per_batch = ledger_by_batch(pool_state().last_entry_id)
    held = dict(db.session.execute(
        select(Contribution.batch_id, func.sum(Contribution.net_g)).where(Contribution.status == ContributionStatus.PAID,
                                                                        Contribution.batch_id.is_not(None))
        .group_by(Contribution.batch_id)).all())
    confirmed = db.session.scalars(select(Batch).where(Batch.status == BatchStatus.INVALIDATED).order_by(Batch.id)).all()
    wrong = []
    for batch in confirmed:
        ledger, view = per_batch.get(batch.id), batch_view(batch)
        total_yen = view.purchase.total_yen if view.purchase else 0
        if ledger is None or (ledger.retired_g, ledger.tonnes, ledger.credits_yen) != \
                (batch.owed_g, view.invalidated_t, total_yen) or \
                ledger.retired_g - ledger.released_g != int(held.get(batch.id) or 0):
            wrong.append(batch.number)
    text = f"{len(confirmed)} confirmed batch(es): owed, released, tonnes and credits agree with the ledger"
    if wrong:
        text = f"{len(wrong)} of {len(confirmed)} confirmed batches disagree: {_ids(wrong)}"
    return CheckLine("published per-batch figures = the ledger's", not wrong, text)


def check_open_batches() -> CheckLine:
    held = {bid: (n, y, g) for bid, n, y, g in db.session.execute(
        select(Contribution.batch_id, func.count(Contribution.id), func.sum(Contribution.net_yen),
               func.sum(Contribution.net_g)).where(Contribution.status == ContributionStatus.PAID)
        .group_by(Contribution.batch_id))}
    batches = db.session.scalars(select(Batch).where(Batch.status != BatchStatus.INVALIDATED).order_by(Batch.id)).all()
    wrong = [b.number for b in batches
             if (b.contribution_count, b.paid_yen, b.owed_g) != tuple(int(v or 0) for v in held.get(b.id, (0, 0, 0)))]
    text = f"{len(batches)} open batch(es) owe what they hold"
    if wrong:
        text = f"{len(wrong)} open batch(es) disagree with their contributions: {_ids(wrong)}"
    return CheckLine("open batches owe what they hold", not wrong, text)


def check_open_data() -> CheckLine:
    """Sum the public download as a spreadsheet would and compare with what is published."""
    report = transparency_report()
    head = report.ledger_head
    sums = sum_public_rows(ledger_rows(head))
    api = pool_figures().as_json()
    data = report_json(report, lambda _id: None)
    published = {
        "contributions": (sums.contributions, api["contributions"], data["pool"]["contributions"],
                          sum(m["contributions"] for m in data["months"]),
                          sum(p["contributions"] for p in data["programmes"])),
        "paid_yen": (sums.yen, api["paid_yen"], data["pool"]["paid_yen"], sum(m["paid_yen"] for m in data["months"]),
                     sum(p["paid_yen"] for p in data["programmes"])),
        "co2_g": (sums.co2_g, api["co2_g"], data["pool"]["co2_g"], sum(m["co2_g"] for m in data["months"]),
                  sum(p["co2_g"] for p in data["programmes"])),
        "retired_t": (sums.tonnes, api["retired_t"], data["pool"]["retired_t"],
                      sum(m["invalidated_t"] for m in data["months"]), sum(b["invalidated_t"] for b in data["batches"])),
        "balance_g": (sums.balance_g, api["balance_g"], data["pool"]["balance_g"],
                      sum(b["surplus_added_g"] for b in data["batches"])),
        "credits_spent_yen": (sums.credits_yen, data["credits_spent_yen"], sum(b["credits_yen"] for b in data["batches"])),
        "awaiting_g": (sums.co2_g - sums.retired_g, data["awaiting_g"]),
    }
    wrong = [f"{name} {' / '.join(f'{v:,}' for v in values)}" for name, values in published.items()
             if len(set(values)) != 1]
    text = (f"ledger.csv rows 1..#{head}: contributions {sums.contributions:,}, paid_yen {sums.yen:,}, "
            f"co2_g {sums.co2_g:,}, retired_t {sums.tonnes:,}, balance_g {sums.balance_g:,} = /api/v1/pool, "
            "transparency.json (totals, months, programmes, batches)")
    return CheckLine("open data reproduces every total", not wrong, "; ".join(wrong) or text)


CHECKS = (check_running_totals, check_rollups, check_awaiting, check_contributions, check_batch_membership,
          check_cover, check_batches, check_open_batches, check_open_data)


def run_checks() -> list[CheckLine]:
    """Every invariant, in order."""
    return [check() for check in CHECKS]
