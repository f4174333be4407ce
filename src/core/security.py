"""Passwords (Argon2id) and access tokens (HS256 JWT)."""

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from src.core.config import get_settings
from src.core.hash_slots import hash_slots

_hasher = PasswordHash((Argon2Hasher(),))
# A real hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, never a 500
        return False


async def hash_password_async(password: str, client: str | None = None) -> str:
    """Argon2 is deliberately slow; off the event loop, other requests keep being served, and in
    turns (src/core/hash_slots.py) so no client can take every core or the memory."""
    async with hash_slots.turn(client):
        return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, password_hash: str | None, client: str | None = None) -> bool:
    async with hash_slots.turn(client):
        return await asyncio.to_thread(verify_password, password, password_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    municipality_id: uuid.UUID
    role: str
    session_id: uuid.UUID


def secret_key() -> str:
    key = get_settings().secret_key
    if not key or len(key.encode()) < 32:
        raise RuntimeError("SECRET_KEY must be set to at least 32 bytes")
    return key


def create_access_token(
    user_id: uuid.UUID, municipality_id: uuid.UUID, role: str, session_id: uuid.UUID, expires_at: datetime | None = None
) -> tuple[str, int]:
    """A token for one server-side session (`sid`): it is refused as soon as that session ends."""
    minutes = get_settings().access_token_minutes
    now = datetime.now(UTC)
    expires_at = expires_at or now + timedelta(minutes=minutes)
    payload = {
        "sub": str(user_id),
        "mun": str(municipality_id),
        "role": role,
        "sid": str(session_id),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "typ": "access",
    }
    return jwt.encode(payload, secret_key(), algorithm=ALGORITHM), max(0, round((expires_at - now).total_seconds()))


MAX_VERIFIED = 4096  # tokens remembered as verified, about 1 MB at most
_verified: dict[tuple[str, str], tuple[TokenClaims, float]] = {}


def decode_access_token(token: str) -> TokenClaims | None:
    """Validate signature, algorithm, expiry and every claim's shape; None when anything is off.

    A token that passed is remembered (per signing key) with its expiry, so the rate limiter and
    the endpoint do not each check the signature again: only its expiry is checked then.
    """
    key = secret_key()
    known = _verified.get((key, token))
    if known is not None:
        claims, expires = known
        return claims if time.time() < expires else None
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "mun", "role", "sid", "exp"]},
        )
        if payload.get("typ") != "access" or not isinstance(payload["role"], str):
            return None
        claims = TokenClaims(
            uuid.UUID(payload["sub"]), uuid.UUID(payload["mun"]), payload["role"], uuid.UUID(payload["sid"])
        )
        expires = float(payload["exp"])
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        return None
    if len(_verified) >= MAX_VERIFIED:
        _verified.clear()
    _verified[(key, token)] = (claims, expires)
    return claims
