"""Issue 13's speed benchmark at CI size (`make bench QUICK=1`): the scripts run end to end on real
processes and write their report; no figure is judged here (figures belong to `make bench`)."""
from __future__ import annotations

import pytest

from bench import speed
from bench.stack import redis_answers, redis_url


@pytest.fixture
def needs_redis():
    if not redis_answers(redis_url()):
        pytest.skip(f"needs Redis at {redis_url()} (TEST_REDIS_URL): gunicorn's workers share rate limits")


def test_the_quick_speed_bench_measures_every_figure_and_writes_its_report(needs_redis, tmp_path):
    output = tmp_path / "results.md"
    assert speed.main(["--quick", "--only", "sqlite", "--contributions", "300", "--seconds", "1",
                       "--output", str(output)])
    report = output.read_text(encoding="utf-8")
    assert "## SQLite: 300 contributions" in report
    assert "QUICK (small sizes, nothing judged)" in report
    for figure in ("| hello |", "| calculator live update |", "| home page |", "| POST /api/v1/footprint |",
                   "| /transparency |", "| /transparency.json |", "| /api/v1/pool |", "| /api/v1/addons |",
                   "| staff dashboard |", "| sqlite3 -csv |", "| flask pool export CSV (codes) |",
                   "| flask pool export XLSX (labels, ja) |", "Calculator page on a phone, gzip",
                   "calculator live fragment", "static files fingerprinted"):
        assert figure in report, figure
    assert "**missed**" not in report and "| met |" not in report  # a quick run judges nothing
