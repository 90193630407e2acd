"""Per-account log-in lock-out: 10 wrong passwords in 15 minutes, from anywhere, pause that account."""
from __future__ import annotations

import secrets

import pytest
import redis

from bench.stack import redis_answers, redis_url
from resident_app.auth import lockout

from ..conftest import CSRF_RE
from .factories import PASSWORD, make_user

OWNER = "organiser@npo.example.jp"


@pytest.fixture
def site(build_app):
    """site(**config): rate limits on, behind one proxy, counting under a prefix of this test's own."""
    def build(**overrides):
        built = build_app(RATELIMIT_ENABLED=True, TRUSTED_PROXY_COUNT="1",
                          RATELIMIT_KEY_PREFIX=f"lockout-{secrets.token_hex(6)}", **overrides)
        make_user(built, OWNER)
        return built
    return build


def attempt(site, password: str, email: str = OWNER, language: str = "ja"):
    """One log-in from a new address each time (the per-address limit never applies)."""
    client = site.test_client()
    client.environ_base.update({"HTTP_X_FORWARDED_FOR": f"198.51.100.{secrets.randbelow(250) + 1}",
                                "HTTP_ACCEPT_LANGUAGE": language})
    token = CSRF_RE.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})


def test_ten_wrong_passwords_from_anywhere_pause_that_account_for_15_minutes(site):
    app = site()
    statuses = [attempt(app, "wrong-password").status_code for _ in range(10)]
    assert statuses == [401] * 9 + [429]
    locked = attempt(app, PASSWORD, language="en")  # even the right password waits
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "too many wrong passwords for this account" in html
    assert "Please try again in about 15 minutes" in html and 'href="/auth/login"' in html
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    assert attempt(app, "wrong", email="someone-else@example.jp").status_code == 401  # others unaffected


def test_a_correct_password_clears_earlier_mistakes(site):
    app = site()
    for _ in range(9):
        attempt(app, "wrong-password")
    assert attempt(app, PASSWORD).status_code == 303
    assert [attempt(app, "wrong-password").status_code for _ in range(9)] == [401] * 9


def test_unknown_addresses_lock_the_same_way_so_a_lock_reveals_nothing(site):
    app = site()
    statuses = [attempt(app, "x", email="nobody@example.jp").status_code for _ in range(10)]
    assert statuses == [401] * 9 + [429]


@pytest.mark.skipif(not redis_answers(redis_url()), reason=f"needs Redis at {redis_url()}")
def test_the_lock_lives_in_redis_so_every_worker_sees_it(site):
    app = site(RATELIMIT_STORAGE_URI=redis_url())
    for _ in range(10):
        attempt(app, "wrong-password")
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    keys = redis.Redis.from_url(redis_url()).keys(f"LIMITS:*{prefix}*login-lock*")
    assert len(keys) == 1
    assert 890 <= redis.Redis.from_url(redis_url()).ttl(keys[0]) <= 900
    with app.app_context():
        assert 890 <= lockout.locked_for(OWNER) <= 900
    redis.Redis.from_url(redis_url()).delete(*keys)
