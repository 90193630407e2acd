"""Signing up, logging in and out (organisers, staff, admins), and the `flask users` commands."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..extensions import login_manager

# cli_group=None puts the blueprint's commands at the top level: `flask users ...`.
bp = Blueprint("auth", __name__, cli_group=None)


@bp.record_once
def _configure_login(state) -> None:
    login_manager.login_message = _l("Please log in to open the organisers' pages.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # flash the text in the page's language, not a lazy object


from . import cli, views  # noqa: E402,F401  (routes and commands register on import)
