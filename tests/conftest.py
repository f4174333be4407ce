"""Test harness: one fresh database per run, built by `alembic upgrade head`; every test starts empty.

Tests commit for real (so concurrency, NOTIFY and row-level security behave as in production),
and the tables are truncated after each test instead of rolling back one wrapping transaction.
"""

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ["SLA_SWEEP_SECONDS"] = "0"
os.environ["NOTIFY_WORKER_SECONDS"] = "0"  # tests run the worker themselves
os.environ.setdefault("COOKIE_SECURE", "false")  # the test client speaks plain http
# Every test client shares one address; limits are switched on by the tests that exercise them
# (the `limiter` fixture of tests/api/security_helpers.py).
os.environ.setdefault("RATE_LIMITS", "false")

from src.core.config import get_settings
from src.core.database import Database, set_database, sync_url

TABLES = (
    "notification_attempts, notifications, notification_preferences, account_tokens, sensitive_access_records, sessions, user_write_positions, api_keys, ticket_photos, ticket_followers, "
    "nearby_radius, declared_holidays, business_hours, ticket_events, tickets, sla_policies, consents, team_wards, "
    "users, teams, wards, municipalities"
)


# The rate-limit fixtures (`limiter`, `configure`) and the mail and SMS servers (`outbox`) for the
# test modules that ask for them.
pytest_plugins = ["tests.api.security_helpers", "tests.api.notify_helpers", "tests.photo_helpers"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: the two tests that skip on a bare machine (the streaming replica,
    the pg_dump proof) depend on tools CI installs, so a skip there means a check that did not run."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    from src.core.embedded import embedded_server_url

    return embedded_server_url(os.path.join(os.environ.get("DATA_DIR", ".data"), "test-pg"))


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server = _server_url()
    name = f"khanyisa_test_{uuid.uuid4().hex[:10]}"
    admin_dsn = _psycopg_dsn(server)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    from alembic import command
    from alembic.config import Config

    cfg = Config("alembic.ini")
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "head")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    yield url
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=20)
    set_database(database)
    yield database
    await database.dispose()
    set_database(None)


@pytest.fixture(autouse=True)
async def _clean(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    from src.core.rate_limit import get_limiter

    await get_limiter().reset()  # every test starts with fresh rate-limit counters
    if "db" in request.fixturenames:
        database: Database = request.getfixturevalue("db")
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    from src.main import app

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def sync_dsn(database_url: str) -> str:
    return _psycopg_dsn(sync_url(database_url))


@pytest.fixture
def factory(db: Database):
    from tests.factories import Factory

    return Factory(db)


@pytest.fixture
async def world(factory):
    return await factory.world()


@pytest.fixture
async def other(factory):
    """A second municipality: its records must never be visible to the first."""
    return await factory.world()
