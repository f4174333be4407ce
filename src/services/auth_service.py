"""Sign-in and citizen registration. Both run before a tenant is known, as the system."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict, Invalid, NotFound, Unauthorized
from src.core.security import create_access_token, hash_password_async, verify_password_async
from src.models.municipality import Municipality
from src.models.user import Consent, User, UserRole
from src.schemas.auth import RegisterRequest
from src.services.admin_support import flush_or_conflict

CONSENT_PURPOSE = "Processing of personal information to handle service reports (POPIA s11)"
CONSENT_VERSION = "2026-01"


async def authenticate(session: AsyncSession, email: str, password: str) -> tuple[str, int]:
    row = (
        await session.execute(
            select(User, Municipality.is_active)
            .join(Municipality, Municipality.id == User.municipality_id)
            .where(func.lower(User.email) == email.strip().lower())
        )
    ).first()
    user, municipality_active = (row.User, row.is_active) if row else (None, False)
    if not await verify_password_async(password, user.password_hash if user else None) or not user:
        raise Unauthorized("Incorrect email or password.", "invalid_credentials")
    if not user.is_active or not municipality_active:
        raise Unauthorized("This account is not active.", "inactive_user")
    return create_access_token(user.id, user.municipality_id, user.role)


async def email_taken(session: AsyncSession, email: str) -> bool:
    """Emails are unique across the platform; this check must see every municipality."""
    found = await session.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == email.lower()))
    return bool(found)


async def register_citizen(session: AsyncSession, body: RegisterRequest) -> User:
    if body.consent is not True:
        raise Invalid("Consent to the processing of your information is required (POPIA).", "consent_required")
    mun = await session.scalar(
        select(Municipality).where(Municipality.code == body.municipality_code.upper(), Municipality.is_active)
    )
    if mun is None:
        raise NotFound("Municipality not found.", "municipality_not_found")
    email = body.email.lower()
    if await email_taken(session, email):
        raise Conflict("An account with this email already exists.", "email_taken")
    user = User(
        municipality_id=mun.id,
        email=email,
        full_name=body.full_name,
        phone=body.phone,
        role=UserRole.CITIZEN.value,
        preferred_language=body.preferred_language.value,
        is_active=True,
        password_hash=await hash_password_async(body.password),
    )
    session.add(user)
    # Two registrations racing past email_taken meet the unique index: the loser gets the same 409.
    await flush_or_conflict(session, {"uq_users_email": Conflict("An account with this email already exists.", "email_taken")})
    session.add(Consent(municipality_id=mun.id, user_id=user.id, purpose=CONSENT_PURPOSE, policy_version=CONSENT_VERSION))
    await session.flush()
    return user
