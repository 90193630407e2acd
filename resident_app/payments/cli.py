"""`flask payments reconcile`: count every payment Stripe holds, even one whose webhook was lost."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import click
import stripe
from flask import Flask
from flask.cli import AppGroup

from ..services.reconcile import TOKYO, reconcile_payments


def register_payments_cli(app: Flask) -> None:
    payments = AppGroup("payments", help="Stripe payments.")
    app.cli.add_command(payments)

    @payments.command("reconcile")
    @click.option("--since", "since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Check sessions created since this day, Japan time (default: yesterday).")
    def reconcile(since: datetime | None) -> None:
        """Fulfil every paid Checkout Session not yet counted here; prints what changed. Safe to repeat."""
        day: date = since.date() if since else datetime.now(TOKYO).date() - timedelta(days=1)
        try:
            report = reconcile_payments(day)
        except stripe.StripeError as error:
            raise click.ClickException(f"Stripe could not be asked: {type(error).__name__}: {error}") from None
        except RuntimeError as error:  # the sandbox's address or key is not configured
            raise click.ClickException(str(error)) from None
        click.echo(f"since {day.isoformat()} (Japan time): {report.sessions} sessions, "
                   f"{report.paid_at_stripe} paid at Stripe, {report.already_counted} already counted, "
                   f"{len(report.fulfilled)} fulfilled now, {len(report.unknown)} unknown here, "
                   f"{len(report.flagged)} flagged")
        for session_id, number, yen in report.fulfilled:
            click.echo(f"fulfilled {session_id} -> {number} ({yen} yen)")
        for session_id, number in report.flagged:
            click.echo(f"flagged   {session_id} -> {number}: amount or currency differs, see the staff dashboard")
        for session_id, yen in report.unknown:
            click.echo(f"unknown   {session_id}: {yen} yen paid at Stripe but no contribution here")
