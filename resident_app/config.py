"""Configuration from the environment; TestConfig for the test suite."""
from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


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


class Config:
    """Production-capable defaults; every secret comes from the environment."""

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
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    PROGRAMME_OPERATOR_JA = os.environ.get("PROGRAMME_OPERATOR_JA", "東京都市町村 カーボン・オフセット共同事業")
    PROGRAMME_OPERATOR_EN = os.environ.get(
        "PROGRAMME_OPERATOR_EN", "Tokyo Municipalities' Joint Carbon Offset Programme"
    )
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "")
    # Payments: with no secret key the local Stripe sandbox is used ("テスト決済", no money moves).
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
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
    # The test suite's own, never used outside it (bandit B105).
    SECRET_KEY = "test-secret-key-not-for-production"  # nosec B105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = False
    # A hash method (fast for fixtures), not a password (bandit B105).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # nosec B105
    # Empty: the tests use the local sandbox (bandit B105).
    STRIPE_SECRET_KEY = ""  # nosec B105
    STRIPE_SANDBOX_WEBHOOK_URL = None  # tests deliver events themselves, or point it at a live server
    MAIL_SERVER = ""
