"""What every request does before and after its endpoint: the pooled connection, the signed-in user.

The pool no longer pings the server before handing out a connection (it checks the driver's own
flag instead), and the user is loaded through a Core statement: these tests pin down that neither
change loses anything.
"""

import asyncio

import psycopg
from sqlalchemy import update

from src.models.user import User

API = "/api/v1"
BUSY_PATHS = ["/health", f"{API}/auth/me", f"{API}/tickets", f"{API}/dashboard/metrics"]


async def _terminate_pooled_connections(sync_dsn: str) -> int:
    """What a database restart or an idle timeout does to the pool: every server process ends."""
    with psycopg.connect(sync_dsn, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    await asyncio.sleep(0.2)  # the event loop reads each connection's end
    return ended


async def test_connections_the_server_closed_are_replaced_without_an_error(client, db, world, sync_dsn):
    # Fill the pool with several open connections, all idle between requests.
    responses = await asyncio.gather(*(client.get(p, headers=world.manager.headers) for p in BUSY_PATHS * 3))
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert await _terminate_pooled_connections(sync_dsn) >= 1

    responses = await asyncio.gather(*(client.get(p, headers=world.manager.headers) for p in BUSY_PATHS * 3))
    assert [r.status_code for r in responses] == [200] * len(responses)
    me = await client.get(f"{API}/auth/me", headers=world.manager.headers)
    assert me.json()["email"] == world.manager.user.email


async def test_the_user_is_loaded_again_on_every_request(client, db, world):
    """A rename, a demotion and a deactivation each show on the very next request of the busy endpoints."""
    me = await client.get(f"{API}/auth/me", headers=world.manager.headers)
    assert me.status_code == 200 and me.json()["role"] == "manager"

    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == world.manager.id).values(full_name="Renamed Manager"))
    assert (await client.get(f"{API}/auth/me", headers=world.manager.headers)).json()["full_name"] == "Renamed Manager"

    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == world.manager.id).values(role="citizen"))
    r = await client.get(f"{API}/dashboard/metrics", headers=world.manager.headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"

    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == world.manager.id).values(role="manager", is_active=False))
    for path in BUSY_PATHS[1:]:
        r = await client.get(path, headers=world.manager.headers)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token", path

    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == world.manager.id).values(is_active=True))
    assert all([(await client.get(p, headers=world.manager.headers)).status_code == 200 for p in BUSY_PATHS])
