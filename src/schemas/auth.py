import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StrictBool, StringConstraints

from src.core.passwords import Password
from src.models.enums import Language
from src.schemas.common import ORM, Name, Strict

__all__ = ["Password"]  # the account schemas (src/schemas/user.py) share one password rule


class TokenResponse(ORM):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class MeResponse(ORM):
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    municipality_id: uuid.UUID
    municipality_code: str
    ward_id: uuid.UUID | None
    team_id: uuid.UUID | None


class RegisterRequest(Strict):
    municipality_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=10)]
    email: EmailStr = Field(max_length=254)
    password: Password
    full_name: Name
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{6,20}$")] | None = None
    preferred_language: Language = Language.EN
    # Consent is an explicit JSON `true`; "yes", 1 or "on" are not coerced into agreement (POPIA).
    consent: StrictBool


class RegistrationAccepted(ORM):
    """The answer to a registration: what was asked for, nothing from the database, so that an
    address already in use answers exactly like a new one (its owner is told by e-mail)."""

    email: str
    full_name: str
    phone: str | None
    role: str
    municipality_id: uuid.UUID
    preferred_language: str
    is_active: bool = True
    email_verified: bool = False


class PasswordResetRequest(Strict):
    # Any address an account may hold (staff addresses were not all checked by an e-mail validator).
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class PasswordResetConfirm(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: Password


class Accepted(ORM):
    detail: str


class PasswordChange(Strict):
    current_password: str = Field(max_length=128)
    new_password: Password


class SessionResponse(ORM):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    address: str | None
    user_agent: str | None
    current: bool


class TotpEnrolment(ORM):
    secret: str
    otpauth_uri: str


class TotpCode(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
