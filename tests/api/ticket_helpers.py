"""Shared steps for the ticket API tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from src.models.user import UserRole
from src.services.principal import Principal

API = "/api/v1/tickets"


async def report(client, actor, **body: Any) -> dict:
    payload = {"category": "water", "description": "Burst pipe on Main Road", **body}
    r = await client.post(API, json=payload, headers=actor.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def set_status(client, actor, ticket_id, status: str, note: str | None = None, expect: int = 200) -> dict:
    body = {"status": status} | ({"note": note} if note is not None else {})
    r = await client.patch(f"{API}/{ticket_id}/status", json=body, headers=actor.headers)
    assert r.status_code == expect, r.text
    return r.json()


async def assign(client, actor, ticket_id, expect: int = 200, **body: Any) -> dict:
    r = await client.post(
        f"{API}/{ticket_id}/assign", json={k: str(v) if v else v for k, v in body.items()}, headers=actor.headers
    )
    assert r.status_code == expect, r.text
    return r.json()


async def history(client, actor, ticket_id) -> list[dict]:
    r = await client.get(f"{API}/{ticket_id}/history", headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()


@contextmanager
def statements_sent(db) -> Iterator[list[str]]:
    """The SQL the application sends while the block runs, in order."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


def principal(actor, code: str = "X") -> Principal:
    """The principal a request of `actor` would carry, for calling the services directly."""
    u = actor.user
    return Principal(
        u.id,
        u.municipality_id,
        code,
        "Africa/Johannesburg",
        UserRole(u.role),
        u.email,
        u.full_name,
        u.ward_id,
        u.team_id,
    )
