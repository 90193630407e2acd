"""`flask pool export`: the staff exports from the command line, the same rows as the pages; and
`flask pool check`: every invariant of the pool, recomputed."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from .models import ContributionStatus
from .services.exports import KINDS, export_rows, record_export, tokyo_period
from .services.pool_check import run_checks
from .web.csv_export import encode_rows
from .web.xlsx_export import write_xlsx

CLI_ACTOR = "cli"
STATUSES = ("all", *(s.value for s in ContributionStatus))


class _Counted:
    """Passes rows through, counting them."""

    def __init__(self, rows) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def _write_csv(rows, handle) -> int:
    """Write the rows as CSV (UTF-8 with BOM); returns the number of data rows."""
    counted = _Counted(rows)
    for chunk in encode_rows(counted):
        handle.write(chunk)
    return max(counted.count - 1, 0)  # less the header


def register_pool_cli(app: Flask) -> None:
    """Add `export` and `check` to the `pool` command group (created here unless another module made it)."""
    group = app.cli.commands.get("pool")
    if group is None:
        group = AppGroup("pool", help="The municipal pool: contributions, totals and batches.")
        app.cli.add_command(group)

    @group.command("export")
    @click.option("--from", "first", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="First day (Asia/Tokyo), included.")
    @click.option("--to", "last", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="Last day (Asia/Tokyo), included.")
    @click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
    @click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="The file to write (replaced if it exists).")
    @click.option("--kind", type=click.Choice(KINDS), default="contributions", show_default=True,
                  help="contributions: one row each; totals: month x add-on; batches: purchases and "
                       "invalidations, corrections applied (by cut-off date).")
    @click.option("--status", type=click.Choice(STATUSES), default="paid", show_default=True,
                  help="Contributions only: which status to export.")
    def pool_export(first, last, file_format: str, out: Path, kind: str, status: str) -> None:
        """Write an export for the days FROM to TO (Asia/Tokyo) as CSV (UTF-8 with BOM) or XLSX."""
        if last.date() < first.date():
            raise click.BadParameter("--to is before --from", param_hint="--to")
        start, end = tokyo_period(first.date(), last.date())
        rows = export_rows(kind, start=start, end=end,
                           status=None if status == "all" else ContributionStatus(status))
        out = out.resolve()
        if not out.parent.is_dir():
            raise click.ClickException(f"no such folder: {out.parent}")
        # Written beside the target and renamed at the end: an interrupted export leaves no half file.
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as target:
                count = _write_csv(rows, target) if file_format == "csv" else write_xlsx(rows, target, sheet_title=kind)
            os.replace(temporary, out)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        record_export(CLI_ACTOR, kind, {"format": file_format, "from": first.date().isoformat(),
                                        "to": last.date().isoformat(), "rows": count, "file": out.name,
                                        "status": status if kind == "contributions" else None})
        click.echo(f"{kind}: {count} rows written to {out}")

    @group.command("check")
    def pool_check() -> None:
        """Recompute every invariant of the pool from the ledger and the tables, one line each with
        its figures; exit with status 1 if any is broken."""
        lines = run_checks()
        for line in lines:
            click.echo(str(line))
        broken = sum(1 for line in lines if not line.ok)
        click.echo(f"{len(lines) - broken} of {len(lines)} invariants hold.")
        if broken:
            raise SystemExit(1)
