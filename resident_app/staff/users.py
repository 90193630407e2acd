"""Organisers and staff (/staff/users): approve and suspend accounts; admins create staff accounts."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..models import Role
from ..services import DomainError
from ..services.accounts import create_user
from ..services.errors import InvalidInput
from ..services.programme_content import PROGRAMME_EMAIL
from ..services.settings import accounts_for_review, approve_account, suspend_account
from ..web.text import clean_text
from . import actor, admin_required, bp

STAFF_ROLES = (Role.STAFF, Role.ADMIN)


def _page(*, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200):
    accounts = accounts_for_review()
    return render_template("staff/users.html", accounts=accounts,
                           pending=[a for a in accounts if a.status == "pending"],
                           programme_email=PROGRAMME_EMAIL, errors=errors or {},
                           values=values or {"role": Role.STAFF.value}), status


@bp.get("/users")
def users():
    """Every account, organisers waiting for approval first."""
    return _page()


@bp.post("/users/<int:user_id>/approve")
def users_approve(user_id: int):
    """Let a pending or suspended account sign in."""
    try:
        user = approve_account(user_id, staff=current_user._get_current_object(), actor=actor())
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        flash(_("%(email)s can now sign in.", email=user.email), "success")
    return redirect(url_for("staff.users"), code=303)


@bp.post("/users/<int:user_id>/suspend")
def users_suspend(user_id: int):
    """Stop an account signing in; its open sessions end at once."""
    try:
        user = suspend_account(user_id, staff=current_user._get_current_object(), actor=actor())
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        flash(_("%(email)s is suspended and can no longer sign in.", email=user.email), "success")
    return redirect(url_for("staff.users"), code=303)


@bp.post("/users/new")
@admin_required
def users_create():
    """An administrator creates a staff or admin account with a temporary password."""
    values = {"email": clean_text(request.form.get("email")), "role": request.form.get("role", ""),
              "organisation": clean_text(request.form.get("organisation"))}
    password = request.form.get("password") or ""
    errors: dict[str, str] = {}
    if values["role"] not in STAFF_ROLES:
        errors["role"] = _("Choose staff or administrator.")
    if not errors:
        try:
            user = create_user(email=values["email"], password=password, role=Role(values["role"]), actor=actor(),
                               organisation=values["organisation"][:200])
        except InvalidInput as error:
            errors = {name: str(message) for name, message in error.errors.items()}
        except DomainError as error:
            errors = {error.field or "email": str(error.message)}
        else:
            flash(_("The account %(email)s is created. Give the temporary password to its holder in person or "
                    "by telephone.", email=user.email), "success")
            return redirect(url_for("staff.users"), code=303)
    return _page(errors=errors, values=values, status=422)
