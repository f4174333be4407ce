"""Shared steps for the Open311 and public API tests."""

from typing import Any

import pytest

from src.services import public_cache

O311 = "/open311/v2"
KEYS = "/api/v1/api-keys"


@pytest.fixture(autouse=True)
def _fresh_public_cache():
    """Each test reads the database's truth, not a figure cached by the previous one."""
    public_cache.clear()
    yield
    public_cache.clear()


async def make_key(client, admin, name: str = "FixMyStreet") -> dict:
    r = await client.post(KEYS, json={"name": name}, headers=admin.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def post_request(client, world, key: str, fmt: str = "json", expect: int = 201, **fields: Any):
    form = {
        "jurisdiction_id": world.municipality.code.lower(),
        "api_key": key,
        "service_code": "water",
        "description": "Burst pipe on Main Road",
        "lat": "-25.95",
        "long": "28.05",
        **fields,
    }
    form = {k: v for k, v in form.items() if v is not None}
    r = await client.post(f"{O311}/requests.{fmt}", data=form)
    assert r.status_code == expect, r.text
    return r
