"""Accounts: loading the signed-in user. Sign-up, approval and staff management live here too."""
from __future__ import annotations

from ..extensions import db
from ..models import User


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: "<id>:<session token>"; a rotated token logs old sessions out."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or user.session_token != token:
        return None
    return user
