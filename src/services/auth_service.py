"""Sign-in, password change and citizen registration. Sign-in and registration run before a
tenant is known, as the system."""

from sqlalchemy import func, null, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.database import get_database
from src.core.errors import Invalid, NotFound, Unauthorized
from src.core.i18n import N_
from src.core.rate_limit import SIGN_IN_PER_ACCOUNT, RateLimited, count_failure_first, forgive
from src.core.security import hash_password_async, verify_password_async
from src.models.municipality import Municipality
from src.models.user import User, UserRole
from src.schemas.auth import PasswordChange, RegisterRequest, RegistrationAccepted
from src.services import access, account_service, consent_service, session_service, totp_service
from src.services.admin_support import constraint_name
from src.services.principal import Principal
from src.services.session_service import Client


async def authenticate(email: str, password: str, client: Client, totp: str | None = None) -> tuple[str, int]:
    """Check the credentials (and the TOTP code when the account uses one) and open a session.

    Each attempt on an account takes one of its failure slots *before* the Argon2 hash is
    computed (a guess past the limit costs nothing); a success gives it back, and so does a right
    password sent without its code (the code itself is what is then guessed, and counted).
    The hash runs between two short transactions, holding no database connection while it waits
    for its turn (src/core/hash_slots.py) or computes.
    """
    account = f"sign-in-account:{email.strip().lower()}"
    await count_failure_first(account, SIGN_IN_PER_ACCOUNT)
    db = get_database()
    async with db.system_session() as session:
        row = (
            await session.execute(
                select(User, Municipality.is_active, Municipality.require_totp)
                .join(Municipality, Municipality.id == User.municipality_id)
                .where(func.lower(User.email) == email.strip().lower())
            )
        ).first()
    user = row.User if row else None
    try:
        verified = await verify_password_async(password, user.password_hash if user else None, client.address)
    except RateLimited:  # this address already has many sign-ins waiting: nothing was tried
        await forgive(account, SIGN_IN_PER_ACCOUNT)
        raise
    if not verified or not user or row is None:
        raise Unauthorized(N_("Incorrect email or password."), "invalid_credentials")
    if not user.is_active or not row.is_active:
        raise Unauthorized(N_("This account is not active."), "inactive_user")
    if user.totp_enabled:
        if not totp:
            await forgive(account, SIGN_IN_PER_ACCOUNT)
            raise Unauthorized(N_("Enter the code from your authenticator app."), "totp_required")
        if not totp_service.code_is_valid(user.totp_secret, totp):
            raise Unauthorized(N_("The authenticator code is not valid."), "invalid_totp")
    elif row.require_totp and UserRole(user.role) in access.TOTP_REQUIRABLE:
        raise Unauthorized(
            "Your municipality requires two-factor sign-in for this role; ask the operator to let you enrol.",
            "totp_enrolment_required",
        )
    await forgive(account, SIGN_IN_PER_ACCOUNT)
    async with db.system_session() as session:
        return await session_service.open_session(session, user, client)


async def change_password(session: AsyncSession, p: Principal, body: PasswordChange) -> None:
    """The caller's own password; the current one is checked (and failures counted like sign-in
    failures), and every session of the account ends, this one included."""
    account = f"sign-in-account:{p.email.lower()}"
    await count_failure_first(account, SIGN_IN_PER_ACCOUNT)
    user = await session.scalar(select(User).where(User.municipality_id == p.municipality_id, User.id == p.id))
    if user is None or not await verify_password_async(body.current_password, user.password_hash):
        raise Invalid("The current password is not correct.", "wrong_current_password")
    await forgive(account, SIGN_IN_PER_ACCOUNT)
    user.password_hash = await hash_password_async(body.new_password)
    await session.flush()
    await session_service.end_all(session, p.municipality_id, p.id)


async def email_taken(session: AsyncSession, email: str) -> bool:
    """Emails are unique across the platform; this check must see every municipality."""
    found = await session.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == email.lower()))
    return bool(found)


async def register_citizen(session: AsyncSession, body: RegisterRequest) -> RegistrationAccepted:
    """A new account, or, for an address already in use, a message to its owner instead.

    Both answer the same (nothing in the answer comes from the database but the municipality the
    caller named) and both hash the password, so neither the answer nor its timing reveals
    whether the address has an account."""
    if body.consent is not True:
        raise Invalid("Consent to the processing of your information is required (POPIA).", "consent_required")
    mun = await session.scalar(
        select(Municipality).where(Municipality.code == body.municipality_code.upper(), Municipality.is_active)
    )
    if mun is None:
        raise NotFound("Municipality not found.", "municipality_not_found")
    email = body.email.lower()
    accepted = RegistrationAccepted(
        email=email,
        full_name=body.full_name,
        phone=body.phone,
        role=UserRole.CITIZEN.value,
        municipality_id=mun.id,
        preferred_language=body.preferred_language.value,
    )
    password_hash = await hash_password_async(body.password)
    if await email_taken(session, email):
        await account_service.tell_owner(session, email)
        return accepted
    user = User(
        municipality_id=mun.id,
        email=email,
        full_name=body.full_name,
        phone=body.phone,
        role=UserRole.CITIZEN.value,
        preferred_language=body.preferred_language.value,
        is_active=True,
        password_hash=password_hash,
        email_verified_at=null(),  # NULL itself: None would take the column's default (verified)
    )
    try:
        # Two registrations racing past email_taken meet the unique index: the loser tells the owner.
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as exc:
        if constraint_name(exc) != "uq_users_email":
            raise
        await account_service.tell_owner(session, email)
        return accepted
    await consent_service.record_at_registration(session, user)
    await account_service.send_verification(session, user)
    return accepted
