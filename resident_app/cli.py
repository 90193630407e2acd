"""`flask seed` and `flask factors ...`: commands for staff and for set-up."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .cli_params import DAY, WHOLE_NUMBER
from .extensions import db
from .models import FactorSet
from .services import DomainError
from .services.defaults import load_defaults
from .services.programme_content import load_demo_content, load_programme_content
from .services.factors import activate_factor_set, load_factor_set, read_factor_csv
from .services.receipt_emails import forget_receipt_emails

CLI_ACTOR = "cli"


def register_cli(app: Flask) -> None:
    from .payments.cli import register_payments_cli
    from .bench_seed import register_bench_cli
    from .pool_cli import register_pool_cli

    register_pool_cli(app)
    register_bench_cli(app)
    register_payments_cli(app)

    @app.cli.command("seed")
    @click.option("--demo", is_flag=True, help="Also load demo organisers and add-ons (development only).")
    @click.option("--new-demo-passwords", is_flag=True,
                  help="With --demo: give the demo accounts new random passwords and print them.")
    def seed(demo: bool, new_demo_passwords: bool) -> None:
        """Load the default factors, unit prices, rate and programme add-on (safe to run again)."""
        if demo and current_app.config.get("STRIPE_SECRET_KEY", "").startswith("sk_live_"):
            raise click.ClickException("--demo is for development: this app takes real payments (sk_live_ key)")
        result = load_defaults()
        load_programme_content()
        if demo:
            shown = load_demo_content(new_passwords=new_demo_passwords)
            for email, password in shown.items():
                # Printed once, here: only the hash is stored. `--new-demo-passwords` prints new ones.
                click.echo(f"demo account {email} password: {password}")
            if not shown:
                click.echo("demo accounts already there (their passwords were printed when they were created; "
                           "`flask seed --demo --new-demo-passwords` prints new ones)")
        click.echo(
            "defaults: factor set {}, event factor set {}, {} unit prices added, {} tariff rows added, "
            "{} electricity menus added, rate {}".format(
                "created" if result["factor_set_created"] else "already there",
                "created" if result["event_factor_set_created"] else "already there",
                result["unit_prices_added"], result["tariff_rows_added"], result["menus_added"],
                "created" if result["rate_created"] else "already there",
            )
        )

    factors = AppGroup("factors", help="Emission factor sets.")
    app.cli.add_command(factors)

    @factors.command("load")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--name", required=True, help="Name of the set, e.g. 'Tokyo FY2027'.")
    @click.option("--fiscal-year", required=True, help="Fiscal year the set is for, e.g. FY2027.")
    @click.option("--effective-from", type=DAY, default=None,
                  help="Date the set applies from (default today).")
    @click.option("--activate/--no-activate", default=False, help="Use it for new calculations now.")
    @click.option("--kind", type=click.Choice(["household", "event"]), default="household",
                  help="household: energy and water (default); event: travel, lodging, paper, waste.")
    def factors_load(file: Path, name: str, fiscal_year: str, effective_from, activate: bool, kind: str) -> None:
        """Add a factor set from a CSV with the columns of emission_factors.csv."""
        try:
            result = load_factor_set(read_factor_csv(file), name=name, fiscal_year=fiscal_year,
                                     effective_from=effective_from or date.today(),
                                     activate=activate, actor=CLI_ACTOR, kind=kind)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None
        state = "added" if result.created else "already present, unchanged"
        click.echo(f"factor set {result.factor_set.id} '{name}' {fiscal_year}: {state}"
                   f"{' (active)' if result.factor_set.is_active else ''}")

    @factors.command("list")
    def factors_list() -> None:
        """List the factor sets; * marks the active one of each kind."""
        for factor_set in db.session.scalars(select(FactorSet).order_by(FactorSet.id)):
            mark = "*" if factor_set.is_active else " "
            click.echo(f"{mark} {factor_set.id:>3}  {factor_set.kind:<9} {factor_set.fiscal_year:<8} "
                       f"{factor_set.effective_from}  {factor_set.name}")

    @factors.command("activate")
    @click.argument("set_id", type=WHOLE_NUMBER)
    def factors_activate(set_id: int) -> None:
        """Use factor set SET_ID for new calculations (saved results keep theirs)."""
        factor_set = db.session.get(FactorSet, set_id)
        if factor_set is None:
            raise click.ClickException(f"no factor set {set_id}")
        activate_factor_set(factor_set, actor=CLI_ACTOR)
        click.echo(f"factor set {set_id} is now active")

    receipts = AppGroup("receipts", help="Residents' receipt e-mail addresses.")
    app.cli.add_command(receipts)

    @receipts.command("forget-emails")
    @click.option("--days", type=WHOLE_NUMBER, default=None,
                  help="Keep addresses this many days (default RECEIPT_EMAIL_RETENTION_DAYS, 90).")
    def receipts_forget_emails(days: int | None) -> None:
        """Delete receipt e-mail addresses older than the retention period (run it daily)."""
        keep = current_app.config["RECEIPT_EMAIL_RETENTION_DAYS"] if days is None else days
        count = forget_receipt_emails(older_than_days=keep, actor=CLI_ACTOR)
        click.echo(f"receipt e-mail addresses deleted: {count} (kept: the last {keep} days)")
