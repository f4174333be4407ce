"""Server-side sessions through HTTP: logout, the sessions list, ending one, and every account
change that ends them all; pages and live-event streams alike."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select, update

from src.api.deps import SESSION_COOKIE
from src.core.security import ALGORITHM, secret_key
from src.main import app
from src.models.session import UserSession
from src.services import live_events, session_service
from tests.api.security_helpers import API, client_from
from tests.api.sse_client import SseStream
from tests.factories import PASSWORD
from tests.web.helpers import form_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sid_of(token: str) -> str:
    return jwt.decode(token, secret_key(), algorithms=[ALGORITHM])["sid"]


async def sign_in(client, email: str, agent: str = "pytest-agent") -> str:
    r = await client.post(
        f"{API}/auth/token", data={"username": email, "password": PASSWORD}, headers={"User-Agent": agent}
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


async def me_status(client, token: str) -> int:
    return (await client.get(f"{API}/auth/me", headers=bearer(token))).status_code


async def test_sign_in_opens_a_session_named_by_the_token(db, world):
    async with client_from("192.0.2.44") as c:
        token = await sign_in(c, world.manager.user.email, "Firefox/140 on a phone")
    async with db.system_session() as s:
        row = await s.get(UserSession, uuid.UUID(sid_of(token)))
    assert row is not None and row.user_id == world.manager.id and row.municipality_id == world.municipality.id
    assert (row.address, row.user_agent, row.ended_at) == ("192.0.2.44", "Firefox/140 on a phone", None)
    assert timedelta(hours=7) < row.expires_at - row.created_at <= timedelta(hours=8, seconds=1)


async def test_logout_ends_this_session_only(client, world):
    first = await sign_in(client, world.manager.user.email)
    second = await sign_in(client, world.manager.user.email)
    r = await client.post(f"{API}/auth/logout", headers=bearer(first))
    assert r.status_code == 204 and r.content == b""
    gone = await client.get(f"{API}/auth/me", headers=bearer(first))
    assert gone.status_code == 401 and gone.json()["code"] == "invalid_token"
    assert await me_status(client, second) == 200
    assert (await client.post(f"{API}/auth/logout", headers=bearer(first))).status_code == 401


async def test_anonymous_calls_are_401(client, db):
    assert (await client.post(f"{API}/auth/logout")).status_code == 401
    assert (await client.get(f"{API}/auth/sessions")).status_code == 401
    assert (await client.delete(f"{API}/auth/sessions/{uuid.uuid4()}")).status_code == 401


async def test_the_sessions_list_shows_only_ones_own_live_sessions(db, factory, world, other):
    async with client_from("198.51.100.7") as c:
        current = await sign_in(c, world.field_worker.user.email, "Chrome/141")
        ended = await sign_in(c, world.field_worker.user.email)
        await c.post(f"{API}/auth/logout", headers=bearer(ended))
        await sign_in(c, world.manager.user.email)  # someone else's
        r = await c.get(f"{API}/auth/sessions", headers=bearer(current))
    assert r.status_code == 200
    body = r.json()
    async with db.system_session() as s:
        rows = {
            str(x.id): x
            for x in await s.scalars(select(UserSession).where(UserSession.user_id == world.field_worker.id))
        }
    factory_sid, current_sid = sid_of(world.field_worker.token), sid_of(current)
    assert {item["id"] for item in body} == {factory_sid, current_sid}
    mine = next(item for item in body if item["id"] == current_sid)
    assert mine == {
        "id": current_sid,
        "created_at": rows[current_sid].created_at.isoformat().replace("+00:00", "Z"),
        "last_used_at": rows[current_sid].last_used_at.isoformat().replace("+00:00", "Z"),
        "address": "198.51.100.7",
        "user_agent": "Chrome/141",
        "current": True,
    }
    assert next(item for item in body if item["id"] == factory_sid)["current"] is False


async def test_ending_one_of_ones_sessions(client, world):
    other_device = await sign_in(client, world.admin.user.email)
    r = await client.delete(f"{API}/auth/sessions/{sid_of(other_device)}", headers=world.admin.headers)
    assert r.status_code == 204
    assert await me_status(client, other_device) == 401
    assert await me_status(client, world.admin.token) == 200
    # Already ended: nothing left to end.
    r = await client.delete(f"{API}/auth/sessions/{sid_of(other_device)}", headers=world.admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "session_not_found"


async def test_another_users_or_municipalitys_session_is_404_and_stays_alive(client, world, other):
    for victim in (world.citizen, world.manager, other.admin):
        r = await client.delete(f"{API}/auth/sessions/{sid_of(victim.token)}", headers=world.admin.headers)
        assert r.status_code == 404 and r.json()["code"] == "session_not_found"
        assert await me_status(client, victim.token) == 200
    r = await client.delete(f"{API}/auth/sessions/{uuid.uuid4()}", headers=world.admin.headers)
    assert r.status_code == 404


@pytest.mark.parametrize("bad", ["not-a-uuid", "1", "%27%20OR%201%3D1"])
async def test_a_malformed_session_id_is_422(client, world, bad):
    r = await client.delete(f"{API}/auth/sessions/{bad}", headers=world.admin.headers)
    assert r.status_code == 422
    assert await me_status(client, world.admin.token) == 200


async def test_last_used_is_refreshed_at_most_once_a_minute(client, db, world):
    sid = uuid.UUID(sid_of(world.manager.token))
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    async with db.system_session() as s:
        await s.execute(update(UserSession).where(UserSession.id == sid).values(last_used_at=long_ago))
    await client.get(f"{API}/auth/me", headers=world.manager.headers)
    await session_service.settle()
    async with db.system_session() as s:
        first = (await s.get(UserSession, sid)).last_used_at
    assert first > long_ago + timedelta(minutes=4)
    await client.get(f"{API}/auth/me", headers=world.manager.headers)
    await session_service.settle()
    async with db.system_session() as s:
        assert (await s.get(UserSession, sid)).last_used_at == first  # within the minute: no write


async def test_an_expired_session_is_refused(client, db, world):
    sid = uuid.UUID(sid_of(world.manager.token))
    async with db.system_session() as s:
        await s.execute(
            update(UserSession).where(UserSession.id == sid).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await me_status(client, world.manager.token) == 401


@pytest.mark.parametrize(
    "change",
    [
        {"password": "Another-Good-Pass-7"},
        {"is_active": False},
        {"role": "manager"},
        {"team_id": "electricity"},
        {"role": "ward_councillor", "ward_id": "ward"},
    ],
)
async def test_account_changes_end_every_session_of_that_user(client, world, change):
    target = world.field_worker
    other_device = await sign_in(client, target.user.email)
    body = dict(change)
    if "team_id" in body:
        body["team_id"] = str(world.teams["electricity"].id)
    if "ward_id" in body:
        body["ward_id"] = str(world.ward.id)
    r = await client.patch(f"{API}/users/{target.id}", headers=world.admin.headers, json=body)
    assert r.status_code == 200, r.text
    assert await me_status(client, target.token) == 401
    assert await me_status(client, other_device) == 401
    assert await me_status(client, world.manager.token) == 200  # nobody else's
    assert await me_status(client, world.admin.token) == 200


async def test_changes_that_keep_access_as_it_was_keep_the_sessions(client, world):
    r = await client.patch(
        f"{API}/users/{world.field_worker.id}",
        headers=world.admin.headers,
        json={"full_name": "Renamed Person", "phone": "+27 12 345 6789", "team_id": str(world.teams["water"].id)},
    )
    assert r.status_code == 200
    assert await me_status(client, world.field_worker.token) == 200


async def test_a_refused_change_ends_nothing(client, world):
    r = await client.patch(
        f"{API}/users/{world.field_worker.id}", headers=world.admin.headers, json={"role": "ward_councillor"}
    )  # no ward: 422
    assert r.status_code == 422
    assert await me_status(client, world.field_worker.token) == 200


async def test_changing_ones_own_password_ends_every_session(client, world):
    other_device = await sign_in(client, world.citizen.user.email)
    body = {"current_password": PASSWORD, "new_password": "A-Fresh-Passphrase-42"}
    r = await client.post(f"{API}/auth/password", headers=world.citizen.headers, json=body)
    assert r.status_code == 204
    assert await me_status(client, world.citizen.token) == 401
    assert await me_status(client, other_device) == 401
    r = await client.post(
        f"{API}/auth/token", data={"username": world.citizen.user.email, "password": "A-Fresh-Passphrase-42"}
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "body,code",
    [
        ({"current_password": "not-the-password", "new_password": "A-Fresh-Passphrase-42"}, "wrong_current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "validation_error"),
        ({"current_password": PASSWORD, "new_password": "qwertyuiop"}, "validation_error"),
        ({"current_password": PASSWORD}, "validation_error"),
    ],
)
async def test_a_refused_password_change_changes_nothing(client, world, body, code):
    r = await client.post(f"{API}/auth/password", headers=world.citizen.headers, json=body)
    assert r.status_code == 422 and r.json()["code"] == code
    assert await me_status(client, world.citizen.token) == 200
    r = await client.post(f"{API}/auth/token", data={"username": world.citizen.user.email, "password": PASSWORD})
    assert r.status_code == 200
    assert (await client.post(f"{API}/auth/password", json=body)).status_code == 401


# ---- pages --------------------------------------------------------------------------------


async def test_the_page_logout_ends_the_session_not_just_the_cookie(client, world):
    token = await form_token(client, "/login")
    r = await client.post("/login", data={"email": world.manager.user.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303
    cookie = client.cookies.get(SESSION_COOKIE)
    token = await form_token(client, "/dashboard")
    r = await client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert await me_status(client, cookie) == 401  # a copy of the cookie is worthless now


async def test_the_page_logout_needs_its_csrf_token(client, world):
    client.cookies.set(SESSION_COOKIE, world.manager.token)
    await form_token(client, "/dashboard")
    r = await client.post("/logout", data={"csrf_token": "forged.0000"})
    assert r.status_code == 403
    assert await me_status(client, world.manager.token) == 200


async def test_a_logout_link_asks_before_signing_out(client, world):
    client.cookies.set(SESSION_COOKIE, world.manager.token)
    r = await client.get("/logout")
    assert r.status_code == 200 and 'action="/logout"' in r.text and 'name="csrf_token"' in r.text
    assert await me_status(client, world.manager.token) == 200


# ---- live events --------------------------------------------------------------------------


@pytest.fixture
def quick_session_checks(monkeypatch):
    monkeypatch.setattr(live_events, "SESSION_CHECK_SECONDS", 0.2)


async def _wait_closed(stream: SseStream) -> None:
    """The stream ends by itself: its last body message says there is no more."""
    while True:
        message = await asyncio.wait_for(stream.messages.get(), 10)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            return


async def test_a_stream_closes_when_its_user_is_deactivated(client, db, world, quick_session_checks):
    manager = world.manager
    async with SseStream(app, f"{API}/dashboard/events", headers=manager.headers) as stream:
        assert stream.status == 200
        assert (await stream.next_event()).name == "ready"
        r = await client.patch(f"{API}/users/{manager.id}", headers=world.admin.headers, json={"is_active": False})
        assert r.status_code == 200
        await _wait_closed(stream)


async def test_a_stream_closes_on_logout_and_others_stay_open(client, db, world, quick_session_checks):
    councillor = await sign_in(client, world.ward_councillor.user.email)
    async with (
        SseStream(app, f"{API}/dashboard/events", headers=bearer(councillor)) as ending,
        SseStream(app, f"{API}/dashboard/events", headers=world.ward_councillor.headers) as staying,
    ):
        assert (await ending.next_event()).name == "ready"
        assert (await staying.next_event()).name == "ready"
        assert (await client.post(f"{API}/auth/logout", headers=bearer(councillor))).status_code == 204
        await _wait_closed(ending)
        await asyncio.sleep(0.6)  # several checks later, the other session's stream is still open
        assert not staying.task.done()
