"""Nothing personal in any log line, even at DEBUG: no e-mail addresses, passwords, tokens,
search terms, descriptions or SQL parameters, whether the request succeeds or fails."""

import asyncio
import logging
import socket

import httpx
import pytest
import uvicorn

from tests.api.security_helpers import API
from tests.factories import PASSWORD

SECRET_EMAIL = "thandeka.secret@example.org"
SECRET_PASSWORD = "Correct-Horse-Battery-9"
SEARCH_TERM = "zanelesearchterm"
DESCRIPTION = "Zodwa at 12 Protea Street reports a leak"
# Test clients log their own requests (httpx, httpcore); only the server's logs are judged here.
CLIENT_LOGGERS = ("httpx", "httpcore")


def server_lines(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        if record.name.startswith(CLIENT_LOGGERS):
            continue
        lines.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            lines.append(str(record.exc_info[1]))
    return "\n".join(lines)


async def test_sign_in_failures_searches_and_failing_queries_leave_nothing_personal(client, world, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # an operator debugging SQL
    for password in (SECRET_PASSWORD, SECRET_PASSWORD + "x"):
        r = await client.post(f"{API}/auth/token", data={"username": SECRET_EMAIL, "password": password})
        assert r.status_code == 401
    r = await client.post(f"{API}/auth/token", data={"username": world.manager.user.email, "password": SECRET_PASSWORD})
    assert r.status_code == 401
    r = await client.post(f"{API}/auth/token", data={"username": world.manager.user.email, "password": PASSWORD})
    token = r.json()["access_token"]
    r = await client.get(f"{API}/tickets", params={"search": SEARCH_TERM}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    # PostgreSQL refuses a NUL character: the statement fails with the description as a parameter.
    r = await client.post(
        f"{API}/tickets",
        headers=world.citizen.headers,
        json={"category": "water", "description": DESCRIPTION + "\u0000"},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid", r.text  # refused by the database
    r = await client.post(
        f"{API}/tickets", headers=world.citizen.headers, json={"category": "water", "description": DESCRIPTION}
    )
    assert r.status_code == 201

    logged = server_lines(caplog)
    assert "SELECT" in logged  # the SQL log was on: the absence below is not for want of logging
    for secret in (
        SECRET_EMAIL,
        SECRET_PASSWORD,
        SEARCH_TERM,
        DESCRIPTION,
        "Zodwa",
        token,
        world.manager.user.email,
        world.citizen.user.email,
        world.citizen.token,
    ):
        assert secret not in logged, secret
    assert "@" not in logged.replace("@@", "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_access_log_records_paths_without_query_strings(db, world, caplog):
    from src.main import app

    caplog.set_level(logging.INFO)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            r = await c.get(f"{API}/tickets", params={"search": SEARCH_TERM}, headers=world.manager.headers)
            assert r.status_code == 200
            await c.get("/reset-password", params={"token": "one-time-secret-token"})
            for link in ("/password-reset/", "/verify-email/", "/unsubscribe/"):
                await c.get(link + "one-time-secret-token.sig")
    finally:
        server.should_exit = True
        await serving
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any(f"GET {API}/tickets HTTP/1.1" in line and "200" in line for line in access), access
    assert not any(SEARCH_TERM in line or "one-time-secret-token" in line or "?" in line for line in access)
    assert any("GET /password-reset/{token} HTTP/1.1" in line and "400" in line for line in access), access
