"""The audit log (/staff/audit, administrators): who changed what and when, filterable; its download
is the registry's "audit" export (staff/exports.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry, User
from ..services.exports import AuditFilter, audit_actions, audit_query, tokyo_period
from ..web.typed import day, page_number
from . import admin_required, bp

PER_PAGE = 50


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    who: str
    changes: list[Change]


def _shown(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """Field by field, before → after (a field on one side only shows "–" on the other)."""
    before, after = before or {}, after or {}
    names = list(before) + [name for name in after if name not in before]
    return [Change(name, _shown(before.get(name)), _shown(after.get(name))) for name in names]


def _who(entries: list[AuditEntry]) -> dict[str, str]:
    """"user:12" reads as that account's e-mail address; other actors (cli, system) as written."""
    ids = {int(e.actor[5:]) for e in entries if e.actor.startswith("user:") and e.actor[5:].isdigit()}
    emails = {row.id: row.email for row in db.session.execute(select(User.id, User.email).where(User.id.in_(ids)))}
    return {f"user:{user_id}": email for user_id, email in emails.items()}


def _filters() -> tuple[AuditFilter, dict[str, str], dict[str, str]]:
    """The filter from the query string, the values to show back, and any errors."""
    values = {name: (request.args.get(name) or "").strip() for name in ("action", "from", "to")}
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = day(values[name])
        except ValueError:
            days[name], errors[name] = None, _("Enter a date such as 2027-04-01.")
    start, end = tokyo_period(days["from"], days["to"])
    return AuditFilter(values["action"] or None, start, end), values, errors


@bp.get("/audit")
@admin_required
def audit():
    """Newest first, 50 a page; filter by action and by day (Japan time)."""
    where, values, errors = _filters()
    page = page_number(request.args.get("page"))
    pagination = db.paginate(audit_query(where), page=page, per_page=PER_PAGE, error_out=False)
    names = _who(pagination.items)
    rows = [AuditRow(e, names.get(e.actor, e.actor), changes(e.before, e.after)) for e in pagination.items]
    filters = {k: v for k, v in values.items() if v and k not in errors}
    return render_template("staff/audit.html", rows=rows, pagination=pagination, actions=audit_actions(),
                           values=values, errors=errors, filters=filters), 422 if errors else 200

