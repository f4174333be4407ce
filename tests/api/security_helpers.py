"""Shared by the security tests: both rate-limit stores, settings overrides, clients from given addresses."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from src.core.config import get_settings
from src.core.rate_limit import Limiter, limiter_for, set_limiter
from src.services import auth_service

API = "/api/v1"
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Limiter]:
    """Limits on, counted in process memory and in Redis (own key prefix, so parallel runs never
    share counters)."""
    monkeypatch.setenv("RATE_LIMITS", "true")
    get_settings.cache_clear()
    url = REDIS_TEST_URL if request.param == "redis" else None
    store = limiter_for(url, key_prefix=f"khanyisa_test_{uuid.uuid4().hex[:10]}")
    set_limiter(store)
    yield store
    await store.reset()
    set_limiter(None)
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every password verification (each one is a full Argon2 hash)."""
    seen: list[str] = []
    real = auth_service.verify_password_async

    async def counting(password: str, password_hash: str | None, client: str | None = None) -> bool:
        seen.append(password)
        return await real(password, password_hash, client)

    monkeypatch.setattr(auth_service, "verify_password_async", counting)
    return seen


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Set environment settings for one test: `configure(TRUSTED_PROXIES="127.0.0.1")`."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


def client_from(address: str) -> httpx.AsyncClient:
    from src.main import app

    transport = httpx.ASGITransport(app=app, client=(address, 40123))
    return httpx.AsyncClient(transport=transport, base_url="http://test")
