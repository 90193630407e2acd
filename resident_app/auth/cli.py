"""`flask users create|list|approve|suspend`: accounts from the command line (before the staff screen)."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import AccountStatus, Role, User
from ..services import DomainError
from ..services.accounts import approve_organiser, create_user, suspend_user
from ..services.errors import InvalidInput
from . import bp

CLI_ACTOR = "cli"

users = AppGroup("users", help="Accounts of organisers, staff and admins.")
bp.cli.add_command(users)


def _fail(error: DomainError) -> click.ClickException:
    if isinstance(error, InvalidInput):
        return click.ClickException("; ".join(f"{field}: {message}" for field, message in error.errors.items()))
    return click.ClickException(str(error.message))


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="organiser, staff or admin.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for twice when left out; give it only in scripts.")
@click.option("--organisation", default="", help="Organisation or department shown in the header.")
@click.option("--contact-name", default="", help="The person to contact.")
def create(email: str, role: str, password: str, organisation: str, contact_name: str) -> None:
    """Create an active account for EMAIL."""
    try:
        user = create_user(email=email, password=password, role=Role(role), actor=CLI_ACTOR,
                           organisation=organisation, contact_name=contact_name)
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"created {user.role} {user.email} (id {user.id}), active")


@users.command("list")
@click.option("--status", type=click.Choice([s.value for s in AccountStatus]), default=None,
              help="Only accounts with this status, e.g. pending ones waiting for approval.")
def list_users(status: str | None) -> None:
    """List accounts: id, e-mail, role, status, organisation."""
    query = select(User).order_by(User.id)
    if status:
        query = query.where(User.status == AccountStatus(status))
    for user in db.session.scalars(query):
        click.echo(f"{user.id:>4}  {user.email:<40} {user.role:<10} {user.status:<10} {user.organisation}")


@users.command("approve")
@click.argument("email")
def approve(email: str) -> None:
    """Approve a pending organiser (or re-activate a suspended account)."""
    try:
        user = approve_organiser(email, actor=CLI_ACTOR)
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"{user.email} is now active")


@users.command("suspend")
@click.argument("email")
def suspend(email: str) -> None:
    """Suspend an account; it is signed out at once."""
    try:
        user = suspend_user(email, actor=CLI_ACTOR)
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"{user.email} is now suspended")
