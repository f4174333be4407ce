"""Open311 API keys: made and revoked by a municipality's admins, checked on every Open311 post.

A key is 32 random bytes (URL-safe text); only its SHA-256 digest is stored. With that much
entropy a slow hash would add nothing (there is no dictionary to try), and a fast digest lets
the key be found by an index lookup; the digests are then compared in constant time all the same.
"""

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Forbidden
from src.models.api_key import ApiKey
from src.schemas.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyResponse
from src.services import access
from src.services.principal import Principal

KEY_PREFIX = "k311_"


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_key(session: AsyncSession, p: Principal, body: ApiKeyCreate) -> ApiKeyCreated:
    access.require_role(p, access.ADMINISTRATORS)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(municipality_id=p.municipality_id, name=body.name, key_hash=digest(key), created_by=p.id)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return ApiKeyCreated(id=row.id, name=row.name, key=key, created_at=row.created_at)


async def list_keys(session: AsyncSession, p: Principal) -> list[ApiKeyResponse]:
    access.require_role(p, access.ADMINISTRATORS)
    rows = await session.scalars(
        select(ApiKey).where(ApiKey.municipality_id == p.municipality_id).order_by(ApiKey.created_at, ApiKey.id)
    )
    return [ApiKeyResponse.model_validate(r) for r in rows]


async def revoke_key(session: AsyncSession, p: Principal, key_id: uuid.UUID) -> None:
    """Revoking is idempotent: a revoked key keeps its first revocation time."""
    access.require_role(p, access.ADMINISTRATORS)
    row = await session.scalar(
        select(ApiKey).where(ApiKey.municipality_id == p.municipality_id, ApiKey.id == key_id).with_for_update()
    )
    if row is None:
        raise access.not_found("API key")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await session.flush()


async def use_key(session: AsyncSession, municipality_id: uuid.UUID, key: str | None) -> ApiKey:
    """The live key of this municipality that `key` is, with its use recorded; else 403.

    Runs in the municipality's tenant transaction, so another municipality's key is simply not
    found here: a key works only for its own jurisdiction.
    """
    if not key:
        raise Forbidden("An api_key is required to post a request.", "api_key_required")
    wanted = digest(key)
    row = await session.scalar(
        select(ApiKey).where(ApiKey.municipality_id == municipality_id, ApiKey.key_hash == wanted)
    )
    if row is None or not hmac.compare_digest(row.key_hash, wanted) or row.revoked_at is not None:
        raise Forbidden("This api_key is not valid for this jurisdiction.", "invalid_api_key")
    row.last_used_at = datetime.now(UTC)
    await session.flush()
    return row
