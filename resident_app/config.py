"""Configuration from the environment; TestConfig for the test suite.

`APP_ENV` says how strict the app is. Unset, it means production: a bare `gunicorn app:app` checks
its settings and refuses to start while one is unsafe (fail closed). `make run` and the other
development targets set `APP_ENV=development`, where nothing needs configuring; the test suite uses
TestConfig (TESTING), which is development-like too.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

PRODUCTION = "production"
DEVELOPMENT = "development"
APP_ENVS = (PRODUCTION, DEVELOPMENT)
MIN_SECRET_KEY_CHARS = 32
HSTS_SECONDS = 365 * 24 * 3600
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the old driver; psycopg 3 is what we install.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return f"sqlite:///{INSTANCE_DIR / 'resident.sqlite3'}"


def _flag(name: str) -> bool:
    return os.environ.get(name, "0").strip() == "1"


class Config:
    """Every setting, read from the environment; production-only defaults are applied by
    apply_environment() once the app knows which environment it runs in."""

    APP_ENV = os.environ.get("APP_ENV", PRODUCTION).strip()
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "ja"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent.parent / "translations")
    LANGUAGES = ("ja", "en")
    WTF_CSRF_TIME_LIMIT = None  # a resident may leave the calculator open for hours
    SESSION_COOKIE_SAMESITE = "Lax"  # Strict loses the session on the way back from Stripe
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")  # always on in production
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")  # https in production
    # The address residents use, e.g. https://co2.city.example.jp: every absolute link is built
    # from it, never from the request's Host. Required in production.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").strip()
    # How many proxies in front of the app set X-Forwarded-For/-Proto (1 behind nginx).
    TRUSTED_PROXY_COUNT = os.environ.get("TRUSTED_PROXY_COUNT", "0").strip()
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "resident")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis gone at run time: count in this process's memory and keep serving (logged).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # A Redis that stopped answering must not hold a request for long (passed to redis-py).
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    # A checkout from one address (a festival's Wi-Fi, a carrier's NAT): hundreds a minute.
    CHECKOUT_LIMIT_PER_ADDRESS = os.environ.get("CHECKOUT_LIMIT_PER_ADDRESS", "600 per minute")
    # Calculator results saved from one address (a school class behind one NAT saves at once); one
    # browser has its own, lower limit (web/ratelimit.py).
    CALCULATOR_SAVE_LIMIT_PER_ADDRESS = os.environ.get("CALCULATOR_SAVE_LIMIT_PER_ADDRESS",
                                                       "60 per minute;1000 per day")
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    UPLOAD_FOLDER = os.environ.get("UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")
    PROGRAMME_OPERATOR_JA = os.environ.get("PROGRAMME_OPERATOR_JA", "東京都市町村 カーボン・オフセット共同事業")
    PROGRAMME_OPERATOR_EN = os.environ.get(
        "PROGRAMME_OPERATOR_EN", "Tokyo Municipalities' Joint Carbon Offset Programme"
    )
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "")
    # Payments. Without a secret key the local Stripe sandbox is used ("テスト決済", no money
    # moves): always in development, in production only with ALLOW_PAYMENT_SANDBOX=1.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    ALLOW_PAYMENT_SANDBOX = _flag("ALLOW_PAYMENT_SANDBOX")
    # A sandbox running as its own process (make serve starts one): its address and the key it answers.
    STRIPE_SANDBOX_URL = os.environ.get("STRIPE_SANDBOX_URL", "").strip()
    STRIPE_SANDBOX_API_KEY = os.environ.get("STRIPE_SANDBOX_API_KEY", "").strip()
    # Where browsers reach its pay page, if not at STRIPE_SANDBOX_URL (a staging proxy).
    STRIPE_SANDBOX_PUBLIC_URL = os.environ.get("STRIPE_SANDBOX_PUBLIC_URL", "").strip()
    STRIPE_SANDBOX_PORT = int(os.environ.get("STRIPE_SANDBOX_PORT", "0") or 0)
    STRIPE_SANDBOX_WEBHOOK_URL = os.environ.get(
        "STRIPE_SANDBOX_WEBHOOK_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}/webhooks/stripe")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25") or 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "")
    # Days a resident's receipt address is kept; `flask receipts forget-emails` (daily) blanks older ones.
    RECEIPT_EMAIL_RETENTION_DAYS = int(os.environ.get("RECEIPT_EMAIL_RETENTION_DAYS", "90") or 90)
    TESTING = False


class TestConfig(Config):
    """Isolated database, fixed secret, CSRF on (tests send tokens like a browser)."""

    TESTING = True
    APP_ENV = DEVELOPMENT
    # The test suite's own, never used outside it (bandit B105).
    SECRET_KEY = "test-secret-key-not-for-production"  # nosec B105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    PUBLIC_BASE_URL = ""
    TRUSTED_PROXY_COUNT = "0"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = False
    TALLY_CACHE_SECONDS = 0  # every page shows what the test just wrote; test_tally turns it on
    # A hash method (fast for fixtures), not a password (bandit B105).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # nosec B105
    # Empty: the tests use the local sandbox (bandit B105).
    STRIPE_SECRET_KEY = ""  # nosec B105
    STRIPE_SANDBOX_URL = ""
    STRIPE_SANDBOX_API_KEY = ""  # nosec B105
    STRIPE_SANDBOX_WEBHOOK_URL = None  # tests deliver events themselves, or point it at a live server
    MAIL_SERVER = ""


class ConfigError(click.ClickException):
    """Settings the app refuses to start with; one line per problem, each naming the setting.

    A ClickException, so `flask ...` prints the lines without a traceback; gunicorn's master runs
    the same checks first (gunicorn.conf.py) and prints them the same way."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def is_production(config: Mapping[str, Any]) -> bool:
    """Production unless APP_ENV says development or the test suite is running."""
    return not config.get("TESTING") and config.get("APP_ENV") != DEVELOPMENT


def apply_environment(config: MutableMapping[str, Any]) -> None:
    """Production serves HTTPS only: Secure cookies, HSTS, https URLs."""
    if is_production(config):
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
        config.setdefault("HSTS_SECONDS", HSTS_SECONDS)


def trusted_proxy_count(config: Mapping[str, Any]) -> int:
    """TRUSTED_PROXY_COUNT as a number (check_settings has refused anything else)."""
    return int(str(config.get("TRUSTED_PROXY_COUNT") or "0"))


def public_base_url_problem(value: str | None, *, production: bool = True) -> str | None:
    """Why PUBLIC_BASE_URL cannot be used (None if it can). Production wants https:// (http:// only
    for a trial on this machine); development may leave it empty and use the request's address."""
    example = "e.g. PUBLIC_BASE_URL=https://co2.city.example.jp"
    if not value:
        if not production:
            return None
        return ("PUBLIC_BASE_URL is missing: set the address residents use, " + example
                + " (Stripe return pages, QR codes, posters, e-mails and API links are built from it).")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return f"PUBLIC_BASE_URL={value} is not a site address: write scheme and host, {example}."
    if production and parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return f"PUBLIC_BASE_URL={value} must start with https:// in production ({example})."
    return None


def workers_from_environment() -> int:
    """How many worker processes will share this configuration, as far as the environment says."""
    try:
        return max(1, int(os.environ.get("WEB_CONCURRENCY", "1")))
    except ValueError:
        return 1


def check_settings(config: Mapping[str, Any], *, workers: int = 1, serving: bool = False) -> list[str]:
    """Every reason not to start, one line each naming the setting and the fix; [] when fine.

    `workers`: processes that will share one rate-limit storage. `serving`: the app is about to
    answer requests (gunicorn), not run a `flask` command."""
    problems: list[str] = []
    env = config.get("APP_ENV")
    if env not in APP_ENVS:
        problems.append(f"APP_ENV={env} is not known: leave it unset (production) or set APP_ENV=development "
                        "on a development machine.")
    try:
        if trusted_proxy_count(config) < 0:
            raise ValueError
    except ValueError:
        problems.append("TRUSTED_PROXY_COUNT must be a whole number: 0 when browsers connect directly, "
                        "1 behind one proxy such as nginx.")
    problem = public_base_url_problem(config.get("PUBLIC_BASE_URL"), production=is_production(config))
    if problem:
        problems.append(problem)
    if not is_production(config) or env not in APP_ENVS:
        return problems

    if len(config.get("SECRET_KEY") or "") < MIN_SECRET_KEY_CHARS:
        problems.append("SECRET_KEY is missing or shorter than 32 characters: set SECRET_KEY to the output of "
                        "python3 -c 'import secrets; print(secrets.token_urlsafe(48))', the same for every worker.")
    stripe_key = config.get("STRIPE_SECRET_KEY")
    if not stripe_key and not config.get("ALLOW_PAYMENT_SANDBOX"):
        problems.append("STRIPE_SECRET_KEY is missing: set your sk_live_... key (sk_test_... for a trial), or "
                        "ALLOW_PAYMENT_SANDBOX=1 on a staging or demo server where no money may move.")
    if stripe_key and not config.get("STRIPE_WEBHOOK_SECRET"):
        problems.append("STRIPE_WEBHOOK_SECRET is missing: copy the whsec_... signing secret of this site's "
                        "webhook endpoint from the Stripe dashboard (without it no payment event is accepted).")
    if not stripe_key and config.get("ALLOW_PAYMENT_SANDBOX") and serving and not (
            config.get("STRIPE_SANDBOX_URL") and config.get("STRIPE_SANDBOX_API_KEY")):
        problems.append("ALLOW_PAYMENT_SANDBOX=1 needs the sandbox as its own process: start with make serve "
                        "(it starts one), or set STRIPE_SANDBOX_URL and STRIPE_SANDBOX_API_KEY.")
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://") and workers > 1:
        problems.append(f"RATELIMIT_STORAGE_URI is memory:// but {workers} workers would each count alone: "
                        "set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (or run one worker).")
    upload_dir = Path(str(config.get("UPLOAD_FOLDER") or INSTANCE_DIR / "uploads"))
    try:
        upload_dir.mkdir(parents=True, exist_ok=True)
        writable = os.access(upload_dir, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        problems.append(f"UPLOAD_DIR={upload_dir} cannot be written: create it for the user the app runs as, "
                        "or point UPLOAD_DIR at a directory that can.")
    return problems
