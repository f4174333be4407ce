"""Accounts by e-mail: confirming an address, telling an owner that someone tried to register
with it, and choosing a new password through a single-use link.

The links are rows of `account_tokens` (only each token's hash is stored; see
src/services/notifications/links.py); the e-mails go through the outbox like every other message.
Everything here runs before anyone is signed in, as the system."""

import hmac
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.core import timesource
from src.core.errors import AppError
from src.core.rate_limit import ACCOUNT_REQUESTS_PER_ADDRESS, RateLimited, rate_limit
from src.core.security import hash_password_async
from src.models.notification import AccountToken, NotificationKind, TokenPurpose
from src.models.user import User
from src.services import session_service
from src.services.notifications import links
from src.services.notifications.outbox import announce_account_message

LIFETIMES = {TokenPurpose.VERIFY_EMAIL: timedelta(hours=24), TokenPurpose.PASSWORD_RESET: timedelta(minutes=30)}


class InvalidLink(AppError):
    code = "invalid_link"
    detail = "This link is not valid or has expired."


async def _issue(session: AsyncSession, user: User, purpose: TokenPurpose) -> uuid.UUID:
    token_id = uuid.uuid4()
    session.add(
        AccountToken(
            id=token_id,
            municipality_id=user.municipality_id,
            user_id=user.id,
            purpose=purpose,
            token_hash=links.token_hash(links.account_token(token_id, purpose)),
            expires_at=timesource.current_time() + LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token_id


async def send_verification(session: AsyncSession, user: User) -> None:
    token_id = await _issue(session, user, TokenPurpose.VERIFY_EMAIL)
    await announce_account_message(session, user, NotificationKind.VERIFY_EMAIL, token_id)


async def _mailbox_allows(email: str) -> bool:
    """At most 5 account e-mails an hour reach one mailbox, however many addresses ask for them;
    past that the request still answers as usual, and nothing is sent."""
    try:
        await rate_limit(f"account-mail:{email.strip().lower()}", ACCOUNT_REQUESTS_PER_ADDRESS)
    except RateLimited:
        return False
    return True


async def tell_owner(session: AsyncSession, email: str) -> None:
    """Someone registered with an address in use: its owner hears of it, with a password-reset link."""
    owner = await _active_user(session, email)
    if owner is not None and await _mailbox_allows(email):
        token_id = await _issue(session, owner, TokenPurpose.PASSWORD_RESET)
        await announce_account_message(session, owner, NotificationKind.ACCOUNT_EXISTS, token_id)


async def request_password_reset(session: AsyncSession, email: str) -> None:
    """Send a reset link when an active account has this address; the caller learns nothing either way."""
    user = await _active_user(session, email)
    if user is not None and await _mailbox_allows(email):
        token_id = await _issue(session, user, TokenPurpose.PASSWORD_RESET)
        await announce_account_message(session, user, NotificationKind.PASSWORD_RESET, token_id)


async def _active_user(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower(), User.is_active))


async def _valid_token(session: AsyncSession, token: str, purpose: TokenPurpose, *, lock: bool) -> AccountToken:
    token_id = links.account_token_id(token)
    if token_id is None:
        raise InvalidLink()
    query = select(AccountToken).where(AccountToken.id == token_id, AccountToken.purpose == purpose)
    found = await session.scalar(query.with_for_update() if lock else query)
    if (
        found is None
        or not hmac.compare_digest(found.token_hash, links.token_hash(token))
        or found.used_at is not None
        or found.expires_at <= timesource.current_time()
    ):
        raise InvalidLink()
    return found


async def _owner(session: AsyncSession, token: AccountToken) -> User:
    user = await session.scalar(
        select(User).where(User.municipality_id == token.municipality_id, User.id == token.user_id, User.is_active)
    )
    if user is None:
        raise InvalidLink()
    return user


async def verify_email(session: AsyncSession, token: str) -> User:
    """Open the verification link: the address is confirmed; the link cannot be used again."""
    found = await _valid_token(session, token, TokenPurpose.VERIFY_EMAIL, lock=True)
    user = await _owner(session, found)
    now = timesource.current_time()
    found.used_at = now
    if user.email_verified_at is None:
        user.email_verified_at = now
    await session.flush()
    return user


async def reset_link_owner(session: AsyncSession, token: str) -> User:
    """Whose password a reset link may change (the form's page), without using the link."""
    return await _owner(session, await _valid_token(session, token, TokenPurpose.PASSWORD_RESET, lock=False))


async def confirm_password_reset(session: AsyncSession, token: str, password: str) -> User:
    """Set the new password, end every session of the account, and spend every reset link it has.

    Opening the link proves the address is its owner's, so it also counts as verifying it."""
    found = await _valid_token(session, token, TokenPurpose.PASSWORD_RESET, lock=True)
    user = await _owner(session, found)
    now = timesource.current_time()
    user.password_hash = await hash_password_async(password)
    if user.email_verified_at is None:
        user.email_verified_at = now
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    await session.flush()
    await session_service.end_all(session, user.municipality_id, user.id)
    return user
