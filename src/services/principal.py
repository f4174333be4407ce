"""The signed-in user as every service sees them."""

import uuid
from dataclasses import dataclass

from src.core.database import TenantContext
from src.models.user import UserRole


@dataclass(frozen=True)
class Principal:
    id: uuid.UUID
    municipality_id: uuid.UUID
    municipality_code: str
    timezone: str
    role: UserRole
    email: str
    full_name: str
    ward_id: uuid.UUID | None
    team_id: uuid.UUID | None
    last_write_lsn: str | None = None  # where the user's latest write ends in the WAL (replica reads)
    session_id: uuid.UUID | None = None  # the server-side session the request's token names
    language: str = "en"  # the user's preferred_language: pages and messages are shown in it

    @property
    def tenant(self) -> TenantContext:
        return TenantContext(self.municipality_id, self.role.value, self.id)
