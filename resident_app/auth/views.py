"""Sign-up, log-in and log-out. Sessions rotate at every log-in and log-out."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from ..extensions import limiter
from ..models import AccountStatus
from ..public.pages import safe_next
from ..services.accounts import authenticate, rotate_session, sign_up, signup_errors
from ..services.errors import InvalidInput
from ..web.text import clean_text
from . import bp, lockout

SIGNUP_FIELDS = ("organisation", "contact_name", "email")


class AccountLocked(TooManyRequests):
    """Log-in for one e-mail address is paused (auth/lockout.py); the 429 page says until when."""

    account_locked = True

    def __init__(self, seconds: int) -> None:
        super().__init__(retry_after=seconds)


def _next_url() -> str:
    """Where to go after logging in: a path on this site, the organisers' dashboard by default."""
    target = request.values.get("next")
    return safe_next(target) if target else url_for("organiser.dashboard")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def signup():
    """An organiser asks for an account; staff approve it before it can do anything."""
    if current_user.is_authenticated:
        return redirect(url_for("organiser.dashboard"))
    form = {name: clean_text(request.form.get(name)) for name in SIGNUP_FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        password = request.form.get("password") or ""
        errors = signup_errors(password=password, **form)
        if password != (request.form.get("password_confirm") or "") and "password" not in errors:
            errors["password_confirm"] = _("The two passwords are not the same.")
        if not errors:
            try:
                sign_up(password=password, **form)  # None for a known address: the same answer follows
            except InvalidInput as error:
                errors = error.errors
            else:
                return redirect(url_for("auth.signup_done"), code=303)
    return render_template("auth/signup.html", form=form, errors=errors), 422 if errors else 200


@bp.get("/signup/done")
def signup_done():
    """What happens next: staff check and approve the account."""
    return render_template("auth/signup_done.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute;50 per hour", methods=["POST"])
def login():
    """Log in. One message for any wrong address or password, so nobody learns who has an account."""
    next_url = _next_url()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url)
        return render_template("auth/login.html", email="", next_url=next_url, error=None)
    email = clean_text(request.form.get("email"))
    locked = lockout.locked_for(email)
    if locked:
        raise AccountLocked(locked)  # not even a right password opens it before the time is up
    user = authenticate(email, request.form.get("password") or "")
    if user is None:
        locked = lockout.record_failure(email)
        if locked:
            raise AccountLocked(locked)
        return render_template("auth/login.html", email=email, next_url=next_url,
                               error=_("The e-mail address or password is wrong.")), 401
    lockout.clear_failures(email)
    session.clear()  # nothing from before the log-in survives, whoever had the cookie
    if user.status != AccountStatus.ACTIVE:
        return render_template("auth/account_status.html", account=user,
                               contact=current_app.config.get("CONTACT_EMAIL")), 403
    rotate_session(user, action="user.login")
    login_user(user)
    return redirect(next_url, code=303)


@bp.post("/logout")
def logout():
    """Log out. The account's session token rotates, so every copy of its session cookie stops working."""
    if current_user.is_authenticated:
        rotate_session(current_user._get_current_object(), action="user.logout")
    logout_user()
    session.clear()
    flash(_("You have logged out."), "success")
    return redirect(url_for("public.home"), code=303)
