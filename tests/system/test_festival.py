"""Issue 15's load test at CI size: a crowd behind one address pays, organisers watch the tally,
nothing is lost (`make bench` runs the same code with 500 residents)."""
from __future__ import annotations

from bench import festival


def test_a_crowd_behind_one_address_all_pays_and_nothing_is_lost(stack):
    figures = festival.run(60, arrival_seconds=10, viewers=10, stack=stack)
    print("\n" + festival.report(figures))
    assert figures["passed"], figures["checks"]
    assert figures["ledger"]["paid_yen"] == 6_000 and figures["ledger"]["co2_g"] == 600_000
    assert set(figures["p95_seconds"]) >= {"open", "checkout", "pay_page", "pay", "thanks", "certificate", "tally"}
