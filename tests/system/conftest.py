"""Real processes: gunicorn workers in production mode on PostgreSQL and Redis, and the Stripe
sandbox as its own process delivering signed webhooks (bench/stack.py builds them).

They need PostgreSQL (DATABASE_URL=postgresql+psycopg://...; CI's second pass) and Redis; on the
SQLite pass they are skipped with that reason. Each run makes its own databases named after
DATABASE_URL's (`<name>_faults`, `<name>_serve`, ...) and its own Redis key prefix.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy

from bench.stack import Stack, drop_database, postgres_base_url, redis_answers, redis_url, start_stack


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "/tests/system/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """DATABASE_URL when it is PostgreSQL and Redis answers; otherwise the test is skipped."""
    url = postgres_base_url()
    if url is None:
        pytest.skip("needs PostgreSQL and real processes: runs in CI's PostgreSQL pass "
                    "(DATABASE_URL=postgresql+psycopg://...)")
    if not redis_answers(redis_url()):
        pytest.skip(f"needs Redis at {redis_url()} (TEST_REDIS_URL)")
    return url


@pytest.fixture(scope="session")
def stack(postgres_url) -> Iterator[Stack]:
    """4 gunicorn workers on `<db>_faults`, reaching PostgreSQL through a relay a test can cut."""
    running = start_stack(postgres_url, "faults", workers=4, relay_database=True)
    yield running
    running.stop()
    drop_database(running.database_url)


@pytest.fixture(scope="session")
def site_db(stack) -> Iterator[sqlalchemy.Engine]:
    """A direct connection to the stack's database, for checking what the workers wrote."""
    engine = sqlalchemy.create_engine(stack.database_url, poolclass=sqlalchemy.pool.NullPool)
    yield engine
    engine.dispose()
