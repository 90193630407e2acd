"""`flask pool export`: the staff exports from the command line (kinds, filters and columns come
from the export registry, resident_app/exporters.py, as on the staff page); and `flask pool check`:
every invariant of the pool, recomputed."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from .exporters import FORMATS, REGISTRY, VARIANTS, read_file_options, staff_exports, write_export
from .services.exports import record_export
from .services.pool_check import run_checks
from .web.csv_export import ENCODINGS

CLI_ACTOR = "cli"


def _filter_options(command):
    """One option per filter name across the exports (--from, --to, --addon, --status...)."""
    seen: dict[str, object] = {}
    for export in staff_exports(admin=True):
        for item in export.filters:
            seen.setdefault(item.name, item)
    for name, item in reversed(list(seen.items())):
        kinds = ", ".join(e.identifier for e in staff_exports(admin=True) if item in e.filters)
        command = click.option(f"--{name}", f"filter_{name}", default="",
                               help=f"{item.hint} ({kinds}).")(command)
    return command


def register_pool_cli(app: Flask) -> None:
    """Add `export` and `check` to the `pool` command group (created here unless another module made it)."""
    group = app.cli.commands.get("pool")
    if group is None:
        group = AppGroup("pool", help="The municipal pool: contributions, totals and batches.")
        app.cli.add_command(group)

    kinds = [e.identifier for e in staff_exports(admin=True)]

    @group.command("export")
    @click.option("--kind", type=click.Choice(kinds), default="contributions", show_default=True,
                  help="contributions: one row each; totals: month x add-on; batches: purchases and "
                       "invalidations, corrections applied (by cut-off date); audit: the audit log.")
    @_filter_options
    @click.option("--format", "file_format", type=click.Choice(FORMATS), default="csv", show_default=True)
    @click.option("--encoding", type=click.Choice(ENCODINGS), default="utf-8", show_default=True,
                  help="CSV only: utf-8 (with BOM) or cp932 (Shift_JIS; characters it cannot hold become 〓).")
    @click.option("--variant", type=click.Choice(VARIANTS), default="labels", show_default=True,
                  help="labels: headers and codes in words (--lang); codes: stable column names and codes.")
    @click.option("--lang", type=click.Choice(["ja", "en"]), default=None,
                  help="The language of headers and labels (default: the site's default language).")
    @click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="The file to write (replaced if it exists).")
    def pool_export(kind: str, file_format: str, encoding: str, variant: str, lang: str | None, out: Path,
                    **filters: str) -> None:
        """Write an export (filters like the staff page's) as CSV or XLSX."""
        export = REGISTRY[kind]
        values = {name.removeprefix("filter_"): value for name, value in filters.items()}
        lang = lang or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(lang):
            params, errors = export.parse(values)
            options, option_errors = read_file_options({"format": file_format, "encoding": encoding,
                                                        "variant": variant})
            errors.update(option_errors)
            if errors:
                raise click.UsageError("; ".join(f"--{name}: {message}" for name, message in errors.items()))
            out = out.resolve()
            if not out.parent.is_dir():
                raise click.ClickException(f"no such folder: {out.parent}")
            # Written beside the target and renamed at the end: an interrupted export leaves no half file.
            handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
            try:
                with os.fdopen(handle, "wb") as target:
                    written = write_export(export, params, options, target, locale=lang)
                os.replace(temporary, out)
            except BaseException:
                if os.path.exists(temporary):
                    os.unlink(temporary)
                raise
        used = {name: value for name, value in values.items() if value and any(f.name == name for f in export.filters)}
        record_export(CLI_ACTOR, kind, {**used, "format": file_format, "encoding": encoding, "variant": variant,
                                        "lang": lang, "rows": written.rows, "file": out.name,
                                        "replaced": written.replaced or None})
        click.echo(f"{kind}: {written.rows} rows written to {out}")
        if written.replaced:
            click.echo(f"warning: {written.replaced} characters that Shift_JIS (CP932) cannot hold were written "
                       "as 〓; use --encoding utf-8 to keep them.", err=True)

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
