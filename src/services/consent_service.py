"""Consents as records (POPIA): what a resident agreed to, in which version, when, and when they
withdrew it. A withdrawal keeps the row and stamps `withdrawn_at`.

Registration records two consents: the terms (processing a resident's information to handle
their reports) and the processing of special personal information (a GBV report is special
personal information). A consent that an open report still relies on cannot be withdrawn: the
terms while the resident has any open report, the special-information consent while they have an
open sensitive one. Erasure withdraws every consent in force at once.

A resident who withdrew a consent gives it again (a new record) before reporting what needs it:
the terms for any report, the special-information consent for a GBV report. Accounts that never
recorded a consent (made by an administrator, or before consents were records) are not refused.
"""

import uuid
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.core import timesource
from src.core.errors import Conflict, NotFound
from src.models.enums import OPEN_SET, TicketCategory
from src.models.ticket import Ticket
from src.models.user import Consent, ConsentPurpose, User
from src.schemas.data_subject import ConsentResponse
from src.services import access
from src.services.principal import Principal

CONSENT_VERSION = "2026-01"
REGISTRATION_CONSENTS = (ConsentPurpose.TERMS, ConsentPurpose.SPECIAL_INFORMATION)


def response(consent: Consent) -> ConsentResponse:
    return ConsentResponse(
        purpose=consent.purpose,
        version=consent.version,
        given_at=consent.given_at,
        withdrawn_at=consent.withdrawn_at,
        in_force=consent.withdrawn_at is None,
    )


async def record_at_registration(session: AsyncSession, user: User) -> None:
    for purpose in REGISTRATION_CONSENTS:
        session.add(
            Consent(municipality_id=user.municipality_id, user_id=user.id, purpose=purpose, version=CONSENT_VERSION)
        )
    await session.flush()


async def list_consents(session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID) -> list[Consent]:
    """Every consent of the person, in force or withdrawn, oldest first."""
    rows = await session.scalars(
        select(Consent)
        .where(Consent.municipality_id == municipality_id, Consent.user_id == user_id)
        .order_by(Consent.given_at, Consent.purpose, Consent.id)
    )
    return list(rows)


async def _has_open_report(session: AsyncSession, p: Principal, *, sensitive: bool | None) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    *access.reported_by(p.municipality_id, p.id, sensitive=sensitive), Ticket.status.in_(OPEN_SET)
                )
            )
        )
    )


async def withdraw(session: AsyncSession, p: Principal, purpose: ConsentPurpose) -> Consent:
    """Withdraw the caller's consent in force for `purpose`; 404 when none is in force, 409 when
    an open report still needs it."""
    access.require_role(p, access.CONSENT_HOLDERS)
    consent = await session.scalar(
        select(Consent)
        .where(
            Consent.municipality_id == p.municipality_id,
            Consent.user_id == p.id,
            Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
        .with_for_update()
    )
    if consent is None:
        raise NotFound("You have no consent in force for this purpose.", "consent_not_found")
    if purpose is ConsentPurpose.TERMS and await _has_open_report(session, p, sensitive=None):
        raise Conflict(
            "You have an open report, which is handled under these terms; withdraw once it is closed.",
            "consent_required_by_open_report",
        )
    if purpose is ConsentPurpose.SPECIAL_INFORMATION and await _has_open_report(session, p, sensitive=True):
        raise Conflict(
            "You have an open GBV report, which needs this consent; withdraw once it is closed.",
            "consent_required_by_open_sensitive_report",
        )
    consent.withdrawn_at = timesource.current_time()
    await session.flush()
    return consent


async def give(session: AsyncSession, p: Principal, purpose: ConsentPurpose) -> tuple[Consent, bool]:
    """Give the consent for `purpose` again (a new record); the one in force when there is one.
    Returns the record and whether it is new."""
    access.require_role(p, access.CONSENT_HOLDERS)
    current = await session.scalar(
        select(Consent).where(
            Consent.municipality_id == p.municipality_id,
            Consent.user_id == p.id,
            Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
    )
    if current is not None:
        return current, False
    consent = Consent(municipality_id=p.municipality_id, user_id=p.id, purpose=purpose, version=CONSENT_VERSION)
    session.add(consent)
    await session.flush()
    await session.refresh(consent)
    return consent, True


async def withdrawn_for(session: AsyncSession, p: Principal, category: TicketCategory) -> list[ConsentPurpose]:
    """The consents a report of this category needs that the resident withdrew and has not given
    again (none for staff, who report under their employment, not a consent)."""
    if p.role not in access.CONSENT_HOLDERS:
        return []
    needed = [ConsentPurpose.TERMS]
    if category is TicketCategory.GBV:
        needed.append(ConsentPurpose.SPECIAL_INFORMATION)
    rows = await session.execute(
        select(Consent.purpose, Consent.withdrawn_at).where(
            Consent.municipality_id == p.municipality_id, Consent.user_id == p.id, Consent.purpose.in_(needed)
        )
    )
    records = rows.all()
    withdrawn = []
    for purpose in needed:
        mine = [at for kind, at in records if kind == purpose]
        if mine and all(at is not None for at in mine):
            withdrawn.append(purpose)
    return withdrawn


async def ensure_may_report(session: AsyncSession, p: Principal, category: TicketCategory) -> None:
    """409 `consent_withdrawn` when a resident withdrew a consent this report needs and has not given
    it again."""
    withdrawn = await withdrawn_for(session, p, category)
    if withdrawn:
        purpose = withdrawn[0]
        raise Conflict(
            f"You withdrew your consent ({purpose.value}) that this report needs. Give it again first "
            f"(POST /api/v1/me/consents/{purpose.value}).",
            "consent_withdrawn",
        )


async def withdraw_all(session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> int:
    """Erasure: every consent still in force is withdrawn (the records stay)."""
    result = await session.execute(
        update(Consent)
        .where(Consent.municipality_id == municipality_id, Consent.user_id == user_id, Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)
