"""Data-subject requests: what the platform holds about the caller, consents, erasure."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from src.models.user import ConsentPurpose
from src.schemas.common import ORM, Strict
from src.schemas.ticket import TicketDetailResponse


class ProfileData(ORM):
    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    role: str
    municipality_id: uuid.UUID
    municipality_code: str
    ward_id: uuid.UUID | None
    team_id: uuid.UUID | None
    preferred_language: str
    is_active: bool
    totp_enabled: bool
    created_at: datetime


class ConsentResponse(ORM):
    purpose: ConsentPurpose
    version: str
    given_at: datetime
    withdrawn_at: datetime | None
    in_force: bool


class FollowData(ORM):
    ticket_id: uuid.UUID
    followed_at: datetime


class SessionData(ORM):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    address: str | None
    user_agent: str | None


class SensitiveRead(ORM):
    """Someone at the municipality received one of the caller's sensitive reports: their role and
    when, never their name. `how` is `opened` (its detail or history) or the kind of answer that
    carried it (`list`, `search`, `export`)."""

    ticket_id: uuid.UUID
    tracking_number: str
    role: str
    at: datetime
    how: str


class MyData(ORM):
    profile: ProfileData
    consents: list[ConsentResponse]
    reports: list[TicketDetailResponse]
    follows: list[FollowData]
    notification_settings: dict[str, Any]
    sessions: list[SessionData]
    sensitive_reads: list[SensitiveRead]


class EraseMe(Strict):
    """Erasing one's own account is confirmed with the current password."""

    password: str = Field(min_length=1, max_length=128)


class ErasureResponse(ORM):
    user_id: uuid.UUID
    erased_at: datetime
    reports_unlinked: int
    consents_withdrawn: int
    sessions_ended: int
    follows_removed: int
