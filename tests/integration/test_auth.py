"""Organisers' accounts: sign-up, approval, log-in and log-out, rate limits, session rotation, CLI."""
import re

import pytest
from sqlalchemy import func, select

from resident_app import create_app
from resident_app.extensions import db
from resident_app.models import AccountStatus, AddOn, AuditEntry, Role, User
from resident_app.services import DomainError
from resident_app.services.accounts import find_user
from resident_app.services.addons import AddOnData, create_addon

from ..conftest import config_for
from .factories import PASSWORD, addon_form, login, make_user, token_from

EN = {"Accept-Language": "en"}
GENERIC = "The e-mail address or password is wrong."


def signup_form(**values) -> dict[str, str]:
    form = {"organisation": "みどり台商店街振興組合", "contact_name": "山田 花子",
            "email": "  Hanako@Midoridai.Example.JP ", "password": PASSWORD, "password_confirm": PASSWORD}
    form.update(values)
    return form


def sign_up(client, **values):
    form = signup_form(**values)
    form["csrf_token"] = token_from(client, "/auth/signup")
    return client.post("/auth/signup", data=form, headers=EN)


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        user = find_user(email)
        if user is not None:
            db.session.expunge(user)
        return user


def addon_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AddOn.id)))


def create_through_form(client):
    form = addon_form()
    form["csrf_token"] = token_from(client, "/")
    return client.post("/organiser/addons/new", data=form, headers=EN)


def test_sign_up_waits_for_approval_then_can_create_add_ons(app, client, runner):
    response = sign_up(client)
    assert response.status_code == 303 and response.headers["Location"] == "/auth/signup/done"
    assert "A new account is now waiting for approval" in client.get("/auth/signup/done", headers=EN).get_data(as_text=True)

    user = user_by_email(app, "hanako@midoridai.example.jp")
    assert user.email == "hanako@midoridai.example.jp"  # stored trimmed and lower-cased
    assert user.status == AccountStatus.PENDING and user.role == Role.ORGANISER
    method = app.config.get("PASSWORD_HASH_METHOD", "scrypt")  # scrypt outside the test suite
    assert user.password_hash.startswith(method.split(":")[0] + ":") and PASSWORD not in user.password_hash

    # Pending: the right password shows a page saying so, and nothing else opens.
    pending = login(client, "HANAKO@midoridai.example.jp", headers=EN)
    assert pending.status_code == 403
    assert "Your account is waiting for approval" in pending.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302
    before = addon_count(app)
    refused = create_through_form(client)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/auth/login")
    assert addon_count(app) == before
    with app.app_context():
        with pytest.raises(DomainError):
            create_addon(AddOnData(title_ja="x", unit_price_yen=100), actor=find_user(user.email))

    result = runner.invoke(args=["users", "approve", "Hanako@midoridai.example.jp"])
    assert result.exit_code == 0, result.output
    assert "now active" in result.output

    approved = login(client, "hanako@midoridai.example.jp")
    assert approved.status_code == 303 and approved.headers["Location"] == "/organiser/"
    created = create_through_form(client)
    assert created.status_code == 303
    with app.app_context():
        addon = db.session.scalar(select(AddOn).order_by(AddOn.id.desc()))
        assert addon.owner.email == "hanako@midoridai.example.jp"
        actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"user.signup", "user.approve", "user.login", "addon.create"} <= actions


@pytest.mark.parametrize("values, field, message", [
    ({"organisation": " "}, "organisation", "Enter the name of your organisation."),
    ({"contact_name": ""}, "contact_name", "Enter the name of the person we can contact."),
    ({"email": "not-an-address"}, "email", "Enter an e-mail address such as name@example.jp."),
    ({"password": "123456789", "password_confirm": "123456789"}, "password", "Use at least 10 characters."),
    ({"password_confirm": "something-else"}, "password_confirm", "The two passwords are not the same."),
])
def test_sign_up_errors_show_beside_their_fields(app, client, values, field, message):
    response = sign_up(client, **values)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="error-{field}" class="field-error">{re.escape(message)}<', html)
    assert 'type="password" value' not in html  # passwords are never sent back
    assert user_by_email(app, "hanako@midoridai.example.jp") is None


def test_sign_up_does_not_tell_whether_an_address_is_registered(app, client):
    make_user(app, "hanako@midoridai.example.jp", organisation="既存の団体")
    known = sign_up(client, email="HANAKO@midoridai.example.jp ", organisation="なりすまし")
    new = sign_up(client, email="someone-new@midoridai.example.jp")
    assert known.status_code == new.status_code == 303
    assert known.headers["Location"] == new.headers["Location"] == "/auth/signup/done"
    done = client.get("/auth/signup/done", headers=EN).get_data(as_text=True)
    assert "If this address already had an account, nothing has changed" in done
    with app.app_context():
        existing = find_user("hanako@midoridai.example.jp")
        assert existing.organisation == "既存の団体" and existing.status == AccountStatus.ACTIVE
        assert db.session.scalar(select(func.count(User.id)).where(User.email.like("%midoridai%"))) == 2
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == str(existing.id))
                                 .order_by(AuditEntry.id.desc())) == "user.signup_existing"


def test_wrong_password_and_unknown_address_get_the_same_generic_message(app, client):
    make_user(app)
    wrong = login(client, password="not-the-password", headers=EN)
    unknown = login(client, email="nobody@example.jp", headers=EN)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert GENERIC in response.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302


def test_log_in_goes_back_to_the_page_asked_for_but_never_off_site(app, client):
    make_user(app)
    assert client.get("/organiser/addons/new").headers["Location"] == "/auth/login?next=%2Forganiser%2Faddons%2Fnew"
    assert login(client, next="/organiser/addons/new").headers["Location"] == "/organiser/addons/new"
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/organiser/")})
    assert login(client, next="https://evil.example/").headers["Location"] == "/"


@pytest.fixture
def limited_client(app, database_url):
    """A client of an app with rate limits on (TestConfig turns them off for every other test)."""
    limited = create_app(config_for(database_url, RATELIMIT_ENABLED=True))
    yield limited.test_client()
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_is_rate_limited_per_ip(limited_client):
    client = limited_client
    token = token_from(client, "/auth/login")
    # Different addresses each time: the per-account lock-out is tested on its own below.
    statuses = [client.post("/auth/login", data={"email": f"x{i}@example.jp", "password": "wrong-password",
                                                 "csrf_token": token}).status_code for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert client.get("/auth/login").status_code == 200  # only POSTs count


def test_sign_up_is_rate_limited(limited_client):
    client = limited_client
    token = token_from(client, "/auth/signup")
    statuses = [client.post("/auth/signup", data={"email": "bad", "csrf_token": token}).status_code
                for _ in range(6)]
    assert statuses == [422] * 5 + [429]


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def token_of(app, email: str = "organiser@npo.example.jp") -> str:
    return user_by_email(app, email).session_token


def test_the_session_rotates_at_log_in_and_old_cookies_stop_working(app, client):
    make_user(app)
    token_before_login = token_from(client, "/auth/login")
    anonymous_cookie = session_cookie(client)
    stored_before = token_of(app)
    assert login(client).status_code == 303
    assert token_of(app) != stored_before
    # Nothing from before the log-in survives: a new CSRF token, and the old cookie is still anonymous.
    assert token_from(client, "/organiser/") != token_before_login
    logged_in_cookie = session_cookie(client)
    assert logged_in_cookie != anonymous_cookie
    assert client.get("/organiser/").status_code == 200

    stored_while_in = token_of(app)
    out = client.post("/auth/logout", data={"csrf_token": token_from(client, "/organiser/")})
    assert out.status_code == 303
    assert token_of(app) != stored_while_in
    assert client.get("/organiser/").status_code == 302

    client.set_cookie("session", logged_in_cookie)  # someone kept a copy of the signed-in cookie
    response = client.get("/organiser/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_a_new_log_in_ends_the_older_session_for_the_same_account(app):
    make_user(app)
    first, second = app.test_client(), app.test_client()
    login(first)
    assert first.get("/organiser/").status_code == 200
    login(second)
    assert second.get("/organiser/").status_code == 200
    assert first.get("/organiser/").status_code == 302


def test_suspension_signs_the_account_out_at_once(app, client, runner):
    make_user(app)
    login(client)
    assert client.get("/organiser/").status_code == 200
    result = runner.invoke(args=["users", "suspend", "organiser@npo.example.jp"])
    assert result.exit_code == 0 and "suspended" in result.output
    assert client.get("/organiser/").status_code == 302
    again = login(client, headers=EN)
    assert again.status_code == 403 and "Your account is suspended" in again.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302


def test_log_out_only_by_post(client):
    assert client.get("/auth/logout").status_code == 405


def test_header_shows_the_way_in_and_who_is_signed_in(app, client):
    make_user(app, organisation="NPO みどりの会")
    html = client.get("/", headers=EN).get_data(as_text=True)
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)
    assert "For organisers" in nav and 'href="/auth/login?next=/organiser/"' in nav
    assert "Log out" not in nav
    login(client)
    nav = re.search(r'<nav class="site-nav".*?</nav>', client.get("/", headers=EN).get_data(as_text=True),
                    re.S).group(0)
    assert 'href="/organiser/"' in nav and "NPO みどりの会" in nav
    assert re.search(r'<form method="post" action="/auth/logout"[^>]*><input type="hidden" name="csrf_token"', nav)


def test_users_cli_create_list_approve_suspend(app, runner):
    created = runner.invoke(args=["users", "create", "--role", "staff", " Staff@City.Example.JP",
                                  "--password", "a-long-staff-password", "--organisation", "環境政策課"])
    assert created.exit_code == 0, created.output
    staff = user_by_email(app, "staff@city.example.jp")
    assert staff.role == Role.STAFF and staff.status == AccountStatus.ACTIVE and staff.approved_at
    assert staff.check_password("a-long-staff-password") and "a-long" not in staff.password_hash

    prompted = runner.invoke(args=["users", "create", "--role", "admin", "admin@city.example.jp"],
                             input="another-long-password\nanother-long-password\n")
    assert prompted.exit_code == 0, prompted.output
    assert user_by_email(app, "admin@city.example.jp").check_password("another-long-password")

    mismatch = runner.invoke(args=["users", "create", "--role", "admin", "x@city.example.jp"],
                             input="first-password-1\nsecond-password-2\nfirst-password-1\nfirst-password-1\n")
    assert mismatch.exit_code == 0 and user_by_email(app, "x@city.example.jp").check_password("first-password-1")

    duplicate = runner.invoke(args=["users", "create", "--role", "organiser", "STAFF@city.example.jp",
                                    "--password", "a-long-staff-password"])
    assert duplicate.exit_code != 0 and "すでに登録されています" in duplicate.output  # the CLI speaks Japanese
    short = runner.invoke(args=["users", "create", "--role", "organiser", "o@city.example.jp",
                                "--password", "short"])
    assert short.exit_code != 0 and user_by_email(app, "o@city.example.jp") is None
    assert runner.invoke(args=["users", "create", "--role", "root", "r@city.example.jp",
                               "--password", "a-long-password"]).exit_code == 2

    make_user(app, "pending@npo.example.jp", status=AccountStatus.PENDING)
    listing = runner.invoke(args=["users", "list"]).output
    assert "staff@city.example.jp" in listing and "pending@npo.example.jp" in listing
    pending_only = runner.invoke(args=["users", "list", "--status", "pending"]).output
    assert "pending@npo.example.jp" in pending_only and "staff@city.example.jp" not in pending_only

    assert runner.invoke(args=["users", "approve", "pending@npo.example.jp"]).exit_code == 0
    again = runner.invoke(args=["users", "approve", "pending@npo.example.jp"])
    assert again.exit_code != 0 and "すでに有効です" in again.output
    missing = runner.invoke(args=["users", "suspend", "nobody@example.jp"])
    assert missing.exit_code != 0 and "nobody@example.jp" in missing.output
