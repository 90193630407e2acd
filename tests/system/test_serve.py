"""`make serve` and `gunicorn app:app`: refusals in one line, and the README's production section
run for real (PostgreSQL, Redis, TRUSTED_PROXY_COUNT=1, the sandbox as its own process)."""
from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.resident import Resident
from bench.stack import (ROOT, clear_redis_prefix, create_database, drop_database, free_port, http_status,
                         redis_url, wait_until)

BIN = Path(sys.executable).parent


def production_env(**overrides: str) -> dict[str, str]:
    """A complete production environment (the README's variables), with some changed or removed."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STRIPE_", "RATELIMIT_", "APP_ENV", "PUBLIC_BASE_URL", "SECRET_KEY",
                                "WEB_CONCURRENCY", "TRUSTED_PROXY_COUNT", "ALLOW_PAYMENT_SANDBOX"))}
    port = str(free_port())
    env.update({"SECRET_KEY": secrets.token_urlsafe(48), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "PORT": port, "STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_WEBHOOK_SECRET": "whsec_fake",
                "RATELIMIT_STORAGE_URI": redis_url(), "TRUSTED_PROXY_COUNT": "1", "WEB_CONCURRENCY": "2"})
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_gunicorn_refuses_in_its_master_with_one_line_per_problem():
    env = production_env(SECRET_KEY=None, STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    result = run([str(BIN / "gunicorn"), "app:app"], env, timeout=60)  # reads ./gunicorn.conf.py
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Traceback" not in output
    problems = [line for line in output.splitlines() if re.match(r"^(Error: )?[A-Z_]+[ =]", line)]
    assert [p.removeprefix("Error: ").split(" ")[0] for p in problems] == ["SECRET_KEY", "STRIPE_SECRET_KEY"]


def test_gunicorn_without_our_config_file_still_refuses_and_stops():
    env = production_env(PUBLIC_BASE_URL=None)
    result = run([str(BIN / "gunicorn"), "--config", "/dev/null", "--workers", "1", "--bind",
                  f"127.0.0.1:{free_port()}", "app:app"], env, timeout=90)
    assert result.returncode != 0  # the worker fails to boot, gunicorn halts (no restart loop)
    assert "PUBLIC_BASE_URL is missing" in result.stdout + result.stderr


def test_make_serve_refuses_per_worker_rate_limits_before_touching_the_database():
    env = production_env(RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="4",
                         DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = run(["make", "--no-print-directory", "serve"], env, timeout=300)
    assert result.returncode != 0
    assert "Error: RATELIMIT_STORAGE_URI is memory:// but 4 workers would each count alone" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_production_section_of_the_readme_serves_the_site(postgres_url):
    """PostgreSQL, Redis, make serve with workers behind TRUSTED_PROXY_COUNT=1, on a staging
    server's sandbox (ALLOW_PAYMENT_SANDBOX=1: no real Stripe keys on a test machine)."""
    database_url = create_database(postgres_url, "serve")
    prefix = f"serve-{secrets.token_hex(4)}"
    env = production_env(DATABASE_URL=database_url, STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None,
                         ALLOW_PAYMENT_SANDBOX="1", RATELIMIT_KEY_PREFIX=prefix, WEB_CONCURRENCY="2")
    app_url = env["PUBLIC_BASE_URL"]
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"make-serve-{prefix}.log", "w+")
    serve = subprocess.Popen(["make", "--no-print-directory", "serve"], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: serve.poll() is not None or http_status(f"{app_url}/healthz") == 200, 240,
                   "make serve to answer /healthz")
        log.seek(0)
        output = log.read()
        assert serve.poll() is None, output[-3000:]
        assert "ALLOW_PAYMENT_SANDBOX=1: test payments only" in output and "Booting worker" in output

        resident = Resident(app_url, address="203.0.113.50")
        home = resident.get("home", f"{app_url}/")
        assert "テスト決済" in home.text and home.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in home.headers["Set-Cookie"]
        assert resident.get("demo", f"{app_url}/a/demo-bus", expect=(404,)).status_code == 404  # no --demo
        pay_url = resident.start("household", amount=500)
        sandbox_url = pay_url.split("/pay/")[0]
        assert http_status(f"{sandbox_url}/_sandbox/events") == 404  # no helpers on a staging server
        certificate = resident.certificate(resident.thanks(resident.pay(pay_url)))
        assert "オフセット参加証" in certificate
        pool = resident.get("pool", f"{app_url}/api/v1/pool").json()
        assert (pool["paid_yen"], pool["co2_g"]) == (500, 50_000)

        def logged() -> str:
            log.seek(0)
            return log.read()
        wait_until(lambda: '203.0.113.50 "GET /api/v1/pool' in logged(), 15, "the access log on stdout")
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(30)  # reap it: an unreaped child is a ResourceWarning (an error here) at collection
        log.close()
        clear_redis_prefix(redis_url(), prefix)
        drop_database(database_url)
