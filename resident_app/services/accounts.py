"""Accounts: loading the signed-in user, sign-up, approval, suspension, sign-in sessions."""
from __future__ import annotations

import re
import secrets
from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import AccountStatus, Role, User, utcnow
from .audit import add_audit
from .errors import DomainError, InvalidInput

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # scrypt on a megabyte of "password" is a cheap denial of service
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
# Deliberately loose: one @, something before it, a dot in the domain, no spaces. The address is
# only ever used to sign in and to be contacted by staff, so the real check is a person reading it.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# Which status may follow which; anything else is a programming or operator error.
ACCOUNT_TRANSITIONS: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.PENDING: frozenset({AccountStatus.ACTIVE, AccountStatus.SUSPENDED}),
    AccountStatus.ACTIVE: frozenset({AccountStatus.SUSPENDED}),
    AccountStatus.SUSPENDED: frozenset({AccountStatus.ACTIVE}),
}


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: "<id>:<session token>"; a rotated token logs old sessions out."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def actor_name(user: User) -> str:
    """How a signed-in person appears in the audit log (an id, not their e-mail)."""
    return f"user:{user.id}"


def normalise_email(raw: str | None) -> str:
    """Trimmed and lower-cased: the form in which addresses are stored and compared."""
    return (raw or "").replace("\x00", "").strip().lower()


def find_user(email: str) -> User | None:
    """The account with this e-mail address (any case, surrounding spaces ignored)."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _email_format_error(email: str) -> str | None:
    if not email:
        return _l("Enter your e-mail address.")
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_RE.match(email):
        return _l("Enter an e-mail address such as name@example.jp.")
    return None


def _email_error(email: str) -> str | None:
    """For accounts staff create: they may learn that an address is taken (sign-up may not)."""
    problem = _email_format_error(email)
    if problem is None and db.session.scalar(select(func.count(User.id)).where(User.email == email)):
        return _l("An account with this e-mail address already exists. Log in instead, or ask the "
                  "programme office to reset it.")
    return problem


def password_error(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _l("Use at most %(max)d characters.", max=MAX_PASSWORD_LENGTH)
    return None


def signup_errors(*, organisation: str, contact_name: str, email: str, password: str) -> dict[str, str]:
    """Every reason the sign-up form is refused, by field (empty when it can go ahead)."""
    errors: dict[str, str] = {}
    if not organisation.strip():
        errors["organisation"] = _l("Enter the name of your organisation.")
    elif len(organisation.strip()) > MAX_NAME_LENGTH:
        errors["organisation"] = _l("Use at most %(max)d characters.", max=MAX_NAME_LENGTH)
    if not contact_name.strip():
        errors["contact_name"] = _l("Enter the name of the person we can contact.")
    elif len(contact_name.strip()) > MAX_NAME_LENGTH:
        errors["contact_name"] = _l("Use at most %(max)d characters.", max=MAX_NAME_LENGTH)
    email_problem = _email_format_error(normalise_email(email))
    if email_problem:
        errors["email"] = email_problem
    password_problem = password_error(password)
    if password_problem:
        errors["password"] = password_problem
    return errors


def _new_user(*, email: str, password: str, role: Role, status: AccountStatus, organisation: str,
              contact_name: str) -> User:
    user = User(email=email, role=role, status=status, organisation=organisation.strip(),
                contact_name=contact_name.strip(), session_token=secrets.token_hex(16),
                approved_at=utcnow() if status == AccountStatus.ACTIVE else None)
    user.set_password(password)
    db.session.add(user)
    return user


def _commit_new_user() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # the same address signed up a moment ago in another request
        db.session.rollback()
        raise InvalidInput({"email": _l("An account with this e-mail address already exists. Log in "
                                        "instead, or ask the programme office to reset it.")}) from None


def sign_up(*, organisation: str, contact_name: str, email: str, password: str) -> User | None:
    """An organiser's own sign-up: the account waits (pending) until staff approve it.

    None when the address already has an account: nothing changes, and the caller answers exactly as
    for a new sign-up (same page, same work: the password is hashed either way), so the form does not
    tell anyone which addresses are registered. The audit log tells staff."""
    errors = signup_errors(organisation=organisation, contact_name=contact_name, email=email,
                           password=password)
    if errors:
        raise InvalidInput(errors)
    address = normalise_email(email)
    existing = find_user(address)
    if existing is not None:
        generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
        add_audit("anonymous", "user.signup_existing", "user", existing.id)
        db.session.commit()
        return None
    try:
        user = _new_user(email=address, password=password, role=Role.ORGANISER, status=AccountStatus.PENDING,
                         organisation=organisation, contact_name=contact_name)
        db.session.flush()
        add_audit(actor_name(user), "user.signup", "user", user.id, None,
                  {"email": user.email, "role": str(user.role), "status": str(user.status)})
        db.session.commit()
    except IntegrityError:  # the same address signed up a moment ago in another request
        db.session.rollback()
        return None
    return user


def create_user(*, email: str, password: str, role: Role, actor: str, organisation: str = "",
                contact_name: str = "") -> User:
    """An account made by an operator (CLI or staff screen): active at once."""
    email = normalise_email(email)
    errors: dict[str, str] = {}
    email_problem = _email_error(email)
    if email_problem:
        errors["email"] = email_problem
    password_problem = password_error(password)
    if password_problem:
        errors["password"] = password_problem
    if errors:
        raise InvalidInput(errors)
    user = _new_user(email=email, password=password, role=Role(role), status=AccountStatus.ACTIVE,
                     organisation=organisation, contact_name=contact_name)
    db.session.flush()
    add_audit(actor, "user.create", "user", user.id, None,
              {"email": email, "role": str(user.role), "status": str(user.status)})
    _commit_new_user()
    return user


def _required(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise DomainError(_l("There is no account with the e-mail address %(email)s.",
                             email=normalise_email(email)), field="email")
    return user


def _move(user: User, target: AccountStatus, action: str, actor: str) -> User:
    if target not in ACCOUNT_TRANSITIONS[user.status]:
        if target == AccountStatus.ACTIVE:
            raise DomainError(_l("The account %(email)s is already active.", email=user.email))
        raise DomainError(_l("The account %(email)s is already suspended.", email=user.email))
    before = str(user.status)
    user.status = target
    if target == AccountStatus.ACTIVE and user.approved_at is None:
        user.approved_at = utcnow()
    if target == AccountStatus.SUSPENDED:
        user.session_token = secrets.token_hex(16)  # signs them out everywhere, now
    add_audit(actor, action, "user", user.id, {"status": before}, {"status": str(target)})
    db.session.commit()
    return user


def approve_organiser(email: str, *, actor: str) -> User:
    """Let a pending (or suspended) account sign in and create add-ons."""
    return _move(_required(email), AccountStatus.ACTIVE, "user.approve", actor)


def suspend_user(email: str, *, actor: str) -> User:
    """Stop an account from signing in; any session it has ends at its next request."""
    return _move(_required(email), AccountStatus.SUSPENDED, "user.suspend", actor)


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def authenticate(email: str, password: str) -> User | None:
    """The account these credentials open, whatever its status; None when either is wrong.

    An unknown address costs the same hashing time as a wrong password, so timing does not tell
    which addresses have accounts."""
    user = find_user(email) if len(password) <= MAX_PASSWORD_LENGTH else None
    if user is None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")  # as User.set_password
        check_password_hash(_dummy_hash(method), password[:MAX_PASSWORD_LENGTH])
        return None
    return user if user.check_password(password) else None


def rotate_session(user: User, *, action: str) -> str:
    """A new session token (at log-in and log-out): every older session cookie stops working."""
    user.session_token = secrets.token_hex(16)
    add_audit(actor_name(user), action, "user", user.id)
    db.session.commit()
    return user.session_token
