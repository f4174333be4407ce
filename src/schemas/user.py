"""Staff and citizen accounts as administrators manage them. Responses never carry a password or hash."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from src.models.enums import Language
from src.models.user import UserRole
from src.schemas.auth import Password
from src.schemas.common import ORM, Name, Strict, omitted

Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{6,20}$")]


def _lower(email: str) -> str:
    return email.lower()


Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(_lower)]


class UserCreate(Strict):
    email: Email
    password: Password
    full_name: Name
    role: UserRole
    ward_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    phone: Phone | None = None
    preferred_language: Language = Language.EN
    is_active: bool = True


class UserUpdate(Strict):
    """Only the fields sent change (a password sent is a reset); `ward_id`, `team_id` and `phone`
    may be set to null; a null in any other field is a 422. The resulting account is validated
    as a whole by user_service (a councillor still needs a ward)."""

    email: Email = omitted()
    password: Password = omitted()
    full_name: Name = omitted()
    role: UserRole = omitted()
    ward_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    phone: Phone | None = None
    preferred_language: Language = omitted()
    is_active: bool = omitted()


class UserResponse(ORM):
    id: uuid.UUID
    email: str
    full_name: str
    role: UserRole
    ward_id: uuid.UUID | None
    team_id: uuid.UUID | None
    phone: str | None
    preferred_language: Language
    is_active: bool
    created_at: datetime
