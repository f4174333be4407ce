"""API keys for Open311: admins make, list and revoke them; the key is shown once and stored hashed."""

import hashlib
from datetime import datetime

import pytest
from sqlalchemy import text

from src.models.user import UserRole
from tests.api.open311_helpers import KEYS, _fresh_public_cache, make_key, post_request  # noqa: F401


async def test_admin_makes_a_key_shown_once_and_stored_as_its_digest(client, world, db):
    created = await make_key(client, world.admin, "  FixMyStreet  ")
    assert set(created) == {"id", "name", "key", "created_at"}
    assert created["name"] == "FixMyStreet"
    assert created["key"].startswith("k311_") and len(created["key"]) >= 40
    assert datetime.fromisoformat(created["created_at"]).utcoffset() is not None
    async with db.system_session() as s:
        row = (await s.execute(text("SELECT key_hash, created_by, municipality_id FROM api_keys"))).one()
    assert bytes(row.key_hash) == hashlib.sha256(created["key"].encode()).digest()
    assert row.created_by == world.admin.id and row.municipality_id == world.municipality.id

    listed = (await client.get(KEYS, headers=world.admin.headers)).json()
    assert listed == [
        {
            "id": created["id"],
            "name": "FixMyStreet",
            "created_at": created["created_at"],
            "last_used_at": None,
            "revoked_at": None,
        }
    ]
    assert created["key"] not in (await client.get(KEYS, headers=world.admin.headers)).text


async def test_use_is_recorded_and_revocation_stops_the_key(client, world):
    created = await make_key(client, world.admin)
    await post_request(client, world, created["key"])
    used = (await client.get(KEYS, headers=world.admin.headers)).json()[0]
    assert used["last_used_at"] is not None and used["revoked_at"] is None

    r = await client.delete(f"{KEYS}/{created['id']}", headers=world.admin.headers)
    assert r.status_code == 204 and r.content == b""
    revoked = (await client.get(KEYS, headers=world.admin.headers)).json()[0]
    assert revoked["revoked_at"] is not None
    r = await post_request(client, world, created["key"], expect=403)
    assert r.json() == [{"code": 403, "description": "This api_key is not valid for this jurisdiction."}]
    # Revoking again changes nothing.
    assert (await client.delete(f"{KEYS}/{created['id']}", headers=world.admin.headers)).status_code == 204
    assert (await client.get(KEYS, headers=world.admin.headers)).json()[0]["revoked_at"] == revoked["revoked_at"]


async def test_anonymous_is_401_everywhere(client, world):
    created = await make_key(client, world.admin)
    assert (await client.post(KEYS, json={"name": "x"})).status_code == 401
    assert (await client.get(KEYS)).status_code == 401
    assert (await client.delete(f"{KEYS}/{created['id']}")).status_code == 401


@pytest.mark.parametrize("role", [r for r in UserRole if r is not UserRole.ADMIN])
async def test_other_roles_are_403(client, world, role):
    created = await make_key(client, world.admin)
    actor = world.actors[role]
    assert (await client.post(KEYS, json={"name": "x"}, headers=actor.headers)).status_code == 403
    assert (await client.get(KEYS, headers=actor.headers)).status_code == 403
    assert (await client.delete(f"{KEYS}/{created['id']}", headers=actor.headers)).status_code == 403
    assert (await client.get(KEYS, headers=world.admin.headers)).json()[0]["revoked_at"] is None


async def test_another_municipality_neither_sees_nor_revokes_a_key(client, world, other):
    created = await make_key(client, world.admin)
    assert (await client.get(KEYS, headers=other.admin.headers)).json() == []
    r = await client.delete(f"{KEYS}/{created['id']}", headers=other.admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert (await client.get(KEYS, headers=world.admin.headers)).json()[0]["revoked_at"] is None


async def test_a_key_works_only_for_its_own_jurisdiction(client, world, other):
    theirs = await make_key(client, other.admin)
    r = await post_request(client, world, theirs["key"], expect=403)
    assert r.json()[0]["code"] == 403


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": "ok", "extra": 1}, {"name": 5}]
)
async def test_bad_bodies_are_422_and_make_nothing(client, world, body):
    r = await client.post(KEYS, json=body, headers=world.admin.headers)
    assert r.status_code == 422
    assert (await client.get(KEYS, headers=world.admin.headers)).json() == []


async def test_unknown_or_malformed_ids_on_delete(client, world):
    assert (
        await client.delete(f"{KEYS}/00000000-0000-0000-0000-000000000000", headers=world.admin.headers)
    ).status_code == 404
    assert (await client.delete(f"{KEYS}/not-a-uuid", headers=world.admin.headers)).status_code == 422
