"""TOTP two-factor sign-in (RFC 6238, 30-second codes of 6 digits, as authenticator apps use).

Enrolment has two steps so a mistyped secret never locks anyone out: `enrol` stores a new secret
(not yet required), `confirm` turns it on once the app produces a valid code. A confirmed
enrolment cannot be replaced through the API (a stolen session must not swap the second factor).
"""

import pyotp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict, Invalid
from src.models.user import User
from src.services import access
from src.services.principal import Principal

ISSUER = "Khanyisa"
# One step either side: a code typed as it changes, or a phone clock a little off, still works.
VALID_WINDOW = 1


def code_is_valid(secret: str | None, code: str | None) -> bool:
    if not secret or not code:
        return False
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return False
    return pyotp.TOTP(secret).verify(code, valid_window=VALID_WINDOW)


async def _own_user(session: AsyncSession, p: Principal) -> User:
    access.require_role(p, access.TOTP_ENROLLERS)
    user = await session.scalar(select(User).where(User.municipality_id == p.municipality_id, User.id == p.id))
    assert user is not None  # the principal was loaded from this very row in this transaction
    return user


async def enrol(session: AsyncSession, p: Principal) -> tuple[str, str]:
    user = await _own_user(session, p)
    if user.totp_enabled:
        raise Conflict("Two-factor sign-in is already on for this account.", "totp_already_enabled")
    user.totp_secret = pyotp.random_base32()
    await session.flush()
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return user.totp_secret, uri


async def confirm(session: AsyncSession, p: Principal, code: str) -> None:
    user = await _own_user(session, p)
    if user.totp_enabled:
        raise Conflict("Two-factor sign-in is already on for this account.", "totp_already_enabled")
    if not user.totp_secret:
        raise Conflict("Start the enrolment first (POST /auth/totp).", "totp_not_enrolled")
    if not code_is_valid(user.totp_secret, code):
        raise Invalid("The code is not valid; check the app and try again.", "invalid_totp")
    user.totp_enabled = True
    await session.flush()
