"""Shared expectations of the administration tests: who may call what."""

import uuid

from src.models.user import UserRole

API = "/api/v1"
READERS = (UserRole.ADMIN, UserRole.MANAGER)
NON_READERS = (UserRole.CITIZEN, UserRole.FIELD_WORKER, UserRole.WARD_COUNCILLOR, UserRole.SAPS_LIAISON)
NON_ADMINS = (UserRole.MANAGER, *NON_READERS)
MISSING = str(uuid.uuid4())


def headers(world, role: UserRole) -> dict[str, str]:
    return world.actors[role].headers


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def send_raw(client, method: str, url: str, hdrs: dict[str, str], content: bytes):
    return await client.request(method, url, headers={**hdrs, "Content-Type": "application/json"}, content=content)
