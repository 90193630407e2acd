"""Audit rows, added to the caller's transaction (the service commits)."""
from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEntry


def add_audit(actor: str, action: str, object_type: str, object_id: object,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEntry:
    """Stage an audit row for the current transaction."""
    entry = AuditEntry(actor=actor, action=action, object_type=object_type,
                       object_id=str(object_id), before=before, after=after)
    db.session.add(entry)
    return entry
