"""Writes made by the operator's command line: municipalities and users, as the system (no tenant).

Input shapes are checked by the command line; this module enforces what only the database can
answer (duplicates, unknown municipality or ward) and reports it as an AppError whose detail is a
sentence the operator can act on.
"""

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from src.core.database import Database
from src.core.errors import Conflict, NotFound
from src.core.security import hash_password
from src.models.municipality import Municipality
from src.models.user import User, UserRole
from src.models.ward import Ward


async def create_municipality(url: str, code: str, name: str, province: str, timezone: str) -> uuid.UUID:
    db = Database(url, pool_size=1)
    try:
        async with db.system_session() as session:
            if await session.scalar(select(Municipality.id).where(Municipality.code == code)):
                raise Conflict(f"municipality {code} already exists", "municipality_exists")
            mun = Municipality(code=code, name=name, province=province, timezone=timezone, is_active=True)
            session.add(mun)
            await session.flush()
            return mun.id
    except IntegrityError:  # created by someone else between the check and the insert
        raise Conflict(f"municipality {code} already exists", "municipality_exists") from None
    finally:
        await db.dispose()


async def create_user(
    url: str,
    municipality_code: str,
    email: str,
    password: str,
    role: UserRole,
    full_name: str,
    ward_code: str | None,
) -> uuid.UUID:
    """Create an active user; `email` is already normalised to lower case."""
    password_hash = hash_password(password)
    db = Database(url, pool_size=1)
    try:
        async with db.system_session() as session:
            mun_id = await session.scalar(select(Municipality.id).where(Municipality.code == municipality_code))
            if mun_id is None:
                raise NotFound(f"no municipality with code {municipality_code}", "municipality_not_found")
            ward_id = None
            if ward_code:
                ward_id = await session.scalar(
                    select(Ward.id).where(Ward.municipality_id == mun_id, func.upper(Ward.code) == ward_code.upper())
                )
                if ward_id is None:
                    raise NotFound(f"no ward {ward_code} in municipality {municipality_code}", "ward_not_found")
            taken = await session.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == email))
            if taken:
                raise Conflict(f"a user with email {email} already exists", "email_taken")
            user = User(
                municipality_id=mun_id,
                email=email,
                full_name=full_name,
                role=role.value,
                ward_id=ward_id,
                preferred_language="en",
                is_active=True,
                password_hash=password_hash,
            )
            session.add(user)
            await session.flush()
            return user.id
    except IntegrityError:
        raise Conflict(f"a user with email {email} already exists", "email_taken") from None
    finally:
        await db.dispose()


async def require_totp(url: str, municipality_code: str, required: bool) -> list[str]:
    """Set whether the municipality's admins and SAPS liaisons must sign in with TOTP; returns the
    e-mail addresses of those who have not enrolled yet (they cannot sign in while it is on)."""
    from src.services import access

    db = Database(url, pool_size=1)
    try:
        async with db.system_session() as session:
            mun = await session.scalar(select(Municipality).where(Municipality.code == municipality_code))
            if mun is None:
                raise NotFound(f"no municipality with code {municipality_code}", "municipality_not_found")
            mun.require_totp = required
            roles = [r.value for r in access.TOTP_REQUIRABLE]
            rows = await session.scalars(
                select(User.email)
                .where(
                    User.municipality_id == mun.id, User.role.in_(roles), User.is_active, User.totp_enabled.is_(False)
                )
                .order_by(User.email)
            )
            return list(rows)
    finally:
        await db.dispose()
