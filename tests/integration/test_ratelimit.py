"""Limits that let a crowd behind one address pay, keep log-in strict, and say when to come back;
Redis shared by every worker, and a Redis that fails never turns into a 500."""
from __future__ import annotations

import logging
import re
import secrets

import pytest
import redis

from bench.stack import redis_answers, redis_url
from resident_app.web import ratelimit

from ..conftest import CSRF_RE
from .factories import PASSWORD, make_user

NAT = "203.0.113.7"  # a festival's Wi-Fi: every phone behind one public address


def address() -> str:
    """A fresh client address, so no two tests (or parallel runs sharing Redis) share a bucket."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


@pytest.fixture
def limited(build_app, demo):
    """limited(**config): an app with rate limits on, behind one trusted proxy, with the demo add-ons."""
    return lambda **overrides: build_app(RATELIMIT_ENABLED=True, TRUSTED_PROXY_COUNT="1", **overrides)


def phone(site, ip: str = NAT, language: str = "ja"):
    """A phone's browser: its own cookies, behind the proxy that names its address."""
    client = site.test_client()
    client.environ_base.update({"HTTP_X_FORWARDED_FOR": ip, "HTTP_ACCEPT_LANGUAGE": language})
    return client


def check_out(client, slug: str = "demo-bus"):
    token = CSRF_RE.search(client.get(f"/a/{slug}").get_data(as_text=True)).group(1)
    return client.post(f"/a/{slug}/checkout", data={"quantity": "1", "csrf_token": token})


def test_a_crowd_of_phones_behind_one_address_can_all_check_out(limited):
    site = limited()
    statuses = [check_out(phone(site)).status_code for _ in range(60)]  # three times the old 20 a minute
    assert statuses == [303] * 60


def test_one_phone_checking_out_again_and_again_is_told_when_to_come_back(limited):
    site = limited()
    client = phone(site, address())
    statuses = [check_out(client).status_code for _ in range(10)]
    assert statuses == [303] * 10
    refused = check_out(client)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    seconds = int(re.search(r"約(\d+)秒後", html).group(1))
    assert 1 <= seconds <= 60 and abs(seconds - int(refused.headers["Retry-After"])) <= 1
    assert "しばらくお待ちください" in html and "料金は発生していません" in html
    assert 'href="/a/demo-bus"' in html  # back to the add-on, never a dead end
    assert check_out(phone(site, address())).status_code == 303  # the next phone is not affected


def test_the_429_page_speaks_english_to_an_english_phone(limited):
    site = limited()
    client = phone(site, address(), language="en")
    for _ in range(10):
        check_out(client)
    html = check_out(client).get_data(as_text=True)
    assert re.search(r"Please try again in about \d+ seconds \(at \d{1,2}:\d\d", html)
    assert "Nothing has been charged for this attempt." in html and ">Try again<" in html


def test_one_address_has_a_ceiling(limited):
    site = limited(CHECKOUT_LIMIT_PER_ADDRESS="5 per minute")
    crowd = address()
    assert [check_out(phone(site, crowd)).status_code for _ in range(6)] == [303] * 5 + [429]
    assert check_out(phone(site, address())).status_code == 303


def test_one_add_on_has_a_ceiling_whoever_pays(limited, monkeypatch):
    monkeypatch.setattr(ratelimit, "CHECKOUT_PER_ADDON", "3 per minute")
    site = limited(RATELIMIT_KEY_PREFIX=f"addon-{secrets.token_hex(4)}")
    assert [check_out(phone(site, address())).status_code for _ in range(4)] == [303] * 3 + [429]
    assert check_out(phone(site, address()), "household").status_code == 422  # its own bucket: no amount given


def test_strangers_behind_the_proxy_no_longer_lock_out_the_organiser(limited):
    site = limited()
    make_user(site, "organiser@npo.example.jp")
    for _ in range(10):  # ten strangers, each from their own address, each one wrong guess
        stranger = phone(site, address())
        token = CSRF_RE.search(stranger.get("/auth/login").get_data(as_text=True)).group(1)
        stranger.post("/auth/login", data={"email": f"{secrets.token_hex(3)}@example.jp", "password": "x",
                                           "csrf_token": token})
    organiser = phone(site, address())
    token = CSRF_RE.search(organiser.get("/auth/login").get_data(as_text=True)).group(1)
    response = organiser.post("/auth/login", data={"email": "organiser@npo.example.jp", "password": PASSWORD,
                                                   "csrf_token": token})
    assert response.status_code == 303


def test_login_from_one_address_stays_strict(limited):
    site = limited()
    client = phone(site, address())
    token = CSRF_RE.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    statuses = [client.post("/auth/login", data={"email": f"u{i}@example.jp", "password": "wrong",
                                                 "csrf_token": token}).status_code for i in range(11)]
    assert statuses == [401] * 10 + [429]


def save_result(client):
    """Save a calculator result from this browser, as the page's save button does."""
    token = CSRF_RE.search(client.get("/calculator").get_data(as_text=True)).group(1)
    return client.post("/calculator/save", data={"electricity": "300", "electricity_unit": "qty", "period": "month",
                                                 "household_size": "2", "csrf_token": token})


def test_saving_results_again_and_again_is_told_when_to_come_back(limited):
    site = limited()
    client = phone(site, address())
    assert [save_result(client).status_code for _ in range(10)] == [303] * 10
    refused = save_result(client)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and refused.headers["Retry-After"].isdigit()
    assert '<html lang="ja">' in html and re.search(r"約\d+秒後", html)
    assert "短時間に多くの結果が保存されました" in html and "今回の結果は保存されていません" in html
    assert 'href="/calculator"' in html  # back to the calculator
    assert save_result(phone(site, address())).status_code == 303  # the next browser is not affected


def test_the_save_limit_page_speaks_english(limited):
    site = limited()
    client = phone(site, address(), language="en")
    for _ in range(10):
        save_result(client)
    refused = save_result(client)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and '<html lang="en">' in html
    assert "Too many results were saved from this browser or place in a short time. This one was not saved." in html
    assert re.search(r"Please try again in about \d+ seconds", html) and ">Try again<" in html


def test_a_class_behind_one_address_can_save_and_the_address_has_a_ceiling(limited):
    site = limited(CALCULATOR_SAVE_LIMIT_PER_ADDRESS="15 per minute")
    school = address()
    assert [save_result(phone(site, school)).status_code for _ in range(15)] == [303] * 15  # 15 pupils, once each
    assert save_result(phone(site, school)).status_code == 429
    assert save_result(phone(site, address())).status_code == 303


redis_needed = pytest.mark.skipif(not redis_answers(redis_url()), reason=f"needs Redis at {redis_url()}")


@redis_needed
def test_limits_are_counted_in_redis(limited):
    prefix = f"test-{secrets.token_hex(6)}"
    site = limited(RATELIMIT_STORAGE_URI=redis_url(), RATELIMIT_KEY_PREFIX=prefix)
    assert check_out(phone(site, address())).status_code == 303
    keys = redis.Redis.from_url(redis_url()).keys("LIMITS:*")
    mine = [k for k in keys if b"checkout" in k]
    assert mine, "no checkout counter in Redis"
    assert site.test_client().get("/healthz").get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_a_redis_that_is_down_never_turns_into_a_500(limited, caplog):
    from bench.stack import free_port

    site = limited(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    client = phone(site, address())
    with caplog.at_level(logging.WARNING):
        assert check_out(client).status_code == 303
        token = CSRF_RE.search(client.get("/auth/login").get_data(as_text=True)).group(1)
        wrong = client.post("/auth/login", data={"email": "a@example.jp", "password": "x", "csrf_token": token})
    assert wrong.status_code == 401
    assert "falling back to in-memory storage" in caplog.text
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "unavailable", "database": "ok", "redis": "unreachable"}
