"""The residents' carbon-offset site: create_app() builds it."""
from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from .config import (INSTANCE_DIR, Config, ConfigError, apply_environment, check_settings,
                     trusted_proxy_count, workers_from_environment)
from .web.urls import SiteFlask

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def create_app(config: type | Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI, error pages."""
    app = SiteFlask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                    instance_path=str(INSTANCE_DIR))
    app.config.from_object(Config)
    if isinstance(config, Mapping):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    apply_environment(app.config)
    # gunicorn's master ran these checks already (gunicorn.conf.py); a worker that still finds a
    # problem (gunicorn started without that file) fails to boot, and gunicorn stops.
    problems = check_settings(app.config, workers=workers_from_environment(),
                              serving="gunicorn.arbiter" in sys.modules)
    if problems:
        raise ConfigError(problems)
    _ensure_secret_key(app)
    _trust_proxies(app)

    from .web.converters import DatabaseId, PathSegment

    # Before any blueprint: every <int:...> is bounded, and no plain argument carries a NUL.
    app.url_map.converters.update(int=DatabaseId, default=PathSegment, string=PathSegment)
    from . import models  # noqa: F401  (registers the tables)
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .web import i18n, security, static_files

    db.init_app(app)
    _sqlite_pragmas(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from .services.accounts import load_user

    login_manager.user_loader(load_user)

    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .checkout import bp as checkout_bp
    from .evidence import bp as evidence_bp
    from .learn import bp as learn_bp
    from .organiser import bp as organiser_bp
    from .payments import gateway
    from .public import bp as public_bp
    from .staff import bp as staff_bp
    from .transparency import bp as transparency_bp
    from .webhooks import bp as webhooks_bp

    gateway.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(checkout_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(learn_bp, url_prefix="/learn")
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(organiser_bp, url_prefix="/organiser")
    app.register_blueprint(evidence_bp, url_prefix="/evidence")
    app.register_blueprint(transparency_bp)  # /transparency, .csv and .json

    i18n.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    from .web import errors

    errors.init_app(app)
    from .cli import register_cli

    register_cli(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Production has SECRET_KEY (check_settings saw to it); a development machine gets one kept
    under instance/. Several processes starting at once agree on one key: the file is written
    aside and linked into place, so whoever comes second reads the first one's key."""
    if app.config.get("SECRET_KEY"):
        return
    key_file = Path(app.instance_path) / "secret_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        draft = key_file.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, key_file)  # atomic: fails if another process linked its key first
            log.warning("SECRET_KEY is not set: using a generated development key in %s", key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    app.config["SECRET_KEY"] = key_file.read_text(encoding="utf-8").strip()


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_COUNT proxies, the client's address and scheme come from their
    X-Forwarded-For and X-Forwarded-Proto (rate limits then count real clients)."""
    count = trusted_proxy_count(app.config)
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def _sqlite_pragmas(app: Flask) -> None:
    """SQLite: enforce foreign keys, let readers and a writer work at once (WAL), wait on locks."""
    from sqlalchemy import event

    from .extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if ":memory:" not in str(engine.url) and engine.url.database:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
