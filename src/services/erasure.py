"""Erasure: anonymising an account, at the person's request, an administrator's, or by retention.

One code path (`anonymise`) for all three. The account stays as a row, so that the audit trail,
which refers to people by id only, keeps pointing at something; everything that identifies the
person goes:

* name, e-mail and phone are replaced (the e-mail by `erased-<id>@invalid`: unique, and
  undeliverable by definition of the `.invalid` domain); the password hash by a value no
  password matches; TOTP is removed; the account is inactive and `erased_at` is stamped;
* every session ends, every consent in force is withdrawn (the records stay), every follow is
  removed, and teams the person managed have no manager;
* their reports stay for the municipal record, unlinked from them (`reporter_id` is null, as for
  a report another system sent without a reporter, which staff see exactly as before), with the
  description and address replaced by a fixed text (sealed, for a sensitive report). Category,
  status, dates, ward and team are untouched, so every figure stays the same.

The audit trail is append-only and is not touched: its events hold ids, statuses and staff
notes; the one text a resident writes into it is the reason they give when reopening a report,
which stays as the record of why work was redone (docs/privacy.md).

It runs as the schema owner, in a transaction of its own: a report stops being visible to its
reporter's row-level security as soon as it is unlinked, so the resident's own transaction
could not finish the change.
"""

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.core import timesource
from src.core.database import get_database
from src.core.errors import Conflict, Invalid, NotFound
from src.core.rate_limit import SIGN_IN_PER_ACCOUNT, count_failure_first, forgive
from src.core.security import verify_password_async
from src.models.notification import AccountToken, Notification, NotificationPreference, NotificationStatus
from src.models.team import Team
from src.models.ticket import TicketFollower
from src.models.user import User
from src.schemas.data_subject import ErasureResponse
from src.services import access, consent_service, session_service
from src.services.principal import Principal
from src.services.sensitive_text import protect

ERASED_TEXT = "[removed at the reporter's request]"
ERASED_NAME = "Erased user"
UNUSABLE_PASSWORD = "!erased"  # not a hash: no password verifies against it


def erased_email(user_id: uuid.UUID) -> str:
    return f"erased-{user_id}@invalid"


async def anonymise(session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID) -> ErasureResponse:
    """Anonymise the account `user_id` of `municipality_id` (an owner's transaction).

    404 when there is no such account in that municipality; 409 `already_erased` the second time.
    """
    user = await session.scalar(
        select(User).where(User.municipality_id == municipality_id, User.id == user_id).with_for_update()
    )
    if user is None:
        raise NotFound("User not found.", "not_found")
    if user.erased_at is not None:
        raise Conflict("This account has already been erased.", "already_erased")
    now = timesource.current_time()
    tickets = list(await session.scalars(access.reported_tickets(municipality_id, user_id).with_for_update()))
    for ticket in tickets:
        ticket.description = protect(ticket, ERASED_TEXT) or ERASED_TEXT
        ticket.address = protect(ticket, ERASED_TEXT) if ticket.address else None
        ticket.reporter_id = None
    follows = await session.execute(
        delete(TicketFollower).where(
            TicketFollower.municipality_id == municipality_id, TicketFollower.user_id == user_id
        )
    )
    await session.execute(
        update(Team).where(Team.municipality_id == municipality_id, Team.manager_id == user_id).values(manager_id=None)
    )
    await _stop_messages(session, municipality_id, user_id, now)
    consents = await consent_service.withdraw_all(session, municipality_id, user_id, now)
    sessions = await session_service.end_all(session, municipality_id, user_id)
    user.full_name = ERASED_NAME
    user.email = erased_email(user_id)
    user.phone = None
    user.password_hash = UNUSABLE_PASSWORD
    user.totp_secret = None
    user.totp_enabled = False
    user.is_active = False
    user.email_verified_at = None
    user.erased_at = now
    await session.flush()
    return ErasureResponse(
        user_id=user_id,
        erased_at=now,
        reports_unlinked=len(tickets),
        consents_withdrawn=consents,
        sessions_ended=sessions,
        follows_removed=int(getattr(follows, "rowcount", 0) or 0),
    )


async def _stop_messages(session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> None:
    """Nothing more reaches the person: messages still waiting are given up (kept, as the record of
    what was due), their e-mail links stop working and their choices of channel are forgotten."""
    await session.execute(
        update(Notification)
        .where(
            Notification.municipality_id == municipality_id,
            Notification.recipient_id == user_id,
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.FAILED, last_error="recipient_erased", locked_until=None)
    )
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.municipality_id == municipality_id,
            AccountToken.user_id == user_id,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    await session.execute(
        delete(NotificationPreference).where(
            NotificationPreference.municipality_id == municipality_id, NotificationPreference.user_id == user_id
        )
    )


async def erase_account(municipality_id: uuid.UUID, user_id: uuid.UUID) -> ErasureResponse:
    async with get_database().system_session() as owner:
        return await anonymise(owner, municipality_id, user_id)


async def erase_self(session: AsyncSession, p: Principal, password: str) -> ErasureResponse:
    """A resident erases their own account, confirming with their current password (failures
    count against the account like sign-in failures)."""
    access.require_role(p, access.SELF_ERASERS)
    account = f"sign-in-account:{p.email.lower()}"
    await count_failure_first(account, SIGN_IN_PER_ACCOUNT)
    stored = await session.scalar(
        select(User.password_hash).where(User.municipality_id == p.municipality_id, User.id == p.id)
    )
    if stored is None or not await verify_password_async(password, stored):
        raise Invalid("The password is not correct.", "wrong_current_password")
    await forgive(account, SIGN_IN_PER_ACCOUNT)
    return await erase_account(p.municipality_id, p.id)


async def erase_user(p: Principal, user_id: uuid.UUID) -> ErasureResponse:
    """An administrator erases an account of their municipality (another municipality's is a 404)."""
    access.ensure_may_erase(p, user_id)
    return await erase_account(p.municipality_id, user_id)
