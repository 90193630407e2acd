"""Settings that fail closed: production refuses to start, one line per problem naming the setting;
development needs nothing; HTTPS-only behaviour in production."""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from flask import Flask

from resident_app import _ensure_secret_key, create_app
from resident_app.config import Config, ConfigError, check_settings
from resident_app.extensions import db


@pytest.fixture
def production(app, database_url, tmp_path, stripe_sandbox):
    """A complete, valid production configuration (on the test database); tests break one setting."""
    return {
        "TESTING": False, "APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "k" * 48, "PUBLIC_BASE_URL": "https://co2.city.example.jp",
        "STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_WEBHOOK_SECRET": "whsec_fake",
        "ALLOW_PAYMENT_SANDBOX": False, "STRIPE_SANDBOX_URL": stripe_sandbox.base_url,
        "STRIPE_SANDBOX_API_KEY": stripe_sandbox.api_key, "RATELIMIT_STORAGE_URI": "memory://",
        "TRUSTED_PROXY_COUNT": "0", "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }


def built(config: dict):
    app = create_app(config)
    with app.app_context():
        db.engine.dispose()
    return app


def refusal(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        create_app(config)
    return info.value.problems


@pytest.mark.parametrize(("change", "setting", "advice"), [
    ({"SECRET_KEY": ""}, "SECRET_KEY", "secrets.token_urlsafe"),
    ({"SECRET_KEY": "x" * 31}, "SECRET_KEY", "32 characters"),
    ({"STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY", "ALLOW_PAYMENT_SANDBOX=1"),
    ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET", "whsec_"),
    ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL", "https://co2.city.example.jp"),
    ({"PUBLIC_BASE_URL": "co2.city.example.jp"}, "PUBLIC_BASE_URL", "scheme and host"),
    ({"PUBLIC_BASE_URL": "http://co2.city.example.jp"}, "PUBLIC_BASE_URL", "https://"),
    ({"APP_ENV": "prod"}, "APP_ENV", "APP_ENV=development"),
    ({"TRUSTED_PROXY_COUNT": "one"}, "TRUSTED_PROXY_COUNT", "1 behind one proxy"),
])
def test_production_refuses_to_start_with_one_line_naming_the_setting(production, change, setting, advice):
    problems = refusal({**production, **change})
    assert len(problems) == 1, problems
    assert problems[0].startswith(setting) and advice in problems[0]
    assert "\n" not in problems[0]


def test_every_problem_is_listed_at_once(production):
    problems = refusal({**production, "SECRET_KEY": "", "STRIPE_SECRET_KEY": "", "PUBLIC_BASE_URL": ""})
    assert [p.split(" ")[0] for p in problems] == ["PUBLIC_BASE_URL", "SECRET_KEY", "STRIPE_SECRET_KEY"]


def test_memory_rate_limits_are_refused_for_several_workers(production, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    [problem] = refusal(production)
    assert problem.startswith("RATELIMIT_STORAGE_URI is memory:// but 4 workers")
    assert "redis://127.0.0.1:6379" in problem
    assert built({**production, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/1"})
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert built(production)


def test_an_upload_dir_that_cannot_be_written_is_refused(production, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    [problem] = refusal({**production, "UPLOAD_FOLDER": str(blocker / "uploads")})
    assert problem.startswith(f"UPLOAD_DIR={blocker / 'uploads'} cannot be written")


def test_the_sandbox_needs_the_flag_in_production_and_then_shows_the_banner(production):
    sandboxed = {**production, "STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "", "ALLOW_PAYMENT_SANDBOX": True}
    app = built(sandboxed)
    page = app.test_client().get("/", base_url="https://co2.city.example.jp").get_data(as_text=True)
    assert "sandbox-banner" in page and "テスト決済" in page


def test_serving_the_sandbox_needs_its_own_process(production):
    sandboxed = {**production, "STRIPE_SECRET_KEY": "", "ALLOW_PAYMENT_SANDBOX": True, "STRIPE_SANDBOX_URL": ""}
    config = {**{k: getattr(Config, k) for k in dir(Config) if k.isupper()}, **sandboxed}
    assert check_settings(config) == []  # a `flask` command (make serve's db upgrade) may run
    [problem] = check_settings(config, serving=True)
    assert problem.startswith("ALLOW_PAYMENT_SANDBOX=1 needs the sandbox as its own process")


def test_development_needs_no_settings(app, database_url):
    # (Without SECRET_KEY it would keep a generated one in instance/: see the last test.)
    development = built({"TESTING": False, "APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url,
                         "SECRET_KEY": "dev", "STRIPE_SECRET_KEY": "", "PUBLIC_BASE_URL": "",
                         "RATELIMIT_STORAGE_URI": "memory://"})
    assert not development.config["SESSION_COOKIE_SECURE"]
    response = development.test_client().get("/")
    assert response.status_code == 200 and "Strict-Transport-Security" not in response.headers


def test_production_serves_https_only(production):
    app = built(production)
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    client = app.test_client()
    response = client.get("/auth/login", base_url="https://co2.city.example.jp")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_behind_one_proxy_the_client_address_and_scheme_come_from_forwarded_headers(production):
    from flask import request

    app = built({**production, "TRUSTED_PROXY_COUNT": "1"})

    @app.get("/_seen")
    def seen():
        return {"address": request.remote_addr, "scheme": request.scheme}

    answer = app.test_client().get("/_seen", headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9",
                                                      "X-Forwarded-Proto": "https"}).get_json()
    assert answer == {"address": "203.0.113.9", "scheme": "https"}  # the last hop: what nginx saw


def _make_key(instance: str, barrier, results) -> None:
    app = Flask("keytest", instance_path=instance)
    barrier.wait()
    _ensure_secret_key(app)
    results.put(app.config["SECRET_KEY"])


def test_workers_starting_together_agree_on_one_development_key(tmp_path):
    context = multiprocessing.get_context("fork")
    for attempt in range(5):
        instance = tmp_path / f"instance-{attempt}"
        barrier, results = context.Barrier(4), context.Queue()
        workers = [context.Process(target=_make_key, args=(str(instance), barrier, results)) for _ in range(4)]
        for worker in workers:
            worker.start()
        keys = {results.get(timeout=20) for _ in workers}
        for worker in workers:
            worker.join(10)
        assert len(keys) == 1 and keys == {(Path(instance) / "secret_key").read_text().strip()}
        assert sorted(os.listdir(instance)) == ["secret_key"]  # no drafts left behind
