"""Fixtures shared by every test: app, client, CLI runner, a CSRF helper and factories."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from resident_app import create_app
from resident_app.config import TestConfig
from resident_app.extensions import db
from resident_app.services.defaults import load_defaults
from resident_app.services.programme_content import load_programme_content

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def config_for(database_url: str, **overrides) -> type:
    """A TestConfig subclass pointing at the given database."""
    return type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, **overrides})


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """PostgreSQL when DATABASE_URL is set (CI's second run), else a SQLite file of our own."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _schema(database_url):
    app = create_app(config_for(database_url))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wipe_database() -> None:
    """Empty every table, children first, and load the defaults again."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    load_defaults()
    load_programme_content()


WEBHOOK_SECRET = "whsec_test_suite"


@pytest.fixture(scope="session")
def stripe_sandbox():
    """One local Stripe sandbox for the session; events are stored, tests deliver them."""
    from resident_app.payments.sandbox import serve_in_thread

    server, url = serve_in_thread(webhook_url=None, webhook_secret=WEBHOOK_SECRET, poll_interval=0.05)
    yield server
    server.stop()


@pytest.fixture
def app(database_url, _schema, stripe_sandbox):
    app = create_app(config_for(database_url, STRIPE_SANDBOX_URL=stripe_sandbox.base_url,
                                STRIPE_SANDBOX_API_KEY=stripe_sandbox.api_key,
                                STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET))
    with app.app_context():
        wipe_database()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def build_app(app, database_url, stripe_sandbox):
    """build_app(**config) -> another app on the test database (as `app` left it) with other
    settings, e.g. rate limits on or PUBLIC_BASE_URL set; its connections close after the test."""
    built = []

    def build(**overrides):
        settings = {"STRIPE_SANDBOX_URL": stripe_sandbox.base_url, "STRIPE_SANDBOX_API_KEY": stripe_sandbox.api_key,
                    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, **overrides}
        built.append(create_app(config_for(database_url, **settings)))
        return built[-1]

    yield build
    for other in built:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def demo(app, tmp_path):
    """The demo organiser's add-ons (demo-bus ¥100, demo-event ¥200) and staff account; uploads in tmp."""
    from resident_app.services.programme_content import load_demo_content

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        load_demo_content()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield app


def csrf_token(client, url: str = "/calculator") -> str:
    """Fetch a page as a browser would and read its CSRF token."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def calculator_form(**values) -> dict[str, object]:
    """A calculator form as the page submits it; override any field."""
    form: dict[str, object] = {"period": "month", "household_size": "2", "electricity": "",
                               "electricity_unit": "qty", "city_gas": "", "city_gas_unit": "qty",
                               "lpg": "", "kerosene": "", "gasoline": "", "diesel": "", "water": "",
                               "offset_percent": "100"}
    form.update(values)
    return form


@pytest.fixture
def post_calculator(client):
    """POST the calculator form with a valid token; returns the response."""
    def post(url: str = "/calculator", headers: dict | None = None, **values):
        form = calculator_form(**values)
        form["csrf_token"] = csrf_token(client)
        return client.post(url, data=form, headers=headers or {})
    return post


ROOT = Path(__file__).resolve().parent.parent
