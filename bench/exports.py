"""Export speed at N contributions: CSV (both variants, both encodings) and XLSX through the export
registry, against `sqlite3 -csv` running an equivalent query on the same SQLite file.

    .venv/bin/python bench/exports.py 100000          # rows (default 100,000)

Prints seconds, rows/s and the ratio to sqlite3 for each. A benchmark, not a test: the figures
depend on the machine (issue 13 sets the targets: CSV <= 2.5x sqlite3 -csv, XLSX >= 15,000 rows/s).
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_babel import force_locale  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from resident_app import create_app  # noqa: E402
from resident_app.config import TestConfig  # noqa: E402
from resident_app.exporters import CONTRIBUTIONS, FileOptions, write_export  # noqa: E402
from resident_app.extensions import db  # noqa: E402
from resident_app.models import AddOn, Channel, Contribution, ContributionStatus  # noqa: E402
from resident_app.models.addons import new_token  # noqa: E402
from resident_app.services.defaults import load_defaults  # noqa: E402
from resident_app.services.programme import current_rate  # noqa: E402
from resident_app.services.programme_content import load_demo_content, load_programme_content  # noqa: E402

# What the contributions export selects, written by hand for sqlite3.
SQLITE_QUERY = """
SELECT c.number, c.paid_at, c.created_at, c.status, c.channel, a.id, a.slug, a.title_ja, a.title_en, a.kind,
       u.id, u.organisation, c.quantity, c.unit_price_yen, c.amount_yen, c.refunded_yen, c.co2_g,
       c.rate_yen_per_t, b.number, c.display_name
FROM contributions c JOIN addons a ON a.id = c.addon_id JOIN users u ON u.id = a.owner_id
LEFT JOIN batches b ON b.id = c.batch_id
WHERE c.status = 'paid'
ORDER BY coalesce(c.paid_at, c.created_at), c.id;
"""


def fill(count: int) -> None:
    load_defaults()
    load_programme_content()
    load_demo_content()
    addons = db.session.scalars(select(AddOn.id)).all()
    rate = current_rate()
    start = datetime(2026, 4, 1, tzinfo=timezone.utc)
    for first in range(0, count, 20_000):
        db.session.execute(insert(Contribution), [dict(
            number=f"OC-B-{n:08d}", certificate_token=new_token(), addon_id=addons[n % len(addons)],
            channel=Channel.STRIPE if n % 10 else Channel.CASH, status=ContributionStatus.PAID, quantity=1,
            unit_price_yen=100, amount_yen=100, co2_g=10_000, rate_id=rate.id, rate_yen_per_t=rate.yen_per_t,
            display_name=f"参加者 {n}" if n % 3 else "", receipt_email="", locale="ja",
            idempotency_key=f"bench-{uuid.uuid4()}", refunded_yen=0, flag_reason="", note="",
            created_at=start + timedelta(seconds=n), paid_at=start + timedelta(seconds=n))
            for n in range(first, min(first + 20_000, count))])
        db.session.commit()


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: steadier than the wall clock on a
    shared machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, work, rows: int, baseline: float | None) -> float:
    began, began_cpu = time.perf_counter(), cpu_seconds()
    work()
    seconds, cpu = time.perf_counter() - began, cpu_seconds() - began_cpu
    ratio = f"  {cpu / baseline:4.1f}x sqlite3" if baseline else ""
    print(f"{label:<26} {seconds:6.2f} s wall {cpu:6.2f} s CPU  {rows / cpu:>9,.0f} rows/s (CPU){ratio}")
    return cpu


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    folder = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    database = folder / "bench.sqlite3"
    config = type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        fill(count)
    print(f"{count:,} paid contributions in {database}")
    baseline = None
    if shutil.which("sqlite3"):
        def sqlite_csv():
            with open(folder / "sqlite.csv", "wb") as out:
                subprocess.run(["sqlite3", "-csv", str(database), SQLITE_QUERY], stdout=out, check=True)
        baseline = timed("sqlite3 -csv", sqlite_csv, count, None)
    with app.app_context(), force_locale("ja"):
        for label, options in (("CSV utf-8, codes", FileOptions("csv", "utf-8", "codes")),
                               ("CSV utf-8, labels (ja)", FileOptions("csv", "utf-8", "labels")),
                               ("CSV cp932, labels (ja)", FileOptions("csv", "cp932", "labels")),
                               ("XLSX, labels (ja)", FileOptions("xlsx", "utf-8", "labels")),
                               ("XLSX, codes", FileOptions("xlsx", "utf-8", "codes"))):
            target = folder / f"out.{options.file_format}"

            def work(options=options, target=target):
                with open(target, "wb") as out:
                    write_export(CONTRIBUTIONS, {}, options, out, locale="ja")
            timed(label, work, count, baseline)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    shutil.rmtree(folder)


if __name__ == "__main__":
    os.environ.setdefault("SECRET_KEY", "bench")
    main()
